"""A run directory survives SIGKILL at the named moments: real processes, real kills, then the same command.

The moments are made exact with the test-only hook of `kerasrecipes._io`
(`KERASRECIPES_TEST_PAUSE=TEXT`: a write whose file name contains TEXT pauses
between its temp file and the rename), except mid-epoch, which is a kill
shortly after an epoch's backup appeared. Each run is a tiny recipe
(6.9k parameters, 576 training images, 5 epochs of 18 steps, MixUp on) with
`deterministic=True`, so the resumed run is compared number for number with an
uninterrupted one (which holds only if every random state, MixUp's included, is
restored).
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

SCRIPT = """
import dataclasses, sys
from kerasrecipes import datasets, presets, runs
data = datasets.load("sample")
data = dataclasses.replace(data, x_train=data.x_train[:640], y_train=data.y_train[:640],
                           x_test=data.x_test[:256], y_test=data.y_test[:256])
recipe = presets.get("factory", filters=(4, 8), convs_per_stage=1, dense_units=(16,), epochs=5, batch_size=32,
                     ensemble="every", ensemble_k=2, mixup=0.2, jit_compile=False, seed=0, deterministic=True)
runs.train(sys.argv[1], recipe, data, verbose=0, recipe_name="tiny")
print("exit-ok")
"""
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
ENV.pop("KERASRECIPES_TEST_PAUSE", None)


def _start(out, log, pause=None):
    env = dict(ENV, **({"KERASRECIPES_TEST_PAUSE": pause} if pause else {}))
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(out)], stdout=open(log, "w"),
                            stderr=subprocess.PIPE, text=True, env=env)


def _kill_at_pause(out, log, pause):
    """Starts the run and SIGKILLs it while it is paused inside the write of a file named like `pause`."""
    process = _start(out, log, pause)
    for line in process.stderr:
        if line.startswith("KERASRECIPES_TEST_PAUSE"):
            process.send_signal(signal.SIGKILL)
            break
    assert process.wait(timeout=600) == -signal.SIGKILL, open(log).read()
    return open(log).read()


def _kill_after_file(out, log, path, delay):
    process = _start(out, log)
    deadline = time.time() + 600
    while not os.path.exists(path) and process.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=60) == -signal.SIGKILL, open(log).read()
    return open(log).read()


def _finish(out, log):
    process = _start(out, log)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 0, err[-3000:]
    return open(log).read()


def _files(directory):
    found = {}
    for root, _, names in os.walk(directory):
        for name in names:
            path = os.path.join(root, name)
            found[os.path.relpath(path, directory)] = (open(path, "rb").read(), os.stat(path).st_mtime_ns)
    return found


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted") / "run"
    _finish(out, str(out) + ".log")
    return json.loads((out / "history.json").read_text())


def test_sigkill_at_every_moment_then_the_same_command_finishes(tmp_path, reference):
    out = tmp_path / "run"
    keras_backup = out / "backup" / "keras"
    logs = [str(tmp_path / f"{i}.log") for i in range(6)]

    # 1. During the backup write after epoch 2: epoch 1's copy is the last good one.
    _kill_at_pause(out, logs[0], "backup-e00002")
    assert json.loads((out / "run.json").read_text())["status"] == "running"
    assert any(n.startswith(".tmp-") for n in os.listdir(keras_backup))  # the half-written copy
    # 2. During an ensemble-member write (the member of epoch 3: file names are 1-based, as Keras prints epochs).
    said = _kill_at_pause(out, logs[1], "member-e00003")
    assert "resuming after epoch 1 of 5" in said
    # 3. Mid-epoch: shortly after epoch 3's backup appeared.
    said = _kill_after_file(out, logs[2], keras_backup / "backup-e00003.weights.h5", delay=0.3)
    assert "resuming after epoch 2 of 5" in said
    # A damaged latest copy (as a disk error would leave it) falls back to the one before, in one line.
    state = json.loads((keras_backup / "backup.json").read_text())
    latest, previous = state["latest"], state["previous"]
    (keras_backup / latest["weights"]).write_bytes(b"not an HDF5 file")
    # 4. After fit ended, before run.json says complete (while model.keras is written).
    said = _kill_at_pause(out, logs[3], "model.keras")
    assert f"backup {latest['weights']} cannot be read" in said
    assert f"resuming after epoch {previous['epoch']} of 5" in said
    # 5. The same command finishes, exit 0, without training again.
    said = _finish(out, logs[4])
    assert "training had finished before the run was stopped" in said and "exit-ok" in said

    state = json.loads((out / "run.json").read_text())
    assert state["status"] == "complete" and len(state["resumed"]) == 4 and state["recipe"]["seed"] == 0
    history = json.loads((out / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3, 4, 5]  # every epoch once, 1-based
    assert all(len(values) == 5 for values in history.values())
    assert "lr" not in history  # one learning-rate column: Keras's learning_rate
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs_run"] == 5 and 1 <= summary["best_epoch"] <= 5
    assert summary["ensemble_members_epochs"] == [4, 5]
    # deterministic=True: the resumed run has the uninterrupted run's numbers
    assert history["val_loss"] == reference["val_loss"] and history["loss"] == reference["loss"]
    files = _files(out)
    assert not [p for p in files if os.path.basename(p).startswith(".tmp-")] and "backup" not in str(list(files))
    umask = os.umask(0)
    os.umask(umask)
    assert {oct(os.stat(out / p).st_mode & 0o777) for p in files} == {oct(0o666 & ~umask)}

    # 6. Into a complete directory: nothing to do, exit 0, every file as it was.
    said = _finish(out, logs[5])
    assert "holds a complete run" in said and "nothing to do" in said
    assert _files(out) == files


def test_a_zero_byte_backup_json_after_a_sigkill_resumes_from_the_copies_records(tmp_path, reference):
    """SIGKILL inside the write of epoch 4's backup, then backup.json emptied (as a disk error leaves it): the
    same command goes on from the copies' own records, with the uninterrupted run's numbers.

    (The kill is pinned to a write, not to a delay after a file appeared: on a fast machine a whole epoch of
    this tiny run fits inside any delay, and CI once resumed after epoch 4.)"""
    out = tmp_path / "run"
    keras_backup = out / "backup" / "keras"
    _kill_at_pause(out, str(tmp_path / "killed.log"), "backup-e00004")
    (keras_backup / "backup.json").write_bytes(b"")
    said = _finish(out, str(tmp_path / "finished.log"))
    assert "backup.json cannot be read (empty file (0 bytes)); going on from the copies' own records" in said
    assert "resuming after epoch 3 of 5" in said and "exit-ok" in said
    history = json.loads((out / "history.json").read_text())
    assert history["epoch"] == [1, 2, 3, 4, 5]  # every epoch once
    assert history["val_loss"] == reference["val_loss"] and history["loss"] == reference["loss"]
    assert json.loads((out / "run.json").read_text())["status"] == "complete"
