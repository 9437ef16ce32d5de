"""Checks a search runs before trial 1, so a bad argument or bad data fails once, with its name.

Every failure is a `ValueError` naming the argument and echoing the value; the
data checks find what would otherwise give COMPLETED trials at chance score
(NaN or infinity in `x`) or FAILED trials with tracebacks (a label outside the
model's classes, lengths that differ).
"""

import keras_tuner as kt
import numpy as np

from kerasrecipes._stats import check_positive_int  # noqa: F401  (the one positive-int check; checks.check_positive_int)
from kerasrecipes.data._checks import check_seed  # noqa: F401  (the one seed check; checks.check_seed)
from kerasrecipes.memory import clear_session


def objective_names(objective):
    if isinstance(objective, str):
        return [objective]
    if isinstance(objective, kt.Objective):
        return [objective.name]
    if isinstance(objective, (list, tuple)) and objective:
        return [n for o in objective for n in objective_names(o)]
    raise ValueError(
        f"objective must be a metric name such as 'val_accuracy' or a keras_tuner.Objective. "
        f"Received objective={objective!r}"
    )


def length(data):
    try:
        return len(data)
    except TypeError:
        return None


def infer_classes(y):
    """`(num_classes, loss)` from integer labels (N,) or one-hot rows (N, C)."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.shape[1], "categorical_crossentropy"
    if y.ndim > 2 or not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0):
        raise ValueError(
            "y must hold integer class labels (shape (N,)) or one-hot rows (shape (N, C)) for a "
            f"SearchSpace search. Received y of shape {y.shape} and dtype {y.dtype}"
        )
    if y.size == 0 or y.min() < 0:
        raise ValueError(f"y must hold non-negative class labels. Received y with min {y.min() if y.size else None}")
    return int(y.max()) + 1, "sparse_categorical_crossentropy"


def check_finite(x, name):
    """NaN or infinity in a float array: a ValueError saying how many and where the first is."""
    if not isinstance(x, np.ndarray) or not np.issubdtype(x.dtype, np.floating):
        return
    bad = ~np.isfinite(x)
    if bad.any():
        first = int(np.argwhere(bad.reshape(len(x), -1).any(axis=1))[0][0]) if x.ndim else 0
        raise ValueError(f"{name} has {int(bad.sum())} NaN or infinite values (the first in example {first}); "
                         f"every trial would train on them. Received {name} of shape {x.shape}")


def check_lengths(x, y, x_name, y_name):
    n, m = length(x), length(y)
    if y is not None and n is not None and m is not None and n != m:
        raise ValueError(f"{x_name} and {y_name} must have the same length. Received len({x_name})={n}, "
                         f"len({y_name})={m}")


def check_labels(y, num_classes, name):
    """Integer labels must lie in 0..num_classes-1 (one-hot rows must have num_classes columns)."""
    if y is None or num_classes is None:
        return
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        if y.shape[1] != num_classes:
            raise ValueError(f"{name} has one-hot rows of {y.shape[1]} classes, the model predicts {num_classes}. "
                             f"Received {name} of shape {y.shape}")
        return
    if y.size == 0 or not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        return
    low, high = y.min().item(), y.max().item()
    if low < 0 or high >= num_classes:
        bad = low if low < 0 else high
        raise ValueError(f"{name} has label {bad!r} outside the model's classes 0..{num_classes - 1}. "
                         f"Received {name} with labels from {low!r} to {high!r}")


def check_data(x, y, validation_data, num_classes=None):
    """Lengths, NaN/infinity and label ranges of the training and validation data."""
    check_lengths(x, y, "x", "y")
    check_finite(x, "x")
    check_labels(y, num_classes, "y")
    if validation_data is not None:
        x_val, y_val = validation_data
        check_lengths(x_val, y_val, "validation_data[0]", "validation_data[1]")
        check_finite(x_val, "validation_data[0]")
        check_labels(y_val, num_classes, "validation_data[1]")


def reported_metrics(hypermodel, x, y, validation):
    """`(metric names fit will report, number of classes or None)` from one test step on two examples."""
    hp = kt.HyperParameters()
    clear_session()
    model = hypermodel.build(hp)
    if not getattr(model, "compiled", False):
        raise ValueError(
            "The build function must return a compiled keras.Model (call model.compile(...) in it). "
            f"Received an uncompiled {type(model).__name__}"
        )
    num_classes = None
    shape = getattr(model, "output_shape", None)
    if isinstance(shape, tuple) and len(shape) == 2 and isinstance(shape[-1], int) and shape[-1] > 1:
        num_classes = shape[-1]
    check_labels(y, num_classes, "y")  # before the test step, which would fail on such a label
    try:
        logs = model.test_on_batch(x[:2], None if y is None else y[:2], return_dict=True)
    except Exception as e:  # the same error would fail every trial: report it once, up front
        raise ValueError(
            f"The build function's model cannot be evaluated on the first two examples of x, y: "
            f"{type(e).__name__}: {e}"
        ) from e
    names = set(logs)
    clear_session()
    return names | ({"val_" + n for n in names} if validation else set()), num_classes
