"""Evidence: the same search with 1 and 2 worker processes, and with median-stopping pruning.

On a slice of Fashion-MNIST, one keras-tuner random search over
`default_mlp_space()` (TRIALS trials x EPOCHS epochs, seed fixed, so every run
samples the same hyperparameters in the same order), run as:

1. `in-process`: `random_search(...)`, one process;
2. `workers=1`: a local keras-tuner chief + 1 worker process;
3. `workers=2`: a local chief + 2 worker processes, each with half the cores;
4. `pruned`: in-process with `MedianStoppingRule()` (2 warm-up epochs, 3
   completed trials): epochs trained against (1) at the best score found.

No other trial callbacks, so without pruning every trial trains exactly
EPOCHS epochs. Reported: wall-clock seconds, best validation accuracy, epochs
trained in all, and /proc/loadavg before and after (the machine is shared).

    python benchmarks/search_scale.py                     # prints a table and one JSON line
    nohup python benchmarks/search_scale.py > /tmp/search_scale.log 2>&1 &
    python benchmarks/search_scale.py --quick             # a one-minute smoke run

Appends one JSON line (rows, machine facts) to benchmarks/results/search_scale.jsonl.
"""

import argparse
import json
import os
import shutil
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from kerasrecipes import datasets  # noqa: E402
from kerasrecipes.tuning import MedianStoppingRule, default_mlp_space, random_search  # noqa: E402
from _common import RESULTS_DIR, append_jsonl, loadavg, machine_facts  # noqa: E402

HYP = dict(
    trials=12,  # trials of the search
    epochs=6,  # epochs per trial (pruning can only save epochs after the 2 warm-up ones)
    train=4000,  # training images from the Fashion-MNIST training split
    val=1000,  # validation images, from the end of the training split
    seed=1,  # seeds sampling and weight initialization (not 0: keras-tuner reads seed=0 as "no seed")
)


def _data(train, val):
    (x, y), _ = datasets.fashion_mnist()
    x = (x.astype("float32") / np.float32(255.0)).reshape(-1, 28, 28, 1)
    y = y.astype("int32")
    return (x[:train], y[:train]), (x[len(x) - val:], y[len(y) - val:])


def run(name, data, hyp, directory, **kwargs):
    (x, y), (xv, yv) = data
    load_before = loadavg()
    start = time.perf_counter()
    search = random_search(default_mlp_space(), x, y, validation_data=(xv, yv), max_trials=hyp["trials"],
                           epochs=hyp["epochs"], directory=os.path.join(directory, name), seed=hyp["seed"],
                           overwrite=True, verbose=0, **kwargs)
    seconds = time.perf_counter() - start
    results = search.results()
    best = results.best(1)[0]
    return {
        "run": name, "seconds": round(seconds, 1), "best_val_accuracy": round(best["score"], 4),
        "best_trial": best["trial_id"], "trials_completed": sum(r["status"] == "COMPLETED" for r in results),
        "epochs_trained": sum(r["epochs"] or 0 for r in results),
        "pruned": results.pruned if "pruned_at" in results.columns else 0,
        "pruned_at": [r.get("pruned_at") for r in results] if "pruned_at" in results.columns else None,
        "lrs": [round(r["lr"], 6) for r in results],  # same seed: the same trials in every run
        "loadavg_before": load_before, "loadavg_after": loadavg(),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for key, value in HYP.items():
        parser.add_argument(f"--{key}", type=int, default=value)
    parser.add_argument("--runs", default="in-process,workers=1,workers=2,pruned")
    parser.add_argument("--quick", action="store_true", help="smoke run: 4 trials x 3 epochs on 500 images")
    parser.add_argument("--results", default=os.path.join(RESULTS_DIR, "search_scale.jsonl"))
    args = parser.parse_args()
    if args.quick:
        args.trials, args.epochs, args.train, args.val = 4, 3, 500, 200
    hyp = {k: getattr(args, k) for k in HYP}
    data = _data(hyp["train"], hyp["val"])
    directory = tempfile.mkdtemp(prefix="search_scale_")
    runs = {
        "in-process": dict(callbacks=[]),
        "workers=1": dict(callbacks=[], workers=1),
        "workers=2": dict(callbacks=[], workers=2),
        "pruned": dict(callbacks=[MedianStoppingRule(warmup_epochs=2, min_trials=3)]),
    }
    rows = []
    try:
        for name in args.runs.split(","):
            rows.append(run(name, data, hyp, directory, **runs[name]))
            print(json.dumps(rows[-1]), flush=True)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    record = {"benchmark": "search_scale", "hyp": hyp, "quick": args.quick, "cpus": len(os.sched_getaffinity(0)),
              "machine": machine_facts(), "rows": rows}
    append_jsonl(args.results, [record])
    print(json.dumps(record))
    print(f"\n{'run':<12}{'seconds':>9}{'best val acc':>14}{'epochs':>8}{'pruned':>8}  loadavg before -> after")
    for r in rows:
        print(f"{r['run']:<12}{r['seconds']:>9.1f}{r['best_val_accuracy']:>14.4f}{r['epochs_trained']:>8}"
              f"{r['pruned']:>8}  {r['loadavg_before']} -> {r['loadavg_after']}")


if __name__ == "__main__":
    main()
