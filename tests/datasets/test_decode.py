"""Pillow + numpy decoding (`datasets._decode`) against TensorFlow's: every format and mode, every resize method.

TensorFlow is the reference here (micrograd's way: test against the trusted
implementation); the loader's Pillow path is what a machine without
TensorFlow runs, and must give the same arrays.
"""

import io
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from kerasrecipes import datasets
from kerasrecipes.datasets import _decode
from kerasrecipes.datasets import folder as folder_module

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (13, 17, 3), dtype=np.uint8)
RGBA = RNG.integers(0, 256, (13, 17, 4), dtype=np.uint8)
GRAY = RNG.integers(0, 256, (13, 17), dtype=np.uint8)
PALETTE = Image.fromarray(RGB).convert("P", palette=Image.ADAPTIVE, colors=16)


def _encoded(image, fmt, **kwargs):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _animated():
    frames = [Image.fromarray(RNG.integers(0, 256, (9, 11, 3), dtype=np.uint8)).convert("P") for _ in range(3)]
    return _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])


FILES = {
    "gray.png": lambda: _encoded(Image.fromarray(GRAY), "PNG"),
    "rgb.png": lambda: _encoded(Image.fromarray(RGB), "PNG"),
    "rgba.png": lambda: _encoded(Image.fromarray(RGBA), "PNG"),
    "gray_alpha.png": lambda: _encoded(Image.fromarray(RGBA).convert("LA"), "PNG"),
    "palette.png": lambda: _encoded(PALETTE, "PNG"),
    "palette_transparent.png": lambda: _encoded(PALETTE, "PNG", transparency=3),
    "bilevel.png": lambda: _encoded(Image.fromarray(GRAY > 127), "PNG"),
    "gray16.png": lambda: _encoded(Image.fromarray(RNG.integers(0, 65536, (13, 17), dtype=np.uint16)), "PNG"),
    "rgb16.png": lambda: tf.io.encode_png(RNG.integers(0, 65536, (13, 17, 3), dtype=np.uint16)).numpy(),
    "rgb.bmp": lambda: _encoded(Image.fromarray(RGB), "BMP"),
    "gray.bmp": lambda: _encoded(Image.fromarray(GRAY), "BMP"),
    "rgbx.bmp": lambda: _encoded(Image.fromarray(RGBA), "BMP"),  # 32-bit: its 4th byte is unused
    "palette.gif": lambda: _encoded(PALETTE, "GIF"),
    "gray.gif": lambda: _encoded(Image.fromarray(GRAY), "GIF"),
    "transparent.gif": lambda: _encoded(PALETTE, "GIF", transparency=3),
    "animated.gif": _animated,
    "gray.jpg": lambda: _encoded(Image.fromarray(GRAY), "JPEG"),
    "rgb.jpg": lambda: _encoded(Image.fromarray(RGB), "JPEG", quality=90),
    "rgb_q50.jpg": lambda: _encoded(Image.fromarray(RGB), "JPEG", quality=50, subsampling=2),
}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    for name, make in FILES.items():
        (root / name).write_bytes(make())
    return root


@pytest.mark.parametrize("channels", [1, 3, 4])
@pytest.mark.parametrize("name", sorted(FILES))
def test_pillow_reads_the_pixels_tensorflow_reads(files, name, channels):
    path = str(files / name)
    ours = _decode.read(path, channels)
    theirs = folder_module._tf_read(channels)(tf.io.read_file(path)).numpy()
    assert ours.dtype == np.uint8 and ours.shape == theirs.shape == (*ours.shape[:2], channels)
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("name", [n for n in sorted(FILES) if not n.endswith(".jpg")])
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_lossless_formats_are_tensorflows_own_decode_image(files, name, channels):
    """Where tf.io.decode_image itself reads a file at all, our pixels are its pixels (BMP, GIF, PNG)."""
    raw = (files / name).read_bytes()
    try:
        theirs = tf.io.decode_image(raw, channels=channels, expand_animations=False).numpy()
    except tf.errors.InvalidArgumentError:
        pytest.skip("TensorFlow's decode_image refuses these channels for this format (we read them)")
    if name == "rgbx.bmp" and channels == 4:
        pytest.skip("TensorFlow reads a 32-bit BMP's unused 4th byte as alpha; Pillow and the format do not")
    if name in ("bilevel.png", "palette.png") and channels == 4:  # 1- and 4-bit: TensorFlow's alpha is 1 and 15
        assert set(np.unique(theirs[..., 3])) == {(1 << {"bilevel.png": 1, "palette.png": 4}[name]) - 1}
        pytest.skip("TensorFlow gives an opaque low-bit-depth PNG alpha 2**bits - 1, not 255 (we give 255)")
    if name == "rgb16.png" and channels == 1:  # libpng grays the 16-bit values, then cuts them to 8 bits
        assert np.abs(_decode.read(str(files / name), channels).astype(int) - theirs).max() <= 1
        pytest.skip("TensorFlow grays a 16-bit PNG before cutting it to 8 bits: one level apart at most")
    np.testing.assert_array_equal(_decode.read(str(files / name), channels), theirs)


