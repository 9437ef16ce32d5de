"""A backup a disk error damaged: every file of it, in turn, zero bytes, cut short, random bytes or missing.

A tiny model trains 2 of 4 epochs with the recipe's resumable callbacks and
`AtomicBackupAndRestore`, then stops as a kill would (an exception after the
second epoch's backup, so no end of training runs). Each case damages one
file of what that leaves and fits again with fresh callbacks: the fit must
train to its last epoch, from the last copy that reads back (or afresh), and
the two fits together must cover every epoch once.
"""

import os
import shutil
import warnings

import keras
import numpy as np
import pytest

from _cb_helpers import tiny_data, tiny_model
from kerasrecipes import _io
from kerasrecipes.callbacks import (AtomicBackupAndRestore, CheckpointEnsemble, EarlyStopping, HalveLROnPlateau,
                                    backup as backup_module)

EPOCHS, KILLED_AFTER = 4, 2
X, Y = tiny_data(64)


class Kill(keras.callbacks.Callback):
    """Stops the fit after epoch `KILLED_AFTER` has been backed up, leaving what a SIGKILL leaves."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == KILLED_AFTER:
            raise KeyboardInterrupt("killed")


def fit(root, kill=False):
    """The recipe's callbacks (each with its state folder), the backup last; returns (history epochs, notes)."""
    notes = []
    backup = AtomicBackupAndRestore(root / "keras", log=notes.append, delete_checkpoint=False)
    callbacks = [CheckpointEnsemble("every", k=2, backup_dir=root / "ensemble"),
                 HalveLROnPlateau(patience=1, verbose=0, backup_dir=root / "halving"),
                 EarlyStopping(patience=10, restore_best_weights=True, backup_dir=root / "early_stopping"),
                 backup]
    keras.utils.set_random_seed(0)
    model = tiny_model(lr=0.5)
    history = keras.callbacks.History()
    try:
        model.fit(X, Y, validation_data=(X, Y), batch_size=32, epochs=EPOCHS, verbose=0, shuffle=False,
                  callbacks=callbacks + [history] + ([Kill()] if kill else []))
    except KeyboardInterrupt:
        assert kill
    return history.epoch, notes, callbacks


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    root = tmp_path_factory.mktemp("killed") / "backup"
    epochs, _, _ = fit(root, kill=True)
    assert epochs == [0, 1] and _io.read_json(root / "keras" / "backup.json")["latest"]["epoch"] == 2
    return root


def _files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, names in os.walk(root) for f in names)


# Each file a kill after epoch 2 leaves, the damage it gets (every kind on several files), and the epoch the
# second fit starts from (0-based): the keras copy after epoch 2, or after epoch 1 when that one is lost.
CASES = {
    "keras/backup.json": ("zero", 2),  # rebuilt from the copies' own records
    "keras/backup-e00002.weights.h5": ("truncated", 1),  # the latest copy: back to the one before
    "keras/backup-e00002.json": ("random", 2),  # only backup.json names it: not needed
    "keras/backup-e00001.weights.h5": ("zero", 2),  # the copy before: not needed
    "keras/backup-e00001.json": ("missing", 2),
    "halving/state-000001.json": ("truncated", 2),  # the state the resume needs: that callback starts afresh
    "halving/state-000000.json": ("random", 2),
    "early_stopping/state-000001.json": ("zero", 2),
    "early_stopping/state-000000.json": ("truncated", 2),
    "ensemble/state-000001.json": ("random", 2),
    "ensemble/state-000000.json": ("missing", 2),
}


def damage(path, how):
    raw = open(path, "rb").read()
    if how == "missing":
        os.remove(path)
        return
    data = {"zero": b"", "truncated": raw[: len(raw) // 2],
            "random": np.random.default_rng(0).bytes(max(len(raw), 64))}[how]
    with open(path, "wb") as f:
        f.write(data)


def test_the_cases_are_every_file_a_kill_leaves(killed):
    files = _files(killed)
    assert sorted(f for f in files if not f.endswith(".npz")) == sorted(CASES)  # the .npz: the test below
    assert {how for how, _ in CASES.values()} == {"zero", "truncated", "random", "missing"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_damaged_file_falls_back_and_the_fit_trains_to_its_end(killed, tmp_path, name):
    how, start = CASES[name]
    root = tmp_path / "backup"
    shutil.copytree(killed, root)
    damage(root / name, how)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        epochs, notes, callbacks = fit(root)
    assert epochs == list(range(start, EPOCHS))  # trained to the end, from the last readable copy
    assert list(range(KILLED_AFTER))[:start] + epochs == list(range(EPOCHS))  # every epoch once
    said = " ".join(notes + [str(w.message) for w in caught])
    if name == "keras/backup.json":
        assert "cannot be read (empty file (0 bytes)); going on from the copies' own records" in said
    if start == 1:
        assert "backup-e00002.weights.h5 cannot be read" in said
    if name.endswith("state-000001.json"):  # the callback whose state is lost says so and starts afresh
        assert "state-000001.json: " in said and "starting this callback afresh" in said
    assert "Expecting value" not in said or "not JSON" in said  # a reason, never the bare decoder error
    ensemble = callbacks[0]
    assert [m.epoch for m in ensemble.members] == [3, 4]  # what an uninterrupted run keeps


def test_damaged_weight_files(killed, tmp_path):
    """Every callback weight file (.npz) the needed states name, cut short at once: each callback starts afresh."""
    root = tmp_path / "backup"
    shutil.copytree(killed, root)
    for name in _files(root):
        if name.endswith(".npz"):
            damage(root / name, "truncated")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        epochs, _, _ = fit(root)
    assert epochs == [2, 3]
    said = " ".join(str(w.message) for w in caught)
    assert ".npz: cannot be read" in said


def test_every_copy_and_record_lost_starts_afresh(killed, tmp_path):
    root = tmp_path / "backup"
    shutil.copytree(killed, root)
    for name in _files(root / "keras"):
        damage(root / "keras" / name, "random")
    epochs, notes, _ = fit(root)
    assert epochs == list(range(EPOCHS))
    assert any("no copy has a readable record either; training starts afresh" in n for n in notes)


def test_damaged_final_weights_train_the_last_epoch_again(tmp_path):
    root = tmp_path / "backup"
    fit(root)  # a whole fit: final weights, fit_done
    backup = AtomicBackupAndRestore(root / "keras", log=lambda line: None)
    assert backup.fit_done()
    damage(root / "keras" / backup_module.FINAL, "truncated")
    assert not backup.fit_done()
    epochs, notes, _ = fit(root)
    assert epochs == [EPOCHS - 1] and any("final weights" in n and "cannot be read" in n for n in notes)


def test_weights_readable_tells_damage():
    assert not backup_module.weights_readable("/nonexistent.weights.h5")
