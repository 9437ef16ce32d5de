"""Training images per second by input path, side by side in one run: where the augmentation runs, how data arrives.

For each backend, in its own subprocess, one recipe (`fashion_mnist_fast`,
its own precision on this machine) trains on the first N Fashion-MNIST images:

- TensorFlow, `tf.data (before)`: the path of kerasrecipes up to 0.1 at be3559f,
  a `data.pipeline` with the augmentation mapped on the host's threads in front
  of the compiled net;
- TensorFlow, `in step (after)`: `Recipe.prepare` (uint8 `ArrayBatches`, the
  augmentation inside the compiled step, `models.Augmented`);
- JAX, `host` and `device`: `Recipe.prepare` with `input="host"` (batches
  sliced from numpy and copied per step) and `input="device"` (the training set
  on the device once; on a CPU that is the host's memory seen by XLA).

Each configuration trains one warm-up epoch (compilation), then `--epochs`
timed epochs; the configurations alternate `--rounds` times and the best
round counts (load on a shared machine hits all alike). Appends one JSON line
to benchmarks/results/input_path.jsonl. Never run in CI.

    python benchmarks/input_path.py                       # 8,192 images, 2 epochs, 2 rounds, both backends
    python benchmarks/input_path.py --images 2048 --epochs 1 --rounds 1   # a smoke run
"""

import argparse
import json
import os
import subprocess
import sys
import time

from _common import RESULTS_DIR, append_jsonl, loadavg, machine_facts

CHILD = r"""
import json, os, sys, time
import numpy as np, keras
import kerasrecipes as kr
from kerasrecipes import presets
from kerasrecipes.recipe import one_hot
args = json.loads(sys.argv[1])
(x, y), _ = kr.datasets.fashion_mnist()
x, y = x[:args["images"]], y[:args["images"]].astype("int32")
backend = keras.backend.backend()

def tf_data(recipe):
    import tensorflow as tf
    from kerasrecipes.data import pipeline
    model = recipe.compile(recipe.build_model(), -(-len(x) // recipe.batch_size))
    ds = pipeline(x, y, recipe.batch_size, augment=recipe.augmentation(), shuffle=True, seed=0)
    ds = ds.map(lambda a, b: (a, tf.one_hot(b, 10)))
    return lambda epochs: model.fit(ds, epochs=epochs, verbose=0)

def in_step(recipe):
    training = recipe.prepare(x, y)
    return lambda epochs: training.fit(epochs=epochs, verbose=0)

configs = {"tensorflow": {"tf.data (before)": (tf_data, {}), "in step (after)": (in_step, {})},
           "jax": {"host": (in_step, {"input": "host"}), "device": (in_step, {"input": "device"})}}[backend]
built = {}
for name, (make, overrides) in configs.items():
    recipe = presets.fashion_mnist_fast(seed=0, **overrides)
    run = make(recipe)
    start = time.perf_counter()
    run(1)  # warm-up: tracing and compilation
    built[name] = (run, time.perf_counter() - start)
rows = {name: [] for name in configs}
for _ in range(args["rounds"]):
    for name, (run, _) in built.items():
        wall, cpu = time.perf_counter(), time.process_time()
        run(args["epochs"])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rows[name].append({"images_per_s": round(args["epochs"] * len(x) / wall, 1), "wall_s": round(wall, 2),
                           "cpu_s": round(cpu, 2)})
out = {name: {"best_images_per_s": max(r["images_per_s"] for r in rows[name]), "rounds": rows[name],
              "warmup_s": round(built[name][1], 1)} for name in configs}
print("RESULT " + json.dumps({"backend": backend, "precision": presets.fashion_mnist_fast().policy()[0],
                              "configs": out}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--backends", default="tensorflow,jax")
    args = parser.parse_args()
    record = {"benchmark": "input_path", "machine": machine_facts(), "load_start": loadavg(),
              "images": args.images, "epochs": args.epochs, "rounds": args.rounds, "results": []}
    for backend in args.backends.split(","):
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(vars(args))], capture_output=True, text=True,
                              env=env)
        line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
        if line is None:
            print(proc.stderr[-3000:], file=sys.stderr)
            continue
        result = json.loads(line[len("RESULT "):])
        result["wall_s"] = round(time.perf_counter() - start, 1)
        record["results"].append(result)
        for name, row in result["configs"].items():
            print(f"{backend:<11} {result['precision']:<15} {name:<18} {row['best_images_per_s']:>9,.0f} images/s "
                  f"(rounds: {', '.join(str(r['images_per_s']) for r in row['rounds'])}; warm-up {row['warmup_s']} s)")
    record["load_end"] = loadavg()
    append_jsonl(os.path.join(RESULTS_DIR, "input_path.jsonl"), [record])


if __name__ == "__main__":
    main()
