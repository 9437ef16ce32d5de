"""Epoch-time overhead of `recipe()` callbacks on the same model (never run in CI).

Trains the same small factory VGG with and without `kerasrecipes.callbacks.recipe()`
(halving + early stopping + an in-memory top-k checkpoint ensemble) in one
process, alternating the two so that load on the machine hits both alike, and
reports the ratio of median epoch times, in wall time and in the process's CPU
time (all threads; less sensitive to other jobs on a shared machine), and the
time spent inside the recipe's own hooks, measured directly by timing each of
its callbacks' epoch-level methods. Both fits use the same validation data; the
recipe's callbacks only work at epoch ends, so the expected overhead is a few
weight copies per epoch.

    python benchmarks/overhead.py                  # prints a table and one JSON line
    python benchmarks/overhead.py --repeats 5 --epochs 3
    python benchmarks/overhead.py --quick          # a one-minute smoke run

Appends its JSON line (with machine facts) to benchmarks/results/overhead.jsonl.
"""

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import kerasrecipes as kr  # noqa: E402
from _common import RESULTS_DIR, append_jsonl, loadavg, machine_facts  # noqa: E402

HYP = dict(
    train=8000,            # images per epoch
    val=2000,              # validation images (evaluated every epoch by both)
    filters=(16, 32, 64),  # the slim VGG of benchmarks/callbacks_evidence.py
    batch_size=128,
    lr=0.05,
)


class EpochTimer(keras.callbacks.Callback):
    """Wall time from one epoch's begin to the next's, so other callbacks' epoch-end work is included."""

    def on_train_begin(self, logs=None):
        self.times, self.cpu, self._last = [], [], None

    def on_epoch_begin(self, epoch, logs=None):
        now, cpu = time.perf_counter(), time.process_time()
        if self._last is not None:
            self.times.append(now - self._last[0])
            self.cpu.append(cpu - self._last[1])
        self._last = (now, cpu)

    def on_train_end(self, logs=None):
        self.times.append(time.perf_counter() - self._last[0])
        self.cpu.append(time.process_time() - self._last[1])


def time_hooks(callbacks, spent):
    """Wraps each callback's epoch-level hooks so their wall time adds up in spent[0]."""
    for cb in callbacks:
        for name in ("on_train_begin", "on_epoch_begin", "on_epoch_end", "on_train_end"):
            method = getattr(cb, name)

            def timed(*args, _method=method, **kwargs):
                start = time.perf_counter()
                try:
                    return _method(*args, **kwargs)
                finally:
                    spent[0] += time.perf_counter() - start

            setattr(cb, name, timed)
    return callbacks


def build():
    keras.utils.set_random_seed(0)
    model = kr.models.vgg((28, 28, 1), 10, filters=HYP["filters"], convs_per_stage=1,
                          order="conv-bn-act", head="gap", dense_units=())
    model.compile(keras.optimizers.SGD(HYP["lr"], momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=4, help="alternating pairs of fits")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per fit; the first is warm-up")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 pair of 2-epoch fits on 2,000 images")
    parser.add_argument("--results", default=os.path.join(RESULTS_DIR, "overhead.jsonl"))
    args = parser.parse_args()
    if args.quick:
        args.repeats, args.epochs = 1, 2
        HYP.update(train=2000, val=500)
    load_before = loadavg()
    (x, y), _ = kr.datasets.fashion_mnist()
    x = x.reshape(-1, 28, 28, 1).astype("float32") / 255.0
    n, v = HYP["train"], HYP["val"]
    train, val = (x[:n], y[:n]), (x[n:n + v], y[n:n + v])
    times = {"plain": [], "recipe": []}
    cpu = {"plain": [], "recipe": []}
    hooks, recipe_total = [0.0], 0.0
    for _ in range(args.repeats):
        for kind in ("plain", "recipe"):
            model = build()
            timer = EpochTimer()
            # begin-to-begin timing puts every callback's epoch-end work inside the epoch
            recipe = [] if kind == "plain" else time_hooks(kr.callbacks.recipe(patience=1, verbose=0), hooks)
            start = time.perf_counter()
            model.fit(*train, validation_data=val, batch_size=HYP["batch_size"], epochs=args.epochs,
                      verbose=0, callbacks=recipe + [timer])
            if kind == "recipe":
                recipe_total += time.perf_counter() - start
            times[kind] += timer.times[1:]  # the first epoch includes tracing
            cpu[kind] += timer.cpu[1:]
    med = {k: statistics.median(t) for k, t in times.items()}
    med_cpu = {k: statistics.median(t) for k, t in cpu.items()}
    ratio, ratio_cpu = med["recipe"] / med["plain"], med_cpu["recipe"] / med_cpu["plain"]
    hook_share = hooks[0] / recipe_total
    record = {"benchmark": "overhead", "hyp": HYP, "repeats": args.repeats, "epochs": args.epochs,
              "median_epoch_s": med, "median_epoch_cpu_s": med_cpu, "epoch_times_s": times,
              "epoch_cpu_s": cpu, "ratio_wall": ratio, "ratio_cpu": ratio_cpu,
              "recipe_hooks_s": hooks[0], "recipe_fit_s": recipe_total, "hook_share": hook_share,
              "quick": args.quick, "load_before": load_before, "load_after": loadavg(), "machine": machine_facts()}
    append_jsonl(args.results, [record])
    print(json.dumps(record))
    print(f"\n{'fit':<10}{'median epoch wall (s)':>23}{'median epoch CPU (s)':>22}{'epochs timed':>14}")
    for kind in times:
        print(f"{kind:<10}{med[kind]:>23.3f}{med_cpu[kind]:>22.3f}{len(times[kind]):>14}")
    print(f"ratio recipe/plain: wall {ratio:.4f} ({100 * (ratio - 1):+.2f}%), CPU {ratio_cpu:.4f} "
          f"({100 * (ratio_cpu - 1):+.2f}%)")
    print(f"time inside the recipe's hooks: {hooks[0]:.3f} s of {recipe_total:.1f} s of recipe fits "
          f"({100 * hook_share:.2f}%)")


if __name__ == "__main__":
    main()
