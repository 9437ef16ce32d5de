"""A stratified 10,000-image sample of Fashion-MNIST shipped inside the package."""

import importlib
import os

# The package re-exports the function under the module's name, so fetch the module.
_fm = importlib.import_module("kerasrecipes.datasets.fashion_mnist")

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
PREFIX = "fashion-mnist-sample-"
# Images per class: 10 classes x 800 = 8,000 train, 10 x 200 = 2,000 test,
# which gzips to about 4.3 MB and is enough for a small CNN to reach ~85 %.
PER_CLASS = {"train": 800, "test": 200}


def fashion_mnist_sample():
    """Load the Fashion-MNIST sample embedded in the package, for offline use.

    8,000 training and 2,000 test images of real Fashion-MNIST (Zalando Research,
    MIT licence; notice in `kerasrecipes/datasets/data/LICENSE-fashion-mnist.txt`),
    drawn stratified (800 and 200 per class) with a fixed seed by
    `python -m kerasrecipes.datasets._make_sample` from the Debian files, kept in
    their original order, and stored as gzipped IDX files that are read back with
    the same checks as the full data set. It needs no network and no Debian
    package: the default data of the offline demo and of quick experiments.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images shaped
        `(N, 28, 28, 1)` and uint8 labels shaped `(N,)`, exactly like
        `fashion_mnist()`.

    Example:
    >>> (x_train, y_train), (x_test, y_test) = fashion_mnist_sample()
    >>> x_train.shape, x_test.shape
    ((8000, 28, 28, 1), (2000, 28, 28, 1))
    """
    found = _fm._load_dir(DATA_DIR, PREFIX)
    if found is None:
        raise ValueError(
            f"The embedded Fashion-MNIST sample is missing from {DATA_DIR!r}: the "
            "package was installed without its data files. Reinstall it, or rebuild "
            "them with `python -m kerasrecipes.datasets._make_sample`."
        )
    return found
