"""LayerStats and BatchLossRecorder against references: numpy statistics, TF gradients, per-batch losses."""

import copy
import importlib.util
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from kerasrecipes.callbacks import BatchLossRecorder, LayerStats
from kerasrecipes.callbacks.stats import layer_statistics, loss_and_gradients


def _mlp(init="he_normal", bias=0.0):
    model = keras.Sequential([
        keras.Input((12,)),
        keras.layers.Dense(16, kernel_initializer=init, bias_initializer=keras.initializers.Constant(bias),
                           name="d1"),
        keras.layers.Activation("relu", name="a1"),
        keras.layers.Dense(8, activation="relu", kernel_initializer=init, name="d2"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.Dense(3, activation="softmax", name="out"),
    ])
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    return model


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 12)).astype("float32")
    y = (x[:, 0] > 0).astype("int32") + (x[:, 1] > 1).astype("int32")
    return x, y


def test_gradients_match_a_tensorflow_tape_and_leave_state_alone():
    model = _mlp()
    model.layers[1].kernel_regularizer = None
    x, y = _data(32)
    before = [v.numpy().copy() for v in model.variables]
    loss, grads = loss_and_gradients(model, x, y)
    with tf.GradientTape() as tape:
        ref_loss = model.compute_loss(x=x, y=y, y_pred=model(x, training=True))
    ref = tape.gradient(ref_loss, model.trainable_variables)
    # the reference call updated the BN moving moments; ours must not have: compare to `before`
    assert loss == pytest.approx(float(ref_loss), rel=1e-6)
    for g, r in zip(grads, ref):
        np.testing.assert_allclose(np.asarray(g), r.numpy(), rtol=1e-5, atol=1e-7)
    model2 = _mlp()
    model2.set_weights([b for b in before if b.ndim])  # same starting point, untouched
    loss_and_gradients(model2, x, y)
    for v, b in zip(model2.variables, before):
        np.testing.assert_array_equal(v.numpy(), b)


def test_regularization_is_part_of_the_loss():
    x, y = _data(32)
    plain = _mlp()
    loss0, _ = loss_and_gradients(plain, x, y, loss="sparse_categorical_crossentropy")
    plain.layers[0].kernel.regularizer = keras.regularizers.L2(0.1)
    loss1, _ = loss_and_gradients(plain, x, y, loss="sparse_categorical_crossentropy")
    expected = 0.1 * np.sum(plain.layers[0].kernel.numpy() ** 2)
    assert loss1 - loss0 == pytest.approx(expected, rel=1e-4)


def test_layer_statistics_against_numpy_and_dead_units():
    # a bias of -100 on d1 kills every unit of a1 on this data
    model = _mlp(bias=-100.0)
    x, y = _data(64)
    snap = layer_statistics(model, x, y)
    h1 = x @ model.layers[0].kernel.numpy() - 100.0
    a = snap["activations"]
    assert a["d1"]["mean"] == pytest.approx(h1.mean(), rel=1e-5)
    assert a["d1"]["std"] == pytest.approx(h1.std(), rel=1e-5)
    assert a["d1"]["dead_fraction"] is None  # linear output: no ReLU
    assert a["a1"]["dead_fraction"] == 1.0 and a["a1"]["mean"] == 0.0
    # nothing flows back through dead ReLUs; only the output bias still learns
    grads = snap["gradients"]
    assert grads[model.layers[0].kernel.path] == 0.0 and grads[model.layers[-1].kernel.path] == 0.0
    assert grads[model.layers[-1].bias.path] > 0.0
    healthy = layer_statistics(_mlp(), x, y)
    assert healthy["activations"]["a1"]["dead_fraction"] < 0.25


