"""MNIST and CIFAR-10 through keras.datasets, shaped like `fashion_mnist()`."""

import numpy as np

MNIST_CLASSES = tuple(str(d) for d in range(10))
CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)


def _tidy(split, name):
    x, y = split
    x = np.asarray(x, dtype=np.uint8)
    if x.ndim == 3:  # grayscale: add the channel axis every Keras conv layer expects
        x = x[..., None]
    y = np.asarray(y).reshape(-1).astype(np.uint8)
    if len(x) != len(y):
        raise ValueError(f"keras.datasets.{name} returned {len(x)} images but {len(y)} labels")
    return x, y


def mnist():
    """Load MNIST through `keras.datasets.mnist` (downloads once into the Keras cache).

    Adds to Keras's loader only the shapes every recipe here expects: a channel
    axis on the images. Flips change digits' meaning: build augmentation with
    `kerasrecipes.data.augmentation(..., flip=False)` for this data.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images shaped
        `(N, 28, 28, 1)` and uint8 labels shaped `(N,)`.

    Example:
    >>> (x_train, y_train), _ = mnist()
    >>> x_train.shape
    (60000, 28, 28, 1)
    """
    import keras

    train, test = keras.datasets.mnist.load_data()
    return _tidy(train, "mnist"), _tidy(test, "mnist")


def cifar10():
    """Load CIFAR-10 through `keras.datasets.cifar10` (downloads once, about 170 MB).

    Adds to Keras's loader flat labels: Keras returns them shaped `(N, 1)`, which
    silently broadcasts wrongly in comparisons such as `y_pred == y`.

    Returns:
        `(x_train, y_train), (x_test, y_test)`: uint8 images shaped
        `(N, 32, 32, 3)` and uint8 labels shaped `(N,)`; class names in
        `CIFAR10_CLASSES`.

    Example:
    >>> (x_train, y_train), _ = cifar10()
    >>> y_train.shape
    (50000,)
    """
    import keras

    train, test = keras.datasets.cifar10.load_data()
    return _tidy(train, "cifar10"), _tidy(test, "cifar10")
