"""The callbacks, schedules and lr_find under KERAS_BACKEND=jax (state lives outside variables mid-epoch there)."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import numpy as np, keras
    assert keras.backend.backend() == "jax"
    import kerasrecipes as kr
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    def model(lr):
        m = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(2, activation="softmax")])
        m.compile(keras.optimizers.SGD(lr), "sparse_categorical_crossentropy")
        return m
    m = model(3.0)
    cbs = kr.callbacks.recipe("loss", patience=1, k=2, verbose=0) + [kr.callbacks.SWA(3, data=x)]
    h = m.fit(x, y, batch_size=16, epochs=6, verbose=0, shuffle=False, callbacks=cbs)
    assert len(h.history["learning_rate"]) == len(h.history["loss"]) and "lr" not in h.history
    assert len(cbs[0].members) == 2 and cbs[0].ensemble().predict(x[:3], verbose=0).shape == (3, 2)

    steps = 6  # 96 / 16
    m = model(0.1)
    m.compile(keras.optimizers.SGD(kr.schedules.CyclicCosine(0.1, 2 * steps)), "sparse_categorical_crossentropy")
    snap = kr.callbacks.CheckpointEnsemble("snapshot", k=3, monitor="loss")
    m.fit(x, y, batch_size=16, epochs=6, verbose=0, callbacks=[snap])
    assert [s.epoch for s in snap.members] == [2, 4, 6], snap.members  # 1-based

    m = model(0.01)
    before = [w.copy() for w in m.get_weights()]
    r = kr.lr_find(m, x, y, min_lr=1e-3, max_lr=1e3, steps=30, batch_size=16)
    assert all(np.array_equal(a, b) for a, b in zip(before, m.get_weights()))
    assert float(m.optimizer.learning_rate) == np.float32(0.01)
    # the LR really changed batch by batch: the loss moved and then blew up
    assert r.diverged or r.losses.max() > 2 * r.losses.min(), r
    print("JAX-CALLBACKS-OK")
    """
)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed (pip install '.[dev]')")
def test_callbacks_and_lr_find_under_jax():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0 and "JAX-CALLBACKS-OK" in result.stdout, result.stderr[-3000:]
