"""Tiny models and a driver that feeds synthetic logs to a callback."""

import keras
import numpy as np


def tiny_model(lr=0.1, optimizer=None, bn=False, units=4, classes=3, features=5):
    layers = [keras.Input((features,)), keras.layers.Dense(units, activation="relu")]
    if bn:
        layers.append(keras.layers.BatchNormalization())
    layers.append(keras.layers.Dense(classes, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer or keras.optimizers.SGD(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def tiny_data(n=64, features=5, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 0.5).astype("int32")
    return x, np.minimum(y, classes - 1)


def stamp(model, value):
    """Sets every weight of `model` to `value`, so an epoch's weights are recognizable."""
    model.set_weights([np.full(w.shape, value, w.dtype) for w in model.get_weights()])


class Driver:
    """Runs a callback through on_train_begin / epochs / on_train_end with given logs.

    Before each epoch end the model's weights are stamped with the epoch index,
    so that restored weights show which epoch they came from.
    """

    def __init__(self, callback, model):
        self.callback, self.model = callback, model
        callback.set_model(model)
        callback.set_params({"epochs": 100, "steps": 1, "verbose": 0})
        model.stop_training = False

    def run(self, values, monitor="val_loss", extra=None):
        cb = self.callback
        cb.on_train_begin()
        self.lrs, self.epochs_run = [], 0
        for epoch, value in enumerate(values):
            cb.on_epoch_begin(epoch)
            stamp(self.model, float(epoch))
            logs = {monitor: value, **(extra or {})}
            cb.on_epoch_end(epoch, logs)
            self.lrs.append(logs.get("learning_rate"))
            self.epochs_run += 1
            if self.model.stop_training:
                break
        cb.on_train_end()
        return self
