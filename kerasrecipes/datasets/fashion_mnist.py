"""Fashion-MNIST (Zalando Research, MIT licence), read from local IDX files."""

import os

import numpy as np

from kerasrecipes.datasets.idx import read_idx

DEBIAN_DIR = "/usr/share/datasets/fashion-mnist"
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_STEMS = tuple(stem for pair in _FILES.values() for stem in pair)


def _find(directory, stem, prefix=""):
    for name in (prefix + stem + ".gz", prefix + stem):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _load_split(directory, split, prefix=""):
    images_stem, labels_stem = _FILES[split]
    images_path = _find(directory, images_stem, prefix)
    labels_path = _find(directory, labels_stem, prefix)
    images = read_idx(images_path, expected_shape=(None, 28, 28))
    labels = read_idx(labels_path, expected_ndim=1)
    if len(images) != len(labels):
        raise ValueError(
            f"Fashion-MNIST {split} split in {directory!r} has {len(images)} images "
            f"but {len(labels)} labels ({images_path!r}, {labels_path!r})"
        )
    if labels.dtype != np.uint8 or (labels.size and labels.max() >= len(CLASS_NAMES)):
        raise ValueError(
            f"IDX file {labels_path!r} holds labels outside 0..{len(CLASS_NAMES) - 1} "
            f"(dtype {labels.dtype}, max {labels.max() if labels.size else None})"
        )
    return images[..., None], labels


def _load_dir(directory, prefix=""):
    """Both splits from `directory`, or None when any of the four files is missing."""
    if not all(_find(directory, stem, prefix) for stem in _STEMS):
        return None
    return _load_split(directory, "train", prefix), _load_split(directory, "test", prefix)


def _load_given(directory):
    """Both splits from `directory` only; a ValueError naming the folder or each missing file."""
    if not os.path.isdir(directory):
        raise ValueError(f"path does not exist or is not a folder. Received path={directory!r}")
    missing = [os.path.join(directory, stem + ".gz") for stem in _STEMS if _find(directory, stem) is None]
    if missing:
        raise ValueError(f"Fashion-MNIST file(s) missing from path={directory!r}: "
                         + ", ".join(f"{m!r} (or without .gz)" for m in missing))
    return _load_split(directory, "train"), _load_split(directory, "test")


def _keras_cache_dirs():
    # keras.utils.get_file stores under $KERAS_HOME (default ~/.keras), or under
    # /tmp/.keras when that is not writable; fashion_mnist uses this subfolder.
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return [
        os.path.join(home, "datasets", "fashion-mnist"),
        os.path.join("/tmp", ".keras", "datasets", "fashion-mnist"),
    ]


def _candidates():
    dirs = []
    env = os.environ.get("KERASRECIPES_DATA")
    if env:
        # Either the folder holding the files or a data root with a fashion-mnist/ folder.
        dirs += [env, os.path.join(env, "fashion-mnist")]
    dirs.append(DEBIAN_DIR)
    return dirs + _keras_cache_dirs()


def fashion_mnist(path=None, download=True):
    """Load Fashion-MNIST as uint8 arrays, from local files when there are any.

    Given `path`, reads that folder and nothing else: a missing or corrupt
    file there is a `ValueError` naming it. Without it, looks, in order, in `$KERASRECIPES_DATA` (the folder itself or its
    `fashion-mnist/` subfolder), in Debian's `/usr/share/datasets/fashion-mnist`
    (package `dataset-fashion-mnist`), in the Keras cache
    (`$KERAS_HOME/datasets/fashion-mnist`), and only then downloads through
    `keras.datasets.fashion_mnist` into that cache. Unlike
    `keras.datasets.fashion_mnist.load_data`, it reads the gzipped or plain IDX
    files itself and checks their magic numbers, shapes, counts and labels, so a
    truncated or corrupt file is a `ValueError` naming the file, never a short array.

    Args:
        path: Optional directory holding the four IDX files (gzipped or plain),
            named as upstream (`train-images-idx3-ubyte.gz`, ...); the only
            place looked at when given.
        download: Whether to download when no local copy is found.
            Defaults to `True`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: images shaped `(N, 28, 28, 1)`
        and labels shaped `(N,)`, all uint8 (60,000 and 10,000 images).

    Raises:
        ValueError: when a file found is corrupt or truncated (naming it), or when
            nothing is found and the download is off or fails (listing the places
            looked at and how to get the data).

    Example:
    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist()
    >>> x_train.shape
    (60000, 28, 28, 1)
    """
    if path is not None:
        return _load_given(os.fspath(path))
    looked = []
    for directory in _candidates():
        if directory in looked:
            continue
        looked.append(directory)
        found = _load_dir(directory)
        if found is not None:
            return found
    reason = "download=False"
    if download:
        try:
            import keras

            keras.datasets.fashion_mnist.load_data()
        except Exception as e:  # offline, proxy, disk full: all end in the message below
            reason = f"the download failed ({type(e).__name__}: {e})"
        else:
            for directory in _keras_cache_dirs():
                found = _load_dir(directory)
                if found is not None:
                    return found
            reason = "the download did not leave the files in the Keras cache"
    raise ValueError(
        "Fashion-MNIST not found; looked in " + ", ".join(repr(d) for d in looked)
        + f", and {reason}. Install it with `apt-get install dataset-fashion-mnist`, "
        "set $KERASRECIPES_DATA or pass path=DIR to a folder holding "
        "train-images-idx3-ubyte.gz and the three other IDX files, or use "
        "kerasrecipes.datasets.fashion_mnist_sample() (10,000 images shipped in the package)."
    )
