import ast
import pathlib
import types
import warnings

import keras
import numpy as np
import pytest

from _cb_helpers import Driver, stamp, tiny_data, tiny_model
from kerasrecipes.callbacks import EarlyStopping, HalveLROnPlateau


def keras_reference_lrs(values, **kwargs):
    """LR before each epoch's end under Keras's own ReduceLROnPlateau."""
    model = tiny_model(lr=0.1)
    ref = keras.callbacks.ReduceLROnPlateau(**kwargs)
    ref.set_model(model)
    ref.on_train_begin()
    lrs = []
    for epoch, v in enumerate(values):
        lrs.append(float(model.optimizer.learning_rate))
        ref.on_epoch_end(epoch, {"val_loss": v})
    return lrs + [float(model.optimizer.learning_rate)]


@pytest.mark.parametrize("cooldown", [0, 2])
def test_lr_trajectory_matches_keras_reduce_lr_on_plateau(cooldown):
    rng = np.random.default_rng(cooldown)
    values = list(1.0 + 0.1 * rng.normal(size=25))
    ours = Driver(HalveLROnPlateau(patience=2, cooldown=cooldown, min_lr=1e-9, verbose=0), tiny_model(0.1))
    ours.run(values)
    assert ours.epochs_run == 25
    expected = keras_reference_lrs(values, factor=0.5, patience=2, cooldown=cooldown, min_lr=1e-9, min_delta=0.0)
    np.testing.assert_allclose(ours.lrs + [float(ours.model.optimizer.learning_rate)], expected, rtol=1e-6)
    assert ours.callback.halvings == sum(b < a for a, b in zip(expected, expected[1:]))


def test_halves_exactly_after_patience_and_respects_cooldown():
    # best at epoch 1; epochs 2, 3 do not improve -> halve at the end of epoch 3;
    # cooldown=2 as Keras counts it: epoch 4 is ignored, counting resumes in the
    # cooldown's last epoch (5), so epochs 5, 6 without improvement halve at 6.
    values = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9, 0.9]
    d = Driver(HalveLROnPlateau(patience=2, cooldown=2, verbose=0), tiny_model(0.1)).run(values)
    np.testing.assert_allclose(d.lrs, [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025], rtol=1e-6)
    d0 = Driver(HalveLROnPlateau(patience=2, cooldown=0, verbose=0), tiny_model(0.1)).run(values)
    np.testing.assert_allclose(d0.lrs, [0.1, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.0125], rtol=1e-6)
    assert d.callback.halvings == 2


def test_rolls_back_to_best_weights_at_each_halving():
    model = tiny_model(0.1)
    cb = HalveLROnPlateau(patience=1, verbose=0)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, v in enumerate([1.0, 0.4, 0.7]):  # best is epoch 1; halving at epoch 2
        stamp(model, float(epoch))
        cb.on_epoch_end(epoch, {"val_loss": v})
    assert cb.halvings == 1 and cb.best_epoch == 1 and cb.best_epoch_1based == 2  # Keras's index; as printed
    for w in model.get_weights():
        np.testing.assert_array_equal(w, np.full(w.shape, 1.0, w.dtype))


def test_stops_after_max_halvings_leaving_best_weights():
    values = [1.0, 0.5] + [0.9] * 20
    d = Driver(HalveLROnPlateau(patience=2, max_halvings=2, verbose=0), tiny_model(0.1)).run(values)
    # halvings at epochs 3 and 5; the third exhausted patience (epoch 7) stops.
    assert d.callback.halvings == 2
    assert d.epochs_run == 8 and d.callback.stopped_epoch == 7 and d.callback.stopped_epoch_1based == 8
    np.testing.assert_allclose(d.lrs[-1], 0.025, rtol=1e-6)
    for w in d.model.get_weights():
        np.testing.assert_array_equal(w, np.ones_like(w))  # epoch 1's stamp


def test_stops_when_at_min_lr_and_patience_runs_out_again():
    values = [1.0] + [2.0] * 20
    d = Driver(HalveLROnPlateau(patience=1, min_lr=0.05, verbose=0), tiny_model(0.1)).run(values)
    # epoch 1: 0.1 -> 0.05 (= min_lr); epoch 2: cannot halve any more -> stop.
    assert d.callback.halvings == 1 and d.epochs_run == 3
    for w in d.model.get_weights():
        np.testing.assert_array_equal(w, np.zeros_like(w))


