import keras
import numpy as np
import pytest
from keras import ops

from kerasrecipes.layers import RReLU


def test_inference_is_deterministic_with_the_stated_slope():
    x = np.linspace(-5, 5, 101, dtype="float32")[None, :]
    layer = RReLU(lower=3.0, upper=8.0)
    first = ops.convert_to_numpy(layer(x, training=False))
    second = ops.convert_to_numpy(layer(x, training=False))
    np.testing.assert_array_equal(first, second)
    expected = np.where(x >= 0, x, x * 2.0 / 11.0)
    np.testing.assert_allclose(first, expected, rtol=1e-6)


def test_training_draws_a_fresh_divisor_per_element_and_per_call():
    x = -np.ones((4, 256), dtype="float32")
    layer = RReLU(lower=3.0, upper=8.0, seed=7)
    a = ops.convert_to_numpy(layer(x, training=True))
    b = ops.convert_to_numpy(layer(x, training=True))
    assert not np.allclose(a, b)  # per call
    assert np.unique(a).size > 500  # per element
    divisors = -1.0 / a  # every divisor within [lower, upper]
    assert divisors.min() >= 3.0 - 1e-5 and divisors.max() <= 8.0 + 1e-5
    assert abs(divisors.mean() - 5.5) < 0.2  # U(3, 8) has mean 5.5


def test_positive_inputs_pass_unchanged_in_training():
    x = np.abs(np.random.default_rng(0).normal(size=(8, 8))).astype("float32")
    np.testing.assert_array_equal(ops.convert_to_numpy(RReLU()(x, training=True)), x)


def test_bad_bounds_are_a_value_error():
    with pytest.raises(ValueError, match="lower <= upper"):
        RReLU(lower=8.0, upper=3.0)


def test_round_trip_keeps_config_and_outputs(tmp_path):
    inputs = keras.Input((6,))
    model = keras.Model(inputs, RReLU(lower=2.0, upper=4.0, name="r")(inputs))
    path = tmp_path / "rrelu.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.get_layer("r").get_config()["lower"] == 2.0
    x = np.linspace(-3, 3, 12, dtype="float32").reshape(2, 6)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
