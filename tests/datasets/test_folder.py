"""load_folder on small folders of real images: PNG and JPEG written from the Fashion-MNIST sample."""

import argparse
import importlib
import io
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kerasrecipes import datasets
from kerasrecipes.datasets import _headers
from kerasrecipes.cli import flags as data_cli
from kerasrecipes.datasets.example_folder import write_images

folder_module = importlib.import_module("kerasrecipes.datasets.folder")
CLASSES = {"bag": 8, "sneaker": 7, "trouser": 1}  # folder name -> Fashion-MNIST label


def write_folder(root, per_class=12, rgb_every=3, sizes=((28, 28), (32, 24), (16, 16)), start=0):
    """Real images: every 2nd a PNG, every `rgb_every`-th RGB with a random tint, sizes cycling."""
    (x, y), _ = datasets.fashion_mnist_sample()
    for name, label in CLASSES.items():
        picks = np.flatnonzero(y == label)[start:start + per_class]
        write_images(root, x[picks], np.zeros(len(picks), int), [name], sizes=sizes, rgb_every=rgb_every,
                     tint=(0.5, 1.0), seed=start, start=start)
    return root


def add_bad_files(root):
    """Zero bytes, text named .jpg, a truncated JPEG and a truncated PNG: the four ways files break."""
    open(os.path.join(root, "bag", "zero.jpg"), "wb").close()
    with open(os.path.join(root, "bag", "fake.jpg"), "w") as f:
        f.write("this is not a picture\n")
    for name, ext in (("sneaker", "jpg"), ("trouser", "png")):
        good = sorted(f for f in os.listdir(os.path.join(root, name)) if f.endswith(ext))[0]
        raw = open(os.path.join(root, name, good), "rb").read()
        with open(os.path.join(root, name, f"cut.{ext}"), "wb") as f:
            f.write(raw[: len(raw) * 2 // 3])
    return ["bag/fake.jpg", "bag/zero.jpg", "sneaker/cut.jpg", "trouser/cut.png"]


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return write_folder(str(tmp_path_factory.mktemp("clean")))


@pytest.fixture
def broken(tmp_path, clean):
    root = str(tmp_path / "broken")
    shutil.copytree(clean, root)
    return root, add_bad_files(root)


def _all(data):
    x = np.concatenate([data.x_train, data.x_test])
    y = np.concatenate([data.y_train, data.y_test])
    return x, y


def test_reads_like_keras_image_dataset_from_directory(clean):
    data = datasets.load_folder(clean, (20, 20), "rgb", log=lambda m: None)
    assert data.class_names == sorted(CLASSES) and data.name == os.path.abspath(clean)
    assert data.x_train.dtype == np.uint8 and data.x_train.shape[1:] == (20, 20, 3)
    assert len(data.x_train) + len(data.x_test) == 36 and len(data.x_test) > 0
    ours = dict(zip([os.path.join(clean, p) for p in _train_paths(data) + data.source["test_files"]],
                    zip(*_all(data))))
    reference = keras.utils.image_dataset_from_directory(clean, image_size=(20, 20), shuffle=False,
                                                         batch_size=None, verbose=False)
    assert reference.class_names == data.class_names
    jpeg_gap = []
    for path, (image, label) in zip(reference.file_paths, reference.as_numpy_iterator()):
        mine, my_label = ours[path]
        assert my_label == label
        if path.endswith(".png"):  # Keras's float pixels, rounded: the same decoder, the same bilinear resize
            np.testing.assert_array_equal(mine, np.round(image))
        else:  # Keras decodes JPEG with libjpeg's fast IDCT, we with its accurate one (as Pillow does)
            accurate = tf.io.decode_jpeg(tf.io.read_file(path), channels=3, dct_method="INTEGER_ACCURATE")
            np.testing.assert_array_equal(mine, np.round(tf.image.resize(accurate, (20, 20)).numpy()))
            jpeg_gap.append(np.abs(mine - np.round(image)).max())
    # Measured: 16 levels at most here (sharp edges at q95); the accurate IDCT is the closer to the pictures
    # written (mean |error| 0.92 levels against 1.80 for the fast one, on 300 sample images).
    assert jpeg_gap and max(jpeg_gap) <= 20, jpeg_gap


def _train_paths(data):
    listed = set(data.source["test_files"])
    _, paths, _ = folder_module.index(data.name)
    kept = [p for p in paths if p not in listed and os.path.join(data.name, p) not in data.source["skipped"]]
    return sorted(kept, key=lambda p: (folder_module._key(p), p))  # the loader's fixed mixed order


def test_labels_follow_the_folders(clean):
    data = datasets.load_folder(clean, (28, 28), "grayscale", log=lambda m: None)
    (x, y), _ = datasets.fashion_mnist_sample()
    # Trousers are tall and narrow, bags wide: the mean column profile tells them apart.
    x_all, y_all = _all(data)
    trouser, bag = data.class_names.index("trouser"), data.class_names.index("bag")
    centre = x_all[:, :, 12:16, 0].mean(axis=(1, 2)) - x_all[:, :, :4, 0].mean(axis=(1, 2))
    assert centre[y_all == trouser].mean() > centre[y_all == bag].mean()
    assert np.bincount(y_all).tolist() == [12, 12, 12]
    # Mixed, fixed order: the first images already hold every class (a slice is a sample of all).
    assert set(data.y_train[:8].tolist()) == {0, 1, 2}
    again = datasets.load_folder(clean, (28, 28), "grayscale", log=lambda m: None)
    np.testing.assert_array_equal(again.y_train, data.y_train)


def test_example_folder_command(tmp_path):
    from kerasrecipes.datasets import example_folder

    train, test = str(tmp_path / "photos"), str(tmp_path / "photos_test")
    assert example_folder.main([train, "--per-class", "3", "--rgb", "--size", "20,16", "--test-dir", test,
                                "--test-per-class", "2"]) == 0
    data = datasets.load_folder(train, test_dir=test, log=lambda m: None)
    assert data.input_shape == (20, 16, 3) and (len(data.x_train), len(data.x_test)) == (30, 20)
    assert data.class_names == sorted(n.replace("/", "-") for n in datasets.FASHION_MNIST_CLASSES)
    # Tinted per image, not per class: each class holds differently coloured images.
    hues = data.x_train.reshape(30, -1, 3).mean(1)
    hues = hues / hues.sum(1, keepdims=True)
    assert np.ptp(hues[data.y_train == data.y_train[0]], axis=0).max() > 0.02


# The bad-file tests run against both entry points (kr.datasets.load_folder and kr.datasets.from_directory go
# through the same checks) and both decoders (TensorFlow's and Pillow's).
ENTRIES = ["load_folder", "from_directory"]
BOTH = pytest.mark.parametrize("entry, decoder", [(e, d) for e in ENTRIES for d in folder_module.DECODERS])


def load(entry, root, size=(16, 16), mode="rgb", **kwargs):
    """`(images, labels, skipped)` from either entry point, images keyed by file path."""
    if entry == "load_folder":
        data = datasets.load_folder(root, size, mode, **kwargs)
        x, y = _all(data)
        files = [os.path.join(root, p) for p in _train_paths(data) + data.source["test_files"]]
        return dict(zip(files, x)), dict(zip(files, y)), data.source["skipped"]
    dataset = datasets.from_directory(root, image_size=size, color_mode=mode, shuffle=False, batch_size=64,
                                      verbose=False, **kwargs)
    batches = [(np.asarray(x), np.asarray(y)) for x, y in dataset]
    x, y = np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])
    return dict(zip(dataset.file_paths, x.astype(np.uint8))), dict(zip(dataset.file_paths, y)), dataset.skipped