def test_jpeg_is_the_accurate_idct_and_close_to_the_fast_one(files):
    for name in ("gray.jpg", "rgb.jpg", "rgb_q50.jpg"):
        raw = (files / name).read_bytes()
        for channels in (1, 3):
            ours = _decode.read(str(files / name), channels)
            accurate = tf.io.decode_jpeg(raw, channels=channels, dct_method="INTEGER_ACCURATE").numpy()
            np.testing.assert_array_equal(ours, accurate)
            fast = tf.io.decode_image(raw, channels=channels).numpy()  # Keras's image_dataset_from_directory
            assert np.abs(ours.astype(int) - fast).max() <= 8  # random noise, the worst case: a few levels


SIZES = [((28, 28), (20, 20)), ((13, 31), (28, 28)), ((64, 48), (7, 3)), ((5, 7), (33, 17)), ((28, 28), (28, 28))]


@pytest.mark.parametrize("method", _decode.METHODS)
def test_resize_is_tf_image_resize(method):
    differing, total = 0, 0
    for (h, w), size in SIZES:
        image = RNG.integers(0, 256, (h, w, 3), dtype=np.uint8)
        theirs = tf.image.resize(image, size, method=method)
        theirs = tf.cast(tf.clip_by_value(tf.round(tf.cast(theirs, tf.float32)), 0, 255), tf.uint8).numpy()
        ours = _decode.resize(image, size, method)
        gap = np.abs(ours.astype(int) - theirs)
        if method in ("bilinear", "nearest"):  # the same float32 arithmetic: bit for bit
            np.testing.assert_array_equal(ours, theirs)
        assert gap.max() <= 1
        differing, total = differing + int((gap > 0).sum()), total + gap.size
    assert differing <= 0.02 * total  # measured: area 0.9 %, the others under 0.01 %
    batch = RNG.integers(0, 256, (4, 13, 31, 1), dtype=np.uint8)  # a batch resizes as its images one by one
    np.testing.assert_array_equal(_decode.resize(batch, (9, 9), method),
                                  np.stack([_decode.resize(b, (9, 9), method) for b in batch]))


def _mixed_folder(root):
    """Every format in two classes, gray and colour, of mixed sizes: what a user's folder may hold."""
    for i, (name, make) in enumerate(sorted(FILES.items())):
        folder = os.path.join(root, "a" if i % 2 else "b")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(make())
    return root


@pytest.mark.parametrize("mode", ["grayscale", "rgb", "rgba"])
def test_load_folder_gives_the_same_arrays_with_either_decoder(tmp_path, mode):
    root = _mixed_folder(str(tmp_path / "mixed"))
    loads = {d: datasets.load_folder(root, (12, 10), mode, log=lambda m: None, decoder=d, test_fraction=0.3)
             for d in folder_module.DECODERS}
    pillow, tensorflow = loads["pillow"], loads["tensorflow"]
    np.testing.assert_array_equal(pillow.x_train, tensorflow.x_train)
    np.testing.assert_array_equal(pillow.x_test, tensorflow.x_test)
    assert pillow.source["decoder"] == "pillow" and tensorflow.source["decoder"] == "tensorflow"


