"""The one place the package turns an optimizer name into a Keras optimizer.

Runs, presets, the search and the babysitting sweep all build their optimizer
here, so "sgd" means the same thing everywhere.
"""

import keras

NAMES = ("sgd", "nesterov", "adam", "adamw", "rmsprop")


def build(name="adam", learning_rate=1e-3, *, momentum=0.9, nesterov=False, weight_decay=None):
    """A Keras optimizer by name.

    What it adds to `keras.optimizers.get`: the recipes' defaults (cs231n: SGD
    with momentum 0.9, or Nesterov momentum, is the baseline worth tuning; Adam
    at 1e-3), a learning rate that may be a number or a
    `keras.optimizers.schedules.LearningRateSchedule`, and a `ValueError` that
    names the bad argument.

    Args:
        name: `"sgd"` (momentum), `"nesterov"` (SGD with Nesterov momentum),
            `"adam"`, `"adamw"` or `"rmsprop"`. Defaults to `"adam"`.
        learning_rate: A positive number or a schedule. Defaults to `1e-3`.
        momentum: SGD momentum in [0, 1). Defaults to `0.9`.
        nesterov: Nesterov momentum for `"sgd"` too. Defaults to `False`.
        weight_decay: Decoupled weight decay (Keras's `weight_decay`), or
            `None`. AdamW takes Keras's default (0.004) when `None`.

    Returns:
        A `keras.optimizers.Optimizer`.

    Example:
    >>> opt = build("nesterov", 0.05)
    """
    if name not in NAMES:
        raise ValueError(f"optimizer must be one of {', '.join(NAMES)}. Received optimizer={name!r}")
    if not isinstance(learning_rate, keras.optimizers.schedules.LearningRateSchedule):
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) or not learning_rate > 0:
            raise ValueError(f"learning_rate must be a positive number or a schedule. "
                             f"Received learning_rate={learning_rate!r}")
        learning_rate = float(learning_rate)
    if isinstance(momentum, bool) or not isinstance(momentum, (int, float)) or not 0 <= momentum < 1:
        raise ValueError(f"momentum must be a number in [0, 1). Received momentum={momentum!r}")
    if weight_decay is not None and (isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float))
                                     or weight_decay < 0):
        raise ValueError(f"weight_decay must be a number >= 0 or None. Received weight_decay={weight_decay!r}")
    decay = float(weight_decay) if weight_decay else None
    if name in ("sgd", "nesterov"):
        return keras.optimizers.SGD(learning_rate, momentum=float(momentum), nesterov=nesterov or name == "nesterov",
                                    weight_decay=decay)
    if name == "rmsprop":
        return keras.optimizers.RMSprop(learning_rate, weight_decay=decay)
    if name == "adamw":
        return keras.optimizers.AdamW(learning_rate, **({} if weight_decay is None else {"weight_decay": decay or 0.0}))
    return keras.optimizers.Adam(learning_rate, weight_decay=decay)
