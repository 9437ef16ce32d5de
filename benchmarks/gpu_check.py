"""The GPU check: the product itself (`Recipe.fit`, the `train` command, a search) on a lent GPU under JAX.

Run through `benchmarks/gpu_check.sh` (which carries Keras and the data to a
machine without TensorFlow or a network). Prints one JSON line per result and
writes them all to `$OUT/gpu_check.json` after every part, so a part that runs
out of time leaves the others. Parts, in order of importance:

1. the machine and `execution.plan` (device, precision, input path);
2. `fashion_mnist_94` seed 0 through `Recipe.fit` with a cold compilation
   cache: compile seconds, steady epoch seconds, time to 93.5 % and 94 %
   (wall from the call, compile included; the per-epoch test accuracy is for
   reporting only and its time is left out), then the same with the cache warm,
   then with `input="host"` (batches copied per step) for the input-path ratio;
3. the hand-written PyTorch peer on the same GPU (`torch_peer_gpu.py`);
4. `kerasrecipes train --recipe fashion_mnist_94 --seed S` for S = 0, 1, 2:
   single, flips, ensemble + flips, from each run's `summary.json`;
5. a 2-worker search (`tuning.random_search`, workers=2 sharing the GPU): trials per minute.

Every warning is recorded; the count of XLA fallbacks ("Proceeding with
`jit_compile=False`", "XLA is off") is reported and must be 0.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np

SMOKE = os.environ.get("GPU_CHECK_SMOKE") == "1"
OUT = os.environ.get("OUT")
REPORT = {"smoke": SMOKE}
FALLBACKS = ("Proceeding with `jit_compile=False`", "XLA is off")


def save():
    print(json.dumps(REPORT)[-2000:], flush=True)
    if OUT:
        with open(os.path.join(OUT, "gpu_check.json"), "w") as f:
            json.dump(REPORT, f, indent=1)


def data():
    from kerasrecipes.datasets import fashion_mnist

    (x, y), (x_test, y_test) = fashion_mnist(os.environ.get("KERASRECIPES_DATA"))
    if SMOKE:
        return (x[:2048], y[:2048]), (x_test[:512], y_test[:512])
    return (x, y), (x_test, y_test)


def timed_fit(recipe, x, y, x_test, y_test):
    """`recipe.fit` with a per-epoch test accuracy (reporting only): rows of wall seconds from the call."""
    import keras

    rows, start, paused = [], time.perf_counter(), [0.0]

    class Clock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            t = time.perf_counter()
            wall = t - start - paused[0]  # training wall time so far: the reporting passes left out
            net = self.model.net if hasattr(self.model, "net") else self.model
            acc = float((recipe.predict(net, x_test, tta=False).argmax(-1) == y_test).mean())
            paused[0] += time.perf_counter() - t
            rows.append({"epoch": epoch + 1, "wall_s": round(wall, 2), "test_acc": round(acc, 4)})

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = recipe.fit(x, y, callbacks=[Clock()], verbose=0)
    fallbacks = [str(w.message) for w in caught if any(f in str(w.message) for f in FALLBACKS)]
    walls = [r["wall_s"] for r in rows]
    epochs = [b - a for a, b in zip([0.0] + walls[:-1], walls)]
    steady = float(np.median(epochs[1:])) if len(epochs) > 1 else None

    def reach(target):
        hit = next((r for r in rows if r["test_acc"] >= target), None)
        return hit and {"wall_s": hit["wall_s"], "epoch": hit["epoch"]}

    probs = recipe.predict(result.model, x_test, tta=True)
    ens = recipe.predict(result.ensemble(), x_test, tta=True) if result.ensemble_callback else probs
    return {"epochs": rows, "first_epoch_s": round(epochs[0], 2), "steady_epoch_s": steady and round(steady, 3),
            "compile_s_estimate": steady and round(epochs[0] - steady, 2), "to_93_5": reach(0.935),
            "to_94": reach(0.94), "final_single": rows[-1]["test_acc"],
            "single_flips": round(float((probs.argmax(-1) == y_test).mean()), 4),
            "ensemble_flips": round(float((ens.argmax(-1) == y_test).mean()), 4),
            "xla_fallback_warnings": fallbacks}


def part_machine():
    import jax
    import keras

    from kerasrecipes import execution, presets

    REPORT["machine"] = {"jax": jax.__version__, "keras": keras.__version__, "backend": keras.backend.backend(),
                         "devices": [str(d) for d in jax.devices()],
                         "tensorflow_importable": _importable("tensorflow"),
                         "plan": execution.plan(presets.fashion_mnist_94()).to_dict()}


def part_preset(x, y, x_test, y_test):
    from kerasrecipes import presets
    from kerasrecipes.memory import clear_session

    epochs = {"epochs": 2} if SMOKE else {}
    for name, overrides in (("cold_device", {}), ("warm_device", {}), ("warm_host", {"input": "host"})):
        clear_session()
        REPORT[f"fit_{name}"] = timed_fit(presets.fashion_mnist_94(seed=0, **epochs, **overrides), x, y, x_test,
                                          y_test)
        save()


def part_torch():
    if SMOKE or not _importable("torch"):
        REPORT["torch_peer"] = "skipped"
        return
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_peer_gpu.py")
    start = time.perf_counter()
    proc = subprocess.run(["python3", script, os.environ["KERASRECIPES_DATA"]], capture_output=True, text=True,
                          timeout=150)
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    rows = [r for r in lines if "epoch" in r]
    walls = [r["train_s"] for r in rows]
    epochs = [b - a for a, b in zip([0.0] + walls[:-1], walls)]
    reach = lambda t: next(({"train_s": r["train_s"], "epoch": r["epoch"]} for r in rows if r["test_acc"] >= t), None)
    REPORT["torch_peer"] = {"rc": proc.returncode, "wall_s": round(time.perf_counter() - start, 1), "epochs": rows,
                            "first_epoch_s": epochs and round(epochs[0], 2),
                            "steady_epoch_s": len(epochs) > 1 and round(float(np.median(epochs[1:])), 3),
                            "to_93_5": reach(0.935), "to_94": reach(0.94),
                            "final": next((r for r in lines if r.get("final")), None),
                            "stderr": proc.stderr[-600:] if proc.returncode else ""}


def part_cli():
    results = []
    for seed in (0, 1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "run")
            cmd = [sys.executable, "-m", "kerasrecipes", "train", "--recipe", "fashion_mnist_94", "--dataset",
                   "fashion_mnist", "--seed", str(seed), "--out", out]
            start = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=200,
                                  env=dict(os.environ, **({"KERASRECIPES_SMOKE": "1"} if SMOKE else {})))
            row = {"seed": seed, "rc": proc.returncode, "wall_s": round(time.perf_counter() - start, 1)}
            if proc.returncode == 0:
                summary = json.load(open(os.path.join(out, "summary.json")))
                state = json.load(open(os.path.join(out, "run.json")))
                row.update(test=summary["test_accuracy"], train_s=summary["train_seconds"],
                           compile_s=state.get("compile_seconds"), steady_epoch_s=state.get("steady_epoch_seconds"),
                           execution=state.get("execution"), head=proc.stdout.splitlines()[:4])
                row["xla_fallback"] = any(f in proc.stderr for f in FALLBACKS)
            else:
                row["stderr"] = proc.stderr[-1500:]
            results.append(row)
            REPORT["cli_seeds"] = results
            save()


def part_search(x, y):
    import numpy as np

    from kerasrecipes.tuning import default_vgg_space, random_search

    trials = 2 if SMOKE else int(os.environ.get("GPU_CHECK_TRIALS", "4"))
    n, n_val = (512, 256) if SMOKE else (12000, 2000)
    xs = x[:n].astype("float32") / np.float32(255.0)
    xv = x[-n_val:].astype("float32") / np.float32(255.0)  # the end of the training split, never the test set
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as directory:
            search = random_search(default_vgg_space(), xs, y[:n], validation_data=(xv, y[-n_val:]),
                                   max_trials=trials, epochs=1 if SMOKE else 2, directory=directory, seed=1,
                                   workers=2, callbacks=[], verbose=1)
            done = len(search.results())
    except Exception as e:  # the other parts' numbers still count
        REPORT["search"] = {"workers": 2, "error": f"{type(e).__name__}: {e}"[:1000]}
        return
    wall = time.perf_counter() - start
    REPORT["search"] = {"workers": 2, "trials": trials, "done": done, "train_images": n, "wall_s": round(wall, 1),
                        "trials_per_minute": round(60 * done / wall, 2)}


def _importable(name):
    import importlib.util

    return importlib.util.find_spec(name) is not None


def main():
    start = time.perf_counter()
    part_machine()
    save()
    (x, y), (x_test, y_test) = data()
    for name, part in (("preset", lambda: part_preset(x, y, x_test, y_test)), ("torch", part_torch),
                       ("cli", part_cli), ("search", lambda: part_search(x, y))):
        t = time.perf_counter()
        try:
            part()
        except Exception as e:  # one part failing must not hide the others
            REPORT[f"{name}_error"] = f"{type(e).__name__}: {e}"[:1500]
        REPORT.setdefault("part_seconds", {})[name] = round(time.perf_counter() - t, 1)
        REPORT["total_s"] = round(time.perf_counter() - start, 1)
        save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
