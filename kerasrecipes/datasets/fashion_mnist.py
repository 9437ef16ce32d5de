"""Fashion-MNIST (Zalando Research, MIT licence), read from local IDX files."""

import os

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


def _find(directory, stem):
    for name in (stem + ".gz", stem):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _load_split(directory, split):
    images_stem, labels_stem = _FILES[split]
    images = read_idx(_find(directory, images_stem), expected_ndim=3)
    labels = read_idx(_find(directory, labels_stem), expected_ndim=1)
    if len(images) != len(labels):
        raise ValueError(
            f"Fashion-MNIST {split} split in {directory!r} has {len(images)} images "
            f"but {len(labels)} labels"
        )
    return images[..., None], labels


def fashion_mnist(path=None):
    """Load Fashion-MNIST as uint8 arrays.

    Looks in `path`, then `$KERASRECIPES_DATA`, then Debian's
    `/usr/share/datasets/fashion-mnist` (package `dataset-fashion-mnist`).

    Args:
        path: Optional directory holding the four IDX files (gzipped or plain).

    Returns:
        `(x_train, y_train), (x_test, y_test)`: images shaped `(N, 28, 28, 1)`
        and labels shaped `(N,)`, all uint8.

    Example:
    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist()
    >>> x_train.shape
    (60000, 28, 28, 1)
    """
    candidates = [path, os.environ.get("KERASRECIPES_DATA"), DEBIAN_DIR]
    looked = []
    for directory in candidates:
        if not directory:
            continue
        looked.append(directory)
        if all(_find(directory, stem) for pair in _FILES.values() for stem in pair):
            return _load_split(directory, "train"), _load_split(directory, "test")
    raise ValueError(
        "Fashion-MNIST not found; looked in " + ", ".join(repr(d) for d in looked)
        + ". Install it with `apt-get install dataset-fashion-mnist` or pass path=DIR "
        "holding train-images-idx3-ubyte.gz and the three other IDX files."
    )