@BOTH
def test_bad_files_are_named_before_any_decoding(broken, monkeypatch, entry, decoder):
    root, bad = broken

    def no_decode(*args, **kwargs):
        raise AssertionError("decoded before the bad files were reported")

    monkeypatch.setattr(folder_module, "decode", no_decode)
    with pytest.raises(ValueError) as info:
        load(entry, root, decoder=decoder)
    message = str(info.value)
    assert message.startswith("4 file(s) under")
    for path in bad:
        assert os.path.join(root, path) in message
    assert "empty file" in message and "not a BMP, GIF, JPEG or PNG" in message
    assert message.count("truncated or corrupt") == 2 and "--skip-bad-files" in message


@BOTH
def test_skip_bad_files_counts_them_in_one_line(broken, clean, entry, decoder):
    root, bad = broken
    lines = []
    x, y, skipped = load(entry, root, on_bad_file="skip", log=lines.append, decoder=decoder)
    assert len(lines) == 1 and lines[0].startswith("skipped 4 bad file(s) of 40 under")
    assert skipped == sorted(os.path.join(root, p) for p in bad)
    x_clean, y_clean, _ = load(entry, clean, log=lambda m: None, decoder=decoder)
    # The good files load exactly as from the clean copy (the same split, for load_folder).
    assert sorted(os.path.relpath(p, root) for p in x) == sorted(os.path.relpath(p, clean) for p in x_clean)
    for path, image in x_clean.items():
        twin = os.path.join(root, os.path.relpath(path, clean))
        np.testing.assert_array_equal(x[twin], image)
        assert y[twin] == y_clean[path]
    if entry == "load_folder":
        data = datasets.load_folder(root, (16, 16), "rgb", on_bad_file="skip", log=lambda m: None, decoder=decoder)
        reference = datasets.load_folder(clean, (16, 16), "rgb", log=lambda m: None, decoder=decoder)
        np.testing.assert_array_equal(data.x_test, reference.x_test)
        assert data.source["test_files"] == reference.source["test_files"]


