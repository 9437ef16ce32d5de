"""`KERASRECIPES_SMOKE=1`: every command at tiny size, so the documented commands run as tests.

The one place that decides how small: a few hundred images and one epoch for
train, demo, next and lr-find; two one-epoch trials for search.
"""

import dataclasses
import os

TRAIN = {"train_images": 512, "test_images": 256, "epochs": 1, "lr_find_steps": 30}
SEARCH = {"trials": 2, "epochs": 1, "refine": 1, "refine_trials": 1, "train_images": 384, "val_images": 128}


def on() -> bool:
    return os.environ.get("KERASRECIPES_SMOKE") == "1"


def data(image_data):
    """The first 512 training and 256 test images of an `ImageData` (unchanged when smoke is off)."""
    if not on():
        return image_data
    n, m = TRAIN["train_images"], TRAIN["test_images"]
    return dataclasses.replace(image_data, x_train=image_data.x_train[:n], y_train=image_data.y_train[:n],
                               x_test=image_data.x_test[:m], y_test=image_data.y_test[:m])


def overrides(values):
    """Recipe overrides with one epoch (unchanged when smoke is off)."""
    return {**values, "epochs": TRAIN["epochs"]} if on() else values


def recipe(value):
    """A `Recipe` of one epoch (unchanged when smoke is off)."""
    return dataclasses.replace(value, epochs=TRAIN["epochs"]) if on() else value


def announce(image_data, recipe):
    if on():
        print(f"KERASRECIPES_SMOKE=1: tiny run ({len(image_data.x_train)} training and "
              f"{len(image_data.x_test)} test images, {recipe.epochs} epoch)")
