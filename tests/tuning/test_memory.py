"""Memory across trials: thirty trials in one process (keras-tuner #395, #873).

Each trial starts from `keras.backend.clear_session()` and keeps no model,
dataset or callback of an earlier one, and ends by releasing the traced
gradients TensorFlow registers globally for every train step
(`kerasrecipes._traced`; tensorflow/tensorflow#97697). Without that release a
bare `clear_session(); build; compile; fit` loop grows by ~1.2 MB per fit on
TF 2.21 / Keras 3.15, and the search by ~3.9 MB per trial
(`benchmarks/search_memory.py`).
"""

import gc

import keras
import numpy as np
import pytest

from kerasrecipes import _traced
from kerasrecipes.models import mlp
from kerasrecipes.tuning import LogUniform, SearchSpace, random_search


def _rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(384, 8, 8, 1)).astype("float32")
    y = np.argmax(x.reshape(384, -1) @ rng.normal(size=(64, 4)), axis=1).astype("int32")
    return x[:256], y[:256], x[256:], y[256:]


def _fit_tiny(xt, yt):
    model = mlp((8, 8, 1), 4, hidden=(16,))
    model.compile(optimizer=keras.optimizers.SGD(1e-2), loss="sparse_categorical_crossentropy")
    model.fit(xt, yt, batch_size=64, epochs=1, verbose=0)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="the registry is TensorFlow's")
def test_release_frees_what_a_finished_fit_registered_and_nothing_older():
    xt, yt, _, _ = _data()
    keras.backend.clear_session()
    _fit_tiny(xt, yt)
    before_first = _traced.mark()
    assert any(name.startswith("CustomGradient-") for name in before_first)  # the leak this module exists for

    marked = _traced.mark()
    keras.backend.clear_session()
    _fit_tiny(xt, yt)
    assert _traced.release(marked) >= 1
    assert _traced.mark() == marked  # the new ones are gone, the older ones are kept
    assert _traced.release(marked) == 0 and _traced.release(None) == 0


def test_thirty_trials_in_one_process_keep_memory_flat(tmp_path):
    xt, yt, xv, yv = _data()
    space = SearchSpace(factory=mlp, lr=LogUniform(1e-3, 1e-1), hidden=(16,), batch_size=64, optimizer="sgd")
    rss = {}

    def progress(event):  # called by the tuner after each trial has ended
        gc.collect()
        rss[event["trial"]] = _rss_mb()

    search = random_search(space, xt, yt, validation_data=(xv, yv), max_trials=30, epochs=1,
                           directory=tmp_path, seed=0, verbose=0, progress=progress, callbacks=[])
    assert len(search.results()) == 30 and sorted(rss) == list(range(1, 31))
    growth = rss[30] - rss[5]
    report = {"growth_mb": round(growth, 1), "rss": {k: round(v) for k, v in rss.items()}}
    # The target: within 10 % (or 50 MB) of trial 5; before the release it grew ~87 MB.
    assert growth <= min(0.10 * rss[5], 50.0), report
    assert growth / 25 <= 0.5, report  # MB per trial; the leak was 3.5
