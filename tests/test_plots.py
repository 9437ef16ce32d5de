"""plots: headless Figures whose drawn data equals the inputs (checked through the artists)."""

import sys

import keras
import numpy as np
import pytest
from matplotlib.figure import Figure

from kerasrecipes import plots


def _h(n=12, lr=True):
    t = np.arange(n, dtype="float64")
    h = {"loss": list(1 / (1 + t)), "val_loss": list(1.2 / (1 + t) + 0.01 * np.maximum(t - 6, 0)),
         "accuracy": list(0.5 + 0.04 * t), "val_accuracy": list(0.45 + 0.035 * t)}
    if lr:
        h["lr"] = [1e-3] * (n // 2) + [5e-4] * (n - n // 2)
    return h


def _png(fig, tmp_path, name="f.png"):
    path = tmp_path / name
    fig.savefig(path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def test_history_panels_best_epoch_and_log_lr(tmp_path):
    h = _h()
    fig = plots.history(h)
    assert isinstance(fig, Figure)
    if "matplotlib.pyplot" in sys.modules:  # object API only: pyplot never holds our figures
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []
    best = int(np.argmin(h["val_loss"])) + 1
    assert fig.best_epoch == best
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == ["loss", "accuracy", "learning rate (lr)"]
    loss_ax, acc_ax, lr_ax = fig.axes[:3]
    lines = {l.get_label(): l for l in loss_ax.get_lines()}
    np.testing.assert_allclose(lines["val_loss"].get_ydata(), h["val_loss"])
    assert lines[f"best epoch {best}"].get_xdata()[0] == best
    assert lr_ax.get_yscale() == "log"
    _png(fig, tmp_path)


def test_history_moving_average_and_batch_panel():
    h = _h(40, lr=False)
    losses = list(np.linspace(2, 0.5, 400) + np.random.default_rng(0).normal(0, 0.1, 400))
    fig = plots.history(h, smooth=5, batch_losses={"loss": losses, "epoch": list(np.repeat(range(40), 10))})
    ax = fig.axes[0]
    smoothed = [l for l in ax.get_lines() if l.get_label() == "loss (avg 5)"][0]
    np.testing.assert_allclose(smoothed.get_ydata()[2:-2], np.convolve(h["loss"], np.ones(5) / 5, "valid"))
    batch_ax = [a for a in fig.axes if a.get_title() == "loss per batch"][0]
    raw = batch_ax.get_lines()[0]
    np.testing.assert_allclose(raw.get_ydata(), losses)
    assert raw.get_xdata()[10] == pytest.approx(1.0)  # batch 0 of epoch 1 sits at x = 1
    with pytest.raises(ValueError, match="smooth"):
        plots.history(h, smooth=0)
    with pytest.raises(ValueError, match="monitor"):
        plots.history(h, monitor="val_auc")


def test_lr_finder_accepts_objects_and_dicts():
    class Result:
        lrs = [1e-5, 1e-4, 1e-3, 1e-2, 1e-1]
        losses = [2.3, 2.2, 1.6, 1.4, 5.0]
        suggestion = 1e-3

    for result in (Result(), {"lrs": Result.lrs, "losses": Result.losses, "suggestion": 1e-3}):
        fig = plots.lr_finder(result)
        ax = fig.axes[0]
        assert ax.get_xscale() == "log"
        np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), Result.losses)
        assert ax.get_lines()[1].get_xdata()[0] == 1e-3
    with pytest.raises(ValueError, match="losses"):
        plots.lr_finder({"lrs": [1.0]})


def test_confusion_matrix_counts_against_a_loop():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 200)
    probs = rng.dirichlet(np.ones(4), 200)
    ref = np.zeros((4, 4), int)
    for t, p in zip(y, probs.argmax(1)):
        ref[t, p] += 1
    fig = plots.confusion_matrix(probs, y=y, class_names=["a", "b", "c", "d"])
    np.testing.assert_array_equal(fig.counts, ref)
    shown = fig.axes[0].images[0].get_array()
    np.testing.assert_allclose(shown, ref / ref.sum(1, keepdims=True))
    one_hot = np.eye(4)[y]
    np.testing.assert_array_equal(plots.confusion_counts(one_hot, probs), ref)
    assert f"{np.trace(ref) / 200:.3f}" in fig.axes[0].get_title()


def test_confusion_matrix_and_top_losses_from_a_model(fashion_small, tmp_path):
    (x, y), _ = fashion_small
    x, y = x[:120], y[:120]
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    probs = model.predict(x, verbose=0)
    fig = plots.confusion_matrix(model, x, y)
    assert fig.counts.sum() == 120 and fig.counts.shape == (10, 10)
    top = plots.top_losses(model, x, y, k=6)
    losses = -np.log(np.clip(probs[np.arange(120), y], 1e-7, 1))
    np.testing.assert_array_equal(top.indices, np.argsort(-losses, kind="stable")[:6])
    np.testing.assert_allclose(top.losses, np.sort(losses)[::-1][:6], rtol=1e-5)
    assert top.losses[0] >= top.losses[-1]
    # keras's own loss agrees with ours
    ref = keras.losses.sparse_categorical_crossentropy(y, probs).numpy()
    np.testing.assert_allclose(plots.per_example_loss(probs, y), ref, rtol=1e-4)
    shown = [ax for ax in top.axes if ax.images]
    assert len(shown) == 6 and shown[0].images[0].get_array().shape == (28, 28)
    _png(top, tmp_path)
    with pytest.raises(ValueError, match="k must"):
        plots.top_losses(model, x, y, k=0)


def test_layer_stats_figure():
    stats = {"epochs": [0, 1],
             "activations": {"d1": {"mean": [0.1, 0.2], "std": [1.0, 0.8], "dead_fraction": None},
                             "a1": {"mean": [0.3, 0.3], "std": [0.5, 0.4], "dead_fraction": [0.1, 0.4]}},
             "gradients": {"m/d1/kernel": [1e-2, 1e-3], "m/d1/bias": [1e-2, 1e-3], "m/d2/kernel": [1e-1, 1e-1]},
             "loss": [2.3, 1.0]}
    fig = plots.layer_stats(stats)
    std_ax, _, dead_ax, grad_ax = fig.axes[:4]
    np.testing.assert_allclose(std_ax.get_lines()[1].get_ydata(), [0.8, 0.4])
    np.testing.assert_allclose(dead_ax.get_lines()[1].get_ydata(), [0.4])
    assert grad_ax.get_yscale() == "log"
    assert [t.get_text() for t in grad_ax.get_xticklabels()] == ["m/d1/kernel", "m/d2/kernel"]


def test_overlay():
    fig = plots.overlay({"a": _h(), "b": _h(8)}, metrics=("loss", "accuracy", "auc"))
    assert len(fig.axes) == 2
    labels = [l.get_label() for l in fig.axes[0].get_lines()]
    assert labels == ["a (train)", "a", "b (train)", "b"]
