"""Kill-and-resume: a real training process killed with SIGKILL mid-epoch, restarted with AtomicBackupAndRestore."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "_resume_script.py")
KILL_EPOCH = 6


def start(workdir, out, *extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONHASHSEED="0")
    return subprocess.Popen([sys.executable, SCRIPT, str(workdir), str(out), *map(str, extra)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_sigkilled_run_resumes_with_callback_state_intact(tmp_path):
    ref_dir, run_dir = tmp_path / "ref", tmp_path / "run"
    ref_dir.mkdir(), run_dir.mkdir()
    reference = start(ref_dir, ref_dir / "out.json")  # uninterrupted, in parallel
    victim = start(run_dir, run_dir / "killed.json", KILL_EPOCH)
    deadline = time.time() + 120
    while not (run_dir / "ready").exists():
        assert victim.poll() is None, victim.stdout.read().decode()
        assert time.time() < deadline, "the run never reached the kill point"
        time.sleep(0.05)
    os.kill(victim.pid, signal.SIGKILL)
    assert victim.wait() == -signal.SIGKILL
    assert not (run_dir / "killed.json").exists()
    # what the kill left: the atomic backup after epoch KILL_EPOCH - 1, our states beside it
    backup = run_dir / "backup"
    assert (backup / "keras" / "backup.json").exists()
    for name in ("halving", "early_stopping", "ensemble", "swa"):
        assert any(f.startswith("state-") for f in os.listdir(backup / name)), name

    resumed = start(run_dir, run_dir / "resumed.json")
    out, _ = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, out.decode()
    ref_out, _ = reference.communicate(timeout=120)
    assert reference.returncode == 0, ref_out.decode()

    ref = json.loads((ref_dir / "out.json").read_text())
    got = json.loads((run_dir / "resumed.json").read_text())
    assert got["epochs_in_this_process"] == ref["epochs_in_this_process"] - KILL_EPOCH
    assert ref["halvings"] >= 3  # the run really halves, before and after the kill
    for key in ("halvings", "best_epoch", "swa_averaged"):
        assert got[key] == ref[key], key
    assert [m[0] for m in got["members"]] == [m[0] for m in ref["members"]]
    np.testing.assert_allclose([m[1] for m in got["members"]], [m[1] for m in ref["members"]], rtol=1e-5)
    np.testing.assert_allclose(got["member_sums"], ref["member_sums"], rtol=1e-5)
    for key in ("best", "lr", "early_stopping_best"):
        assert got[key] == pytest.approx(ref[key], rel=1e-5), key
    for a, b in zip(got["final_weights"], ref["final_weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    # a finished run cleans up after itself: no state is left to be resumed by mistake
    for name in ("halving", "early_stopping", "ensemble", "swa"):
        assert not [f for f in os.listdir(backup / name) if f.startswith("state-") or f.endswith(".npz")]
    assert not os.listdir(backup / "keras")  # the weights backup too (delete_checkpoint, as Keras's)
