"""Class imbalance: resampling and class weights."""

import numpy as np

from kerasrecipes.data._checks import check_array, check_choice, check_labels, check_seed

_STRATEGIES = ("oversample", "undersample")


def resample(x, y, strategy="oversample", seed=None, return_indices=False):
    """Balance the classes by repeating minority samples or dropping majority ones.

    The up-sampling and down-sampling of Wei's "Must Know Tips/Tricks". `"oversample"` keeps every sample
    and adds random repeats (with replacement) of each smaller class until it
    matches the largest; `"undersample"` keeps a random subset (without
    replacement) of each larger class the size of the smallest. Nothing is
    synthesised: every output row is a copy of an input row. The result is
    shuffled. Classes missing from `y` stay missing.

    Args:
        x: Samples `(N, ...)`.
        y: Integer labels `(N,)`.
        strategy: `"oversample"` or `"undersample"`. Defaults to `"oversample"`.
        seed: Optional integer seed.
        return_indices: Also return the row indices into `x` used.

    Returns:
        `(x_balanced, y_balanced)`, plus the indices when `return_indices`.

    Example:
    >>> x_bal, y_bal = resample(x, y, "oversample", seed=0)
    >>> np.bincount(y_bal)  # all equal
    """
    x = check_array(x, "x")
    y = check_labels(y, "y", length=len(x))
    check_choice(strategy, "strategy", _STRATEGIES)
    check_seed(seed)
    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)]
    sizes = [len(g) for g in groups]
    picked = []
    if strategy == "oversample":
        target = max(sizes)
        for g in groups:
            picked += [g, rng.choice(g, target - len(g), replace=True)]
    else:
        target = min(sizes)
        picked = [rng.choice(g, target, replace=False) for g in groups]
    index = rng.permutation(np.concatenate(picked))
    out = (x[index], y[index])
    return out + (index,) if return_indices else out


def class_weights(y, num_classes=None):
    """Weights `n / (k * n_c)` for `model.fit(class_weight=...)`, balancing the classes.

    Each present class `c` with `n_c` of the `n` labels gets `n / (k * n_c)`
    (`k` classes present; scikit-learn's "balanced"), so every class carries the
    same total weight and the mean sample weight stays 1.

    Args:
        y: Integer labels `(N,)`.
        num_classes: Optional: checks the labels lie below it.

    Returns:
        A dict `{class: weight}` over the classes present in `y`.

    Example:
    >>> class_weights(np.array([0, 0, 0, 1]))
    {0: 0.666..., 1: 2.0}
    """
    y = check_labels(y, "y", num_classes=num_classes)
    classes, counts = np.unique(y, return_counts=True)
    return {int(c): float(len(y) / (len(classes) * n)) for c, n in zip(classes, counts)}
