import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from kerasrecipes.datasets import fashion_mnist  # noqa: E402


@pytest.fixture(autouse=True)
def _fixed_seed():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session()


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
