"""Evidence: resident memory over many trials of one search in one process, with and without the release.

The same keras-tuner random search (TRIALS trials of a tiny MLP, one epoch each,
on a slice of real Fashion-MNIST) runs twice, each in a fresh child process:

1. `release`: as the package runs it, each trial ending with
   `kerasrecipes._traced.release` (TensorFlow's registry of traced custom
   gradients pruned of the trial's entries);
2. `no-release`: the same with that release turned into a no-op — what
   `clear_session()` alone gives;
3. `bare-no-release` / `bare-release`: no tuner, the same MLP in a plain
   `clear_session(); build; compile; fit` loop, TRIALS fits, without and with
   `_traced.mark()` / `release()` around each fit — Keras's own share.

Reported: resident memory (VmRSS) after trial (or fit) 5 and after the last, the
growth between them and its ratio to the issue's allowance (10 % of trial 5's
RSS or 50 MB, whichever is smaller).

    python benchmarks/search_memory.py              # 30 trials each, about 2 minutes
    python benchmarks/search_memory.py --quick      # 10 trials each
    python benchmarks/search_memory.py --variants bare-no-release,bare-release

Appends one JSON line to benchmarks/results/search_memory.jsonl.
"""

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _common import RESULTS_DIR, append_jsonl, loadavg, machine_facts, rss_mb  # noqa: E402

VARIANTS = ("release", "no-release", "bare-no-release", "bare-release")
HYP = dict(
    trials=30,  # trials of the search (the 30)
    images=512,  # training images, 28x28; tiny so a trial is ~1 s and memory, not compute, is measured
    hidden=32,  # units of the MLP's hidden layer
)


def bare_loop(x, y, fits, hidden, release):
    """RSS after each of `fits` plain Keras fits of the MLP, {fit: MB}."""
    import keras

    from kerasrecipes import _traced
    from kerasrecipes.models import mlp

    rss = {}
    for i in range(1, fits + 1):
        marked = _traced.mark()
        keras.backend.clear_session()
        model = mlp(x.shape[1:], 10, hidden=(hidden,))
        model.compile(keras.optimizers.SGD(1e-2), "sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        del model
        if release:
            _traced.release(marked)
        gc.collect()
        rss[i] = rss_mb()
    return rss


def child(variant, trials, images, hidden):
    """Runs one search (or bare loop) and prints its RSS after every trial as one JSON line."""
    from kerasrecipes import _traced, datasets
    from kerasrecipes.models import mlp
    from kerasrecipes.tuning import LogUniform, SearchSpace, random_search

    (x, y), _ = datasets.fashion_mnist_sample()
    x = x[: images + 256].astype("float32") / 255.0
    y = y[: images + 256]
    if variant.startswith("bare-"):
        rss = bare_loop(x[:images], y[:images], trials, hidden, release=variant == "bare-release")
        print(json.dumps({"variant": variant, "rss": rss}))
        return
    if variant == "no-release":
        _traced.release = lambda marked: 0
    space = SearchSpace(factory=mlp, lr=LogUniform(1e-3, 1e-1), hidden=(hidden,), batch_size=64,
                        optimizer="sgd")
    rss = {}

    def progress(event):
        gc.collect()
        rss[event["trial"]] = rss_mb()

    random_search(space, x[:images], y[:images], validation_data=(x[images:], y[images:]), max_trials=trials,
                  epochs=1, directory=tempfile.mkdtemp(prefix="search_memory_"), seed=0, verbose=0,
                  progress=progress, callbacks=[])
    print(json.dumps({"variant": variant, "rss": rss}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for key, value in HYP.items():
        parser.add_argument(f"--{key}", type=int, default=value)
    parser.add_argument("--quick", action="store_true", help="10 trials each")
    parser.add_argument("--variants", default=",".join(VARIANTS),
                        help="comma-separated subset of " + ", ".join(VARIANTS))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--results", default=os.path.join(RESULTS_DIR, "search_memory.jsonl"))
    args = parser.parse_args()
    if args.quick:
        args.trials = 10
    if args.child:
        return child(args.child, args.trials, args.images, args.hidden)
    if args.trials < 6:
        raise ValueError(f"trials must be >= 6 (growth is measured from trial 5). Received trials={args.trials}")

    rows, load = [], [loadavg()]
    variants = args.variants.split(",")
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ValueError(f"variants must be among {', '.join(VARIANTS)}. Received {', '.join(unknown)}")
    for variant in variants:
        out = subprocess.run([sys.executable, __file__, "--child", variant, "--trials", str(args.trials),
                              "--images", str(args.images), "--hidden", str(args.hidden)],
                             capture_output=True, text=True, check=True).stdout
        rss = {int(k): v for k, v in json.loads(out.strip().splitlines()[-1])["rss"].items()}
        first, last = rss[5], rss[args.trials]
        allowance = min(0.10 * first, 50.0)
        rows.append({"variant": variant, "rss_trial5_mb": round(first, 1), "rss_last_mb": round(last, 1),
                     "growth_mb": round(last - first, 1),
                     "mb_per_trial": round((last - first) / (args.trials - 5), 3),
                     "growth_over_allowance": round((last - first) / allowance, 3)})
        load.append(loadavg())
    print(f"{'variant':<16}{'RSS@5 MB':>10}{'RSS@last MB':>13}{'growth MB':>11}{'MB/trial':>10}{'/allowance':>12}")
    for r in rows:
        print(f"{r['variant']:<16}{r['rss_trial5_mb']:>10}{r['rss_last_mb']:>13}{r['growth_mb']:>11}"
              f"{r['mb_per_trial']:>10}{r['growth_over_allowance']:>12}")
    record = {"benchmark": "search_memory", "hyp": {**vars(args), "child": None, "results": None}, "rows": rows,
              "loadavg": load, "machine": machine_facts()}
    print(json.dumps(record))
    if not args.quick:
        append_jsonl(args.results, [record])


if __name__ == "__main__":
    main()
