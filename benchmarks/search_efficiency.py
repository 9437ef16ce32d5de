"""Evidence: log-space random search + refinement against linear random search, at equal compute.

On a slice of Fashion-MNIST, three searches over the same ranges and the same
model (the factory MLP by default, `--model vgg` for a slim factory VGG), each
spending the same budget of trials x epochs:

1. `linear`: keras-tuner RandomSearch with every numeric range sampled
   linearly (`Uniform`, i.e. `hp.Float(...)`), TRIALS trials x 1 epoch;
2. `log`: the same with the learning rate and weight decay sampled in log space
   (`LogUniform`, i.e. `hp.Float(..., sampling="log")`), TRIALS x 1 epoch;
3. `log+refine`: log space, TRIALS/2 coarse trials x 1 epoch, then one
   `Search.refine(top_k=3)` stage of TRIALS/4 trials x 2 epochs.

All three run on keras-tuner's RandomSearch (kerasrecipes' subclass, which
only adds a per-trial record and a fresh session); no trial callbacks, so the
only differences are the sampling and the coarse-to-fine stages. Reported per
seed: the best validation accuracy each search found (its own objective) and
the 10,000-image test accuracy of that best model (not used for selection).

    python benchmarks/search_efficiency.py                 # prints a table and one JSON line
    nohup python benchmarks/search_efficiency.py > /tmp/search_bench.log 2>&1 &
    python benchmarks/search_efficiency.py --seeds 0 --trials 4 --train 500   # a quick look
"""

import argparse
import json
import os
import platform
import shutil
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerasrecipes as kr  # noqa: E402
from kerasrecipes.tuning import Choice, LogUniform, SearchSpace, Uniform, random_search  # noqa: E402

HYP = dict(
    seeds=(0, 1, 2),       # sampler and weight seeds; every arm uses the same ones
    lr=(1e-4, 1e-1),       # same ranges in every arm, only the sampling differs
    weight_decay=(1e-6, 1e-2),
    dropout=(0.0, 0.5),
    optimizer=("adam", "sgd"),
    refine_top_k=3,
    directory="/tmp/kerasrecipes_search_efficiency",
)
MODELS = {
    # 2 x `width` ReLU units, no BatchNorm (see below); 78 steps per 1-epoch trial.
    "mlp": dict(train=10000, val=2000, trials=16, batch_size=128, width=(64, 128, 256),
                fixed=dict(depth=2, order="dense-act-drop")),
    # 3 conv stages of `width`, 2x, 4x filters, one 3x3 conv each, GAP head; 47 steps per
    # 1-epoch trial, which proved too few: most trials end near chance (see BENCHMARKS.md).
    "vgg": dict(train=3000, val=1000, trials=12, batch_size=64, width=(8, 16),
                fixed=dict(depth=3, convs_per_stage=1, order="conv-act", head="gap", dense_units=())),
}


def data(train, val):
    (x, y), (x_test, y_test) = kr.datasets.fashion_mnist()
    scale = np.float32(1 / 255)

    def prep(a):
        a = a.astype("float32") * scale
        return a[..., None] if a.ndim == 3 else a

    x, x_test = prep(x), prep(x_test)
    y, y_test = y.astype("int32"), y_test.astype("int32")
    return (x[:train], y[:train]), (x[-val:], y[-val:]), (x_test, y_test.astype("int32"))


def space(log, model):
    numeric = LogUniform if log else Uniform
    config = MODELS[model]
    return SearchSpace(
        factory=kr.models.mlp if model == "mlp" else kr.models.vgg,
        lr=numeric(*HYP["lr"]),
        weight_decay=numeric(*HYP["weight_decay"]),
        dropout=Uniform(*HYP["dropout"]),
        width=Choice(*config["width"]),
        optimizer=Choice(*HYP["optimizer"]),
        batch_size=config["batch_size"],
        # No BatchNorm: after 1-2 epoch trials its moving averages are still far
        # from the data's statistics, so eval-mode accuracy would be noise.
        **config["fixed"],
    )


