"""Resume fidelity of `runs.train` under real SIGKILLs, and the cost of `deterministic=True` (never run in CI).

Trains the same small recipe into run directories, each run in fresh child
processes, all with the same seed:

- `A`, `B`: two uninterrupted runs (default settings: seeded, not deterministic);
- `R`: the same run SIGKILLed 5 times, each kill a random moment shortly after
  the backup of a random epoch appeared (so mid-epoch or inside an epoch-end
  write), and the same command run again until it finishes;
- `D1`, `D2`: two uninterrupted runs with `deterministic=True`;
- `DR`: the deterministic run killed and resumed the same way.

It reports the relative L2 distance of the final weights (`model.keras`) of
each run to `A` (or `D1`), the final `val_loss` of each, and the epoch time of
the deterministic runs against the default ones (training seconds / epochs,
uninterrupted runs, alternated so that load on the machine hits both alike).

    python benchmarks/resume_fidelity.py                # 8 epochs on 2000 sample images
    python benchmarks/resume_fidelity.py --quick        # 4 epochs, 2 kills (a smoke run)

Appends its JSON line (with machine facts and load) to benchmarks/results/resume_fidelity.jsonl.
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

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _common import RESULTS_DIR, append_jsonl, loadavg, machine_facts  # noqa: E402

HYP = dict(
    train_images=2000,  # of the embedded sample; 10 % of them validate
    test_images=1000,
    epochs=8,
    kills=5,
    seed=0,
    recipe="factory",
    fields=dict(filters=(8, 16), convs_per_stage=1, dense_units=(32,), batch_size=64, ensemble="every",
                ensemble_k=2, jit_compile=False),  # a small factory VGG: ~30k parameters, ~2 s per epoch
)

WORKER = """
import dataclasses, json, sys
from kerasrecipes import datasets, presets, runs
hyp = json.loads(sys.argv[2])
data = datasets.load("sample")
data = dataclasses.replace(data, x_train=data.x_train[:hyp["train_images"]], y_train=data.y_train[:hyp["train_images"]],
                           x_test=data.x_test[:hyp["test_images"]], y_test=data.y_test[:hyp["test_images"]])
fields = {k: tuple(v) if isinstance(v, list) else v for k, v in hyp["fields"].items()}
recipe = presets.get(hyp["recipe"], epochs=hyp["epochs"], seed=hyp["seed"], deterministic=hyp["deterministic"], **fields)
runs.train(sys.argv[1], recipe, data, verbose=0, log=lambda line: print(line, flush=True))
"""


def _child(out, hyp, deterministic):
    args = [sys.executable, "-c", WORKER, out, json.dumps({**hyp, "deterministic": deterministic})]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def uninterrupted(out, hyp, deterministic):
    child = _child(out, hyp, deterministic)
    child.communicate()
    if child.returncode != 0:
        raise SystemExit(f"run {out} failed with exit status {child.returncode}")
    return 0


def killed(out, hyp, deterministic, rng):
    """Kills the run `hyp["kills"]` times at random epochs, then lets it finish; returns the kills made."""
    epochs = sorted(rng.sample(range(1, hyp["epochs"]), hyp["kills"]))
    made = []
    for epoch in epochs:
        backup = os.path.join(out, "backup", "keras", f"backup-e{epoch:05d}.weights.h5")
        child = _child(out, hyp, deterministic)
        while not os.path.exists(backup) and child.poll() is None:
            time.sleep(0.01)
        delay = rng.uniform(0.0, 0.5)  # seconds into the next epoch (or its end-of-epoch writes)
        time.sleep(delay)
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            child.wait()
            made.append({"after_epoch": epoch, "delay_s": round(delay, 3)})
    uninterrupted(out, hyp, deterministic)
    return made


def weights(out):
    import keras
    import numpy as np

    model = keras.saving.load_model(os.path.join(out, "model.keras"))
    return np.concatenate([np.ravel(w) for w in model.get_weights()]).astype("float64")


def describe(out):
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(out, "history.json")) as f:
        history = json.load(f)
    return {"val_loss": history["val_loss"][-1], "epochs_in_history": len(history["epoch"]),
            "train_seconds": summary["train_seconds"], "test_accuracy": summary["test_accuracy"]["single"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("--quick", action="store_true", help="4 epochs and 2 kills")
    parser.add_argument("--keep", help="keep the run directories here")
    args = parser.parse_args()
    hyp = dict(HYP, fields=dict(HYP["fields"]))
    if args.quick:
        hyp.update(epochs=4, kills=2, train_images=1000, test_images=500)
    rng = random.Random(hyp["seed"])
    root = args.keep or tempfile.mkdtemp(prefix="resume_fidelity-")
    os.makedirs(root, exist_ok=True)
    load_before = loadavg()
    start = time.time()
    kills = {}
    # Alternate default and deterministic runs, so that load hits both alike.
    for name, deterministic in (("A", False), ("D1", True), ("B", False), ("D2", True)):
        uninterrupted(os.path.join(root, name), hyp, deterministic)
    for name, deterministic in (("R", False), ("DR", True)):
        kills[name] = killed(os.path.join(root, name), hyp, deterministic, rng)

    import numpy as np

    w = {name: weights(os.path.join(root, name)) for name in ("A", "B", "R", "D1", "D2", "DR")}

    def rel(a, b):
        return float(np.linalg.norm(w[a] - w[b]) / np.linalg.norm(w[b]))

    runs = {name: describe(os.path.join(root, name)) for name in w}
    default_epoch = np.mean([runs[n]["train_seconds"] for n in ("A", "B")]) / hyp["epochs"]
    det_epoch = np.mean([runs[n]["train_seconds"] for n in ("D1", "D2")]) / hyp["epochs"]
    result = {
        "benchmark": "resume_fidelity", "hyp": hyp, "kills": kills, "runs": runs,
        "rel_l2_to_A": {"B (uninterrupted)": rel("B", "A"), "R (resumed)": rel("R", "A")},
        "rel_l2_to_D1": {"D2 (uninterrupted)": rel("D2", "D1"), "DR (resumed)": rel("DR", "D1")},
        "epoch_seconds": {"default": round(float(default_epoch), 3), "deterministic": round(float(det_epoch), 3),
                          "ratio": round(float(det_epoch / default_epoch), 3)},
        "wall_s": round(time.time() - start, 1), "load_before": load_before, "load_after": loadavg(),
        "machine": machine_facts(),
    }
    print(f"{'run':<22}{'rel. L2 to reference':>22}{'final val_loss':>16}{'epochs logged':>15}")
    for name, ref in (("A", "A"), ("B", "A"), ("R", "A"), ("D1", "D1"), ("D2", "D1"), ("DR", "D1")):
        print(f"{name:<22}{rel(name, ref):>22.3g}{runs[name]['val_loss']:>16.4f}{runs[name]['epochs_in_history']:>15}")
    print(f"kills: {kills}")
    print(f"epoch seconds: default {default_epoch:.3f}, deterministic {det_epoch:.3f} "
          f"(ratio {det_epoch / default_epoch:.3f}); load {load_before} -> {result['load_after']}")
    print(json.dumps(result))
    append_jsonl(os.path.join(RESULTS_DIR, "resume_fidelity.jsonl"), [result])
    if not args.keep:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
