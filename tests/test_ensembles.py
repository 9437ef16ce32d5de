import keras
import numpy as np
import pytest

from kerasrecipes import ensembles


def member(seed, classes=4):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(classes, activation="softmax")])


@pytest.fixture
def models():
    return [member(s) for s in range(3)]


X = np.random.default_rng(0).normal(size=(20, 6)).astype("float32")


def test_mean_is_the_mean_of_member_probabilities(models):
    ens = ensembles.average(models)
    expected = np.mean([m.predict(X, verbose=0) for m in models], axis=0)
    np.testing.assert_allclose(ens.predict(X, verbose=0), expected, rtol=1e-5, atol=1e-7)


def test_geometric_is_normalized_geometric_mean(models):
    ens = ensembles.average(models, method="geometric")
    p = np.stack([m.predict(X, verbose=0) for m in models]).astype("float64")
    g = np.exp(np.log(p).mean(axis=0))
    g /= g.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ens.predict(X, verbose=0), g, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("method", ["mean", "geometric"])
def test_round_trip_keras_file_safe_mode(models, method, tmp_path):
    ens = ensembles.average(models, method=method)
    ens.save(tmp_path / "ens.keras")
    loaded = keras.saving.load_model(tmp_path / "ens.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), ens.predict(X, verbose=0), rtol=1e-6)


def test_evaluate_table_matches_numpy(models):
    y = np.random.default_rng(1).integers(0, 4, size=len(X))
    table = ensembles.evaluate(models, X, y)
    assert [r["name"] for r in table.rows][-1] == "ensemble (mean)" and len(table.rows) == 4
    for row, m in zip(table.members, models):
        p = m.predict(X, verbose=0)
        assert row["accuracy"] == pytest.approx(np.mean(p.argmax(1) == y))
        assert row["loss"] == pytest.approx(-np.mean(np.log(p[np.arange(len(y)), y])), rel=1e-5)
    p = np.mean([m.predict(X, verbose=0) for m in models], axis=0)
    assert table.ensemble["accuracy"] == pytest.approx(np.mean(p.argmax(1) == y))
    # an ensemble model gives the same table; one-hot labels too
    again = ensembles.evaluate(ensembles.average(models), X, np.eye(4)[y])
    assert again.ensemble["loss"] == pytest.approx(table.ensemble["loss"], rel=1e-5)
    assert "accuracy" in repr(table) and "<table>" in table._repr_html_()


def test_bad_inputs(models):
    with pytest.raises(ValueError, match="method"):
        ensembles.average(models, method="median")
    with pytest.raises(ValueError, match="shapes"):
        ensembles.average(models + [member(9, classes=5)])
    with pytest.raises(ValueError, match="non-empty list"):
        ensembles.average(models[0])
    with pytest.raises(ValueError, match="same length"):
        ensembles.evaluate(models, X, np.zeros(3, "int32"))
    with pytest.raises(ValueError, match="batch_size must be a positive integer. Received batch_size=0"):
        ensembles.evaluate(models, X, np.zeros(len(X), "int32"), batch_size=0)
    with pytest.raises(ValueError, match="name must be a non-empty string"):
        ensembles.average(models, name=3)


def test_members_with_the_same_name_average_and_round_trip(tmp_path):
    import kerasrecipes as kr

    members = [kr.models.vgg((8, 8, 1), 3, filters=(4,), head="gap") for _ in range(2)]
    assert members[0].name == members[1].name == "vgg"
    ens = kr.ensembles.average(members)
    x = np.random.default_rng(0).random((5, 8, 8, 1)).astype("float32")
    expected = (members[0].predict(x, verbose=0) + members[1].predict(x, verbose=0)) / 2
    np.testing.assert_allclose(ens.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
    ens.save(tmp_path / "e.keras")
    loaded = keras.saving.load_model(tmp_path / "e.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