@BOTH
def test_a_file_that_passes_the_header_but_not_the_decoder_is_named(clean, tmp_path, entry, decoder):
    root = str(tmp_path / "garbled")
    shutil.copytree(clean, root)
    path = os.path.join(root, "bag", sorted(os.listdir(os.path.join(root, "bag")))[1])  # a PNG
    raw = bytearray(open(path, "rb").read())
    raw[40:-20] = bytes(len(raw) - 60)  # header and IEND intact, image data zeroed
    open(path, "wb").write(bytes(raw))
    assert not _headers.inspect(path).needs_decode
    with pytest.raises(ValueError, match=r"1 file\(s\).*bag/000001.png: cannot be decoded"):
        load(entry, root, log=lambda m: None, decoder=decoder)
    lines = []
    x, _, _ = load(entry, root, on_bad_file="skip", log=lines.append, decoder=decoder)
    assert len(x) == 35 and "skipped 1 bad file(s)" in lines[0]


def test_split_is_disjoint_stable_and_reloads_from_source(clean, tmp_path):
    root = str(tmp_path / "growing")
    shutil.copytree(clean, root)
    first = datasets.load_folder(root, (16, 16), "grayscale", log=lambda m: None)
    test, train = set(first.source["test_files"]), set(_train_paths(first))
    assert test and train and not test & train
    again = datasets.from_source(first.source, log=lambda m: None)
    np.testing.assert_array_equal(again.x_test, first.x_test)
    np.testing.assert_array_equal(again.y_train, first.y_train)
    write_folder(root, per_class=20, start=12)  # new images arrive: no old one changes side
    grown = datasets.load_folder(root, (16, 16), "grayscale", log=lambda m: None)
    assert test <= set(grown.source["test_files"])
    assert train <= set(_train_paths(grown)) and len(grown.x_train) > len(first.x_train)
    assert 0.1 < len(grown.x_test) / (len(grown.x_train) + len(grown.x_test)) < 0.3


def test_test_dir_and_its_classes(clean, tmp_path):
    test_root = write_folder(str(tmp_path / "test"), per_class=4, start=100)
    data = datasets.load_folder(clean, (16, 16), "rgb", test_dir=test_root, log=lambda m: None)
    assert len(data.x_train) == 36 and len(data.x_test) == 12 and data.source["test_dir"] == test_root
    os.remove(os.path.join(test_root, "bag", sorted(os.listdir(os.path.join(test_root, "bag")))[0]))
    os.makedirs(os.path.join(test_root, "zebra"))
    with pytest.raises(ValueError, match="classes the training folder lacks: zebra"):
        datasets.load_folder(clean, (16, 16), test_dir=test_root)


def test_size_and_colour_from_the_headers(clean, tmp_path):
    gray = write_folder(str(tmp_path / "gray"), per_class=4, rgb_every=0, sizes=((28, 28),))
    lines = []
    data = datasets.load_folder(gray, log=lines.append)
    assert data.input_shape == (28, 28, 1) and data.source["color_mode"] == "grayscale"
    assert "using 28,28" in lines[0]
    big = write_folder(str(tmp_path / "big"), per_class=4, sizes=((120, 90),))
    assert datasets.load_folder(big, log=lambda m: None).input_shape == (64, 48, 3)  # long side 64 px


