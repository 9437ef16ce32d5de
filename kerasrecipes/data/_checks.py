"""Argument and data checks shared by kerasrecipes.data: fail early, name the argument."""

import numpy as np

from kerasrecipes._stats import check_positive_int  # noqa: F401  (the one positive-int check, used here)


def check_array(value, name, ranks=None, finite=True):
    """Return `value` as a numeric numpy array, or raise a ValueError naming `name`."""
    try:
        array = np.asarray(value)
    except Exception as e:  # ragged lists and the like
        raise ValueError(f"{name} must be a numeric array. Received {type(value).__name__}: {e}") from None
    if array.dtype.kind not in "iuf":
        raise ValueError(
            f"{name} must hold integers or floats. Received {name} of dtype {array.dtype}"
        )
    if array.size == 0:
        raise ValueError(f"{name} is empty. Received {name} of shape {array.shape}")
    if ranks is not None and array.ndim not in ranks:
        expected = " or ".join(str(r) for r in ranks)
        raise ValueError(f"{name} must have rank {expected}. Received {name} of shape {array.shape}")
    if finite and array.dtype.kind == "f":
        bad = ~np.isfinite(array)
        if bad.any():
            kinds = ("NaN" if np.isnan(array).any() else "") + (" inf" if np.isinf(array).any() else "")
            raise ValueError(f"{name} contains {int(bad.sum())} non-finite values ({kinds.strip()})")
    return array


def check_labels(value, name="y", length=None, num_classes=None):
    """Return integer class labels of shape (N,), or raise a ValueError naming `name`."""
    labels = check_array(value, name)
    if labels.ndim == 2 and labels.shape[1] == 1:  # keras.datasets.cifar10 style (N, 1)
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(
            f"{name} must be integer class labels of shape (N,). Received {name} of shape {labels.shape}"
        )
    if labels.dtype.kind == "f":
        raise ValueError(
            f"{name} must hold integer class labels, not floats (one-hot or soft labels are made "
            f"here). Received {name} of dtype {labels.dtype}; use y.astype('int32') if they are whole"
        )
    if length is not None and len(labels) != length:
        raise ValueError(f"{name} has {len(labels)} labels but x has {length} samples")
    if labels.min() < 0:
        raise ValueError(f"{name} has negative labels. Received min({name})={labels.min()}")
    if num_classes is not None:
        check_positive_int(num_classes, "num_classes")
        if labels.max() >= num_classes:
            raise ValueError(
                f"{name} has labels outside 0..{num_classes - 1}. Received max({name})={labels.max()} "
                f"with num_classes={num_classes}"
            )
    return labels.astype(np.int64)


def check_bool(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False. Received {name}={value!r}")
    return bool(value)


def check_seed(value, name="seed"):
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0):
        raise ValueError(f"{name} must be None or an integer >= 0. Received {name}={value!r}")
    return value


def check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 < value < 1.0:
        raise ValueError(f"{name} must be a number in (0, 1). Received {name}={value!r}")
    return float(value)


def check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}. Received {name}={value!r}")
    return value


def check_alpha(value, name):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise ValueError(f"{name} must be None or a positive Beta concentration alpha. Received {name}={value!r}")
    return float(value)
