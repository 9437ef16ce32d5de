"""Every public data function rejects bad data with a ValueError naming the argument."""

import keras
import numpy as np
import pytest

from kerasrecipes.data import (
    class_weights, pipeline, resample, standardization, train_val_split, tta_predict,
)

GOOD_X = np.zeros((6, 4, 4, 1), "float32")
GOOD_Y = np.array([0, 1, 2, 0, 1, 2])


def _with_nan():
    x = GOOD_X.copy()
    x[2, 1, 1, 0] = np.nan
    return x


def _with_inf():
    x = GOOD_X.copy()
    x[0, 0, 0, 0] = np.inf
    return x


BAD_X = {
    "wrong rank": (np.zeros(6, "float32"), "x must have rank"),
    "non-numeric": (np.array([["a"] * 2] * 6), "x must hold integers or floats"),
    "nan": (_with_nan(), "x contains 1 non-finite values \\(NaN\\)"),
    "inf": (_with_inf(), "x contains 1 non-finite values \\(inf\\)"),
    "empty": (np.zeros((0, 4, 4, 1), "float32"), "x is empty"),
}
BAD_Y = {
    "out of range": (np.array([0, 1, 2, 0, 1, 7]), "y has labels outside 0..2"),
    "negative": (np.array([0, 1, -1, 0, 1, 2]), "y has negative labels"),
    "float labels": (GOOD_Y.astype("float32"), "y must hold integer class labels"),
    "one-hot": (np.eye(3)[GOOD_Y].astype(int), "y must be integer class labels of shape \\(N,\\)"),
    "length": (GOOD_Y[:5], "y has 5 labels but x has 6"),
    "strings": (np.array(list("abcabc")), "y must hold integers or floats"),
    "empty": (np.array([], int), "y is empty"),
}

X_USERS = {
    "pipeline": lambda x: pipeline(x, None, 2),
    "train_val_split": lambda x: train_val_split(x, np.zeros(len(x), int) if x.ndim else x, 0.5),
    "resample": lambda x: resample(x, np.zeros(len(x), int)),
    "standardization": lambda x: standardization(x, per="pixel"),
    "tta_predict": lambda x: tta_predict(keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten()]), x),
}
Y_USERS = {
    "pipeline": lambda y: pipeline(GOOD_X, y, 2, num_classes=3),
    "train_val_split": lambda y: train_val_split(GOOD_X, y, 0.5),
    "resample": lambda y: resample(GOOD_X, y),
    "class_weights": lambda y: class_weights(y, num_classes=3),
}


@pytest.mark.parametrize("case", list(BAD_X))
@pytest.mark.parametrize("user", list(X_USERS))
def test_bad_x(user, case):
    x, message = BAD_X[case]
    if user == "train_val_split" and case == "empty":
        message = "x is empty"
    if user in ("train_val_split", "resample") and case == "wrong rank":
        pytest.skip("flat samples (N,) are valid there")
    with pytest.raises(ValueError, match=message):
        X_USERS[user](x)


@pytest.mark.parametrize("case", list(BAD_Y))
@pytest.mark.parametrize("user", list(Y_USERS))
def test_bad_y(user, case):
    y, message = BAD_Y[case]
    if user == "class_weights" and case == "length":
        pytest.skip("class_weights has no x to compare with")
    if case == "out of range" and user in ("train_val_split", "resample"):
        pytest.skip("no num_classes to compare with")
    with pytest.raises(ValueError, match=message):
        Y_USERS[user](y)


def test_flags_seeds_and_views_are_checked_before_work():
    for call, match in [
        (lambda: train_val_split(GOOD_X, GOOD_Y, stratify="yes"), "stratify must be True or False. Received stratify='yes'"),
        (lambda: train_val_split(GOOD_X, GOOD_Y, seed="a"), "seed must be None or an integer >= 0. Received seed='a'"),
        (lambda: resample(GOOD_X, GOOD_Y, seed=-1), "seed must be None or an integer"),
        (lambda: standardization(GOOD_X, scale="y"), "scale must be True or False"),
        (lambda: pipeline(GOOD_X, GOOD_Y, shuffle="y"), "shuffle must be True or False"),
        (lambda: pipeline(GOOD_X, GOOD_Y, seed=1.5), "seed must be None or an integer"),
        (lambda: tta_predict(None, GOOD_X, flips="x"), "flips must be True or False"),
        (lambda: tta_predict(None, GOOD_X, crops="five", pad=-1), "pad must be a non-negative integer"),
        (lambda: tta_predict(None, GOOD_X, crops="five", crop_size=(0, 4)), "crop_size must be None or a"),
    ]:
        with pytest.raises(ValueError, match=match):
            call()


def test_augmentation_seed_and_schedule_and_plot_arguments():
    from kerasrecipes import plots, schedules
    from kerasrecipes.data import augmentation

    with pytest.raises(ValueError, match="seed must be None or an integer >= 0. Received seed='a'"):
        augmentation("light", (8, 8, 1), seed="a")
    with pytest.raises(ValueError, match="factor must be in \\(0, 1\\]. Received factor=2.0"):
        schedules.StepDecay(0.1, 10, factor=2.0)
    with pytest.raises(ValueError, match="num_classes must be None or a positive integer"):
        plots.confusion_counts([0, 1], [0, 1], num_classes=0)
    with pytest.raises(ValueError, match="eps must be a number in \\(0, 1\\)"):
        plots.per_example_loss(np.full((2, 2), 0.5), [0, 1], eps=-1)
