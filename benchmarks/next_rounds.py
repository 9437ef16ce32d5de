"""Does following the diagnosis help? Three deliberately bad recipes, then `next --rounds 3` from each.

The starting recipes (issue 25), each `fashion_mnist_fast` with one thing wrong:

- `lr_30x`: base_lr 30 times the preset's (6.0 instead of 0.2);
- `wide_unregularized_2000`: a wide net (filters 64,128,256) with no
  augmentation, weight decay, dropout or label smoothing, on the first 2,000
  Fashion-MNIST training images;
- `two_epochs`: the preset stopped after 2 epochs.

Each is trained with `runs.train` into `DIR/NAME/start`, then
`loop.follow(start, DIR/NAME/loop, rounds=3)` (what `kerasrecipes next START
--out LOOP --rounds 3` runs) follows the proposals. Reported per recipe: the
change each round made, best validation accuracy and test accuracy (single and
ensemble + flips) before and after round 1, and where the rounds ended and
why. Selection is on validation accuracy only; the test numbers are reported,
never used. Appends one JSON line to benchmarks/results/next_rounds.jsonl.
Never run in CI.

    python benchmarks/next_rounds.py --dir /tmp/next_rounds                   # full training split
    python benchmarks/next_rounds.py --dir /tmp/nr --train-images 10000       # a subset (cheaper on 2 cores)
"""

import argparse
import dataclasses
import json
import os
import sys
import time

from _common import RESULTS_DIR, append_jsonl, loadavg, machine_facts

BAD = {  # name -> (recipe overrides, training images or None for --train-images)
    "lr_30x": ({"base_lr": 6.0}, None),
    "wide_unregularized_2000": ({"filters": (64, 128, 256), "augment": "none", "weight_decay": None,
                                 "dropout": 0.0, "dense_dropout": 0.0, "label_smoothing": 0.0}, 2000),
    "two_epochs": ({"epochs": 2}, None),
}


def _accuracies(run_dir):
    from kerasrecipes import _io, loop

    summary = _io.read_json(os.path.join(run_dir, "summary.json"))
    test = summary["test_accuracy"]
    ensemble = [v for k, v in test.items() if "ensemble" in k and "flips" in k]
    return {"val_best": loop.best_val_accuracy(run_dir), "test_single": test.get("single"),
            "test_ensemble_flips": ensemble[0] if ensemble else None, "epochs": summary["epochs_run"],
            "train_seconds": summary["train_seconds"], "train_cpu_seconds": summary.get("train_cpu_seconds")}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True, help="where the runs go (kept: rerun to resume)")
    parser.add_argument("--train-images", type=int, default=60000, help="training images (default: all 60,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=list(BAD), choices=list(BAD))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from kerasrecipes import datasets, loop, presets, runs

    full = datasets.load("fashion_mnist")
    record = {"benchmark": "next_rounds", "machine": machine_facts(), "train_images": args.train_images,
              "rounds": args.rounds, "seed": args.seed, "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "recipes": {}}
    for name in args.only:
        overrides, images = BAD[name]
        n = images or args.train_images
        data = dataclasses.replace(full, x_train=full.x_train[:n], y_train=full.y_train[:n])
        recipe = presets.get("fashion_mnist_fast", seed=args.seed, **overrides)
        start, chain = os.path.join(args.dir, name, "start"), os.path.join(args.dir, name, "loop")
        wall, cpu = time.perf_counter(), time.process_time()
        runs.train(start, recipe, data, verbose=2, recipe_name=f"fashion_mnist_fast ({name})")
        result = loop.follow(start, chain, args.rounds, verbose=2)
        rounds = [_accuracies(d) for d in result.runs]
        record["recipes"][name] = {
            "overrides": {k: list(v) if isinstance(v, tuple) else v for k, v in overrides.items()},
            "train_images": n, "runs": result.runs, "changes": result.changes, "stopped": result.stopped,
            "best": result.best, "accuracies": rounds,
            "wall_seconds": round(time.perf_counter() - wall, 1), "cpu_seconds": round(time.process_time() - cpu, 1)}
        print(json.dumps({name: record["recipes"][name]}, indent=1), flush=True)
    record["loadavg_end"] = loadavg()
    append_jsonl(os.path.join(RESULTS_DIR, "next_rounds.jsonl"), [record])
    return 0


if __name__ == "__main__":
    sys.exit(main())
