"""SIGKILL of the `kerasrecipes search --workers 2` process and of its chief, with real processes.

One directory, three runs of the same command: the first is killed (the
kerasrecipes process) while its workers train, and its chief and workers must
be gone within 10 s; the second loses its chief to a SIGKILL and must say so
with the chief's last lines; the third completes the search, with every trial
completed before the kills kept as it was and none run twice.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time

from _procs import alive, children as child_processes  # tests/_procs.py

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TRIALS = 4


def _env():
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
    for key in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASRECIPES_SMOKE"):
        env.pop(key, None)
    return env


def _command(directory):
    return [sys.executable, "-m", "kerasrecipes", "search", "--dataset", "sample", "--model", "mlp", "--workers", "2",
            "--trials", str(TRIALS), "--epochs", "1", "--train-size", "256", "--val-size", "128", "--seed", "0",
            "--no-plots", "--dir", str(directory)]


def _records(project):
    out = {}
    for entry in sorted(os.listdir(project)) if os.path.isdir(project) else []:
        path = os.path.join(project, entry, "kerasrecipes_trial.json")
        trial = os.path.join(project, entry, "trial.json")
        if os.path.exists(path) and os.path.exists(trial) and json.load(open(trial))["status"] == "COMPLETED":
            out[entry] = json.load(open(path))
    return out


def _start_and_wait_for_training(directory, log):
    process = subprocess.Popen(_command(directory), env=_env(), stdout=subprocess.DEVNULL, stderr=log,
                               cwd=str(directory.parent))
    deadline = time.time() + 180
    project = directory / "search"
    while time.time() < deadline and process.poll() is None:
        children = child_processes(process.pid)
        said = open(log.name).read()
        if (len(children) == 3 and "[chief] kerasrecipes: chief serving" in said and "running trials of" in said
                and any((project / f"trial_{i}").is_dir() for i in range(TRIALS))):
            return process, children  # chief and a worker up and said so, a trial handed out
        time.sleep(0.1)
    process.kill()
    raise AssertionError(f"the search never started training:\n{open(log.name).read()[-3000:]}")


def test_killed_search_and_killed_chief_leave_no_process_behind_and_resume_without_repeats(tmp_path):
    directory, project = tmp_path / "runs", tmp_path / "runs" / "search"
    with open(tmp_path / "first.log", "w") as log:
        first, children = _start_and_wait_for_training(directory, log)
        time.sleep(1.0)
        first.send_signal(signal.SIGKILL)
        first.wait()
        killed_at = time.monotonic()
        while any(alive(pid) for pid in children) and time.monotonic() - killed_at < 15:
            time.sleep(0.1)
        gone_after = time.monotonic() - killed_at
    assert sorted(children.values()) == ["chief", "tuner0", "tuner1"]
    assert not any(alive(pid) for pid in children), f"orphans: {children}"
    assert gone_after < 10, gone_after
    before = _records(project)

    with open(tmp_path / "second.log", "w") as log:
        second, children = _start_and_wait_for_training(directory, log)
        chief = next(pid for pid, tid in children.items() if tid == "chief")
        os.kill(chief, signal.SIGKILL)
        second.wait(timeout=60)
    err = (tmp_path / "second.log").read_text()
    assert second.returncode == 1, err[-3000:]
    message = err[err.index("kerasrecipes search: error: "):]
    assert "the search's chief (oracle) exited with status -9" in message and "its last lines:" in message
    assert f"kerasrecipes: chief serving the oracle on 127.0.0.1:" in message.split("its last lines:")[1]
    # the children's own lines reached stderr, prefixed with the process
    assert "[chief] kerasrecipes: chief serving" in err and ("[tuner0] " in err or "[tuner1] " in err)
    middle = _records(project)

    third = subprocess.run(_command(directory), env=_env(), capture_output=True, text=True, cwd=str(tmp_path),
                           timeout=300)
    assert third.returncode == 0, third.stderr[-3000:]
    assert json.loads(third.stdout.strip().splitlines()[-1])  # stdout: the best hyperparameters only
    with open(directory / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["trial_id"] for r in rows] == [str(i) for i in range(TRIALS)]
    assert all(r["status"] == "COMPLETED" and r["score"] for r in rows)
    after = _records(project)
    for done in (before, middle):  # every trial completed before a kill was kept, not run again
        for entry, record in done.items():
            assert after[entry] == record, entry
    assert len({json.dumps({k: r[k] for k in r if k not in ("stage", "trial_id", "score", "epochs", "best_epoch",
                                                               "seconds", "status")}, sort_keys=True)
                for r in rows}) == TRIALS  # no hyperparameters drawn twice
    assert "[tuner0] coarse: trial" in third.stderr or "[tuner1] coarse: trial" in third.stderr
