"""Every public entry point that needs a compiled or built model says so in a ValueError naming the argument.

(Keras itself fails deeper: `AttributeError: 'Sequential' object has no attribute 'optimizer'`, or a layer
"never called".)
"""

import keras
import numpy as np
import pytest

import kerasrecipes as kr
from kerasrecipes import callbacks, ensembles, models

X = np.random.default_rng(0).random((64, 6, 6, 1)).astype("float32")
Y = np.arange(64) % 3


def uncompiled():
    return keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(), keras.layers.Dense(3, "softmax")],
                            name="tiny")


def unbuilt():
    return keras.Sequential([keras.layers.Flatten(), keras.layers.Dense(3, "softmax")], name="unbuilt")


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__(name="subclassed")
        self.flatten, self.dense = keras.layers.Flatten(), keras.layers.Dense(3, "softmax")

    def call(self, x):
        return self.dense(self.flatten(x))


def uncompiled_message(owner):
    return (rf"model must be compiled \(with an optimizer and a loss\) for {owner}.*: call "
            r"model.compile\(optimizer, loss\) first. Received an uncompiled model 'tiny'")


def begin(callback, model):
    """`fit` refuses an uncompiled model itself; a callback driven by hand (or by a custom loop) must too."""
    callback.set_model(model)
    callback.set_params({"epochs": 3, "steps": 1, "verbose": 0})
    callback.on_train_begin()


@pytest.mark.parametrize("owner, call", [
    ("lr_find", lambda m: kr.lr_find(m, X, Y, steps=3)),
    ("HalveLROnPlateau", lambda m: begin(callbacks.HalveLROnPlateau(), m)),
    ("CheckpointEnsemble", lambda m: begin(callbacks.CheckpointEnsemble(), m)),
    (r"SWA\(lr=...\)", lambda m: begin(callbacks.SWA(1, lr=0.01), m)),
    (r"AtomicBackupAndRestore.restore", lambda m: callbacks.AtomicBackupAndRestore("unused").restore(m)),
])
def test_uncompiled_model_is_a_value_error_naming_it(owner, call):
    with pytest.raises(ValueError, match=uncompiled_message(owner)):
        call(uncompiled())


def test_lr_find_needs_a_built_model_too():
    model = Subclassed()
    model.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="model must be built for lr_find: .*Received an unbuilt model 'subclassed'"):
        kr.lr_find(model, X, Y, steps=3)
    model(X[:1])  # built by a call: enough for lr_find, which needs no keras.Input
    assert len(kr.lr_find(model, X, Y, steps=3, batch_size=16).lrs) == 3


def test_averaging_and_flops_need_keras_inputs():
    with pytest.raises(ValueError, match=r"models\[1\] must be built for averaging: .*Received an unbuilt model 'unbuilt'"):
        ensembles.average([uncompiled(), unbuilt()])
    called = Subclassed()
    called(X[:1])
    with pytest.raises(ValueError, match=r"models\[0\] must have defined inputs for averaging.*'subclassed'"):
        ensembles.evaluate([called, called], X, Y)
    with pytest.raises(ValueError, match="model must be built for count_flops: .*'unbuilt'"):
        models.count_flops(unbuilt())
    with pytest.raises(ValueError, match=r"model must be a keras.Model for count_flops. Received model='vgg'"):
        models.count_flops("vgg")


def test_the_same_sequential_model_twice_averages():
    # Keras's Sequential has `inputs`/`outputs` but no `input`/`output`: the renaming wrapper used the latter.
    member = uncompiled()
    ensemble = ensembles.average([member, member])
    np.testing.assert_allclose(ensemble.predict(X[:4], verbose=0), member.predict(X[:4], verbose=0), rtol=1e-6)
