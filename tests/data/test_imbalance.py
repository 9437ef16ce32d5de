import keras
import numpy as np
import pytest

from kerasrecipes.data import class_weights, resample


@pytest.fixture
def one_to_twenty():
    """A made-up 1:20 split: 10 samples of class 1, 200 of class 0, each row unique."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(210, 3, 3, 1)).astype("float32")
    y = np.array([0] * 200 + [1] * 10)
    return x, y


@pytest.mark.parametrize("strategy, size", [("oversample", 200), ("undersample", 10)])
def test_balanced_and_nothing_invented(one_to_twenty, strategy, size):
    x, y = one_to_twenty
    xb, yb, index = resample(x, y, strategy, seed=0, return_indices=True)
    assert np.bincount(yb).tolist() == [size, size]
    originals = {row.tobytes(): label for row, label in zip(x, y)}
    # Every output row is an input row, with its own label.
    assert all(originals.get(row.tobytes()) == label for row, label in zip(xb, yb))
    np.testing.assert_array_equal(xb, x[index])
    if strategy == "oversample":
        assert set(index.tolist()) == set(range(210))  # nothing dropped
    else:
        assert len(set(index.tolist())) == 20  # no repeats
    assert not (np.diff(yb) == 0).all()  # shuffled, not class blocks


def test_seeded_and_classes_absent_stay_absent():
    x, y = np.arange(12)[:, None], np.array([0] * 9 + [3] * 3)
    a = resample(x, y, seed=1)[0]
    np.testing.assert_array_equal(a, resample(x, y, seed=1)[0])
    assert set(resample(x, y, seed=1)[1].tolist()) == {0, 3}


def test_class_weights_balance_the_total_weight(one_to_twenty):
    _, y = one_to_twenty
    weights = class_weights(y)
    assert weights == pytest.approx({0: 210 / 400, 1: 210 / 20})
    per_sample = np.array([weights[c] for c in y])
    assert per_sample[y == 0].sum() == pytest.approx(per_sample[y == 1].sum())
    assert per_sample.mean() == pytest.approx(1.0)


def test_class_weights_feed_model_fit(one_to_twenty):
    x, y = one_to_twenty
    model = keras.Sequential([keras.Input((3, 3, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, class_weight=class_weights(y), epochs=1, verbose=0)


def test_bad_arguments(one_to_twenty):
    x, y = one_to_twenty
    with pytest.raises(ValueError, match="strategy"):
        resample(x, y, "smote")
    with pytest.raises(ValueError, match="num_classes=1"):
        class_weights(y, num_classes=1)
