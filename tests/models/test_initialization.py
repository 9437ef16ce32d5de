"""cs231n's initialization argument, measured: He keeps a deep ReLU net's signal alive."""

import keras
import numpy as np

from kerasrecipes.models import mlp

DEPTH, WIDTH = 20, 256


def _activation_stds(kernel_initializer):
    model = mlp((WIDTH,), 10, hidden=(WIDTH,) * DEPTH, order="dense-act", activation="relu",
                kernel_initializer=kernel_initializer)
    acts = [model.get_layer(f"dense{i}_act").output for i in range(1, DEPTH + 1)]
    probe = keras.Model(model.inputs, acts)
    x = np.random.default_rng(0).normal(size=(1000, WIDTH)).astype("float32")
    return np.array([float(np.std(a)) for a in probe.predict(x, verbose=0)])


def test_he_keeps_the_last_layer_variance_within_a_factor_of_2_of_the_first():
    stds = _activation_stds("he")
    ratio = stds[-1] ** 2 / stds[0] ** 2
    assert 0.5 <= ratio <= 2.0, stds


def test_small_random_shrinks_the_variance_by_orders_of_magnitude():
    stds = _activation_stds("small_random")
    # Each layer multiplies the variance by about WIDTH * 0.01**2 / 2 = 0.0128.
    assert stds[-1] ** 2 / stds[0] ** 2 < 1e-20
    assert stds[-1] < 1e-15


def test_zero_init_makes_every_unit_of_a_layer_identical_even_after_training():
    model = mlp((8,), 3, hidden=(16, 16), order="dense-act", activation="tanh", kernel_initializer="zeros")
    model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 8)).astype("float32"), rng.integers(0, 3, 64)
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    for name in ("dense1", "dense2"):
        kernel = model.get_layer(name).kernel.numpy()
        # Every column (unit) is the same as the first: symmetry was never broken.
        np.testing.assert_array_equal(kernel, np.repeat(kernel[:, :1], kernel.shape[1], axis=1))
    probe = keras.Model(model.inputs, model.get_layer("dense2_act").output)
    hidden = probe.predict(x, verbose=0)
    assert np.all(hidden == hidden[:, :1])
