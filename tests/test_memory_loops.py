"""kerasrecipes.clear_session and memory.released: memory stays flat over many fits in one process.

The two loop tests run each loop in a fresh Python process (so no other test's
models, graphs or caches count) and hold the issue's target: at most 1 MB of
resident memory per fit, from fit 5 to the last. Without the package's release,
Keras's `clear_session()` alone, the same loops grew ~10 MB per fit
(`benchmarks/memory.py`, BENCHMARKS.md).
"""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import kerasrecipes as kr
from kerasrecipes import _traced, memory

TF = keras.backend.backend() == "tensorflow"
FITS = 20  # the 20 fits per loop
MB_PER_FIT = 1.0  # the target

# One child program for both loops. Each reading follows the package's own
# clear_session (its gc.collect is the collection) and glibc's malloc_trim: glibc
# keeps freed heap in per-thread arenas, +-10 MB of noise that is nothing alive.
# gc.freeze() moves the ~450k objects of the imports out of the collector's
# way, so each collection scans only what the loop made (several times faster);
# it hides nothing the loop allocates.
_CHILD = textwrap.dedent("""
    import ctypes, gc, json, sys
    import kerasrecipes as kr
    from kerasrecipes import data, experiments, models

    loop, fits = sys.argv[1], int(sys.argv[2])
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        trim = lambda pad: 0

    def rss_mb():
        trim(0)
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmRSS:"))

    (x, y), (xv, yv) = kr.datasets.fashion_mnist_sample()
    x, y, xv, yv = x[:256], y[:256], xv[:128], yv[:128]
    tiny = dict(filters=(4,), convs_per_stage=1, dense_units=(), dense_dropout=0.0)  # one conv-bn-relu stage
    gc.collect()
    gc.freeze()
    rss = []
    if loop == "recipe":
        for i in range(fits + 1):
            kr.clear_session()
            if i:
                rss.append(rss_mb())  # after fit i
            if i == fits:
                break
            model = models.vgg((28, 28, 1), 10, **tiny)
            model.compile(kr.optimizers.build("sgd", 0.01), "sparse_categorical_crossentropy",
                          metrics=["accuracy"])
            model.fit(data.pipeline(x, y, 128, augment="standard", seed=0),
                      validation_data=data.pipeline(xv, yv, 128, shuffle=False),
                      epochs=1, callbacks=kr.callbacks.recipe(verbose=0), verbose=0)
            del model
    else:
        def builder():  # called right after compare's clear_session: the RSS after the previous fit
            rss.append(rss_mb())
            return models.vgg((28, 28, 1), 10, **tiny)

        experiments.compare(builder, {str(i): {} for i in range(fits)}, ((x, y), (xv, yv)), epochs=1,
                            optimizer="sgd", learning_rate=0.01)
        kr.clear_session()
        rss = rss[1:] + [rss_mb()]
    print(json.dumps(rss))
""")


def _rss_per_fit(loop):
    env = {**os.environ, "KERAS_BACKEND": keras.backend.backend(), "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run([sys.executable, "-c", _CHILD, loop, str(FITS)], capture_output=True, text=True,
                         env=env, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    rss = json.loads(out.stdout.strip().splitlines()[-1])
    assert len(rss) == FITS
    return rss


@pytest.mark.parametrize("loop", ["recipe", "compare"])
def test_loop_of_twenty_fits_grows_at_most_1_mb_per_fit(loop):
    rss = _rss_per_fit(loop)
    per_fit = (rss[-1] - rss[4]) / (FITS - 5)  # fit 5 to fit 20, as in the issue
    assert per_fit <= MB_PER_FIT, {"mb_per_fit": round(per_fit, 3), "rss": [round(r, 1) for r in rss]}


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8)).astype("float32")
    return x, (x[:, 0] > 0).astype("int32")


def _trained():
    x, y = _data()
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    model.compile(kr.optimizers.build("sgd", 0.1), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    return model


@pytest.mark.skipif(not TF, reason="the gradient registry is TensorFlow's")
def test_clear_session_drops_the_traced_gradients_and_a_trained_model_still_trains():
    model = _trained()
    assert any(n.startswith("CustomGradient-") for n in _traced.mark())  # what a fit leaves behind
    x, y = _data()
    before = model.predict(x, verbose=0)
    kr.clear_session()
    assert not any(n.startswith("CustomGradient-") for n in _traced.mark())
    np.testing.assert_allclose(model.predict(x, verbose=0), before, rtol=1e-6)  # nothing of the model is lost
    weights = [w.copy() for w in model.get_weights()]
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # its traced train step still runs
    assert any(not np.allclose(a, b) for a, b in zip(weights, model.get_weights()))
    assert keras.layers.Dense(1).name == "dense"  # Keras's own reset happened too


@pytest.mark.skipif(not TF, reason="the gradient registry is TensorFlow's")
def test_released_frees_only_what_its_block_registered():
    _trained()
    older = _traced.mark()
    assert any(n.startswith("CustomGradient-") for n in older)
    with memory.released():
        _trained()
        assert len(_traced.mark()) > len(older)
    assert _traced.mark() == older  # the block's entries are gone, the caller's are kept
    assert keras.layers.Dense(1).name != "dense"  # and Keras's global state is left alone


def test_on_other_backends_nothing_beyond_keras(monkeypatch):
    if TF:
        _trained()
        registry = set(_traced._registry())
        monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
        assert _traced.mark() == frozenset() and _traced.release(frozenset()) == 0
        kr.clear_session()
        monkeypatch.undo()
        assert set(_traced._registry()) == registry  # untouched
    else:
        assert _traced.mark() == frozenset()
        kr.clear_session()
        assert keras.layers.Dense(1).name == "dense"
