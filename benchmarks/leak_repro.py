"""Minimal reproducer: `keras.backend.clear_session()` + fit in a loop grows resident memory on TensorFlow.

Bare Keras 3 + TensorFlow (no kerasrecipes), random data, ready to attach to an
upstream report. The same small conv net is built, compiled and fitted FITS
times in one process, `keras.backend.clear_session()` and `gc.collect()`
before every fit, in two fresh child processes:

- `clear_session`: that alone;
- `drop-registry`: the same, plus dropping the `CustomGradient-*` entries from
  TensorFlow's process-global gradient registry after each fit
  (`tensorflow.python.framework.ops._gradient_registry._registry`, a private
  dict). Keras's TF optimizer sums gradients through
  `tf.distribute.get_replica_context().all_reduce`, which under a traced
  train step is a `tf.custom_gradient`; TensorFlow registers each one under a
  fresh name and never removes it, and the registered function closes over
  the traced train step's graph, so every fit's graph stays alive.

Each child prints its resident memory (VmRSS) after every fit, then the
growth per fit from fit 5 to the last. The parent prints both columns side by
side and one JSON line.

    python benchmarks/leak_repro.py                 # 30 fits each, about 2 minutes on 2 CPU cores
    python benchmarks/leak_repro.py --fits 10

Expected on TF 2.21 / Keras 3.15 (CPU): `clear_session` grows by roughly a
megabyte per fit, `drop-registry` stays within noise.
"""

import argparse
import gc
import json
import os
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODES = ("clear_session", "drop-registry")


def _rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def _drop_custom_gradients():
    from tensorflow.python.framework import ops  # private: the registry has no public API

    registry = ops._gradient_registry._registry
    stale = [name for name in registry if name.startswith("CustomGradient-")]
    for name in stale:
        del registry[name]
    return len(stale)


def child(mode, fits):
    import keras
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.random((512, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 512)
    for i in range(1, fits + 1):
        keras.backend.clear_session()
        gc.collect()
        model = keras.Sequential([
            keras.Input((28, 28, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Conv2D(16, 3, activation="relu"),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(keras.optimizers.SGD(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x, y, batch_size=128, epochs=1, validation_split=0.25, verbose=0)
        del model
        dropped = _drop_custom_gradients() if mode == "drop-registry" else 0
        gc.collect()
        print(json.dumps({"fit": i, "rss_mb": round(_rss_mb(), 2), "dropped": dropped}), flush=True)
    print(json.dumps({"versions": {"tensorflow": tf.__version__, "keras": keras.__version__,
                                   "python": sys.version.split()[0]}}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fits", type=int, default=30, help="fits per mode (>= 6). Defaults to 30")
    parser.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fits < 6:
        parser.error(f"--fits must be >= 6 (growth is measured from fit 5). Received fits={args.fits}")
    if args.child:
        return child(args.child, args.fits)
    env = {**os.environ, "KERAS_BACKEND": "tensorflow"}
    runs, versions = {}, None
    for mode in MODES:
        out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", mode, "--fits", str(args.fits)],
                             capture_output=True, text=True, check=True, env=env).stdout
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        runs[mode] = {r["fit"]: r["rss_mb"] for r in lines if "fit" in r}
        versions = next(r["versions"] for r in lines if "versions" in r)
    print(f"{'fit':>4}" + "".join(f"{m + ' MB':>20}" for m in MODES))
    for i in range(1, args.fits + 1):
        print(f"{i:>4}" + "".join(f"{runs[m][i]:>20.1f}" for m in MODES))
    growth = {m: round((runs[m][args.fits] - runs[m][5]) / (args.fits - 5), 3) for m in MODES}
    print("MB per fit, fit 5 to fit %d: " % args.fits + ", ".join(f"{m} {g:+.3f}" for m, g in growth.items()))
    print(json.dumps({"benchmark": "leak_repro", "fits": args.fits, "mb_per_fit": growth, "versions": versions,
                      "rss": runs}))


if __name__ == "__main__":
    main()
