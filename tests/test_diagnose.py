"""diagnose: each case that cs231n, Wei's tips and Hung-yi Lee's tips describe, built as a synthetic history, is named correctly."""

import json

import keras
import numpy as np
import pytest

from kerasrecipes import diagnose as dg

T20 = np.arange(20.0)


def healthy():
    """Fast early fall, slow finish, small gap, high accuracy: nothing to report."""
    acc = 0.95 - 0.6 * np.exp(-T20 / 5)
    return {
        "loss": list(0.25 + 1.5 * np.exp(-T20 / 6)),
        "val_loss": list(0.30 + 1.45 * np.exp(-T20 / 6)),
        "accuracy": list(acc),
        "val_accuracy": list(acc - 0.03),
    }


def test_healthy_history_has_no_false_alarm():
    d = dg.diagnose(healthy())
    assert d.names == []
    assert not d
    assert d.summary["best_epoch"] == 20
    assert "healthy" in repr(d)


def test_healthy_with_lr_column_and_smooth_batches_is_still_healthy():
    h = healthy()
    h["lr"] = [1e-3] * 10 + [5e-4] * 10
    rng = np.random.default_rng(0)
    level = np.repeat(h["loss"], 50)
    batches = {"loss": list(level * (1 + 0.05 * rng.standard_normal(level.size))),
               "epoch": list(np.repeat(np.arange(20), 50))}
    assert dg.diagnose(h, batch_losses=batches).names == []


def test_overfitting_by_gap_and_rising_val_loss():
    t = np.arange(15.0)
    h = {
        "loss": list(0.05 + 1.0 * np.exp(-t / 3)),
        "val_loss": list(0.45 + 0.6 * np.exp(-t / 3) + 0.02 * np.maximum(t - 6, 0)),
        "accuracy": list(0.99 - 0.4 * np.exp(-t / 3)),
        "val_accuracy": list(0.86 - 0.3 * np.exp(-t / 3)),
    }
    d = dg.diagnose(h)
    assert d.names == ["overfitting"]
    f = d["overfitting"]
    assert "gap" in f.evidence and "val_loss rose" in f.evidence
    assert f.values["best_epoch"] == int(np.argmin(h["val_loss"])) + 1
    assert "regularization" in f.remedy
    # a tighter threshold on the gap alone still finds it; a looser one on both does not
    assert "overfitting" not in dg.diagnose(h, gap=0.2, loss_rise=0.5)


def test_underfitting_low_accuracy_no_gap():
    t = np.arange(15.0)
    h = {
        "loss": list(1.4 + 0.9 * np.exp(-t / 4)),
        "val_loss": list(1.42 + 0.9 * np.exp(-t / 4)),
        "accuracy": list(0.52 - 0.3 * np.exp(-t / 4)),
        "val_accuracy": list(0.51 - 0.3 * np.exp(-t / 4)),
    }
    d = dg.diagnose(h)
    assert d.names == ["underfitting"]
    assert "bigger model" in d["underfitting"].remedy
    assert dg.diagnose(h, underfit_accuracy=0.5).names == []


def test_nan_loss_is_lr_too_high_and_nothing_else():
    d = dg.diagnose({"loss": [2.3, 1.9, float("nan"), float("nan")], "accuracy": [0.1, 0.2, 0.1, 0.1]})
    assert d.names == ["lr_too_high"]
    assert d["lr_too_high"].values["nan_epoch"] == 3


def test_exploding_and_oscillating_loss_is_lr_too_high():
    assert dg.diagnose({"loss": [2.3, 3.0, 6.0, 9.0]}).names == ["lr_too_high"]
    loss = [2.0, 1.5, 1.7, 1.4, 1.6, 1.3, 1.5, 1.35, 1.55, 1.4]
    h = {"loss": loss, "val_loss": [v + 0.05 for v in loss],
         "accuracy": [0.8] * 10, "val_accuracy": [0.78] * 10}
    d = dg.diagnose(h)
    assert d.names[0] == "lr_too_high"
    assert "oscillates" in d["lr_too_high"].evidence
    assert d["lr_too_high"].values["rising_fraction"] == pytest.approx(4 / 9)


def test_linear_slow_fall_is_lr_too_low():
    t = np.arange(12.0)
    h = {"loss": list(2.3 - 0.02 * t), "val_loss": list(2.31 - 0.02 * t),
         "accuracy": list(0.2 + 0.01 * t), "val_accuracy": list(0.2 + 0.01 * t)}
    d = dg.diagnose(h)
    # the LR explains the low accuracy: no separate underfitting / still_improving
    assert d.names == ["lr_too_low"]
    assert d["lr_too_low"].values["r2"] == pytest.approx(1.0)
    flat = dg.diagnose({"loss": [2.302, 2.301, 2.300, 2.299]})
    assert flat.names == ["lr_too_low"] and "barely" in flat["lr_too_low"].evidence


def test_still_improving_means_train_longer():
    t = np.arange(8.0)
    h = {"loss": list(0.3 + 1.2 * np.exp(-t / 4)), "val_loss": list(0.35 + 1.15 * np.exp(-t / 4)),
         "accuracy": list(0.88 - 0.3 * np.exp(-t / 4)), "val_accuracy": list(0.86 - 0.3 * np.exp(-t / 4))}
    d = dg.diagnose(h)
    assert d.names == ["still_improving"]
    assert "Train longer" in d["still_improving"].remedy


