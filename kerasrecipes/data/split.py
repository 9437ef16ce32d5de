"""Train/validation split, stratified by class."""

import numpy as np

from kerasrecipes.data._checks import check_array, check_bool, check_fraction, check_labels, check_seed


def train_val_split(x, y, val_fraction=0.1, stratify=True, seed=None):
    """Hold out a validation set, with each class in the same proportion as in `y`.

    Keras's `validation_split` takes the last samples, unshuffled and unstratified
    (a sorted data set then validates on one class). This takes `val_fraction` of
    every class (rounded per class) at random, and keeps both parts in their
    original order.

    Args:
        x: Samples, a numeric array `(N, ...)`.
        y: Integer class labels `(N,)`.
        val_fraction: Fraction held out, in (0, 1). Defaults to `0.1`.
        stratify: Split each class separately. Defaults to `True`.
        seed: Integer seed for the draw. Defaults to `None` (fresh draw).

    Returns:
        `(x_train, y_train), (x_val, y_val)`.

    Example:
    >>> (x_tr, y_tr), (x_val, y_val) = train_val_split(x, y, 0.2, seed=0)
    """
    x = check_array(x, "x")
    y = check_labels(y, "y", length=len(x))
    val_fraction = check_fraction(val_fraction, "val_fraction")
    check_bool(stratify, "stratify")
    check_seed(seed)
    rng = np.random.default_rng(seed)
    if stratify:
        val = np.concatenate([
            rng.permutation(members)[: int(round(len(members) * val_fraction))]
            for members in (np.flatnonzero(y == c) for c in np.unique(y))
        ])
    else:
        val = rng.permutation(len(y))[: int(round(len(y) * val_fraction))]
    if len(val) == 0 or len(val) == len(y):
        raise ValueError(
            f"val_fraction={val_fraction} leaves an empty training or validation part for {len(y)} samples"
        )
    is_val = np.zeros(len(y), bool)
    is_val[val] = True
    return (x[~is_val], y[~is_val]), (x[is_val], y[is_val])
