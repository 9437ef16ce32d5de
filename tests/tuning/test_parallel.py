"""Local workers on keras-tuner's chief/worker mode: a worker killed mid-trial, bad parallel arguments."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from kerasrecipes.models import mlp
from kerasrecipes.cli import main
from kerasrecipes.tuning import LogUniform, SearchSpace, random_search
from kerasrecipes.tuning.parallel import resolve

SCRIPT = os.path.join(os.path.dirname(__file__), "search_script.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _fits(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line.split() for line in f.read().splitlines() if line.strip()]


def test_a_worker_killed_mid_trial_is_restarted_and_every_trial_completes_exactly_once(tmp_path):
    directory, fit_log, trials = tmp_path / "runs", tmp_path / "fits.log", 4
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""), TF_CPP_MIN_LOG_LEVEL="3")
    for key in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        env.pop(key, None)
    with open(tmp_path / "out.log", "w") as out, open(tmp_path / "err.log", "w") as err:
        main = subprocess.Popen([sys.executable, SCRIPT, str(directory), str(trials), "4", str(fit_log), "2"],
                                env=env, stdout=out, stderr=err, cwd=REPO)
        try:
            deadline = time.time() + 120
            while not _fits(fit_log) and main.poll() is None and time.time() < deadline:
                time.sleep(0.05)
            time.sleep(0.2)  # inside the first trial's training
            victim_pid, victim_tuner, _ = _fits(fit_log)[0]
            assert int(victim_pid) != main.pid
            os.kill(int(victim_pid), signal.SIGKILL)
            main.wait(timeout=150)
        finally:
            if main.poll() is None:
                main.kill()
                main.wait()
    stdout, stderr = (tmp_path / "out.log").read_text(), (tmp_path / "err.log").read_text()
    assert main.returncode == 0, stderr[-3000:]
    assert f"worker {victim_tuner} exited with status -9; starting it again" in stderr

    project = directory / "search"
    oracle = json.loads((project / "oracle.json").read_text())
    ids = [f"{i}" for i in range(trials)]
    assert sorted(oracle["end_order"]) == ids  # each trial ended once, none lost, none repeated
    fits = _fits(fit_log)
    assert len(fits) == trials + 1  # the killed trial was trained once more, every other trial once
    records = {i: json.loads((project / f"trial_{i}" / "kerasrecipes_trial.json").read_text()) for i in ids}
    killed = [i for i in ids if records[i]["tuner_id"] == victim_tuner and str(records[i]["pid"]) != victim_pid]
    assert killed, records  # the restarted worker, under the same tuner id, ran the trial again
    assert all(str(r["pid"]) != victim_pid for r in records.values())
    assert {r["tuner_id"] for r in records.values()} <= {"tuner0", "tuner1"}
    cores = len(os.sched_getaffinity(0))
    assert {threads for _, _, threads in fits} == {str(max(1, cores // 2))}  # the workers split the cores

    rows = json.loads([line for line in stdout.splitlines() if line.startswith("RESULTS ")][-1][8:])
    assert [r["trial_id"] for r in rows] == ids
    assert all(r["status"] == "COMPLETED" and r["score"] is not None for r in rows)
    # pruning ran in the workers through the chief's oracle: its column is there, trials stopped early say when
    assert all("pruned_at" in r and (r["pruned_at"] is None or r["epochs"] == r["pruned_at"]) for r in rows)
    assert stdout.count("\n") == 1  # workers' progress and keras-tuner's prints went to stderr


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 4, 4, 1)).astype("float32"), rng.integers(0, 2, 64).astype("int32")


@pytest.mark.parametrize("kwargs, message", [
    ({"workers": 0}, "workers must be an integer >= 1. Received workers=0"),
    ({"gpus": "0,7"}, "gpus has id 0 but this machine has no GPU"),
    ({"gpus": "a,b"}, "gpus must be GPU ids such as '0,1'"),
    ({"workers": 2, "oracle": "192.0.2.1:4000"}, "oracle 192.0.2.1:4000 cannot be bound on this machine"),
    ({"workers": 2, "oracle": "localhost"}, "oracle must be 'HOST:PORT'"),
    ({"role": "worker", "oracle": "no-such-host.invalid:4000"}, "oracle host 'no-such-host.invalid' cannot be resolved"),
    ({"role": "boss", "oracle": "127.0.0.1:4000"}, "role must be one of chief, worker"),
    ({"role": "worker"}, "role='worker' needs oracle='HOST:PORT'"),
])
def test_bad_parallel_arguments_raise_before_any_trial(kwargs, message, tmp_path):
    x, y = _data()
    space = SearchSpace(factory=mlp, lr=LogUniform(1e-3, 1e-1), hidden=(4,))
    with pytest.raises(ValueError, match=message.replace("(", "\\(").replace(")", "\\)")):
        random_search(space, x, y, validation_split=0.25, max_trials=1, epochs=1, directory=tmp_path, **kwargs)
    assert not os.listdir(tmp_path)  # nothing started


def test_an_unreachable_oracle_is_reported_after_the_connect_timeout():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    start = time.monotonic()
    with pytest.raises(ValueError, match=f"oracle 127.0.0.1:{port} cannot be reached"):
        resolve(role="worker", oracle=f"127.0.0.1:{port}", connect_timeout=1.0)
    assert time.monotonic() - start < 10


def test_a_lambda_build_function_cannot_go_to_workers(tmp_path):
    x, y = _data()

    import keras

    def build(hp):  # local to this test: cannot be pickled by reference
        model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(2, activation="softmax")])
        model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1)),
                      loss="sparse_categorical_crossentropy")
        return model

    with pytest.raises(ValueError, match="workers need the search's arguments pickled"):
        random_search(build, x, y, validation_split=0.25, max_trials=1, epochs=1, directory=tmp_path,
                      workers=2, objective="loss")


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], "argument --workers: expected a positive integer, got '0'"),
    (["--gpus", "5", "--dataset", "sample"], "gpus has id 5 but this machine has"),
    (["--role", "worker", "--oracle", "no-such-host.invalid:1", "--dataset", "sample"], "cannot be resolved"),
    (["--workers", "2", "--oracle", "192.0.2.1:4000", "--dataset", "sample"], "cannot be bound"),
])
def test_cli_bad_parallel_flags_are_one_line_and_exit_2(argv, message, capsys, tmp_path):
    try:
        status = main(["search", *argv, "--dir", str(tmp_path)])
    except SystemExit as e:  # a bad flag: argparse exits
        status = e.code
    assert status == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("kerasrecipes search: error: ") and message in err
