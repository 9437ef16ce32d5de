"""Time to accuracy of `kerasrecipes.presets.fashion_mnist_fast` on full Fashion-MNIST.

Trains the preset on the 60,000 training images (or a held-out part of them,
with --val-fraction) for each seed, and prints after every epoch the training
wall-clock time so far and the test accuracy. The test set is evaluated at
epoch ends for reporting only: nothing in the recipe or the run is chosen on
it. At the end: the single model, the checkpoint ensemble, and both with
test-time flips. Appends one JSON line per seed and one summary line (mean and
spread over seeds) to benchmarks/results/time_to_accuracy.jsonl, with the
machine's facts and the load average before and after. Never run in CI.

Training time counts `fit`'s epochs only (each from its `on_epoch_begin` to
its `on_epoch_end`, so graph tracing in the first epoch is included and the
reporting evaluation is not); with --val-fraction, Keras's own validation pass
is inside the epoch and counted. CPU seconds of the process (all threads) are
recorded beside every wall-clock figure (`train_cpu_s`): on a shared machine
they show how much of the wall time was other people's load.

    python benchmarks/time_to_accuracy.py                    # 3 seeds, the preset as is
    python benchmarks/time_to_accuracy.py --quick            # a one-minute smoke run
    python benchmarks/time_to_accuracy.py --seeds 1 --set epochs=8 --set batch_size=512
    python benchmarks/time_to_accuracy.py --train-size 20000 --val-fraction 0.2 --set epochs=6
    KERAS_BACKEND=jax python benchmarks/time_to_accuracy.py --seeds 1

Targets (issue 8), on a 2-core CPU: 93.5 % single model within 15 minutes of
training; then 94.0 % single and 94.5 % with ensemble and TTA.
"""

import argparse
import json
import os
import sys
import time

from _common import RESULTS_DIR, Clock, append_jsonl, loadavg, machine_facts

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

RESULTS = os.path.join(RESULTS_DIR, "time_to_accuracy.jsonl")
BUDGET_S = 15 * 60  # the training budget


def parse_value(text):
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text  # a bare string such as adamw
    return tuple(value) if isinstance(value, list) else value


