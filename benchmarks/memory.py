"""Evidence: resident memory over many fits in one process, for every training loop, on TensorFlow and JAX.

Each loop runs FITS fits of one small VGG-like net (1 epoch on 512 Fashion-MNIST
sample images, 256 for validation) in a fresh child process, `KERAS_BACKEND`
set for the backend:

- `search`: `tuning.random_search` trials (the package's tuner, which releases
  TensorFlow's traced gradients at the end of each trial);
- `recipe-keras`: `keras.backend.clear_session()` + `models.vgg` +
  `data.pipeline` (the "standard" augmentation) + `callbacks.recipe()` + fit;
- `recipe`: the same with `kerasrecipes.clear_session()`;
- `compare`: `experiments.compare` over FITS variants;
- `bare-keras`: the same conv net in bare Keras (`keras.Sequential`, NumPy
  arrays, no kerasrecipes in the loop), `keras.backend.clear_session()` + fit;
- `bare-kr`: that loop with `kerasrecipes.clear_session()` instead.

After every fit the child records, after `gc.collect()`: VmRSS; VmRSS again
after glibc's `malloc_trim(0)` (freed heap handed back, so the reading counts
what is alive rather than the allocator's cache); the number of objects
Python's collector tracks; the functions in TensorFlow's eager context; the
entries of TensorFlow's gradient registry (these two on TensorFlow only); and
JAX's live arrays (on JAX). Reported: growth per fit from fit 5 to the last
(the issue's measure), for RSS and trimmed RSS, and per fit for the counters.

    python benchmarks/memory.py                          # every loop, 30 fits, TF and JAX (~40 min on 2 busy cores)
    python benchmarks/memory.py --quick                  # 8 fits each
    python benchmarks/memory.py --loops recipe-keras,recipe --backends tensorflow

Prints a Markdown table for BENCHMARKS.md and appends one JSON line to
benchmarks/results/memory.jsonl (not with --quick).
"""

import argparse
import ctypes
import gc
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from _common import RESULTS_DIR, append_jsonl, loadavg, machine_facts, rss_mb  # noqa: E402

LOOPS = ("search", "recipe-keras", "recipe", "compare", "bare-keras", "bare-kr")
BACKENDS = ("tensorflow", "jax")
HYP = dict(
    fits=30,  # fits per loop (the 30; growth is read from fit 5)
    images=512,  # training images, 28x28; few, so memory rather than compute is measured
    val=256,  # validation images
    batch_size=128,
)
VGG = dict(filters=(8, 16), convs_per_stage=1, dense_units=(32,))  # the small VGG of every loop

try:
    _trim = ctypes.CDLL("libc.so.6").malloc_trim
except (OSError, AttributeError):  # not glibc: the trimmed column equals the plain one
    _trim = None


def _sample():
    import keras

    import kerasrecipes as kr

    (x, y), (xv, yv) = kr.datasets.fashion_mnist_sample()
    return keras.backend.backend(), x[: HYP["images"]], y[: HYP["images"]], xv[: HYP["val"]], yv[: HYP["val"]]


def _reading():
    """One row of the record: RSS, trimmed RSS and the counters, after a full collection."""
    import keras

    gc.collect()
    row = {"rss": rss_mb()}
    if _trim is not None:
        _trim(0)
    row["rss_trim"] = rss_mb()
    row["objects"] = len(gc.get_objects())
    if keras.backend.backend() == "tensorflow":
        from tensorflow.python.eager import context  # private: read only, to count the eager functions
        from tensorflow.python.framework import ops  # private: read only, the gradient registry's size

        row["ctx_functions"] = len(context.context().list_function_names())
        row["registry"] = len(getattr(getattr(ops, "_gradient_registry", None), "_registry", {}))
    else:
        import jax

        row["jax_live_arrays"] = len(jax.live_arrays())
    return row


def _bare_model():
    import keras

    return keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])


