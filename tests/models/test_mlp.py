import keras
import numpy as np
import pytest

from kerasrecipes.models import mlp


def test_order_and_names():
    model = mlp((28, 28, 1), 10, hidden=(32, 16), order="dense-bn-act-drop", dropout=0.5)
    names = [l.name for l in model.layers]
    assert names == ["input", "flatten", "dense1", "dense1_bn", "dense1_act", "dense1_drop",
                     "dense2", "dense2_bn", "dense2_act", "dense2_drop", "predictions"]
    assert not model.get_layer("dense1").use_bias  # BatchNorm right after it


def test_dropout_without_token_goes_after_the_unit_and_zero_builds_none():
    names = [l.name for l in mlp((4,), 2, hidden=(8,), order="dense-act", dropout=0.2).layers]
    assert names == ["input", "dense1", "dense1_act", "dense1_drop", "predictions"]
    names = [l.name for l in mlp((4,), 2, hidden=(8,), order="dense-act").layers]
    assert "dense1_drop" not in names


def test_bad_order_lists_the_valid_tokens():
    with pytest.raises(ValueError, match="valid tokens: dense, bn, act, drop"):
        mlp((4,), 2, order="conv-act")


def test_bad_arguments_are_refused_before_building():
    for kwargs, match in [
        (dict(input_normalization=(0.5, -1.0)), "variance > 0"), (dict(output_activation="softmaxx"), "output_activation"),
        (dict(hidden=(8, 0)), "hidden must hold positive integers"), (dict(dropout=1.5), "dropout")]:
        with pytest.raises(ValueError, match=match):
            mlp((4,), 2, **kwargs)


def test_maxout_mlp_fits_and_round_trips(tmp_path):
    model = mlp((6,), 3, hidden=(8,), activation="maxout", order="dense-act", l2=1e-4)
    assert model.get_layer("dense1").units == 16
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(12, 6)).astype("float32")
    model.fit(x, np.arange(12) % 3, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-6)
