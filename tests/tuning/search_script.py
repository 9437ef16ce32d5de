"""A tiny search run as a separate process by the resume and distributed tests.

Usage: python search_script.py DIRECTORY MAX_TRIALS EPOCHS FIT_LOG

Each fit appends "<pid>" to FIT_LOG when it starts, so the tests can count
how many times trials were trained across processes. The process that ends
with the complete results (a single process, or the chief) prints them as one
JSON line prefixed with "RESULTS ".
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerasrecipes.models import mlp  # noqa: E402
from kerasrecipes.tuning import Choice, LogUniform, SearchSpace, random_search  # noqa: E402


class FitLog(keras.callbacks.Callback):
    """Appends this process's id to a file at the start of every fit (holds only a path: deep-copyable)."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_train_begin(self, logs=None):
        with open(self.path, "a") as f:
            f.write(f"{os.getpid()}\n")


def main(directory, max_trials, epochs, fit_log):
    # Learnable synthetic 8x8 data: the label is the argmax of a fixed linear map.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(384, 8, 8, 1)).astype("float32")
    y = np.argmax(x.reshape(384, -1) @ rng.normal(size=(64, 4)), axis=1).astype("int32")
    space = SearchSpace(factory=mlp, lr=LogUniform(1e-3, 1e-1), width=Choice(4, 8, 16), depth=1, batch_size=64)
    search = random_search(space, x[:256], y[:256], validation_data=(x[256:], y[256:]), max_trials=max_trials,
                           epochs=epochs, directory=directory, seed=3, callbacks=[FitLog(fit_log)], verbose=1)
    role = os.environ.get("KERASTUNER_TUNER_ID", "single")
    if role in ("single", "chief"):
        print("RESULTS " + json.dumps(search.results().rows), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
