"""Real processes: a search killed with SIGKILL and resumed; keras-tuner's chief/worker mode on 127.0.0.1."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

SCRIPT = os.path.join(os.path.dirname(__file__), "search_script.py")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    for key in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        env.pop(key, None)
    env.update(extra)
    return env


def _start(args, env, log):
    return subprocess.Popen([sys.executable, SCRIPT, *map(str, args)], env=env, stdout=log,
                            stderr=subprocess.STDOUT, cwd=REPO)


def _trials(project_dir):
    trials = {}
    for name in sorted(os.listdir(project_dir)):
        path = os.path.join(project_dir, name, "trial.json")
        if name.startswith("trial_") and os.path.exists(path):
            with open(path) as f:
                trial = json.load(f)
            record_path = os.path.join(project_dir, name, "kerasrecipes_trial.json")
            record = json.load(open(record_path)) if os.path.exists(record_path) else None
            trials[trial["trial_id"]] = (trial, record)
    return trials


def _fits(fit_log):
    if not os.path.exists(fit_log):
        return []
    with open(fit_log) as f:
        return [int(line.split()[0]) for line in f.read().splitlines() if line.strip()]


def _results_line(output):
    lines = [line for line in output.splitlines() if line.startswith("RESULTS ")]
    assert lines, output[-3000:]
    return json.loads(lines[-1][len("RESULTS "):])


def test_search_killed_with_sigkill_resumes_without_losing_or_repeating_trials(tmp_path):
    directory, fit_log, trials = tmp_path / "runs", tmp_path / "fits.log", 4
    project_dir = directory / "search"
    with open(tmp_path / "first.log", "w") as log:
        first = _start([directory, trials, 3, fit_log], _env(), log)
        deadline = time.time() + 120
        # Kill in the middle of the third trial's training: its fit has begun.
        while len(_fits(fit_log)) < 3 and first.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL, (tmp_path / "first.log").read_text()[-3000:]
    before = {tid: t for tid, t in _trials(project_dir).items() if t[0]["status"] == "COMPLETED"}
    assert 1 <= len(before) < trials  # killed part-way, some trials done
    # keras-tuner's own oracle.json writer could leave it empty when killed while writing (ours is
    # atomic): the resumed search rebuilds it from the trial files and says so in one line.
    (project_dir / "oracle.json").write_text("")

    second = subprocess.run([sys.executable, SCRIPT, str(directory), str(trials), "3", str(fit_log)],
                            env=_env(), capture_output=True, text=True, cwd=REPO, timeout=180)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    rows = _results_line(second.stdout)
    rebuilt = [line for line in second.stderr.splitlines() if "oracle.json was unreadable" in line]
    assert len(rebuilt) == 1 and "(empty); rebuilt the oracle's state from" in rebuilt[0], second.stderr[-2000:]

    after = _trials(project_dir)
    assert sorted(after) == [str(i) for i in range(trials)]  # the requested number, ids 0..N-1
    assert all(trial["status"] == "COMPLETED" and trial["score"] is not None for trial, _ in after.values())
    for tid, (trial, record) in before.items():  # finished trials were kept, not run again
        assert after[tid][0] == trial and after[tid][1] == record
    fits = _fits(fit_log)
    first_pid = fits[0]
    resumed = [pid for pid in fits if pid != first_pid]
    assert len(resumed) == trials - len(before)  # the interrupted trial once more, and the rest
    hps = [json.dumps(trial["hyperparameters"]["values"], sort_keys=True) for trial, _ in after.values()]
    assert len(set(hps)) == trials
    assert [r["trial_id"] for r in rows] == [str(i) for i in range(trials)]
    assert all(r["epochs"] is not None and r["seconds"] > 0 for r in rows)


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_keras_tuner_distributed_mode_chief_and_two_workers_on_localhost(tmp_path):
    directory, fit_log, trials = tmp_path / "shared", tmp_path / "fits.log", 4
    port = _free_port()
    processes, logs = {}, {}
    for role in ("chief", "tuner0", "tuner1"):
        logs[role] = open(tmp_path / f"{role}.log", "w")
        env = _env(KERASTUNER_TUNER_ID=role, KERASTUNER_ORACLE_IP="127.0.0.1", KERASTUNER_ORACLE_PORT=str(port))
        processes[role] = _start([directory, trials, 1, fit_log], env, logs[role])
    try:
        for role in ("tuner0", "tuner1", "chief"):
            # keras-tuner's chief polls for the end every 20 s once the first worker is told to stop
            processes[role].wait(timeout=150)
    finally:
        for role, process in processes.items():
            if process.poll() is None:
                process.kill()
                process.wait()
            logs[role].close()
    outputs = {role: (tmp_path / f"{role}.log").read_text() for role in processes}
    for role, process in processes.items():
        assert process.returncode == 0, f"{role}:\n" + outputs[role][-3000:]

    after = _trials(directory / "search")
    assert sorted(after) == [str(i) for i in range(trials)]
    assert all(trial["status"] == "COMPLETED" and trial["score"] is not None for trial, _ in after.values())
    # every trial ran exactly once, on a worker: one fit per trial in all, none on the chief
    fits = _fits(fit_log)
    assert len(fits) == trials
    runners = {record["tuner_id"] for _, record in after.values()}
    assert runners <= {"tuner0", "tuner1"}
    assert {record["pid"] for _, record in after.values()} == set(fits)
    assert processes["chief"].pid not in fits
    rows = _results_line(outputs["chief"])  # the chief's Search sees the complete results
    assert [r["trial_id"] for r in rows] == [str(i) for i in range(trials)]
    assert all(r["status"] == "COMPLETED" and r["seconds"] > 0 for r in rows)
