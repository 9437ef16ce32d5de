"""`clear_session()`: Keras's, plus what it leaves behind, for loops of many fits in one process.

What it adds to `keras.backend.clear_session()`: it also drops the traced
custom gradients that TensorFlow keeps in its process-global gradient registry
after every `fit` (see `kerasrecipes._traced`), which `clear_session()` cannot
free. On backends with nothing more to release (JAX) it is Keras's alone.
"""

import contextlib
import gc

import keras

from kerasrecipes import _traced


def clear_session(free_memory: bool = True) -> None:
    """Resets Keras's global state and frees what one `fit` leaves alive.

    Call it between fits of a loop (a sweep in a notebook, a comparison of
    recipes). Models built before the call should not be trained again after it.

    Args:
        free_memory: Passed to `keras.backend.clear_session` (runs Python's
            garbage collector). Defaults to `True`.

    Example:
    >>> for lr in (1e-3, 1e-2):
    ...     kerasrecipes.clear_session()
    ...     model = build_model(lr)
    ...     model.fit(x, y, epochs=1, verbose=0)
    """
    keras.backend.clear_session(free_memory=free_memory)
    _traced.release(frozenset())  # every CustomGradient-* entry: no live train step needs them again
    if free_memory:
        gc.collect()


@contextlib.contextmanager
def released():
    """Inside the package: frees, on exit, what the fits inside the block left behind.

    For functions that train on a model the caller keeps (`lr_find`, a
    sanity check): unlike `clear_session()` it leaves Keras's global state and
    everything registered before the block alone.
    """
    marked = _traced.mark()
    try:
        yield
    finally:
        _traced.release(marked)
