"""Cost of the diagnostics callbacks: epoch time with no callback, BatchLossRecorder, LayerStats.

BatchLossRecorder is the package's only per-batch hook (it turns off Keras's
async dispatch and syncs the loss every batch); LayerStats works at epoch ends.
Runs are interleaved (A, B, C, A, B, C, ...) so that load from other processes
hits every configuration alike. On a shared machine the minimum wall time is
the robust statistic (interference only ever adds time); the process CPU time
is reported too. Not run in CI.

    python benchmarks/diagnostics_overhead.py            # ~3 minutes on 2 CPU cores
"""

import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402

import kerasrecipes as kr  # noqa: E402

HYP = {
    "train_images": 4000,  # from the embedded Fashion-MNIST sample
    "batch_size": 64,  # 63 steps per epoch: enough batches for the per-batch hook to matter
    "filters": (16, 32),  # small VGG, head="gap": a CPU-sized model
    "repeats": 5,  # timed fits per configuration
    "epochs": 5,  # per fit: LayerStats builds its probe once per fit, as in real use
    "layer_stats_sample": 256,
}


def main():
    (x, y), _ = kr.datasets.fashion_mnist_sample()
    x = x[: HYP["train_images"]].astype("float32") / 255.0
    y = y[: HYP["train_images"]].astype("int32")
    keras.utils.set_random_seed(0)
    model = kr.models.vgg((28, 28, 1), 10, filters=HYP["filters"], head="gap")
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    configs = {
        "none": lambda: [],
        "BatchLossRecorder": lambda: [kr.callbacks.BatchLossRecorder()],
        "LayerStats": lambda: [kr.callbacks.LayerStats(sample=(x, y), sample_size=HYP["layer_stats_sample"],
                                                       at_start=False)],
    }
    for make in configs.values():  # warm-up: trace every train function once
        model.fit(x, y, epochs=1, batch_size=HYP["batch_size"], callbacks=make(), verbose=0)
    wall = {name: [] for name in configs}
    cpu = {name: [] for name in configs}
    for _ in range(HYP["repeats"]):
        for name, make in configs.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            model.fit(x, y, epochs=HYP["epochs"], batch_size=HYP["batch_size"], callbacks=make(), verbose=0)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    base_wall, base_cpu = min(wall["none"]), statistics.median(cpu["none"])
    result = {name: {"min_wall_s": round(min(wall[name]), 3),
                     "median_wall_s": round(statistics.median(wall[name]), 3),
                     "median_cpu_s": round(statistics.median(cpu[name]), 3),
                     "wall_overhead": round(min(wall[name]) / base_wall - 1, 4),
                     "cpu_overhead": round(statistics.median(cpu[name]) / base_cpu - 1, 4),
                     "wall_runs_s": [round(v, 3) for v in wall[name]]} for name in configs}
    print(json.dumps({"benchmark": "diagnostics_overhead", "hyp": HYP, "cpus": os.cpu_count(),
                      "backend": keras.backend.backend(), "result": result}))
    print(f"{'callback':20} {'min wall (s)':>12} {'median wall (s)':>15} {'median CPU (s)':>14} "
          f"{'wall +':>7} {'CPU +':>7}")
    for name, r in result.items():
        print(f"{name:20} {r['min_wall_s']:12.3f} {r['median_wall_s']:15.3f} {r['median_cpu_s']:14.3f} "
              f"{r['wall_overhead']:7.1%} {r['cpu_overhead']:7.1%}")


if __name__ == "__main__":
    main()
