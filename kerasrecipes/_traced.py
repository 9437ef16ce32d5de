"""Free the traced train steps that TensorFlow keeps after `keras.backend.clear_session()`.

Keras's TensorFlow optimizer sums gradients through
`tf.distribute.get_replica_context().all_reduce`, which inside a traced train
step is a `tf.custom_gradient`. In graph mode TensorFlow registers each of those
under a fresh `CustomGradient-<n>` name in its process-global gradient registry
and never removes it, and the registered function closes over the traced
graph's tensors (tensorflow/tensorflow#97697, #27492). So every `fit` leaves its
whole train-step graph alive: 1.2 MB per fit of a tiny MLP with SGD, 3.9 MB
per trial of a search, 8.4 MB and ~11,900 Python objects per fit of the recipe
loop (TF 2.21 / Keras 3.15; `benchmarks/search_memory.py`, `benchmarks/memory.py`).

The public face is `kerasrecipes.clear_session()` (drops every entry) and
`kerasrecipes.memory.released()` (a block's own). `mark()` remembers the
registry's names at the start of a unit of work; `release(mark)` drops the
`CustomGradient-*` entries added since.
They are needed only to differentiate through those traced graphs again, which
nothing does once their train step has run: Keras never differentiates a train
function, and a new `fit` traces (and registers) its own. Entries registered
before the mark (a user's own live models) are left alone.

On other backends, or a TensorFlow without this private registry, both are no-ops.
"""

import keras

_PREFIX = "CustomGradient-"


def _registry():
    if keras.backend.backend() != "tensorflow":
        return None
    try:
        from tensorflow.python.framework import ops  # private: guarded, and only read or pruned by name
    except ImportError:
        return None
    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else None


def mark() -> frozenset:
    """The names in TensorFlow's gradient registry now (empty where there is none)."""
    registry = _registry()
    return frozenset(registry) if registry is not None else frozenset()


def release(marked: frozenset | None) -> int:
    """Drops the custom gradients registered since `marked`; returns how many it dropped.

    `None` (no mark taken) drops nothing.
    """
    registry = _registry()
    if registry is None or marked is None:
        return 0
    stale = [name for name in list(registry) if name.startswith(_PREFIX) and name not in marked]
    for name in stale:
        registry.pop(name, None)
    return len(stale)
