import json
import os

import keras
import numpy as np
import pytest

from _cb_helpers import Driver, tiny_data, tiny_model
from kerasrecipes import schedules
from kerasrecipes.callbacks import CheckpointEnsemble


def stamped_value(member):
    return float(member.weights[0].flat[0])


def test_top_k_keeps_the_k_best_epochs_and_their_weights():
    values = [0.9, 0.5, 0.7, 0.3, 0.8, 0.4, 0.6]
    cb = CheckpointEnsemble("top_k", k=3)
    Driver(cb, tiny_model()).run(values)
    assert [m.epoch for m in cb.members] == [2, 4, 6]  # 1-based
    assert [m.metric for m in cb.members] == [0.5, 0.3, 0.4]
    assert [stamped_value(m) for m in cb.members] == [1.0, 3.0, 5.0]


def test_top_k_maximizes_accuracy():
    cb = CheckpointEnsemble("top_k", k=2, monitor="val_accuracy")
    Driver(cb, tiny_model()).run([0.5, 0.9, 0.7, 0.8], monitor="val_accuracy")
    assert [m.epoch for m in cb.members] == [2, 4]


def test_every_n_epochs_keeps_the_last_k():
    cb = CheckpointEnsemble("every", k=3, every=2)
    Driver(cb, tiny_model()).run([1.0] * 11)
    assert [m.epoch for m in cb.members] == [6, 8, 10]


def test_snapshot_at_the_end_of_each_cosine_cycle():
    x, y = tiny_data(32)
    steps_per_epoch = 4  # 32 samples, batch 8
    model = tiny_model(optimizer=keras.optimizers.SGD(schedules.CyclicCosine(0.1, cycle_steps=2 * steps_per_epoch)))
    cb = CheckpointEnsemble("snapshot", k=5, monitor="loss")
    model.fit(x, y, batch_size=8, epochs=7, verbose=0, callbacks=[cb])
    assert [m.epoch for m in cb.members] == [2, 4, 6]  # cycles of 2 epochs end after epochs 2, 4, 6


def test_ensemble_output_is_the_mean_of_member_predictions(tmp_path):
    x, y = tiny_data(48)
    model = tiny_model(lr=0.5)
    cb = CheckpointEnsemble("every", k=3)
    model.fit(x, y, batch_size=16, epochs=4, verbose=0, validation_data=(x, y), callbacks=[cb])
    assert [m.epoch for m in cb.members] == [2, 3, 4]
    preds = []
    probe = keras.models.clone_model(model)
    for m in cb.members:
        probe.set_weights(m.weights)
        preds.append(probe.predict(x, verbose=0))
    ens = cb.ensemble()
    np.testing.assert_allclose(ens.predict(x, verbose=0), np.mean(preds, axis=0), rtol=1e-5, atol=1e-7)
    # the members differ, so the average is not any one of them
    assert np.abs(preds[0] - preds[-1]).max() > 1e-4
    ens.save(tmp_path / "e.keras")
    loaded = keras.saving.load_model(tmp_path / "e.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), ens.predict(x, verbose=0), rtol=1e-6)
    geo = cb.ensemble(method="geometric").predict(x, verbose=0)
    np.testing.assert_allclose(geo.sum(axis=1), 1.0, rtol=1e-5)


def test_on_disk_members_reload_from_directory(tmp_path):
    x, y = tiny_data(48)
    model = tiny_model(lr=0.5)
    directory = tmp_path / "members"
    on_disk = CheckpointEnsemble("top_k", k=2, directory=directory)
    in_memory = CheckpointEnsemble("top_k", k=2)
    model.fit(x, y, batch_size=16, epochs=5, verbose=0, validation_data=(x, y), callbacks=[on_disk, in_memory])
    assert [m.epoch for m in on_disk.members] == [m.epoch for m in in_memory.members]
    assert all(m.weights is None and os.path.exists(m.path) for m in on_disk.members)
    assert [os.path.basename(m.path) for m in on_disk.members] == [f"member-e{m.epoch:05d}.weights.h5"
                                                                   for m in in_memory.members]
    files = sorted(os.listdir(directory))
    assert files == sorted(["architecture.json", "ensemble.json"] + [os.path.basename(m.path) for m in on_disk.members])
    manifest = json.loads((directory / "ensemble.json").read_text())
    assert [m["epoch"] for m in manifest["members"]] == [m.epoch for m in on_disk.members]

    reloaded = CheckpointEnsemble.from_directory(directory)  # architecture from the directory
    expected = in_memory.ensemble().predict(x, verbose=0)
    np.testing.assert_allclose(reloaded.ensemble().predict(x, verbose=0), expected, rtol=1e-6)
    with_template = CheckpointEnsemble.from_directory(directory, model=tiny_model())
    np.testing.assert_allclose(with_template.ensemble().predict(x, verbose=0), expected, rtol=1e-6)


def test_missing_metric_raises_and_no_member_is_an_error():
    cb = CheckpointEnsemble("top_k", monitor="val_auc")
    with pytest.raises(ValueError, match="'val_auc'.*end of epoch 1.*Available metrics are: loss"):
        Driver(cb, tiny_model()).run([1.0, 2.0], monitor="loss")
    cb = CheckpointEnsemble("every", every=5, monitor="loss")
    Driver(cb, tiny_model()).run([1.0, 2.0], monitor="loss")
    with pytest.raises(ValueError, match="no members"):
        cb.ensemble()


def test_bad_arguments():
    for kwargs, match in [({"mode": "best"}, "mode"), ({"k": 0}, "k"), ({"every": 1.5}, "every"), ({"monitor_mode": "up"}, "mode"),
         ({"monitor": ""}, "monitor"), ({"k": True}, "k"), ({"directory": 5}, "directory must be a directory path")]:
        with pytest.raises(ValueError, match=match):
            CheckpointEnsemble(**kwargs)


def test_verbose_message(capsys):
    Driver(CheckpointEnsemble("every", k=2, verbose=1), tiny_model()).run([1.0])
    assert "Epoch 1: CheckpointEnsemble('every') kept this epoch" in capsys.readouterr().out