def test_plateau_means_halve_the_lr():
    h = {"loss": [1.0, 0.6, 0.45, 0.40, 0.39, 0.385, 0.383, 0.382, 0.381, 0.380, 0.380],
         "val_loss": [1.0, 0.65, 0.5, 0.47, 0.468, 0.469, 0.468, 0.470, 0.469, 0.4685, 0.469],
         "accuracy": [0.7, 0.8, 0.84, 0.85, 0.86, 0.86, 0.86, 0.86, 0.86, 0.86, 0.86],
         "val_accuracy": [0.7, 0.78, 0.82, 0.83, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84]}
    d = dg.diagnose(h)
    assert d.names == ["plateau"]
    assert "HalveLROnPlateau" in d["plateau"].remedy
    assert dg.diagnose(h, patience=8).names == []


def test_wide_batch_curve_is_noisy_batches():
    rng = np.random.default_rng(0)
    level = np.repeat(healthy()["loss"], 40)
    epochs = np.repeat(np.arange(20), 40)
    noisy = level * (1 + 0.4 * rng.standard_normal(level.size))
    d = dg.diagnose(healthy(), batch_losses={"loss": list(noisy), "epoch": list(epochs)})
    assert d.names == ["noisy_batches"]
    assert d["noisy_batches"].values["relative_width"] == pytest.approx(0.4, abs=0.06)


def test_layer_stats_findings():
    stats = {"epochs": [0, 1],
             "activations": {"act1": {"mean": [0.1, 0.1], "std": [1, 1], "dead_fraction": [0.0, 0.5]},
                             "act2": {"mean": [0.1, 0.1], "std": [1, 1], "dead_fraction": [0.0, 0.1]}},
             "gradients": {"dense1/kernel": [1e-5, 1e-5], "dense1/bias": [1e-5, 1e-5],
                           "dense2/kernel": [1e-1, 1e-1]}}
    d = dg.diagnose(healthy(), layer_stats=stats)
    assert d.names == ["dead_relus", "vanishing_gradients"]
    assert d["dead_relus"].values["dead"] == {"act1": 0.5}
    stats["gradients"]["dense2/kernel"] = [1.0, 5e3]
    assert "exploding_gradients" in dg.diagnose(healthy(), layer_stats=stats)


def test_repr_html_and_lookup():
    t = np.arange(15.0)
    h = {"loss": list(0.05 + np.exp(-t / 3)), "val_loss": list(0.5 + 0.6 * np.exp(-t / 3)),
         "accuracy": [0.99] * 15, "val_accuracy": [0.8] * 15}
    d = dg.diagnose(h)
    page = d._repr_html_()
    assert "<table" in page and "overfitting" in page and "0.190" in page
    assert "overfitting" in repr(d) and "remedy" in repr(d)
    with pytest.raises(KeyError, match="no finding"):
        d["plateau"]
    assert json.loads(json.dumps(d.to_dict()))["findings"][0]["name"] == "overfitting"


def test_load_history_forms(tmp_path):
    h = {"loss": [1.0, float("nan"), 0.5], "accuracy": [0.1, 0.2, 0.3]}
    path = dg.save_history(h, tmp_path / "history.json")
    assert json.load(open(path))["loss"][1] is None  # strict JSON
    for source in (path, tmp_path, {"history": h}):
        back = dg.load_history(source)
        assert back["loss"][0] == 1.0 and np.isnan(back["loss"][1])
    csv = tmp_path / "log.csv"
    csv.write_text("epoch,accuracy,loss\n0,0.1,1.0\n1,0.2,0.5\n")
    assert dg.load_history(csv) == {"accuracy": [0.1, 0.2], "loss": [1.0, 0.5]}
    with pytest.raises(ValueError, match="different lengths"):
        dg.load_history({"loss": [1.0], "val_loss": [1.0, 2.0]})
    with pytest.raises(ValueError, match="history must be"):
        dg.load_history(42)
    with pytest.raises(ValueError, match="patience"):
        dg.diagnose(h, patience=0)
    with pytest.raises(ValueError, match="gap"):
        dg.diagnose(h, gap=-1)
    with pytest.raises(ValueError, match="patience must be a positive integer. Received patience='5'"):
        dg.diagnose(h, patience="5")
    with pytest.raises(ValueError, match="noise_window must be a positive integer. Received noise_window=0"):
        dg.diagnose(h, noise_window=0)
    with pytest.raises(ValueError, match="window must be a positive integer"):
        dg.moving_average([1.0, 2.0], 0)


def test_moving_average_matches_numpy_in_the_interior():
    values = np.random.default_rng(1).standard_normal(50)
    smooth = dg.moving_average(values, 5)
    np.testing.assert_allclose(smooth[2:-2], np.convolve(values, np.ones(5) / 5, mode="valid"))
    assert smooth[0] == pytest.approx(values[:3].mean())


def _tiny_model(lr_optimizer):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(lr_optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_real_short_fits(fashion_small):
    (x, y), (xv, yv) = fashion_small
    x, y, xv, yv = x[:1000], y[:1000], xv[:300], yv[:300]
    good = _tiny_model(keras.optimizers.Adam(1e-3)).fit(
        x, y, validation_data=(xv, yv), epochs=3, batch_size=64, verbose=0)
    d = dg.diagnose(good)
    assert not {"lr_too_high", "lr_too_low", "overfitting"} & set(d.names)
    assert d.summary["epochs"] == 3
    assert d.summary["final_accuracy"] == pytest.approx(good.history["accuracy"][-1])
    crawl = _tiny_model(keras.optimizers.SGD(1e-6)).fit(x, y, epochs=3, batch_size=64, verbose=0)
    assert dg.diagnose(crawl).names == ["lr_too_low"]
