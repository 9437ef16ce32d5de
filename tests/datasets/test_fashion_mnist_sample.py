import importlib
import os

import numpy as np

from kerasrecipes import datasets

sample_module = importlib.import_module("kerasrecipes.datasets.sample")


def test_sample_is_stratified_real_fashion_mnist():
    (x_train, y_train), (x_test, y_test) = datasets.fashion_mnist_sample()
    assert x_train.shape == (8000, 28, 28, 1) and x_test.shape == (2000, 28, 28, 1)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [800] * 10
    assert np.bincount(y_test).tolist() == [200] * 10
    # Real data: every sampled image occurs, with its label, in the full data set.
    (full_x, full_y), (full_xt, full_yt) = datasets.fashion_mnist()
    lookup = {img.tobytes(): label for img, label in zip(full_xt, full_yt)}
    assert all(lookup.get(img.tobytes()) == label for img, label in zip(x_test, y_test))
    train_lookup = {img.tobytes(): label for img, label in zip(full_x[:20000], full_y[:20000])}
    hits = [(img.tobytes() in train_lookup, train_lookup.get(img.tobytes()) == label)
            for img, label in zip(x_train, y_train)]
    assert sum(h for h, _ in hits) > 2000 and all(ok for h, ok in hits if h)


def test_sample_ships_with_licence_and_stays_small():
    files = os.listdir(sample_module.DATA_DIR)
    assert "LICENSE-fashion-mnist.txt" in files
    with open(os.path.join(sample_module.DATA_DIR, "LICENSE-fashion-mnist.txt")) as f:
        text = f.read()
    assert "MIT License" in text and "Zalando SE" in text
    size = sum(os.path.getsize(os.path.join(sample_module.DATA_DIR, n)) for n in files)
    assert size < 5_000_000
