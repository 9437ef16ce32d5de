"""A tiny search with local workers, run as a separate process by test_parallel.py.

Usage: python parallel_script.py DIRECTORY MAX_TRIALS EPOCHS FIT_LOG WORKERS

Each fit appends "<pid> <tuner id> <intra-op threads>" to FIT_LOG when it
starts. The calling process prints the results as one JSON line prefixed with
"RESULTS ".
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerasrecipes.models import mlp  # noqa: E402
from kerasrecipes.tuning import Choice, LogUniform, MedianStoppingRule, SearchSpace, random_search  # noqa: E402


class FitLog(keras.callbacks.Callback):
    """Appends this process's id, tuner id and thread budget to a file at the start of every fit."""

    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_train_begin(self, logs=None):
        with open(self.path, "a") as f:
            f.write(f"{os.getpid()} {os.environ.get('KERASTUNER_TUNER_ID')} "
                    f"{os.environ.get('TF_NUM_INTRAOP_THREADS')}\n")


def main(directory, max_trials, epochs, fit_log, workers):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 8, 8, 1)).astype("float32")
    y = np.argmax(x.reshape(512, -1) @ rng.normal(size=(64, 4)), axis=1).astype("int32")
    space = SearchSpace(factory=mlp, lr=LogUniform(1e-3, 1e-1), hidden=Choice((8,), (16,)), batch_size=32)
    search = random_search(space, x[:384], y[:384], validation_data=(x[384:], y[384:]), max_trials=max_trials,
                           epochs=epochs, directory=directory, seed=3, workers=workers, verbose=1,
                           callbacks=[FitLog(fit_log), MedianStoppingRule(warmup_epochs=1, min_trials=1)])
    print("RESULTS " + json.dumps(search.results().rows), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5]))
