"""sanity_check: a sound model passes, each broken one fails the check that catches it, nothing changes."""

import keras
import numpy as np
import pytest

from kerasrecipes.babysit import sanity_check


def _mlp(output="softmax", init="glorot_uniform", compile_model=True):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(32, activation="relu", kernel_initializer=init),
                              keras.layers.Dense(10, activation=output, kernel_initializer=init)])
    if compile_model:
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def data(fashion_small):
    (x, y), _ = fashion_small
    return x[:400], y[:400]


def _values(model):
    return [np.array(v.numpy()) for v in model.variables]


def test_sound_model_passes_and_is_left_unchanged(data):
    x, y = data
    model = _mlp()
    before = _values(model)
    report = sanity_check(model, x, y)
    assert report.passed, report
    assert [c.name for c in report] == ["initial_loss", "regularization", "overfit_small", "lr_sweep",
                                        "learns_signal"]
    assert report["initial_loss"].values["expected"] == pytest.approx(np.log(10))
    reg = report["regularization"].values
    assert reg["loss_regularized"] - reg["loss"] == pytest.approx(reg["expected_rise"], rel=1e-3)
    assert report["overfit_small"].values["accuracy"] == 1.0
    assert report.suggested_lr in (1e-1, 1e-2)
    for after, b in zip(_values(model), before):
        np.testing.assert_array_equal(after, b)
    assert int(model.optimizer.iterations.numpy()) == 0  # the compiled optimizer was never used
    assert all(v.regularizer is None for v in model.trainable_variables)
    assert "passed" in repr(report) and "<table" in report._repr_html_()


def test_wrong_output_layer_fails_the_initial_loss_check(data):
    x, y = data
    # ReLU outputs under a probability loss: zeros are clipped to 1e-7, the loss is far above ln(10)
    report = sanity_check(_mlp(output="relu"), x, y, checks=("initial_loss", "regularization", "overfit_small"),
                          overfit_steps=60)
    assert report.failed[0] == "initial_loss"
    assert report["initial_loss"].values["loss"] > 2 * np.log(10)
    assert report["regularization"].passed


def test_absurd_initial_scale_fails_the_initial_loss_check(data):
    x, y = data
    big = keras.initializers.RandomNormal(stddev=3.0, seed=0)
    report = sanity_check(_mlp(init=big), x, y, checks=("initial_loss",))
    assert report.failed == ["initial_loss"]


def test_shuffled_labels_fail_only_the_signal_check(data):
    x, y = data
    shuffled = np.random.default_rng(0).permutation(y)
    report = sanity_check(_mlp(compile_model=False), x, shuffled)
    # 50 shuffled examples are still memorized: only the held-out check can tell
    assert report["overfit_small"].passed
    assert report.failed == ["learns_signal"]
    v = report["learns_signal"].values
    assert v["accuracy"] < v["chance"] + v["margin"]


def test_zero_weights_fail_the_regularization_check(data):
    x, y = data
    report = sanity_check(_mlp(init="zeros"), x, y, checks=("initial_loss", "regularization"))
    assert report["initial_loss"].values["loss"] == pytest.approx(np.log(10), rel=1e-5)  # uniform output
    assert report.failed == ["regularization"]
    assert "zero" in report["regularization"].evidence


def test_bad_arguments_raise_before_any_work(data):
    x, y = data
    model = _mlp()
    with pytest.raises(ValueError, match="checks has unknown"):
        sanity_check(model, x, y, checks=("initial",))
    with pytest.raises(ValueError, match="same, non-zero number"):
        sanity_check(model, x, y[:10])
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 5\)"):
        sanity_check(model, x, y, num_classes=5)
    with pytest.raises(ValueError, match="lrs"):
        sanity_check(model, x, y, lrs=(0.1, -1.0))
    for kwargs, match in ((dict(sweep_optimizer="sgdd"), "sweep_optimizer must be one of sgd, nesterov"),
                          (dict(overfit_steps=0), "overfit_steps must be an integer >= 1"),
                          (dict(batch_size=2.5), "batch_size"), (dict(overfit_accuracy=1.5), "overfit_accuracy"),
                          (dict(lrs=("a",)), "lrs"), (dict(signal_epochs=True), "signal_epochs")):
        with pytest.raises(ValueError, match=match):
            sanity_check(model, x, y, **kwargs)


def test_the_sweep_builds_its_optimizer_through_the_package_builder(data, monkeypatch):
    from kerasrecipes import babysit, optimizers

    built = []
    real = optimizers.build
    monkeypatch.setattr(optimizers, "build", lambda name, lr, **kw: built.append((name, lr)) or real(name, lr, **kw))
    x, y = data
    report = babysit.sanity_check(_mlp(), x, y, checks=("lr_sweep",), lrs=(0.1, 0.01), sweep_steps=3,
                                  sweep_optimizer="nesterov")
    assert built == [("nesterov", 0.1), ("nesterov", 0.01)] and report["lr_sweep"].status in ("pass", "fail")
