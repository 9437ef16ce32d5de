"""One loader for every dataset the command line and `runs.train` accept.

`load(name)` returns an `ImageData`: uint8 arrays plus the class names and
where the images came from, so a run directory can record and report them.
"""

import dataclasses

import numpy as np

NAMES = ("sample", "fashion_mnist", "mnist", "cifar10")


@dataclasses.dataclass
class ImageData:
    """Images as uint8 arrays `(N, H, W, C)` with integer labels `(N,)`, and what they are.

    Attributes:
        x_train, y_train: The training images and labels (a run splits its
            validation set off these).
        x_test, y_test: Held-out images, never trained on.
        class_names: One name per label.
        name: The dataset's name (`"sample"`, ...) or the folder it came from
            (its absolute path).
        source: For a folder, what `datasets.load_folder` was given and
            found (settings, the test files, the skipped files): record it
            with a run and `datasets.from_source(source)` loads the same split
            again. `None` for a named dataset.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: list
    name: str
    source: dict | None = None

    @property
    def input_shape(self) -> tuple:
        return tuple(int(s) for s in self.x_train.shape[1:])

    @property
    def num_classes(self) -> int:
        return len(self.class_names)


def load(name: str = "sample") -> ImageData:
    """The named dataset as an `ImageData`.

    Args:
        name: `"sample"` (shipped in the package, no network), `"fashion_mnist"`
            (Debian's files or `$KERASRECIPES_DATA`; never downloads), `"mnist"`
            or `"cifar10"` (through `keras.datasets`, which downloads once).

    Raises:
        ValueError: for an unknown name, or a dataset that is not on this
            machine and cannot be downloaded (one line saying what to do).
    """
    from kerasrecipes.datasets import keras_datasets
    from kerasrecipes.datasets.fashion_mnist import CLASS_NAMES, fashion_mnist
    from kerasrecipes.datasets.sample import fashion_mnist_sample

    if name not in NAMES:
        raise ValueError(f"dataset must be one of {', '.join(NAMES)}. Received dataset={name!r}")
    if name == "sample":
        split, classes = fashion_mnist_sample(), CLASS_NAMES
    elif name == "fashion_mnist":
        split, classes = fashion_mnist(download=False), CLASS_NAMES
    elif name == "mnist":
        split, classes = _download(keras_datasets.mnist, name), keras_datasets.MNIST_CLASSES
    else:
        split, classes = _download(keras_datasets.cifar10, name), keras_datasets.CIFAR10_CLASSES
    (x_train, y_train), (x_test, y_test) = split
    return ImageData(x_train, y_train, x_test, y_test, list(classes), name)


def _download(loader, name):
    """`loader()` with Keras's download line kept off stdout; any failure is one line."""
    import contextlib
    import io

    try:
        with contextlib.redirect_stdout(io.StringIO()):  # keras.utils.get_file's "Downloading data from ..."
            return loader()
    except Exception as e:  # offline, proxy, disk full: all end in the one line below
        reason = " ".join(str(e).split())[:300] or type(e).__name__
        raise ValueError(f"dataset={name!r} is not on this machine and its download failed ({reason}); "
                         "connect once to download it into ~/.keras/datasets, or use --dataset sample "
                         "or --data DIR") from None
