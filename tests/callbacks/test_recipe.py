import keras
import numpy as np
import pytest

from _cb_helpers import tiny_data, tiny_model
from kerasrecipes.callbacks import AtomicBackupAndRestore, CheckpointEnsemble, EarlyStopping, HalveLROnPlateau, recipe


def test_defaults_work_together():
    cbs = recipe(patience=2)
    assert [type(c) for c in cbs] == [CheckpointEnsemble, HalveLROnPlateau, EarlyStopping]
    ens, halve, stop = cbs
    assert stop.patience == 5 > halve.patience == 2
    assert stop.restore_best_weights and halve.restore_best_weights
    assert ens.monitor == halve.monitor == stop.monitor == "val_loss"


def test_snapshot_recipe_leaves_the_lr_to_the_schedule_and_backup_goes_last(tmp_path):
    cbs = recipe(ensemble="snapshot", backup_dir=tmp_path)
    assert [type(c) for c in cbs] == [CheckpointEnsemble, AtomicBackupAndRestore]
    cbs = recipe("val_accuracy", ensemble=None, backup_dir=tmp_path)
    assert [type(c) for c in cbs] == [HalveLROnPlateau, EarlyStopping, AtomicBackupAndRestore]
    assert cbs[0].mode == "max" and cbs[0].backup_dir != cbs[2].backup_dir


def test_real_fit_with_the_recipe():
    x, y = tiny_data(96)
    model = tiny_model(lr=1.0)
    cbs = recipe("val_loss", patience=1, k=3, verbose=0)
    history = model.fit(x[:64], y[:64], validation_data=(x[64:], y[64:]), batch_size=16, epochs=8,
                        verbose=0, callbacks=cbs)
    val = history.history["val_loss"]
    assert len(history.history["learning_rate"]) == len(val) and "lr" not in history.history
    # the ensemble holds the 3 best epochs of the run
    assert sorted(m.metric for m in cbs[0].members) == pytest.approx(sorted(val)[:3])
    # and the model ends on the best epoch's weights
    best = np.argmin(val)
    assert cbs[1].best_epoch == best and cbs[1].best_epoch_1based == best + 1  # Keras's index; as printed
    assert model.evaluate(x[64:], y[64:], verbose=0)[0] == pytest.approx(val[best], rel=1e-5)
    assert cbs[0].ensemble().predict(x[:4], verbose=0).shape == (4, 3)


def test_bad_arguments():
    with pytest.raises(ValueError, match="ensemble"):
        recipe(ensemble="bagging")
    with pytest.raises(ValueError, match="early_stopping_patience"):
        recipe(patience=3, early_stopping_patience=2)
    with pytest.raises(ValueError, match="patience must be an integer >= 1. Received patience=0"):
        recipe(patience=0)
    with pytest.raises(ValueError, match="factor"):
        recipe(factor="half")
    with pytest.raises(ValueError, match="monitor"):
        recipe(monitor=3)


def test_misspelled_monitor_in_the_recipe_raises_after_the_first_epoch():
    x, y = tiny_data(32)
    with pytest.raises(ValueError, match="'val_los'.*Available metrics are: .*val_loss"):
        tiny_model().fit(x, y, validation_data=(x, y), epochs=3, verbose=0, callbacks=recipe("val_los", verbose=0))
