import gc
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasrecipes.datasets import fashion_mnist  # noqa: E402


_TESTS_PER_COLLECTION = 20  # a full gc.collect() costs 0.2-0.5 s once TensorFlow's heap is large
_finished = [0]


@pytest.fixture(autouse=True)
def _fixed_seed():
    keras.utils.set_random_seed(1234)
    yield
    # Keras's clear_session(free_memory=True) runs a full gc.collect() after every
    # test: minutes over the suite. Clear Keras's state each time, collect every
    # 20 tests (Python's own generational collection runs in between anyway).
    keras.backend.clear_session(free_memory=False)
    _finished[0] += 1
    if _finished[0] % _TESTS_PER_COLLECTION == 0:
        gc.collect()


@pytest.fixture(scope="session")
def fashion_small():
    """A fixed, class-balanced-by-chance slice of real Fashion-MNIST, scaled to [0, 1].

    3000 training and 1000 test images: enough for a tiny model to reach far above
    chance in a few seconds on 2 CPU cores.
    """
    (x_train, y_train), (x_test, y_test) = fashion_mnist()
    scale = np.float32(1.0 / 255.0)
    return (
        (x_train[:3000].astype("float32") * scale, y_train[:3000].astype("int32")),
        (x_test[:1000].astype("float32") * scale, y_test[:1000].astype("int32")),
    )
