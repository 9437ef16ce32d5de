"""`clear_session()`: Keras's, plus what it leaves behind, for loops of many fits in one process.

What it adds to `keras.backend.clear_session()`: it also drops the traced
custom gradients that TensorFlow keeps in its process-global gradient registry
after every `fit` (see `kerasrecipes._traced`), which `clear_session()` cannot
free. On backends with nothing more to release (JAX) it is Keras's alone.

Found by measurement (`benchmarks/memory.py`, 30 fits per loop, each loop in a
fresh process; numbers in BENCHMARKS.md): after Keras's `clear_session()`
alone, every fit of the recipe loop (`models.vgg` + `data.pipeline` with
augmentation + `callbacks.recipe()`) leaves ~12,000 Python objects (the
train, test and tf.data map graphs: `Operation`, `SymbolicTensor`, ...), 26
functions in TensorFlow's eager context and 2 `CustomGradient-*` registry
entries alive. Dropping the registry entries frees all of it: with
`kerasrecipes.clear_session()` the object count, the context's functions and
the registry stay constant fit after fit. The other suspects (the tf.data
pipelines and their map functions, the augmentation layers' seed generators,
Keras's name-uid dicts and `global_state`, TensorFlow's context caches) hold
nothing once the registry lets go of the graphs, so nothing else is released.
"""

import contextlib

import keras

from kerasrecipes import _traced


def clear_session(free_memory: bool = True) -> None:
    """Resets Keras's global state and frees what one `fit` leaves alive.

    Call it between fits of a loop (a sweep in a notebook, a comparison of
    recipes). A model trained before the call still predicts and trains after
    it (its traced steps keep what they need), but build new models only from
    new layers: Keras restarts its layer names.

    Args:
        free_memory: Passed to `keras.backend.clear_session` (runs Python's
            garbage collector, which is what frees the released graphs: they
            hold reference cycles). With `False` they wait for Python's next
            automatic collection. Defaults to `True`.

    Example:
    >>> for lr in (1e-3, 1e-2):
    ...     kerasrecipes.clear_session()
    ...     model = build_model(lr)
    ...     model.fit(x, y, epochs=1, verbose=0)
    """
    # Every CustomGradient-* entry: they are read only while a step is being traced,
    # and a new fit traces (and registers) its own. Dropped first, so that the one
    # collection inside Keras's clear_session frees the graphs they held.
    _traced.release(frozenset())
    keras.backend.clear_session(free_memory=free_memory)


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
