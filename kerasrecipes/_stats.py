"""Numpy-only helpers shared by the diagnostics, the callbacks and the plots (no Keras, no package imports).

`moving_average` smooths a curve, `as_layer_stats` reads any form of
`LayerStats` output, `infer_mode` and `best_of` are the one rule for a
metric's direction (the callbacks, the tuner's oracle, plots, report,
experiments, runs and compare all ask it); `kerasrecipes.diagnose`, `kerasrecipes.callbacks.stats`
and `kerasrecipes.plots` all import them from here, so none of them imports
another for a helper.
"""

import json
import math
import os

import numpy as np


def check_positive_int(value, name, allow_none=False):
    """A positive integer argument (a window, a count, a batch size) as an int; a ValueError naming it otherwise.

    The one positive-integer check of the package (`data`, `tuning`, the
    callbacks and `diagnose` import it). With `allow_none`, `None` passes.
    """
    if allow_none and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer. Received {name}={value!r}")
    return int(value)


# Metric names whose smaller values are better; anything else (accuracy, auc, f1, ...) is maximized.
_LOWER_IS_BETTER = (
    "loss", "error", "mae", "mse", "mape", "msle", "crossentropy", "hinge",
    "divergence", "perplexity", "poisson", "logcosh",
)
_MODES = ("auto", "min", "max")


def infer_mode(monitor: str, mode: str = "auto") -> str:
    """Returns "min" or "max" for `monitor`, inferring it from the name when `mode="auto"`.

    Names containing "loss", "error", "mse", "crossentropy"... are minimized,
    anything else (accuracy, auc, f1...) maximized, as fastai does; Keras's own
    "auto" asks the compiled metric objects instead, which a callback built
    before `compile` (or a history read from a file) cannot.

    Example:
    >>> infer_mode("val_loss"), infer_mode("val_accuracy"), infer_mode("val_accuracy", "min")
    ('min', 'max', 'min')
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of 'auto', 'min', 'max'. Received mode={mode!r}")
    if mode != "auto":
        return mode
    name = monitor.lower().removeprefix("val_")
    return "min" if any(word in name for word in _LOWER_IS_BETTER) else "max"


def best_of(values, monitor, mode="auto"):
    """`(index, value)` of the best finite entry of the curve of metric `monitor`; `None` when none is finite.

    The direction is `infer_mode(monitor, mode)`; the first of equal bests wins.

    Example:
    >>> best_of([0.5, float("nan"), 0.7, 0.7], "val_accuracy"), best_of([2.0, 1.0, 1.5], "loss")
    ((2, 0.7), (1, 1.0))
    """
    finite = [(i, float(v)) for i, v in enumerate(values)
              if isinstance(v, (int, float, np.number)) and math.isfinite(v)]
    if not finite:
        return None
    pick = max if infer_mode(monitor, mode) == "max" else min
    best = pick(v for _, v in finite)
    return next((i, v) for i, v in finite if v == best)


def finite_or_none(value):
    """A float, or None for NaN/inf/None (what strict JSON can hold)."""
    return value if value is None or math.isfinite(value) else None


def moving_average(values, window):
    """Centred moving average that ignores NaN and keeps the length.

    The "moving average" that cs231n's notes and Hung-yi Lee's tips draw over a
    noisy loss curve. Near the ends the window shrinks to the values that
    exist, so the curve does not lag or droop at the edges.

    Args:
        values: 1-D sequence of numbers.
        window: Window length in points, a positive integer; 1 returns the
            values unchanged.

    Returns:
        A float array of the same length.

    Example:
    >>> moving_average([1.0, 2.0, 3.0, 4.0], 3)
    array([1.5, 2. , 3. , 3.5])
    """
    window = check_positive_int(window, "window")
    values = np.asarray(values, dtype="float64")
    if values.ndim != 1:
        raise ValueError(f"values must be one-dimensional. Received an array of shape {values.shape}")
    window = int(window)
    if window <= 1 or len(values) < 2:
        return values.copy()
    finite = np.isfinite(values)
    kernel = np.ones(window)
    sums = np.convolve(np.where(finite, values, 0.0), kernel, mode="same")
    counts = np.convolve(finite.astype("float64"), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def as_layer_stats(stats):
    """Normalize a `LayerStats` callback, its `.stats` dict, a snapshot or a JSON path to the history form.

    Returns:
        `{"epochs": [...], "activations": {layer: {"mean": [...], "std": [...],
        "dead_fraction": [...] or None}}, "gradients": {weight: [...]}, "loss": [...]}`.
    """
    if isinstance(getattr(stats, "stats", None), dict):  # a LayerStats callback after its fit
        stats = stats.stats
    elif isinstance(stats, (str, os.PathLike)):
        with open(os.fspath(stats)) as f:
            stats = json.load(f)
    if not isinstance(stats, dict) or "activations" not in stats or "gradients" not in stats:
        raise ValueError(
            "layer stats must be a LayerStats callback, its .stats dict, a layer_statistics() "
            f"snapshot or a JSON file of one. Received {stats!r:.80}"
        )
    if "epochs" in stats:
        return stats
    # A single snapshot: wrap every number in a one-element list.
    return {
        "epochs": [0],
        "activations": {k: {m: (None if v is None else [v]) if m == "dead_fraction" else [v]
                            for m, v in s.items()} for k, s in stats["activations"].items()},
        "gradients": {k: [v] for k, v in stats["gradients"].items()},
        "loss": [stats.get("loss")],
    }