def test_max_halvings_zero_is_early_stopping():
    d = Driver(HalveLROnPlateau(patience=2, max_halvings=0, verbose=0), tiny_model(0.1)).run([1.0, 1.1, 1.2, 1.3])
    assert d.callback.halvings == 0 and d.epochs_run == 3


def test_mode_follows_metric_name():
    d = Driver(HalveLROnPlateau("val_accuracy", patience=1, verbose=0), tiny_model(0.1))
    d.run([0.5, 0.6, 0.55], monitor="val_accuracy")
    assert d.callback.mode == "max" and d.callback.best == 0.6 and d.callback.halvings == 1


def test_schedule_optimizer_is_a_clear_error():
    model = tiny_model(optimizer=keras.optimizers.SGD(keras.optimizers.schedules.CosineDecay(0.1, 100)))
    x, y = tiny_data()
    with pytest.raises(ValueError, match="settable learning rate"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[HalveLROnPlateau()])


def test_misspelled_monitor_raises_at_the_first_epoch_end_naming_the_metrics():
    for make in [lambda: HalveLROnPlateau("val_acc", verbose=0),
                                      lambda: EarlyStopping("val_acc", patience=2)]:
        x, y = tiny_data(32)
        model = tiny_model(0.1)
        with pytest.raises(ValueError, match="'val_acc'.*end of epoch 1.*Available metrics are: .*val_accuracy"):
            model.fit(x, y, validation_data=(x, y), epochs=3, verbose=0, callbacks=[make()])
        assert model.optimizer.iterations.numpy() == 1  # one epoch of one batch, then the error


def test_bad_arguments():
    for kwargs, match in [({"factor": 2.0}, "factor"), ({"factor": "half"}, "factor must be a number in \\(0.0, 1.0\\). Received factor='half'"),
         ({"patience": -1}, "patience"), ({"max_halvings": 1.5}, "max_halvings"), ({"cooldown": True}, "cooldown"),
         ({"min_lr": -1e-3}, "min_lr"), ({"min_delta": -0.1}, "min_delta"), ({"mode": "up"}, "mode"),
         ({"monitor": ""}, "monitor"), ({"verbose": 3}, "verbose"), ({"backup_dir": 3}, "backup_dir")]:
        with pytest.raises(ValueError, match=match):
            HalveLROnPlateau(**kwargs)


def test_early_stopping_bad_arguments():
    for kwargs, match in [({"patience": -1}, "patience must be an integer >= 0. Received patience=-1"),
         ({"start_from_epoch": -2}, "start_from_epoch"), ({"baseline": "low"}, "baseline"),
         ({"min_delta": float("nan")}, "min_delta"), ({"mode": "down"}, "mode"), ({"monitor": None}, "monitor")]:
        with pytest.raises(ValueError, match=match):
            EarlyStopping(**kwargs)


def test_real_fit_logs_lr_and_decides_from_history():
    x, y = tiny_data(96)
    model = tiny_model(lr=2.0)  # too high: the loss stalls and halvings happen
    history = model.fit(x, y, batch_size=16, epochs=8, verbose=0, shuffle=False,
                        callbacks=[HalveLROnPlateau("loss", patience=1, restore_best_weights=False, verbose=0)])
    assert "lr" not in history.history  # one LR column, Keras's name
    lrs, losses = history.history["learning_rate"], history.history["loss"]
    assert len(lrs) == len(losses) and lrs[0] == pytest.approx(2.0)
    # Replay the rule on the recorded losses: the LR of epoch e+1 is halved iff
    # epoch e did not improve on the best so far (patience 1, no cooldown).
    best, lr, expected = np.inf, 2.0, []
    for loss in losses:
        expected.append(lr)
        if loss < best:
            best = loss
        else:
            lr /= 2
    np.testing.assert_allclose(lrs, expected[: len(lrs)], rtol=1e-6)