def test_memory_map_when_it_does_not_fit(clean, tmp_path, monkeypatch):
    lines = []
    mapped = datasets.load_folder(clean, (16, 16), "rgb", memory_limit=0, cache_dir=tmp_path / "cache",
                                  log=lines.append)
    assert isinstance(mapped.x_train, np.memmap) and "more than fits in memory" in lines[0]
    in_memory = datasets.load_folder(clean, (16, 16), "rgb", log=lambda m: None)
    np.testing.assert_array_equal(mapped.x_train, in_memory.x_train)
    np.testing.assert_array_equal(mapped.x_test, in_memory.x_test)
    assert sorted(os.listdir(tmp_path / "cache"))[0].endswith(".failed.npy")
    monkeypatch.setattr(folder_module, "decode", lambda *a, **k: pytest.fail("the cache was not reused"))
    reused = datasets.load_folder(clean, (16, 16), "rgb", memory_limit=0, cache_dir=tmp_path / "cache")
    np.testing.assert_array_equal(reused.x_train, in_memory.x_train)


@pytest.mark.parametrize("kwargs, argument", [
    ({"image_size": (0, 8)}, "image_size"), ({"image_size": "64"}, "image_size"),
    ({"color_mode": "cmyk"}, "color_mode"), ({"on_bad_file": "ignore"}, "on_bad_file"),
    ({"test_fraction": 1.0}, "test_fraction"), ({"test_dir": "/nonexistent"}, "test_dir"),
    ({"interpolation": "cubic"}, "interpolation"),
])
def test_bad_arguments_echo_the_value(clean, kwargs, argument):
    with pytest.raises(ValueError, match=f"Received {argument}="):
        datasets.load_folder(clean, **{"image_size": (8, 8), **kwargs})


def test_folder_problems(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        datasets.load_folder(tmp_path / "nope")
    with pytest.raises(ValueError, match="no class subfolders"):
        datasets.load_folder(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "a" / "x.png")
    with pytest.raises(ValueError, match=r"class folder\(s\) b .*hold no images"):
        datasets.load_folder(tmp_path)
    (tmp_path / "b" / "deeper").mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / "b" / "deeper" / "y.jpg")
    (tmp_path / "b" / "notes.txt").write_text("not an image extension: not indexed")
    names, paths, labels = folder_module.index(tmp_path)  # nested folders count, other files do not
    assert names == ["a", "b"] and paths == ["a/x.png", "b/deeper/y.jpg"] and labels.tolist() == [0, 1]


def _bytes(image, fmt, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def test_headers_of_each_format(tmp_path):
    rgb = Image.fromarray(np.random.default_rng(0).integers(0, 255, (12, 20, 3), dtype=np.uint8))
    expected = {"PNG": ("png", 3), "JPEG": ("jpeg", 3), "GIF": ("gif", 3), "BMP": ("bmp", 3)}
    for fmt, (name, channels) in expected.items():
        path = tmp_path / f"x.{fmt.lower()}"
        path.write_bytes(_bytes(rgb, fmt))
        header = _headers.inspect(path)
        assert (header.format, header.height, header.width, header.channels, header.needs_decode) == \
            (name, 12, 20, channels, False), fmt
    path = tmp_path / "gray.jpg"
    path.write_bytes(_bytes(rgb.convert("L"), "JPEG", exif=b"Exif\x00\x00" + bytes(3000)))  # frame after EXIF
    assert _headers.inspect(path).channels == 1
    path.write_bytes(_bytes(rgb, "JPEG") + b"camera trailer" * 200)  # bytes after EOI: only a decode can tell
    assert _headers.inspect(path).needs_decode
    bmp = _bytes(rgb, "BMP")
    path = tmp_path / "cut.bmp"
    path.write_bytes(bmp[:-50])
    with pytest.raises(_headers.BadImage, match="truncated"):
        _headers.inspect(path)


def test_cli_flags(clean):
    parser = argparse.ArgumentParser()
    data_cli.add_data_flags(parser)
    args = parser.parse_args(["--data", clean, "--image-size", "20,16", "--color-mode", "rgb"])
    data = data_cli.load_data(args, log=lambda m: None)
    assert data.input_shape == (20, 16, 3) and data.class_names == sorted(CLASSES)
    assert parser.parse_args(["--data", clean, "--image-size", "24"]).image_size == (24, 24)
    assert parser.parse_args([]).dataset == "sample"
    with pytest.raises(SystemExit):
        parser.parse_args(["--dataset", "sample", "--data", clean])
    with pytest.raises(SystemExit):
        parser.parse_args(["--data", clean, "--image-size", "0,4"])
    with pytest.raises(ValueError, match="--image-size, --test-dir apply only with --data DIR"):
        data_cli.load_data(parser.parse_args(["--image-size", "8,8", "--test-dir", clean]))
