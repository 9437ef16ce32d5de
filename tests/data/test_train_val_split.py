import numpy as np
import pytest

from kerasrecipes.data import train_val_split


def test_stratified_split_keeps_class_proportions_and_partitions():
    y = np.repeat(np.arange(4), [100, 50, 30, 20])
    x = np.arange(len(y), dtype=np.float32)[:, None]
    (x_tr, y_tr), (x_val, y_val) = train_val_split(x, y, 0.2, seed=0)
    assert np.bincount(y_val).tolist() == [20, 10, 6, 4]
    assert np.bincount(y_tr).tolist() == [80, 40, 24, 16]
    together = np.sort(np.concatenate([x_tr[:, 0], x_val[:, 0]]))
    np.testing.assert_array_equal(together, x[:, 0])  # a partition: nothing lost or repeated
    assert (np.diff(x_tr[:, 0]) > 0).all()  # original order kept
    np.testing.assert_array_equal(y[x_val[:, 0].astype(int)], y_val)  # labels travel with samples
    again = train_val_split(x, y, 0.2, seed=0)[1][0]
    np.testing.assert_array_equal(again, x_val)
    assert not np.array_equal(train_val_split(x, y, 0.2, seed=1)[1][0], x_val)


def test_unstratified_split_size():
    y = np.zeros(50, int)
    (x_tr, _), (x_val, _) = train_val_split(np.zeros((50, 2)), y, 0.3, stratify=False, seed=0)
    assert len(x_val) == 15 and len(x_tr) == 35


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, "0.1", None])
def test_bad_fraction(fraction):
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(np.zeros((10, 2)), np.zeros(10, int), fraction)


def test_fraction_leaving_an_empty_part():
    with pytest.raises(ValueError, match="empty training or validation"):
        train_val_split(np.zeros((3, 2)), np.arange(3), 0.1)
