import gzip
import importlib
import os
import shutil
import struct

import keras
import numpy as np
import pytest

from kerasrecipes import datasets

fm = importlib.import_module("kerasrecipes.datasets.fashion_mnist")


def _write(directory, stem, array, gz=True):
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path = os.path.join(directory, stem + (".gz" if gz else ""))
    with open(path, "wb") as f:
        f.write(gzip.compress(payload) if gz else payload)
    return path


def _fake_dataset(directory, n_train=6, n_test=4, fill=7, gz=True):
    os.makedirs(directory, exist_ok=True)
    _write(directory, "train-images-idx3-ubyte", np.full((n_train, 28, 28), fill), gz)
    _write(directory, "train-labels-idx1-ubyte", np.arange(n_train) % 10, gz)
    _write(directory, "t10k-images-idx3-ubyte", np.full((n_test, 28, 28), fill), gz)
    _write(directory, "t10k-labels-idx1-ubyte", np.arange(n_test) % 10, gz)
    return directory


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No Debian files, an empty Keras cache, no $KERASRECIPES_DATA, no network."""
    monkeypatch.setattr(fm, "DEBIAN_DIR", str(tmp_path / "debian"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv("KERASRECIPES_DATA", raising=False)
    monkeypatch.setattr(fm, "_keras_cache_dirs", lambda: [str(tmp_path / "keras_home" / "datasets" / "fashion-mnist")])

    def offline():
        raise OSError("network unreachable")

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", offline)
    return tmp_path


def test_real_debian_files_load_with_upstream_counts():
    (x_train, y_train), (x_test, y_test) = datasets.fashion_mnist()
    assert x_train.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    # Fashion-MNIST is exactly balanced: 6,000 and 1,000 images per class.
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


def test_lookup_order_path_env_debian_cache(isolated, monkeypatch):
    tmp = isolated
    cache = _fake_dataset(str(tmp / "keras_home" / "datasets" / "fashion-mnist"), fill=4)
    assert datasets.fashion_mnist()[0][0][0, 0, 0, 0] == 4
    _fake_dataset(str(tmp / "debian"), fill=3)
    assert datasets.fashion_mnist()[0][0][0, 0, 0, 0] == 3
    _fake_dataset(str(tmp / "root" / "fashion-mnist"), fill=2, gz=False)
    monkeypatch.setenv("KERASRECIPES_DATA", str(tmp / "root"))
    assert datasets.fashion_mnist()[0][0][0, 0, 0, 0] == 2
    explicit = _fake_dataset(str(tmp / "mine"), n_train=5, fill=1)
    (x_train, y_train), (x_test, _) = datasets.fashion_mnist(path=explicit)
    assert x_train[0, 0, 0, 0] == 1 and x_train.shape == (5, 28, 28, 1) and len(y_train) == 5
    assert os.path.isdir(cache)


def test_downloads_only_when_nothing_is_local(isolated, monkeypatch):
    calls = []

    def fake_download():
        calls.append(1)
        _fake_dataset(str(isolated / "keras_home" / "datasets" / "fashion-mnist"), fill=9)

    monkeypatch.setattr(keras.datasets.fashion_mnist, "load_data", fake_download)
    assert datasets.fashion_mnist()[0][0][0, 0, 0, 0] == 9
    assert len(calls) == 1
    datasets.fashion_mnist()  # now cached: no second download
    assert len(calls) == 1


def test_offline_and_nothing_found_says_where_it_looked(isolated):
    with pytest.raises(ValueError) as info:
        datasets.fashion_mnist()
    message = str(info.value)
    assert "debian" in message and "keras_home" in message
    assert "network unreachable" in message
    assert "apt-get install dataset-fashion-mnist" in message and "fashion_mnist_sample" in message
    with pytest.raises(ValueError, match="download=False"):
        datasets.fashion_mnist(download=False)


def test_truncated_file_in_a_searched_folder_is_an_error_not_a_skip(isolated):
    directory = _fake_dataset(str(isolated / "mine"))
    path = os.path.join(directory, "t10k-images-idx3-ubyte.gz")
    with open(path, "rb") as f:
        raw = gzip.decompress(f.read())
    with open(path, "wb") as f:
        f.write(gzip.compress(raw[:-100]))
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz.*truncated or corrupt"):
        datasets.fashion_mnist(path=directory)


def test_label_count_mismatch_and_bad_labels(isolated):
    directory = _fake_dataset(str(isolated / "mine"))
    _write(directory, "train-labels-idx1-ubyte", np.arange(5))
    with pytest.raises(ValueError, match="6 images but 5 labels"):
        datasets.fashion_mnist(path=directory)
    _write(directory, "train-labels-idx1-ubyte", np.array([0, 1, 2, 3, 4, 12]))
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz.*outside 0..9"):
        datasets.fashion_mnist(path=directory)


def test_wrong_image_size_is_rejected(isolated):
    directory = _fake_dataset(str(isolated / "mine"))
    _write(directory, "train-images-idx3-ubyte", np.zeros((6, 32, 32)))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte.gz.*\(6, 32, 32\)"):
        datasets.fashion_mnist(path=directory)


def test_mnist_and_cifar10_shapes_without_network(monkeypatch):
    rng = np.random.default_rng(0)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: (
        (rng.integers(0, 255, (5, 28, 28), dtype=np.uint8), np.arange(5, dtype=np.uint8)),
        (rng.integers(0, 255, (3, 28, 28), dtype=np.uint8), np.arange(3, dtype=np.uint8))))
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", lambda: (
        (rng.integers(0, 255, (5, 32, 32, 3), dtype=np.uint8), np.arange(5).reshape(5, 1)),
        (rng.integers(0, 255, (3, 32, 32, 3), dtype=np.uint8), np.arange(3).reshape(3, 1))))
    (x, y), (xt, yt) = datasets.mnist()
    assert x.shape == (5, 28, 28, 1) and y.shape == (5,) and xt.shape == (3, 28, 28, 1)
    (x, y), (xt, yt) = datasets.cifar10()
    assert x.shape == (5, 32, 32, 3) and y.shape == (5,) and y.tolist() == [0, 1, 2, 3, 4]
    assert len(datasets.CIFAR10_CLASSES) == 10


def test_a_given_folder_is_the_only_place_read(isolated):
    # Debian's copy is there, but a given folder missing a file must not fall back to it.
    _fake_dataset(str(isolated / "debian"), fill=3)
    mine = _fake_dataset(str(isolated / "mine"), fill=1)
    os.remove(os.path.join(mine, "t10k-labels-idx1-ubyte.gz"))
    with pytest.raises(ValueError, match=r"missing from path=.*mine.*t10k-labels-idx1-ubyte\.gz"):
        datasets.fashion_mnist(path=mine)
    with pytest.raises(ValueError, match=r"path does not exist.*nowhere"):
        datasets.fashion_mnist(path=str(isolated / "nowhere"))
    broken = _fake_dataset(str(isolated / "broken"), fill=1)
    with open(os.path.join(broken, "train-images-idx3-ubyte.gz"), "wb") as f:
        f.write(b"not gzip, not idx")
    with pytest.raises(ValueError, match=r"broken.*train-images-idx3-ubyte\.gz.*bad magic"):
        datasets.fashion_mnist(path=broken)
    assert datasets.fashion_mnist()[0][0][0, 0, 0, 0] == 3  # without a path, the lookup still finds Debian's


def test_offline_download_is_one_line(monkeypatch):
    def offline():
        print("Downloading data from https://example.invalid/mnist.npz")
        raise Exception("URL fetch failure on https://example.invalid/mnist.npz: None -- [Errno -2]\n"
                        "Name or service not known")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    monkeypatch.setattr(keras.datasets.cifar10, "load_data", offline)
    for name in ("mnist", "cifar10"):
        with pytest.raises(ValueError) as info:
            datasets.load(name)
        message = str(info.value)
        assert "\n" not in message and f"dataset={name!r}" in message and "Name or service not known" in message
        assert info.value.__cause__ is None and info.value.__suppress_context__