def test_early_stopping_mode_from_name_and_best_weights():
    es = EarlyStopping("val_accuracy", patience=1, restore_best_weights=True)
    assert es.mode == "max"
    d = Driver(es, tiny_model(0.1)).run([0.5, 0.7, 0.6, 0.6, 0.6], monitor="val_accuracy")
    assert d.epochs_run == 3 and (es.best_epoch, es.stopped_epoch) == (1, 2)  # Keras's 0-based indices
    assert (es.best_epoch_1based, es.stopped_epoch_1based) == (2, 3)  # as Keras prints them
    for w in d.model.get_weights():
        np.testing.assert_array_equal(w, np.ones_like(w))


def keras_early_stopping_run(values, **kwargs):
    """(epochs run, best epoch, stopped epoch) under Keras's own EarlyStopping, fed the same values."""
    d = Driver(keras.callbacks.EarlyStopping(**kwargs), tiny_model(0.1)).run(values)
    return d.epochs_run, d.callback.best_epoch, d.callback.stopped_epoch


def test_early_stopping_stops_where_keras_does():
    for kwargs in [dict(patience=2), dict(patience=3, min_delta=0.05),
                                        dict(patience=2, baseline=0.8), dict(patience=1, start_from_epoch=4),
                                        dict(patience=0)]:
        rng = np.random.default_rng(len(kwargs) + kwargs["patience"])
        values = list(1.0 - 0.02 * np.arange(30) + 0.08 * rng.normal(size=30))
        expected = keras_early_stopping_run(values, restore_best_weights=True, **kwargs)
        d = Driver(EarlyStopping(restore_best_weights=True, **kwargs), tiny_model(0.1)).run(values)
        assert (d.epochs_run, d.callback.best_epoch, d.callback.stopped_epoch) == expected


def test_verbose_messages(capsys):
    Driver(HalveLROnPlateau(patience=1, max_halvings=1, verbose=1), tiny_model(0.1)).run([1.0, 0.5, 0.9, 0.9, 0.9])
    out = capsys.readouterr().out
    assert "weights rolled back to epoch 2" in out and "stops training after 1 halving(s)" in out


def test_verbose_halving_prints_one_message_not_two(capsys):
    model = tiny_model(0.1)
    cb = HalveLROnPlateau(patience=1, verbose=1)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, v in enumerate([1.0, 0.4, 0.7]):
        stamp(model, float(epoch))
        cb.on_epoch_end(epoch, {"val_loss": v})
    out = capsys.readouterr().out
    assert out.count("\nEpoch 3:") == 1 and "LR halved to 0.05 (halving 1); weights rolled back to epoch 2." in out
    assert "ReduceLROnPlateau reducing" not in out


# -- Keras's own EarlyStopping tests, run against ours ------------------------------------------------------------

KERAS_TESTS = pathlib.Path(keras.__file__).parent / "src" / "callbacks" / "early_stopping_test.py"


def _keras_test_names():
    if not KERAS_TESTS.exists():
        return []
    tree = ast.parse(KERAS_TESTS.read_text())
    return [f.name for c in tree.body if isinstance(c, ast.ClassDef) and c.name == "EarlyStoppingTest"
            for f in c.body if isinstance(f, ast.FunctionDef) and f.name.startswith("test_")]


@pytest.mark.skipif(not KERAS_TESTS.exists(), reason=f"the Keras wheel ships no {KERAS_TESTS.name}")
@pytest.mark.parametrize("name", _keras_test_names() or ["none"])
def test_keras_own_early_stopping_tests_pass_on_ours(name):
    """Keras's test file, executed as it ships, with its module-level `callbacks` bound to a namespace whose
    `EarlyStopping` is ours: every `callbacks.EarlyStopping(...)` of its tests builds our class."""
    namespace = {"__name__": "keras_early_stopping_test_on_kerasrecipes"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its pytest marks are registered in Keras's conftest, not ours
        exec(compile(KERAS_TESTS.read_text(), str(KERAS_TESTS), "exec"), namespace)
        namespace["callbacks"] = types.SimpleNamespace(EarlyStopping=EarlyStopping)
        test = namespace["EarlyStoppingTest"](name)
        test.debug()  # setUp, the test, tearDown; a failure raises here, with Keras's own assertion message


def test_keras_tests_are_all_found():
    if KERAS_TESTS.exists():  # the seven of Keras 3.15; a new one is picked up by the parametrization above
        assert len(_keras_test_names()) >= 7
