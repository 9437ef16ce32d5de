import keras
import numpy as np
import pytest
from keras import ops

from kerasrecipes.layers import Maxout


@pytest.mark.parametrize("pieces", [1, 2, 3])
def test_equals_the_group_max_on_the_last_axis(pieces):
    x = np.random.default_rng(pieces).normal(size=(5, 4, 4, 6 * pieces)).astype("float32")
    out = ops.convert_to_numpy(Maxout(pieces=pieces)(x))
    expected = x.reshape(5, 4, 4, 6, pieces).max(axis=-1)
    np.testing.assert_array_equal(out, expected)


def test_groups_on_another_axis():
    x = np.random.default_rng(0).normal(size=(3, 8, 5)).astype("float32")
    out = ops.convert_to_numpy(Maxout(pieces=4, axis=1)(x))
    np.testing.assert_array_equal(out, x.reshape(3, 2, 4, 5).max(axis=2))


def test_bad_arguments_at_construction():
    for kwargs, match in [(dict(pieces=0), "pieces=0"), (dict(pieces=2.5), "pieces=2.5"),
                                               (dict(axis=0), "Received axis=0"), (dict(axis="last"), "axis")]:
        with pytest.raises(ValueError, match=match):
            Maxout(**kwargs)


def test_channels_not_divisible_is_a_value_error():
    with pytest.raises(ValueError, match="divisible by pieces"):
        Maxout(pieces=4)(np.zeros((1, 6), "float32"))


def test_round_trip(tmp_path):
    inputs = keras.Input((4, 4, 6))
    model = keras.Model(inputs, Maxout(pieces=3, name="m")(inputs))
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(1).normal(size=(2, 4, 4, 6)).astype("float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.get_layer("m").pieces == 3
