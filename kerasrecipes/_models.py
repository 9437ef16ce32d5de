"""The checks of a model argument that every public entry point shares: a Keras model, compiled, built.

Keras itself finds an uncompiled model only deep inside (an `AttributeError:
'Sequential' object has no attribute 'optimizer'`, or a message about a layer
"never called"); these say which argument, what to do and which model, in the
`ValueError` style of the rest of the package.
"""

import keras


def check_model(model, owner, argument="model"):
    """A `ValueError` unless `model` is a `keras.Model`."""
    if not isinstance(model, keras.Model):
        raise ValueError(f"{argument} must be a keras.Model for {owner}. Received {argument}={model!r:.120}")


def check_compiled(model, owner, argument="model", why=""):
    """A `ValueError` unless `model` is a compiled `keras.Model` (an optimizer and a loss).

    Args:
        model: The model to check.
        owner: Who needs it, as the user calls it (`"lr_find"`, `"HalveLROnPlateau"`).
        argument: The argument's name in the message. Defaults to `"model"`.
        why: Optional clause saying what the owner does with the optimizer.
    """
    check_model(model, owner, argument)
    if not getattr(model, "compiled", False) or getattr(model, "optimizer", None) is None:
        raise ValueError(
            f"{argument} must be compiled (with an optimizer and a loss) for {owner}{why}: call "
            f"{argument}.compile(optimizer, loss) first. Received an uncompiled model {model.name!r}"
        )


def check_built(model, owner, argument="model", inputs=False):
    """A `ValueError` unless `model` is a built `keras.Model`; with `inputs`, one with defined inputs and outputs.

    `inputs=True` is for what follows the graph (averaging, counting FLOPs),
    which a subclassed model called on a batch does not have.
    """
    check_model(model, owner, argument)
    graph = getattr(model, "inputs", None) and getattr(model, "outputs", None)
    if not model.built:
        how = "start it with keras.Input(shape) (functional or Sequential)" + ("" if inputs else
                                                                              ", or call it on a batch first")
        raise ValueError(f"{argument} must be built for {owner}: {how}. Received an unbuilt model {model.name!r}")
    if inputs and not graph:
        raise ValueError(f"{argument} must have defined inputs for {owner}: build it from keras.Input(shape) "
                         f"(functional or Sequential). Received model {model.name!r} of type "
                         f"{type(model).__name__}, which has none")