def test_layer_stats_callback_records_epochs_and_logs(fashion_small):
    (x, y), _ = fashion_small
    model = keras.Sequential([keras.Input((28, 28, 1)),
                              keras.layers.Conv2D(4, 3, activation="relu", name="c1"),
                              keras.layers.MaxPooling2D(4), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax", name="out")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    stats = LayerStats(every=2, sample=(x[:200], y[:200]), sample_size=32)
    assert stats.x.shape[0] == 32
    clone = copy.deepcopy(stats)  # keras-tuner deep-copies callbacks
    history = model.fit(x[:256], y[:256], epochs=3, batch_size=64, callbacks=[stats], verbose=0)
    s = stats.stats
    assert s["epochs"] == [0, 2]  # before training and after epoch 2
    assert set(s["activations"]) == {"c1", "max_pooling2d", "flatten", "out"}
    assert len(s["activations"]["c1"]["dead_fraction"]) == 2
    assert list(s["gradients"]) == [v.path for v in model.trainable_variables]
    lg = history.history["grad_norm_ratio"]
    assert np.isnan(lg[0]) and np.isnan(lg[2]) and np.isfinite(lg[1])
    last = s["gradients"]
    kernels = [v for k, v in last.items() if k.endswith("kernel")]
    assert lg[1] == pytest.approx(kernels[0][-1] / kernels[-1][-1])
    assert clone.stats is None
    # reusable: state resets at train begin
    model.fit(x[:64], y[:64], epochs=2, batch_size=64, callbacks=[stats], verbose=0)
    assert stats.stats["epochs"] == [0, 2]
    # its probe and compiled gradients (built once per fit) give what a fresh snapshot of the final model gives
    fresh = layer_statistics(model, stats.x, stats.y)
    for name, norm in fresh["gradients"].items():
        assert stats.stats["gradients"][name][-1] == pytest.approx(norm, rel=1e-4)
    assert stats.stats["activations"]["c1"]["std"][-1] == pytest.approx(fresh["activations"]["c1"]["std"], rel=1e-5)
    assert stats._snapshots is None  # model and traced function released at train end
    copy.deepcopy(stats)


def test_layer_stats_on_a_functional_model_matches_a_fresh_snapshot(fashion_small):
    from kerasrecipes.models import vgg

    (x, y), _ = fashion_small
    keras.utils.set_random_seed(0)
    model = vgg((28, 28, 1), 10, filters=(4, 8), convs_per_stage=1, head="gap", dense_units=())
    model.compile("adam", "sparse_categorical_crossentropy")
    stats = LayerStats(sample=(x[:64], y[:64]))
    model.fit(x[:128], y[:128], epochs=2, batch_size=64, callbacks=[stats], verbose=0)
    fresh = layer_statistics(model, stats.x, stats.y)
    assert stats.stats["epochs"] == [0, 1, 2] and set(stats.stats["activations"]) == set(fresh["activations"])
    for name, value in fresh["activations"].items():
        assert stats.stats["activations"][name]["mean"][-1] == pytest.approx(value["mean"], rel=1e-4, abs=1e-6)
    for name, norm in fresh["gradients"].items():
        assert stats.stats["gradients"][name][-1] == pytest.approx(norm, rel=1e-4)


def test_layer_stats_rejects_bad_arguments():
    with pytest.raises(ValueError, match="sample must be"):
        LayerStats(every=1)
    with pytest.raises(ValueError, match="every"):
        LayerStats(every=0, sample=(np.zeros((2, 3)), np.zeros(2)))
    with pytest.raises(ValueError, match="as many targets"):
        LayerStats(sample=(np.zeros((2, 3)), np.zeros(3)))
    sample = (np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="every must be a positive integer. Received every='2'"):
        LayerStats(every="2", sample=sample)
    with pytest.raises(ValueError, match="sample_size"):
        LayerStats(sample=sample, sample_size=1.5)
    with pytest.raises(ValueError, match="layers must be a list of layer names"):
        LayerStats(sample=sample, layers="dense")
    with pytest.raises(ValueError, match="window must be a positive integer. Received window=0"):
        BatchLossRecorder(window=0)


def test_batch_loss_recorder_recovers_each_batch_loss():
    x, y = _data(100)
    model = _mlp()
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")  # weights never move
    recorder = BatchLossRecorder(window=3)
    history = model.fit(x, y, epochs=2, batch_size=32, shuffle=False, callbacks=[recorder], verbose=0)
    # reference: the loss of each batch, 32 + 32 + 32 + 4 examples, computed by Keras directly
    ref = [float(keras.losses.sparse_categorical_crossentropy(y[i:i + 32], model(x[i:i + 32], training=True)).numpy().mean())
           for i in range(0, 100, 32)]
    assert recorder.epochs == [0, 0, 0, 0, 1, 1, 1, 1]
    np.testing.assert_allclose(recorder.losses, ref * 2, rtol=1e-4)
    width = history.history["batch_loss_width"]
    assert len(width) == 2 and width[0] > 0
    assert recorder.to_dict()["loss"][0] == pytest.approx(ref[0], rel=1e-4)


JAX_SCRIPT = textwrap.dedent(
    """
    import numpy as np, keras
    assert keras.backend.backend() == "jax"
    from kerasrecipes.callbacks import LayerStats
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 12)).astype("float32"); y = (x[:, 0] > 0).astype("int32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.BatchNormalization(), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    stats = LayerStats(sample=(x, y))
    model.fit(x, y, epochs=2, verbose=0, callbacks=[stats])
    grads = stats.stats["gradients"]
    assert stats.stats["epochs"] == [0, 1, 2] and all(v[-1] > 0 for v in grads.values()), grads
    from kerasrecipes.babysit import sanity_check  # its jitted training loop, under JAX
    before = [np.array(v.value) for v in model.variables]
    report = sanity_check(model, x, y, checks=("initial_loss", "overfit_small"))
    assert report["overfit_small"].passed, report
    assert all(np.array_equal(np.array(v.value), b) for v, b in zip(model.variables, before))
    print("JAX-STATS-OK")
    """
)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed")
def test_layer_stats_and_sanity_check_under_jax():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run([sys.executable, "-c", JAX_SCRIPT], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0 and "JAX-STATS-OK" in result.stdout, result.stderr[-3000:]
