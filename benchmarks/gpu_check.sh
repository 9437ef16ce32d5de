#!/usr/bin/env bash
# GPU check: kerasrecipes under KERAS_BACKEND=jax on a lent GPU machine, in under 5 minutes.
#
# Prints (and writes to $OUT/gpu_check.json when OUT is set):
#   1. the machine: jax devices, the GPU's compute capability, what precision.choose("auto") picks;
#   2. presets.fashion_mnist_fast (its 12 epochs, seed 0, precision "auto") on full Fashion-MNIST:
#      training seconds per epoch, test accuracy per epoch (reporting only), time to 93.5 %;
#   3. a 2-worker keras-tuner search (kerasrecipes.tuning.random_search(default_vgg_space(), workers=2),
#      TRIALS trials x 2 epochs on 12,000 images): trials per minute, wall clock, start-up included.
#
# The GPU image has JAX and PyTorch but no TensorFlow, and cannot download. So:
#   - Keras, keras-tuner and their two missing needs travel as wheels, and so does the data.
#     Prepare them here, once (PyPI reachable; the GPU image runs Python 3.12):
#       mkdir -p .git/info && echo /benchmarks/gpu_wheels/ >> .git/info/exclude
#       python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#         --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#         -d benchmarks/gpu_wheels keras==3.15.1 keras-tuner==1.4.8 kt-legacy==1.0.5 namex==0.1.0 optree==0.20.0
#       mkdir -p benchmarks/gpu_wheels/fashion-mnist && cp /usr/share/datasets/fashion-mnist/*.gz benchmarks/gpu_wheels/fashion-mnist/
#     (about 34 MB in all; never committed). The image already has numpy, ml-dtypes, h5py, rich, absl-py,
#     packaging, grpcio, protobuf, requests and matplotlib.
#   - Recipe.fit feeds a tf.data pipeline, which needs TensorFlow; this script trains the same recipe
#     (Recipe.build_model / compile / augmentation) on numpy arrays instead, the augmentation layer (Keras
#     preprocessing layers, which run under JAX without TensorFlow: checked here) in front of the model.
#   Then, with the device tool: run(command="bash benchmarks/gpu_check.sh", carry=["benchmarks/gpu_wheels"],
#   timeout_s=420).
#
# Here, on a CPU box, GPU_CHECK_SMOKE=1 runs the same code paths at toy size (2,000 images, 1 epoch,
# 2 trials of 1 epoch on 512 images); add GPU_CHECK_HIDE_TF=1 to run it as if TensorFlow were absent.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=benchmarks/gpu_wheels
if [ "${GPU_CHECK_SMOKE:-0}" != 1 ] && compgen -G "$WHEELS/*.whl" > /dev/null; then  # the smoke uses what is installed
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/gpu_check_site \
        "$WHEELS"/*.whl
    export PYTHONPATH="/tmp/gpu_check_site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1
# Two worker processes share one GPU: JAX must not take 75 % of its memory each at start-up.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
export GPU_CHECK_DATA="${GPU_CHECK_DATA:-$( [ -d $WHEELS/fashion-mnist ] && echo $WHEELS/fashion-mnist || echo /usr/share/datasets/fashion-mnist )}"
export GPU_CHECK_TRIALS="${GPU_CHECK_TRIALS:-8}"

PYTHON=python3
if [ "${GPU_CHECK_HIDE_TF:-0}" = 1 ]; then  # here only: a venv of this Python's packages less TensorFlow
    site=$(python3 -c "import site; print(site.getsitepackages()[0])")
    venv=/tmp/gpu_check_notf
    rm -rf "$venv" && python3 -m venv --without-pip "$venv"
    vsite=$("$venv/bin/python" -c "import site; print(site.getsitepackages()[0])")
    for f in "$site"/*; do
        case "$(basename "$f")" in tensorflow*|tensorboard*|tf_keras*|*.pth) ;; *) ln -s "$f" "$vsite/";; esac
    done
    PYTHON="$venv/bin/python"  # worker processes start from sys.executable, so they see no TensorFlow either
fi

# A file, not stdin: the search's worker processes import the parent's main script (as multiprocessing's
# spawn does), so it must exist on disk and do its work only under `if __name__ == "__main__"`.
script=$(mktemp /tmp/gpu_check_XXXX.py)
cat > "$script" <<'PY'
import json, os, tempfile, time

import numpy as np
import jax
import keras

import kerasrecipes
from kerasrecipes import presets, precision
from kerasrecipes.datasets import fashion_mnist
from kerasrecipes.tuning import default_vgg_space, random_search

SMOKE = os.environ.get("GPU_CHECK_SMOKE") == "1"
TARGET = 0.935


def main():
    start_all = time.perf_counter()
    report = {"smoke": SMOKE, "jax": jax.__version__, "keras": keras.__version__, "backend": keras.backend.backend(),
              "devices": [str(d) for d in jax.devices()], "capability": precision.gpu_capability(),
              "precision_auto": precision.choose()}
    try:
        import tensorflow  # noqa: F401
        report["tensorflow"] = tensorflow.__version__
    except ImportError:
        report["tensorflow"] = None
    print(json.dumps(report), flush=True)

    (x, y), (x_test, y_test) = fashion_mnist(os.environ["GPU_CHECK_DATA"])
    y, y_test = y.astype("int32"), y_test.astype("int32")
    if SMOKE:
        x, y, x_test, y_test = x[:2000], y[:2000], x_test[:500], y_test[:500]

    # 1. The preset, time to 93.5 %.
    recipe = presets.fashion_mnist_fast(seed=0, **({"epochs": 1} if SMOKE else {}))
    rows = []

    class EpochClock(keras.callbacks.Callback):  # epoch ends only: training seconds, then a reporting pass
        def __init__(self, net):
            super().__init__()
            self.net = net

        def on_train_begin(self, logs=None):
            self.train_s = 0.0

        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.train_s += time.perf_counter() - self.t
            acc = float((recipe.predict(self.net, x_test, tta=False).argmax(-1) == y_test).mean())
            rows.append({"epoch": epoch + 1, "train_s": round(self.train_s, 2), "test_acc": acc})
            print(f"  epoch {epoch + 1:>2}  {self.train_s:6.1f} s  test {acc:.4f}", flush=True)

    policy = recipe.policy()[0] if hasattr(recipe, "policy") else "?"
    how = "numpy arrays, the augmentation layer in the model"
    print(f"fashion_mnist_fast: {recipe.epochs} epochs, precision {policy}, {how}", flush=True)
    # Recipe.fit's tf.data pipeline is not used: it needs TensorFlow, and under JAX (TensorFlow present,
    # this session) its augmentation map failed ("Cannot convert a symbolic tf.Tensor"). The same recipe
    # on numpy arrays: Keras's preprocessing layers run under JAX, as the first layers of the model.
    if hasattr(recipe, "seed_everything"):
        recipe.seed_everything()
    net = recipe.build_model()
    aug = recipe.augmentation()
    model = keras.Sequential([keras.Input(tuple(recipe.input_shape)), aug, net]) if aug is not None else net
    recipe.compile(model, -(-len(x) // recipe.batch_size))
    model.fit(x.astype("float32") / np.float32(255.0), keras.utils.to_categorical(y, recipe.num_classes),
              batch_size=recipe.batch_size, epochs=recipe.epochs, shuffle=True, callbacks=[EpochClock(net)],
              verbose=0)
    hit = next((r for r in rows if r["test_acc"] >= TARGET), None)
    report["preset"] = {"policy": policy, "how": how, "epochs": rows, "time_to_93_5": hit and hit["train_s"],
                        "epoch_of_93_5": hit and hit["epoch"], "final_test_acc": rows[-1]["test_acc"],
                        "train_s": rows[-1]["train_s"]}
    print(f"preset: time to 93.5 %: {'%.1f s (epoch %d)' % (hit['train_s'], hit['epoch']) if hit else 'not reached'}; "
          f"final {rows[-1]['test_acc']:.4f} after {rows[-1]['train_s']:.1f} s", flush=True)
    kerasrecipes.clear_session()
    save(report)

    # 2. A 2-worker search: trials per minute (wall clock, the workers' start-up included).
    trials = 2 if SMOKE else int(os.environ["GPU_CHECK_TRIALS"])
    n, n_val = (512, 500) if SMOKE else (12000, 2000)
    xs = x[:n].astype("float32") / np.float32(255.0)
    xv = x[-n_val:].astype("float32") / np.float32(255.0)  # the end of the training split, never the test set
    t0 = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory() as directory:
            search = random_search(default_vgg_space(), xs, y[:n], validation_data=(xv, y[-n_val:]),
                                   max_trials=trials, epochs=1 if SMOKE else 2, directory=directory, seed=1,
                                   workers=2, callbacks=[], verbose=1)
            done = len(search.results())
    except Exception as e:  # report the preset's numbers even when the search cannot run here
        report["search"] = {"workers": 2, "error": f"{type(e).__name__}: {e}"}
        print(f"search: failed after {time.perf_counter() - t0:.1f} s: {type(e).__name__}: {e}", flush=True)
    else:
        wall = time.perf_counter() - t0
        report["search"] = {"workers": 2, "trials": trials, "done": done, "train_images": n, "wall_s": round(wall, 1),
                            "trials_per_minute": round(60 * done / wall, 2)}
        print(f"search: {done} trials in {wall:.1f} s with 2 workers: {60 * done / wall:.2f} trials per minute",
              flush=True)
    report["total_s"] = round(time.perf_counter() - start_all, 1)
    print(json.dumps(report), flush=True)
    save(report)
    return 0 if "error" not in report["search"] else 1


def save(report):
    if os.environ.get("OUT"):  # the device tool brings back what is under $OUT
        with open(os.path.join(os.environ["OUT"], "gpu_check.json"), "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    raise SystemExit(main())
PY
timeout "${GPU_CHECK_TIMEOUT:-280}" "$PYTHON" "$script"
