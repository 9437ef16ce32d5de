"""Pixel scaling (`to_unit_range`, the one uint8 -> [0, 1] rule) and zero-centring and standardization as
adapted keras.layers.Normalization layers."""

import keras
import numpy as np

from kerasrecipes.data._checks import check_array, check_bool, check_choice

_PER = {"channel": -1, "pixel": (1, 2, 3), "global": None}


def to_unit_range(x):
    """Images as float32 in [0, 1]: integer pixels (uint8, as the loaders return them) divided by 255.

    Float images are taken as already scaled and only cast to float32. Every
    place of the package that scales pixels on the host calls this (a recipe's
    training step scales its uint8 batches on the device instead).

    Example:
    >>> to_unit_range(np.array([0, 51, 255], dtype="uint8")).tolist()
    [0.0, 0.20000000298023224, 1.0]
    """
    x = np.asarray(x)
    return x.astype("float32") / np.float32(255.0) if x.dtype.kind in "iu" else x.astype("float32", copy=False)


def standardization(x, per="channel", scale=True):
    """Zero-centre (and scale to unit variance) as an adapted `keras.layers.Normalization`.

    cs231n's "zero-centre the data, then normalize", as a layer to put first in
    a model (it is saved with it, so the model takes raw pixels at inference).
    Keras's `Normalization` does the work; this picks its `axis` for the usual
    choices and offers centring alone.

    Args:
        x: Training images `(N, H, W, C)` (or `(N, D)` with `per="channel"`,
            which then means per feature).
        per: `"channel"`: one mean and variance per colour channel (the CNN
            default); `"pixel"`: one per position and channel (the mean image);
            `"global"`: one for everything. Defaults to `"channel"`.
        scale: Divide by the standard deviation too; `False` only subtracts the
            mean. Defaults to `True`.

    Returns:
        A `keras.layers.Normalization` holding the statistics of `x`.

    Example:
    >>> norm = standardization(x_train, per="channel")
    >>> model = keras.Sequential([keras.Input((28, 28, 1)), norm, ...])
    """
    check_choice(per, "per", _PER)
    check_bool(scale, "scale")
    x = check_array(x, "x", ranks=(4,) if per == "pixel" else (2, 3, 4))
    axis = _PER[per]
    if scale:
        layer = keras.layers.Normalization(axis=axis)
        layer.adapt(x.astype("float32"))
        return layer
    if axis is None:
        mean = np.float32(x.mean(dtype=np.float64))
        return keras.layers.Normalization(axis=None, mean=float(mean), variance=1.0)
    keep = (x.ndim - 1,) if axis == -1 else axis
    reduce = tuple(a for a in range(x.ndim) if a not in keep)
    mean = x.mean(axis=reduce, dtype=np.float64).astype("float32")
    return keras.layers.Normalization(axis=axis, mean=mean, variance=np.ones_like(mean))
