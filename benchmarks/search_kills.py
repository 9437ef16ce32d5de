"""The kill matrix: SIGKILL a real `kerasrecipes search` at a given moment, run the same command again.

Each row starts `python -m kerasrecipes search` (a tiny search: the sample,
the MLP space, 256 training and 128 validation images, 1 epoch per trial) in a
fresh directory, SIGKILLs one of its processes at one moment, then runs the
same command again until it ends, and counts per trial:

- kept: completed before the kill, and its record (pid, seconds) unchanged after;
- lost: completed before the kill, but missing or trained again after it;
- repeated: trained to completion twice (its record changed after it completed);
- and whether the rerun completed every requested trial.

For `--workers 2` rows it also records how long the chief and workers lived
after the kerasrecipes process was killed (they watch their parent's pipe).
The "cut oracle.json" row writes an empty oracle.json after the kill: what
keras-tuner's own (non-atomic) writer leaves when killed mid-write.

    python benchmarks/search_kills.py            # the matrix; results appended to results/search_kills.jsonl
    python benchmarks/search_kills.py --quick    # two rows
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tests"))
from _procs import alive, children as child_processes  # noqa: E402  (tests/_procs.py, as the kill tests)

HYP = dict(trials=4, epochs=1, train_size=256, val_size=128)  # images; epochs per trial
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _command(directory, workers):
    argv = [sys.executable, "-m", "kerasrecipes", "search", "--dataset", "sample", "--model", "mlp",
            "--trials", str(HYP["trials"]), "--epochs", str(HYP["epochs"]), "--train-size", str(HYP["train_size"]),
            "--val-size", str(HYP["val_size"]), "--seed", "0", "--no-plots", "--quiet", "--dir", directory]
    return argv + (["--workers", str(workers)] if workers else [])


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for key in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT", "KERASRECIPES_SMOKE"):
        env.pop(key, None)
    return env


def _completed(project):
    out = {}
    if not os.path.isdir(project):
        return out
    for entry in sorted(os.listdir(project)):
        record = os.path.join(project, entry, "kerasrecipes_trial.json")
        trial = os.path.join(project, entry, "trial.json")
        try:
            if json.load(open(trial))["status"] == "COMPLETED" and os.path.exists(record):
                out[entry] = json.load(open(record))
        except (OSError, ValueError, KeyError):
            pass
    return out


def row(moment, target, workers, delay=0.0, cut_oracle=False):
    directory = tempfile.mkdtemp(prefix="kr_kills_")
    project = os.path.join(directory, "search")
    start = time.monotonic()
    process = subprocess.Popen(_command(directory, workers), env=_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    victim, children = process.pid, {}
    deadline = time.time() + 600
    while time.time() < deadline and process.poll() is None:  # wait for the moment
        children = child_processes(process.pid)
        started = [e for e in os.listdir(project) if e.startswith("trial_")] if os.path.isdir(project) else []
        ready = len(children) == workers + 1 if workers else True
        if ready and (moment == "mid-trial 1" and started or moment == "after trial 1" and _completed(project)):
            break
        time.sleep(0.05)
    time.sleep(delay)
    if target != "kerasrecipes":
        victim = next(pid for pid, tid in children.items() if tid == target)
    os.kill(victim, signal.SIGKILL)
    killed_at = time.monotonic()
    children_gone_s = None
    if target == "kerasrecipes" and children:
        while any(alive(p) for p in children) and time.monotonic() - killed_at < 30:
            time.sleep(0.1)
        children_gone_s = round(time.monotonic() - killed_at, 1)
    first = process.wait()
    before = _completed(project)
    if cut_oracle:
        open(os.path.join(project, "oracle.json"), "w").close()
    rerun = subprocess.run(_command(directory, workers), env=_env(), capture_output=True, text=True, timeout=900)
    after = _completed(project)
    kept = sum(1 for e, r in before.items() if after.get(e) == r)
    record = {
        "moment": moment, "target": target, "workers": workers, "delay_s": delay, "cut_oracle_json": cut_oracle,
        "first_exit": first, "completed_before": len(before), "kept": kept, "lost": len(before) - kept,
        "repeated": sum(1 for e, r in before.items() if e in after and after[e] != r),
        "rerun_exit": rerun.returncode, "completed_after": len(after), "requested": HYP["trials"],
        "children_gone_s": children_gone_s,
        "rebuilt_line": next((line for line in rerun.stderr.splitlines() if "was unreadable" in line), None),
        "seconds": round(time.monotonic() - start, 1),
    }
    print(json.dumps(record), flush=True)
    shutil.rmtree(directory, ignore_errors=True)
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="two rows only")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random delays")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    plan = [("mid-trial 1", "kerasrecipes", 0, 0.5, False), ("mid-trial 1", "chief", 2, 0.5, False)]
    if not args.quick:
        plan = [
            ("mid-trial 1", "kerasrecipes", 0, 0.5, False),
            ("after trial 1", "kerasrecipes", 0, round(rng.uniform(0, 2), 2), False),  # a random moment
            ("after trial 1", "kerasrecipes", 0, 0.0, True),  # cut oracle.json
            ("mid-trial 1", "kerasrecipes", 2, 0.5, False),
            ("mid-trial 1", "tuner0", 2, 0.5, False),
            ("mid-trial 1", "chief", 2, 0.5, False),
        ]
    facts = _common.machine_facts()
    records = [dict(row(*p), loadavg_after=_common.loadavg()) for p in plan]
    _common.append_jsonl(os.path.join(_common.RESULTS_DIR, "search_kills.jsonl"),
                         [dict(r, machine=facts, command=" ".join(["python", "benchmarks/search_kills.py"]
                                                                  + (["--quick"] if args.quick else [])))
                          for r in records])


if __name__ == "__main__":
    main()