def epoch_reporter(recipe, x_test, y_test, x_val, y_val, rows, verbose):
    """An epoch-end callback: times the epoch, then (for reporting only) evaluates the test set."""
    import keras

    class EpochReport(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.clock = Clock()

        def on_epoch_begin(self, epoch, logs=None):
            self.clock.start()

        def on_epoch_end(self, epoch, logs=None):
            self.clock.stop()
            row = {"epoch": epoch + 1, "train_s": round(self.clock.wall, 2), "train_cpu_s": round(self.clock.cpu, 2),
                   "train_loss": float(logs.get("loss", float("nan"))),
                   "train_acc": float(logs.get("accuracy", float("nan")))}
            if x_val is not None:
                probs = recipe.predict(self.model, x_val, tta=False)
                row["val_acc"] = float((probs.argmax(-1) == y_val).mean())
            probs = recipe.predict(self.model, x_test, tta=False)
            row["test_acc"] = float((probs.argmax(-1) == y_test).mean())
            rows.append(row)
            if verbose:
                val = f"  val {row['val_acc']:.4f}" if "val_acc" in row else ""
                print(f"  epoch {row['epoch']:>3}  train {row['train_s']:7.1f} s ({row['train_cpu_s']:.0f} CPU-s)  loss {row['train_loss']:.4f}"
                      f"  train acc {row['train_acc']:.4f}{val}  test {row['test_acc']:.4f}", flush=True)

    return EpochReport()


def run_seed(recipe, data, verbose=True):
    (x, y), (x_val, y_val), (x_test, y_test) = data
    rows = []
    reporter = epoch_reporter(recipe, x_test, y_test, x_val, y_val, rows, verbose)
    validation = None if x_val is None else (x_val, y_val)
    result = recipe.fit(x, y, validation_data=validation, callbacks=[reporter], verbose=0)
    out = {"epochs": rows, "train_s": rows[-1]["train_s"] if rows else 0.0,
           "train_cpu_s": rows[-1]["train_cpu_s"] if rows else 0.0}

    def acc(probs):
        return float((probs.argmax(-1) == y_test).mean())

    start = time.perf_counter()
    out["single"] = acc(recipe.predict(result.model, x_test, tta=False))
    out["single_tta"] = acc(recipe.predict(result.model, x_test, tta=True))
    if result.ensemble_callback is not None:
        ensemble = result.ensemble()
        out["ensemble_members"] = [m.epoch for m in result.ensemble_callback.members]
        out["ensemble"] = acc(recipe.predict(ensemble, x_test, tta=False))
        out["ensemble_tta"] = acc(recipe.predict(ensemble, x_test, tta=True))
    out["final_eval_s"] = round(time.perf_counter() - start, 2)
    if x_val is not None:
        out["val_single"] = float((recipe.predict(result.model, x_val, tta=False).argmax(-1) == y_val).mean())
        out["val_single_tta"] = float((recipe.predict(result.model, x_val, tta=True).argmax(-1) == y_val).mean())
        if result.ensemble_callback is not None:
            ens_val = recipe.predict(result.ensemble(), x_val, tta=True)
            out["val_ensemble_tta"] = float((ens_val.argmax(-1) == y_val).mean())
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (from --first-seed)")
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="one-minute smoke run: 4000/1000 images, 2 epochs, 1 seed")
    parser.add_argument("--train-size", type=int, default=None, help="first N training images (exploration)")
    parser.add_argument("--test-size", type=int, default=None)
    parser.add_argument("--val-fraction", type=float, default=0.0,
                        help="hold this stratified fraction of the training images out for choices")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a Recipe field (JSON value), repeatable")
    parser.add_argument("--note", default="", help="free text stored with the results (e.g. machine state)")
    parser.add_argument("--results", default=RESULTS)
    args = parser.parse_args(argv)

    import numpy as np

    from kerasrecipes import presets
    from kerasrecipes.data import train_val_split
    from kerasrecipes.datasets import fashion_mnist

    overrides = {}
    for item in args.set:
        field, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set takes FIELD=VALUE. Received {item!r}")
        overrides[field] = parse_value(value)
    if args.quick:
        args.seeds = 1
        args.train_size = args.train_size or 4000
        args.test_size = args.test_size or 1000
        overrides.setdefault("epochs", 2)
        overrides.setdefault("ensemble_k", 2)

    (x, y), (x_test, y_test) = fashion_mnist()
    if args.train_size:
        x, y = x[: args.train_size], y[: args.train_size]
    if args.test_size:
        x_test, y_test = x_test[: args.test_size], y_test[: args.test_size]
    x_val = y_val = None
    if args.val_fraction:
        (x, y), (x_val, y_val) = train_val_split(x, y, val_fraction=args.val_fraction, seed=1234)
    y, y_test = y.astype("int32"), y_test.astype("int32")
    y_val = None if y_val is None else y_val.astype("int32")

    load_before = loadavg()
    facts = machine_facts()
    base = presets.fashion_mnist_fast(**overrides)
    print(f"time_to_accuracy: {facts['cpu']}, {facts['cores']} cores, {facts['backend']} backend, "
          f"Keras {facts['keras']}, TF {facts['tensorflow']}; load average {load_before}")
    print(f"train {len(x)} / val {0 if x_val is None else len(x_val)} / test {len(x_test)} images; "
          f"overrides {overrides or 'none'}", flush=True)

    records = []
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        recipe = presets.fashion_mnist_fast(**{**overrides, "seed": seed})
        print(f"seed {seed}:", flush=True)
        load_start = loadavg()
        out = run_seed(recipe, ((x, y), (x_val, y_val), (x_test, y_test)))
        record = {"benchmark": "time_to_accuracy", "kind": "seed", "seed": seed, "recipe": recipe.to_dict(),
                  "train_images": len(x), "val_images": 0 if x_val is None else len(x_val),
                  "test_images": len(x_test), "load_before": load_start, "load_after": loadavg(),
                  "machine": facts, "note": args.note, "quick": args.quick, **out}
        records.append(record)
        print(json.dumps(record), flush=True)

    keys = [k for k in ("single", "single_tta", "ensemble", "ensemble_tta", "train_s", "train_cpu_s")
            if k in records[0]]
    summary = {"benchmark": "time_to_accuracy", "kind": "summary", "seeds": [r["seed"] for r in records],
               "recipe": {**base.to_dict(), "seed": None}, "train_images": len(x), "test_images": len(x_test),
               "load_before": load_before, "load_after": loadavg(), "machine": facts, "note": args.note,
               "quick": args.quick, "argv": sys.argv[1:]}
    for key in keys:
        values = np.array([r[key] for r in records], dtype=float)
        summary[key] = {"mean": float(values.mean()), "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                        "min": float(values.min()), "max": float(values.max())}
    # Each seed's last epoch that ended within the 15-minute training budget.
    summary["within_budget_last_epoch"] = [
        next((e for e in reversed(r["epochs"]) if e["train_s"] <= BUDGET_S), None) for r in records]
    append_jsonl(args.results, records + [summary])
    print(json.dumps(summary))

    print(f"\nFashion-MNIST time to accuracy, {len(records)} seed(s), load average "
          f"{summary['load_before']} -> {summary['load_after']} ({facts['cores']} cores)")
    print(f"{'':<24}{'mean':>9}{'std':>8}{'min':>9}{'max':>9}")
    names = {"single": "single model", "single_tta": "single + TTA flips", "ensemble": "checkpoint ensemble",
             "ensemble_tta": "ensemble + TTA flips", "train_s": "training time (s)",
             "train_cpu_s": "training CPU time (s)"}
    for key in keys:
        s = summary[key]
        if key in ("train_s", "train_cpu_s"):
            print(f"{names[key]:<24}{s['mean']:9.1f}{s['std']:8.1f}{s['min']:9.1f}{s['max']:9.1f}")
        else:
            print(f"{names[key]:<24}{100 * s['mean']:8.2f}%{100 * s['std']:7.2f}%"
                  f"{100 * s['min']:8.2f}%{100 * s['max']:8.2f}%")
    print(f"results appended to {args.results}")


if __name__ == "__main__":
    main()
