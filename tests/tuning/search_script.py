"""A tiny search run as a separate process by the resume, distributed and parallel tests.

Usage: python search_script.py DIRECTORY MAX_TRIALS EPOCHS FIT_LOG [WORKERS]

Each fit appends "<pid> <tuner id> <intra-op threads>" to FIT_LOG when it
starts, so the tests can count how many times trials were trained, and by which
process. Without WORKERS it is one process (or one role of a distributed search,
from keras-tuner's environment variables); with WORKERS it starts that many
local workers (`random_search(workers=...)`) with median-stopping pruning. The
process that ends with the complete results (a single process, or the chief)
prints them as one JSON line prefixed with "RESULTS ".
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
    """Appends this process's id, tuner id and thread budget to a file at the start of every fit.

    It holds only a path, so keras-tuner can deep-copy it into every trial.
    """

    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_train_begin(self, logs=None):
        with open(self.path, "a") as f:
            f.write(f"{os.getpid()} {os.environ.get('KERASTUNER_TUNER_ID')} "
                    f"{os.environ.get('TF_NUM_INTRAOP_THREADS')}\n")


def _data(n):
    """Learnable synthetic 8x8 data: the label is the argmax of a fixed linear map."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8, 8, 1)).astype("float32")
    return x, np.argmax(x.reshape(n, -1) @ rng.normal(size=(64, 4)), axis=1).astype("int32")


def main(directory, max_trials, epochs, fit_log, workers=None):
    if workers is None:
        (x, y), split = _data(384), 256
        space = SearchSpace(factory=mlp, lr=LogUniform(1e-3, 1e-1), width=Choice(4, 8, 16), depth=1, batch_size=64)
        extra = {}
    else:
        (x, y), split = _data(512), 384
        space = SearchSpace(factory=mlp, lr=LogUniform(1e-3, 1e-1), hidden=Choice((8,), (16,)), batch_size=32)
        extra = {"workers": workers}
    pruning = [] if workers is None else [MedianStoppingRule(warmup_epochs=1, min_trials=1)]
    search = random_search(space, x[:split], y[:split], validation_data=(x[split:], y[split:]),
                           max_trials=max_trials, epochs=epochs, directory=directory, seed=3, verbose=1,
                           callbacks=[FitLog(fit_log), *pruning], **extra)
    if os.environ.get("KERASTUNER_TUNER_ID", "single") in ("single", "chief"):
        print("RESULTS " + json.dumps(search.results().rows), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4],
         int(sys.argv[5]) if len(sys.argv) > 5 else None)