def run_loop(loop, fits):
    """Runs `loop` for `fits` fits in this process; returns one reading per fit."""
    import keras

    import kerasrecipes as kr
    from kerasrecipes import callbacks, data, experiments, models

    _, x, y, xv, yv = _sample()
    readings = []
    if loop == "search":
        from kerasrecipes.tuning import LogUniform, SearchSpace, random_search

        space = SearchSpace(factory=models.vgg, lr=LogUniform(1e-3, 1e-1), batch_size=HYP["batch_size"],
                            optimizer="sgd", **VGG)
        random_search(space, x, y, validation_data=(xv, yv), max_trials=fits, epochs=1,
                      directory=tempfile.mkdtemp(prefix="memory_search_"), seed=0, verbose=0,
                      progress=lambda event: readings.append(_reading()), callbacks=[])
    elif loop in ("recipe-keras", "recipe"):
        clear = keras.backend.clear_session if loop == "recipe-keras" else kr.clear_session
        for _ in range(fits):
            clear()
            model = models.vgg((28, 28, 1), 10, **VGG)
            model.compile(kr.optimizers.build("sgd", 0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
            model.fit(data.pipeline(x, y, HYP["batch_size"], augment="standard", seed=0),
                      validation_data=data.pipeline(xv, yv, HYP["batch_size"], shuffle=False), epochs=1,
                      callbacks=callbacks.recipe(verbose=0), verbose=0)
            del model
            readings.append(_reading())
    elif loop == "compare":
        def builder():  # called after compare's clear_session: the reading after the previous fit
            readings.append(_reading())
            return models.vgg((28, 28, 1), 10, **VGG)

        experiments.compare(builder, {str(i): {} for i in range(fits)}, ((x, y), (xv, yv)), epochs=1,
                            batch_size=HYP["batch_size"], optimizer="sgd", learning_rate=0.01)
        kr.clear_session()
        readings = readings[1:] + [_reading()]
    elif loop in ("bare-keras", "bare-kr"):
        clear = keras.backend.clear_session if loop == "bare-keras" else kr.clear_session
        xf, xvf = x.astype("float32") / 255.0, xv.astype("float32") / 255.0
        for _ in range(fits):
            clear()
            model = _bare_model()
            model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
            model.fit(xf, y, validation_data=(xvf, yv), batch_size=HYP["batch_size"], epochs=1, verbose=0)
            del model
            readings.append(_reading())
    else:
        raise ValueError(f"loop must be one of {', '.join(LOOPS)}. Received loop={loop!r}")
    return readings


def _growth(readings, key):
    if key not in readings[0]:
        return None
    return round((readings[-1][key] - readings[4][key]) / (len(readings) - 5), 3)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fits", type=int, default=HYP["fits"])
    parser.add_argument("--quick", action="store_true", help="8 fits per loop, nothing appended")
    parser.add_argument("--loops", default=",".join(LOOPS), help="comma-separated subset of " + ", ".join(LOOPS))
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated subset of tensorflow, jax")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--results", default=os.path.join(RESULTS_DIR, "memory.jsonl"))
    args = parser.parse_args()
    fits = 8 if args.quick else args.fits
    loops, backends = args.loops.split(","), args.backends.split(",")
    if fits < 6:
        parser.error(f"--fits must be >= 6 (growth is read from fit 5). Received fits={fits}")
    for name, chosen, valid in (("loops", loops, LOOPS), ("backends", backends, BACKENDS)):
        unknown = sorted(set(chosen) - set(valid))
        if unknown:
            parser.error(f"--{name} must be among {', '.join(valid)}. Received {', '.join(unknown)}")
    if args.child:
        print(json.dumps(run_loop(args.child, fits)))
        return

    rows, load = [], [loadavg()]
    for backend in backends:
        for loop in loops:
            env = {**os.environ, "KERAS_BACKEND": backend}
            out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", loop, "--fits", str(fits)],
                                 capture_output=True, text=True, env=env)
            if out.returncode != 0:
                print(f"{backend} {loop}: failed\n{out.stderr[-2000:]}", file=sys.stderr)
                rows.append({"backend": backend, "loop": loop, "failed": out.stderr.strip().splitlines()[-1:]})
                continue
            readings = json.loads(out.stdout.strip().splitlines()[-1])
            row = {"backend": backend, "loop": loop, "rss_fit5_mb": round(readings[4]["rss"], 1),
                   "rss_last_mb": round(readings[-1]["rss"], 1)}
            for key in ("rss", "rss_trim", "objects", "ctx_functions", "registry", "jax_live_arrays"):
                growth = _growth(readings, key)
                if growth is not None:
                    row[f"{key}_per_fit"] = growth
            row["readings"] = readings
            rows.append(row)
            load.append(loadavg())
            print(json.dumps({k: v for k, v in row.items() if k != "readings"}), flush=True)

    print(f"\n| backend | loop | RSS after fit 5 | after {fits} | RSS growth per fit | trimmed RSS per fit "
          "| Python objects per fit | TF functions / registry entries per fit |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        if "failed" in r:
            print(f"| {r['backend']} | `{r['loop']}` | failed: {r['failed']} |")
            continue
        tf_counts = (f"{r['ctx_functions_per_fit']:+.1f} / {r['registry_per_fit']:+.1f}"
                     if "registry_per_fit" in r else f"(JAX live arrays {r['jax_live_arrays_per_fit']:+.1f})")
        print(f"| {r['backend']} | `{r['loop']}` | {r['rss_fit5_mb']:.1f} MB | {r['rss_last_mb']:.1f} MB "
              f"| {r['rss_per_fit']:+.2f} MB | {r['rss_trim_per_fit']:+.2f} MB | {r['objects_per_fit']:+.0f} "
              f"| {tf_counts} |")
    record = {"benchmark": "memory", "hyp": {**HYP, "fits": fits, "vgg": VGG}, "rows": rows, "loadavg": load,
              "machine": machine_facts()}
    if not args.quick:
        append_jsonl(args.results, [record])


if __name__ == "__main__":
    main()
