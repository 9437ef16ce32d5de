"""Gradients of a model's loss with the active backend: the package's one piece of backend-specific code.

`gradient_function` runs `model.stateless_call` under a `tf.GradientTape`
(TensorFlow) or `jax.value_and_grad` (JAX), so it never touches the model's
variables. `kerasrecipes.callbacks.LayerStats` (gradient norms per layer) and
`kerasrecipes.babysit.sanity_check` (its stateless training steps) both build
on it; it lives on the ground floor so neither imports the other. Public as
`kerasrecipes.callbacks.stats.gradient_function` / `loss_and_gradients`.
"""

import keras
from keras import ops


def check_backend():
    backend = keras.backend.backend()
    if backend not in ("tensorflow", "jax"):
        raise NotImplementedError(
            f"kerasrecipes computes gradients with the TensorFlow or JAX backend; the active "
            f"backend is {backend!r}. Set KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax."
        )
    return backend


def _data_loss_fn(model, loss):
    """A `(x, y, y_pred) -> scalar` function: the given loss, else the model's compiled loss."""
    if loss is not None:
        fn = keras.losses.get(loss)
        return lambda x, y, y_pred: ops.mean(fn(y, y_pred))
    if getattr(model, "compiled", False) and getattr(model, "loss", None) is not None:
        return lambda x, y, y_pred: model.compute_loss(x=x, y=y, y_pred=y_pred, training=True)
    raise ValueError(
        "gradients need a loss: compile the model with one, or pass loss=... "
        f"Received an uncompiled model {model.name!r} and loss=None"
    )


def gradient_function(model, *, loss=None, training=True, regularization=True, jit=False):
    """A function `f(trainable_values, non_trainable_values, x, y) -> (loss, grads, y_pred, non_trainable_values)`.

    Pure with respect to the model: it runs `model.stateless_call` on the values
    it is given, so the model's weights, BatchNorm statistics and dropout seeds
    are never touched. Gradients come from the active backend: a
    `tf.GradientTape` under TensorFlow, `jax.value_and_grad` under JAX (the only
    backend-specific code of the package's diagnostics); other backends raise.

    Args:
        model: A built Keras model.
        loss: A loss name, function or `keras.losses.Loss`. Defaults to the
            compiled loss (`model.compute_loss`, which adds `model.losses`).
        training: Whether layers run in training mode. Defaults to `True`, the
            mode the optimizer's gradients are computed in.
        regularization: Add `model.losses` (weight regularizers) to a given
            `loss`; `False` gives the data loss alone, as cs231n's babysitting
            steps want. The compiled loss always includes them. Defaults to `True`.
        jit: Compile the function (`tf.function` / `jax.jit`); worth it when it
            is called many times with same-shaped batches. Defaults to `False`.

    Returns:
        The function; `grads` follow the order of `model.trainable_variables`.

    Raises:
        NotImplementedError: under a backend other than TensorFlow or JAX.

    Example:
    >>> f = gradient_function(model, loss="sparse_categorical_crossentropy", jit=True)
    >>> loss, grads, y_pred, nt = f([v.value for v in model.trainable_variables],
    ...                             [v.value for v in model.non_trainable_variables], x, y)
    """
    backend = check_backend()
    loss_fn = _data_loss_fn(model, loss)
    uses_compiled = loss is None

    def compute(values, non_trainable, x, y):
        y_pred, new_non_trainable = model.stateless_call(values, non_trainable, x, training=training)
        mapping = list(zip(model.trainable_variables, values))
        mapping += list(zip(model.non_trainable_variables, new_non_trainable))
        with keras.StatelessScope(state_mapping=mapping):
            total = loss_fn(x, y, y_pred)
            if regularization and not uses_compiled:  # compute_loss adds these itself
                extra = [ops.sum(ops.cast(l, total.dtype)) for l in model.losses]
                if extra:
                    total = total + ops.sum(ops.stack(extra))
        return total, (y_pred, new_non_trainable)

    if backend == "jax":
        import jax

        grad_fn = jax.value_and_grad(compute, has_aux=True)
        grad_fn = jax.jit(grad_fn) if jit else grad_fn

        def run(values, non_trainable, x, y):
            (total, (y_pred, new_non_trainable)), grads = grad_fn(list(values), list(non_trainable), x, y)
            return total, list(grads), y_pred, list(new_non_trainable)

        return run

    import tensorflow as tf

    def run(values, non_trainable, x, y):
        values = [tf.convert_to_tensor(v) for v in values]
        with tf.GradientTape() as tape:
            tape.watch(values)
            total, (y_pred, new_non_trainable) = compute(values, list(non_trainable), x, y)
        return total, tape.gradient(total, values), y_pred, list(new_non_trainable)

    return tf.function(run, reduce_retracing=True) if jit else run


def loss_and_gradients(model, x, y, *, loss=None, training=True, regularization=True):
    """The loss on `(x, y)` and its gradient for every trainable weight, with the active backend.

    A one-off call of `gradient_function` on the model's current weights; like
    it, it leaves the model's weights and statistics untouched.

    Args:
        model: A built Keras model.
        x: Inputs.
        y: Targets.
        loss, training, regularization: as for `gradient_function`.

    Returns:
        `(loss, grads)`: a float and a list of arrays in the order of
        `model.trainable_variables`.

    Raises:
        NotImplementedError: under a backend other than TensorFlow or JAX.

    Example:
    >>> loss, grads = loss_and_gradients(model, x[:64], y[:64])
    """
    f = gradient_function(model, loss=loss, training=training, regularization=regularization)
    total, grads, _, _ = f([v.value for v in model.trainable_variables],
                           [v.value for v in model.non_trainable_variables], x, y)
    return float(ops.convert_to_numpy(total)), list(grads)