def test_memory_map_with_pillow(tmp_path, monkeypatch):
    root = _mixed_folder(str(tmp_path / "mixed"))
    lines = []
    mapped = datasets.load_folder(root, (12, 10), "rgb", memory_limit=0, cache_dir=tmp_path / "cache",
                                  log=lines.append, decoder="pillow", test_fraction=0.3)
    assert isinstance(mapped.x_train, np.memmap) and "more than fits in memory" in lines[0]
    in_memory = datasets.load_folder(root, (12, 10), "rgb", log=lambda m: None, decoder="tensorflow",
                                     test_fraction=0.3)
    np.testing.assert_array_equal(mapped.x_train, in_memory.x_train)
    monkeypatch.setattr(_decode, "decode_files", lambda *a, **k: pytest.fail("the cache was not reused"))
    again = datasets.load_folder(root, (12, 10), "rgb", memory_limit=0, cache_dir=tmp_path / "cache",
                                 log=lambda m: None, decoder="pillow", test_fraction=0.3)
    np.testing.assert_array_equal(again.x_test, in_memory.x_test)


WITHOUT_TENSORFLOW = """
import sys


class NoTensorFlow:  # `import tensorflow` raises ModuleNotFoundError, as on a machine without it

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tf_keras"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, NoTensorFlow())
import os
os.environ["KERAS_BACKEND"] = "jax"
import numpy as np, keras
from kerasrecipes import datasets
from kerasrecipes.datasets import folder
root, out = sys.argv[1], sys.argv[2]
assert folder.default_decoder() == "pillow"
data = datasets.load_folder(root, (12, 10), "rgb", log=lambda m: None, test_fraction=0.3)
mapped = datasets.load_folder(root, (12, 10), "rgb", log=lambda m: None, test_fraction=0.3, memory_limit=0,
                              cache_dir=os.path.join(out, "cache"))
assert isinstance(mapped.x_train, np.memmap) and (mapped.x_train == data.x_train).all()
train = datasets.from_directory(root, image_size=(12, 10), batch_size=4, shuffle=False, verbose=False)
assert isinstance(train, keras.utils.PyDataset), type(train)
x = np.concatenate([train[i][0] for i in range(len(train))])
model = keras.Sequential([keras.Input((12, 10, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                          keras.layers.Dense(2, activation="softmax")])
model.compile("sgd", "sparse_categorical_crossentropy")
model.fit(datasets.from_directory(root, image_size=(12, 10), batch_size=4, verbose=False), epochs=2, verbose=0)
assert not [m for m in sys.modules if m.split(".")[0] == "tensorflow"]
np.savez(os.path.join(out, "arrays.npz"), x_train=data.x_train, x_test=data.x_test, directory=x,
         files=np.array(train.file_paths))
print("ok", keras.backend.backend())
"""


def test_under_jax_tensorflow_is_not_imported_even_where_installed(tmp_path):
    root = _mixed_folder(str(tmp_path / "mixed"))
    code = ("import sys, os; os.environ['KERAS_BACKEND'] = 'jax'\n"
            "from kerasrecipes import datasets\n"
            "data = datasets.load_folder(sys.argv[1], (12, 10), 'rgb', log=lambda m: None, test_fraction=0.3)\n"
            "train = datasets.from_directory(sys.argv[1], image_size=(12, 10), verbose=False)\n"
            "print(data.source['decoder'], type(train).__name__, 'tensorflow' in sys.modules)")
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, "-c", code, root], env=env, capture_output=True, text=True, timeout=300)
    assert run.stdout.split() == ["pillow", "FolderDataset", "False"], run.stderr[-3000:]


def test_without_tensorflow_the_same_arrays(tmp_path):
    root = _mixed_folder(str(tmp_path / "mixed"))
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "3"}
    run = subprocess.run([sys.executable, "-c", WITHOUT_TENSORFLOW, root, str(tmp_path)], env=env,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0 and "ok jax" in run.stdout, run.stderr[-3000:]
    arrays = np.load(tmp_path / "arrays.npz")
    here = datasets.load_folder(root, (12, 10), "rgb", log=lambda m: None, test_fraction=0.3, decoder="tensorflow")
    np.testing.assert_array_equal(arrays["x_train"], here.x_train)
    np.testing.assert_array_equal(arrays["x_test"], here.x_test)
    reference = datasets.from_directory(root, image_size=(12, 10), batch_size=4, shuffle=False, verbose=False)
    assert list(arrays["files"]) == reference.file_paths
    np.testing.assert_array_equal(arrays["directory"], np.concatenate([x.numpy() for x, _ in reference]))