def run_arm(arm, seed, train, val, test, trials, model):
    directory = os.path.join(HYP["directory"], f"seed{seed}", arm.replace("+", "_"))
    shutil.rmtree(directory, ignore_errors=True)
    start = time.perf_counter()
    common = dict(validation_data=val, directory=directory, seed=seed, callbacks=[], verbose=0, overwrite=True)
    if arm == "log+refine":
        search = random_search(space(True, model), *train, max_trials=trials // 2, epochs=1, **common)
        search.refine(top_k=HYP["refine_top_k"], epochs=2, max_trials=trials // 4)
    else:
        search = random_search(space(arm == "log", model), *train, max_trials=trials, epochs=1, **common)
    seconds = time.perf_counter() - start
    rows = search.results().rows
    epochs_budget = sum(s.max_trials * s.epochs for s in search.stages)
    best_row = search.results().best(1)[0]
    best_model = search.best_models(1)[0]
    _, test_accuracy = best_model.evaluate(*test, batch_size=512, verbose=0)
    keras.backend.clear_session()
    return {
        "arm": arm, "seed": seed, "best_val_accuracy": best_row["score"], "test_accuracy": float(test_accuracy),
        "best_lr": best_row["lr"], "best_optimizer": best_row["optimizer"],
        "trials": len(rows), "trial_epochs": epochs_budget, "epochs_run": sum(r["epochs"] for r in rows),
        "share_lr_below_1e-2": float(np.mean([r["lr"] < 1e-2 for r in rows])),
        "mean_val_accuracy": float(np.mean([r["score"] for r in rows])), "seconds": seconds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(HYP["seeds"]))
    parser.add_argument("--model", choices=sorted(MODELS), default="mlp")
    parser.add_argument("--trials", type=int, default=None, help="a multiple of 4 (default: per model)")
    parser.add_argument("--train", type=int, default=None, help="training images (default: per model)")
    args = parser.parse_args(argv)
    args.trials = args.trials or MODELS[args.model]["trials"]
    args.train = args.train or MODELS[args.model]["train"]
    if args.trials % 4:
        parser.error(f"--trials must be a multiple of 4. Received {args.trials}")
    train, val, test = data(args.train, MODELS[args.model]["val"])
    runs = []
    started = time.perf_counter()
    for seed in args.seeds:
        for arm in ("linear", "log", "log+refine"):
            run = run_arm(arm, seed, train, val, test, args.trials, args.model)
            runs.append(run)
            print(f"seed {seed} {arm:<10} best val {run['best_val_accuracy']:.4f}  test {run['test_accuracy']:.4f}"
                  f"  ({run['trials']} trials, {run['trial_epochs']} trial-epochs, {run['seconds']:.0f} s)",
                  flush=True)

    arms = ("linear", "log", "log+refine")
    summary = {}
    for arm in arms:
        mine = [r for r in runs if r["arm"] == arm]
        summary[arm] = {key: (float(np.mean([r[key] for r in mine])), float(np.std([r[key] for r in mine])))
                        for key in ("best_val_accuracy", "test_accuracy", "mean_val_accuracy",
                                    "share_lr_below_1e-2", "seconds")}
    print()
    print(f"{'arm':<11} {'best val acc':>16} {'test acc of best':>18} {'mean trial val':>16} "
          f"{'lr<1e-2':>8} {'seconds':>8}")
    for arm in arms:
        s = summary[arm]
        print(f"{arm:<11} {s['best_val_accuracy'][0]:.4f} ± {s['best_val_accuracy'][1]:.4f}"
              f"  {s['test_accuracy'][0]:.4f} ± {s['test_accuracy'][1]:.4f}"
              f"    {s['mean_val_accuracy'][0]:.4f}      {s['share_lr_below_1e-2'][0]:>6.0%}"
              f"  {s['seconds'][0]:>7.0f}")
    print("per seed (best val):", {arm: [round(r["best_val_accuracy"], 4) for r in runs if r["arm"] == arm]
                                   for arm in arms})
    print(json.dumps({
        "benchmark": "search_efficiency", "model": args.model,
        "hyp": {**HYP, **MODELS[args.model], "train": args.train, "trials": args.trials, "seeds": args.seeds},
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {keras.backend.backend()} backend",
        "keras": keras.__version__, "total_seconds": time.perf_counter() - started,
        "summary": summary, "runs": runs,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
