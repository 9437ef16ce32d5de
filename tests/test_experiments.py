"""experiments: same seed, same data, one model per variant; the ready-made comparisons build what they say."""

import keras
import numpy as np
import pytest

from kerasrecipes import experiments


@pytest.fixture(scope="module")
def tiny(fashion_small):
    (x, y), (xv, yv) = fashion_small
    return (x[:400], y[:400]), (xv[:100], yv[:100])


def _builder(units=16, activation="relu"):
    return keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                             keras.layers.Dense(units, activation=activation),
                             keras.layers.Dense(10, activation="softmax")])


def test_compare_is_reproducible_and_tabulates(tiny):
    result = experiments.compare(_builder, {"a": {}, "a again": {}, "wide": {"units": 64}}, tiny,
                                 epochs=2, batch_size=50)
    h = result.histories
    # same seed, same data order, same architecture: the very same numbers
    np.testing.assert_allclose(h["a"]["val_loss"], h["a again"]["val_loss"], rtol=1e-6)
    assert h["a"]["val_loss"] != h["wide"]["val_loss"]
    rows = {r["variant"]: r for r in result.table}
    assert rows["wide"]["params"] == 28 * 28 * 64 + 64 + 64 * 10 + 10
    assert rows["a"]["val_accuracy"] == pytest.approx(h["a"]["val_accuracy"][-1])
    assert rows["a"]["best_val_accuracy"] == pytest.approx(max(h["a"]["val_accuracy"]))
    assert result.best in rows
    fig = result.figure()
    assert len(fig.axes) == 2 and len(fig.axes[0].get_lines()) == 6
    text = repr(result)
    assert "val_accuracy" in text and "wide" in text
    assert "<table" in result._repr_html_()


def test_compare_splits_plain_data_and_scales_uint8():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 28, 28, 1)).astype("uint8")
    y = rng.integers(0, 10, 50)
    result = experiments.compare(_builder, {"a": {}}, (x, y), epochs=1)
    assert np.isfinite(result.table[0]["val_loss"]) and result.table[0]["val_loss"] < 10


def test_compare_over_recipe_variants_trains_each_through_recipe_fit(tiny):
    from kerasrecipes.recipe import Recipe

    recipe = Recipe(filters=(4, 8), convs_per_stage=1, batch_size=100, epochs=5, ensemble=None,
                    jit_compile=False, deterministic=True)
    variants = {"none": {"augment": "none"}, "none again": {"augment": "none"}, "light": {"augment": "light"}}
    result = experiments.compare(recipe, variants, tiny, epochs=2)
    h = result.histories
    assert all(len(v["loss"]) == 2 for v in h.values())  # epochs overrides the recipe's 5
    np.testing.assert_array_equal(h["none"]["val_loss"], h["none again"]["val_loss"])  # the same seed
    assert h["none"]["loss"] != h["light"]["loss"]
    assert result.differences == {"augment": ["none", "none", "light"]}
    assert "<h2>Settings that differ</h2>" in result._repr_html_()
    rows = {r["variant"]: r for r in result.table}
    assert rows["light"]["params"] == recipe.build_model().count_params()
    with pytest.raises(ValueError, match=r"batch_size is set by the Recipe.*Received batch_size=64"):
        experiments.compare(recipe, variants, tiny, batch_size=64)
    with pytest.raises(ValueError, match=r"unknown Recipe field\(s\) widht in variants\['w'\].*widht=3"):
        experiments.compare(recipe, {"w": {"widht": 3}}, tiny)
    with pytest.raises(ValueError, match="Received augment='huge'"):
        experiments.compare(recipe, {"a": {"augment": "huge"}}, tiny)


def test_compare_rejects_bad_arguments(tiny):
    with pytest.raises(ValueError, match="variants must be"):
        experiments.compare(_builder, {}, tiny)
    with pytest.raises(ValueError, match=r"variants\['a'\] must be a dict"):
        experiments.compare(_builder, {"a": 3}, tiny)
    with pytest.raises(ValueError, match="epochs"):
        experiments.compare(_builder, {"a": {}}, tiny, epochs=0)
    with pytest.raises(ValueError, match="data must be"):
        experiments.compare(_builder, {"a": {}}, [1, 2, 3])
    with pytest.raises(ValueError, match="Received optimizer='adagrad'"):  # kerasrecipes.optimizers.build's names
        experiments.compare(_builder, {"a": {}}, tiny, optimizer="adagrad")
    with pytest.raises(ValueError, match="rates"):
        experiments.compare_dropout(tiny, rates=(0.0, 1.0))
    with pytest.raises(ValueError, match="model must be"):
        experiments.compare_batchnorm(tiny, model="resnet")


def test_initializers_zeros_cannot_learn_he_can(tiny):
    result = experiments.compare_initializers(tiny, epochs=1, initializers=("zeros", "he"), model="mlp",
                                              model_kwargs={"hidden": (32,)}, batch_size=32)
    rows = {r["variant"]: r for r in result.table}
    assert rows["he"]["val_accuracy"] > rows["zeros"]["val_accuracy"] + 0.2
    assert result.best == "he"


def test_batchnorm_placements_build_what_they_say(tiny):
    result = experiments.compare_batchnorm(tiny, epochs=1, model="mlp", model_kwargs={"hidden": (16,)})
    params = {r["variant"]: r["params"] for r in result.table}
    # BN adds 4 numbers per unit; BN right after the dense layer makes its bias redundant (dropped)
    assert params["before"] == params["none"] + 4 * 16 - 16
    assert params["after"] == params["none"] + 4 * 16


def test_dropout_and_activation_sweeps(tiny):
    drop = experiments.compare_dropout(tiny, epochs=1, rates=(0.0, 0.5), model="mlp",
                                       model_kwargs={"hidden": (16,)})
    assert [r["variant"] for r in drop.table] == ["0.0", "0.5"]
    act = experiments.compare_activations(tiny, epochs=1, activations=("relu", "maxout"), model="mlp",
                                          model_kwargs={"hidden": (16,)})
    params = {r["variant"]: r["params"] for r in act.table}
    assert params["maxout"] > params["relu"]  # maxout's dense layer has twice the units


def test_default_vgg_builds_and_trains(tiny):
    (x, y), (xv, yv) = tiny
    result = experiments.compare_initializers(((x[:128], y[:128]), (xv[:64], yv[:64])), epochs=1,
                                              initializers=("he",), batch_size=64)
    assert result.table[0]["variant"] == "he" and np.isfinite(result.table[0]["loss"])


def test_compare_clears_the_session_before_each_variant(tiny):
    """kerasrecipes.clear_session() per variant: Keras's state restarts, so every variant's layers get the
    same names (the memory side is held in tests/test_memory_loops.py)."""
    names = []

    def builder():
        model = _builder()
        names.append([layer.name for layer in model.layers])
        return model

    keras.layers.Dense(1)  # state from before compare: a name taken
    result = experiments.compare(builder, {"a": {}, "b": {}, "c": {}}, tiny, epochs=1, batch_size=100,
                                 optimizer="sgd", learning_rate=0.05)
    assert names[0] == names[1] == names[2] == ["flatten", "dense", "dense_1"]
    assert [r["variant"] for r in result.table] == ["a", "b", "c"]
