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


@pytest.fixture(scope="session")
def sample_small():
    """The embedded sample cut to 320 training and 128 test images: a whole run directory in seconds."""
    import dataclasses

    from kerasrecipes import datasets

    full = datasets.load("sample")
    return dataclasses.replace(full, x_train=full.x_train[:320], y_train=full.y_train[:320],
                               x_test=full.x_test[:128], y_test=full.y_test[:128])


# The longest files first: pytest-xdist (`--dist loadfile`) hands whole files to its workers in this order,
# so a long file started last would leave the other worker idle at the end (measured: 18:44 with the
# tuning files last, one worker running alone for the last ~3 minutes).
_SLOW_FIRST = (
    "test_documented_commands.py", "test_notebooks.py", "test_without_tensorflow.py", "tuning/test_memory.py", "test_run_kills.py",
    "tuning/test_search_processes.py", "tuning/test_kills.py", "test_memory_loops.py", "test_jax_backend.py",
    "tuning/test_parallel.py",
)


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.path.as_posix()
        return next((i for i, name in enumerate(_SLOW_FIRST) if path.endswith("tests/" + name)), len(_SLOW_FIRST))

    items.sort(key=rank)  # stable: the order inside a file, and among the others, is kept
