"""The Monitor / Resumable base: direction, min_delta, best tracking, declared state, and the README's subclass."""

import json
import os
import pathlib
import re

import keras
import numpy as np
import pytest

from _cb_helpers import Driver, tiny_data, tiny_model
from kerasrecipes.callbacks import CheckpointEnsemble, EarlyStopping, HalveLROnPlateau, Monitor, Resumable, SWA
from kerasrecipes.callbacks import improves, infer_mode

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"


def readme_example():
    """The python block right after the `<!-- extending-example -->` marker of the README."""
    text = README.read_text()
    match = re.search(r"<!-- extending-example -->\s*```python\n(.*?)```", text, re.S)
    assert match, "README lost its extending example"
    return match.group(1)


def test_the_readme_subclass_is_15_lines_and_works_with_resume(tmp_path):
    code = readme_example()
    body = [line for line in code.splitlines() if line.strip() and not line.startswith("import ")]
    assert len(body) <= 15
    namespace = {}
    exec(compile(code, "README.md", "exec"), namespace)
    StopAtTarget = namespace["StopAtTarget"]

    x, y = tiny_data(96)
    model = tiny_model(lr=0.5)
    stop = StopAtTarget(0.8, monitor="accuracy", backup_dir=tmp_path / "stop")
    history = model.fit(x, y, batch_size=16, epochs=30, verbose=0, shuffle=False, callbacks=[stop])
    accuracy = history.history["accuracy"]
    first = next(i for i, a in enumerate(accuracy) if a > 0.8)
    assert stop.reached_epoch == first + 1 == len(accuracy)  # stopped at that epoch, 1-based
    assert stop.mode == "max" and stop.best == pytest.approx(max(accuracy))
    assert stop.best_epoch == int(np.argmax(accuracy))  # Keras's 0-based index, as history.epoch

    # Resume for free: its declared field is in the state file and comes back.
    cb = StopAtTarget(0.3, "val_loss", backup_dir=tmp_path / "resume")
    assert cb.mode == "min"
    Driver(cb, tiny_model()).callback.on_train_begin()
    cb.on_epoch_begin(0)
    cb.on_epoch_end(0, {"val_loss": 0.2})
    state = json.loads((tmp_path / "resume" / "state-000000.json").read_text())["state"]
    assert state["reached_epoch"] == 1 and state["best"] == pytest.approx(0.2) and state["best_epoch"] == 0
    again = StopAtTarget(0.3, "val_loss", backup_dir=tmp_path / "resume")
    Driver(again, tiny_model()).callback.on_train_begin()
    again.on_epoch_begin(1)  # a resumed fit starts at the second epoch
    assert (again.reached_epoch, again.best, again.best_epoch) == (1, pytest.approx(0.2), 0)


def test_every_recipe_callback_is_written_on_the_one_base():
    # EarlyStopping is Keras's own, made resumable: Keras's rule and attributes, our state plumbing.
    assert issubclass(EarlyStopping, keras.callbacks.EarlyStopping) and issubclass(EarlyStopping, Resumable)
    for name in ("get_state", "set_state", "on_epoch_end", "on_epoch_begin", "on_train_begin", "_is_improvement"):
        assert name not in vars(EarlyStopping), name
    for cls in (HalveLROnPlateau, CheckpointEnsemble):
        assert issubclass(cls, Monitor)
        # none re-implements best tracking, direction or the state plumbing
        for name in ("track", "is_better", "get_state", "set_state", "on_epoch_end", "on_epoch_begin"):
            assert name not in vars(cls), (cls.__name__, name)
    assert issubclass(SWA, Resumable) and not issubclass(SWA, Monitor)


def test_improves_is_keras_monitor_rule():
    for mode in ["min", "max"]:
        for min_delta in [0.0, 0.05]:
            reference = keras.callbacks.EarlyStopping(monitor="m", mode=mode, min_delta=min_delta)
            reference._set_monitor_op()  # Keras's own MonitorCallback rule, as the reference
            for value, ref in [(0.9, 1.0), (1.0, 0.9), (0.97, 1.0), (1.03, 1.0), (1.0, 1.0), (0.5, None)]:
                assert improves(value, ref, mode, min_delta) == bool(reference._is_improvement(value, ref)), (value, ref)
            assert not improves(float("nan"), 1.0, mode) and not improves(float("nan"), None, mode)


def test_direction_from_the_name():
    assert [infer_mode(n) for n in ("val_loss", "mse", "val_error_rate", "val_accuracy", "auc", "f1")] == [
        "min", "min", "min", "max", "max", "max"]
    assert infer_mode("val_accuracy", "min") == "min"
    with pytest.raises(ValueError, match="mode must be one of 'auto', 'min', 'max'. Received mode='up'"):
        infer_mode("loss", "up")


def test_missing_metric_after_the_first_epoch_is_skipped_not_fatal():
    # validation_freq=2: val_loss is logged every other epoch; only the first epoch must have it.
    d = Driver(HalveLROnPlateau(patience=1, verbose=0), tiny_model(0.1))
    cb = d.callback
    cb.on_train_begin()
    for epoch, logs in enumerate([{"val_loss": 1.0}, {"loss": 0.5}, {"val_loss": 1.2}]):
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, logs)
    assert cb.halvings == 1 and cb.best_epoch == 0


def test_weights_are_written_once_per_new_list(tmp_path):
    cb = EarlyStopping(patience=5, restore_best_weights=True, backup_dir=tmp_path)
    Driver(cb, tiny_model()).run([1.0, 0.9, 0.95, 0.97])
    # the store kept the last two states; both name the best weights of epoch 2, one file
    cb.on_train_begin()  # (a finished run cleared its store; run again without finishing)
    for epoch, value in enumerate([1.0, 0.9, 0.95, 0.97]):
        cb.on_epoch_begin(epoch)
        cb.on_epoch_end(epoch, {"val_loss": value})
    weights = sorted(f for f in os.listdir(tmp_path) if f.endswith(".npz"))
    assert weights == ["best_weights-e000002.npz"]
