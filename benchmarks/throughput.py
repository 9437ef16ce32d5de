"""Throughput of the factory models against the machine's own float32 matmul peak.

For each backend (TensorFlow, and JAX where installed) a fresh subprocess times
training and inference of VGG factory models at a few sizes on synthetic
Fashion-MNIST-shaped batches, counts each model's FLOPs from its layers
(`kerasrecipes.models.count_flops`), and reports achieved FLOP/s as a fraction
of the float32 matrix-multiply peak measured in the same run (numpy/OpenBLAS
and the backend's own matmul). Never run in CI.

    python benchmarks/throughput.py                # both backends, all sizes
    python benchmarks/throughput.py --steps 20 --backends tensorflow
    python benchmarks/throughput.py --quick        # a one-minute smoke run

Appends one JSON line (with the machine's facts and load average) to
benchmarks/results/throughput.jsonl.
"""

import argparse
import json
import os
import subprocess
import sys
import time

from _common import RESULTS_DIR, append_jsonl, loadavg, machine_facts

# Sizes: name -> vgg kwargs. "fm290k" is the ~290k-parameter VGG of DEVELOPERS.md.
SIZES = {
    "small": dict(filters=(16, 32, 64), convs_per_stage=1, head="gap", dense_units=()),
    "fm290k": dict(filters=(32, 64, 128), convs_per_stage=2, head="gap", dense_units=()),
    "wide": dict(filters=(64, 128, 256), convs_per_stage=2, head="gap", dense_units=()),
}
BATCH = 128  # images per step
MATMUL_SIZES = (1024, 2048, 4096)  # the peak is the best of these


def matmul_peak(backend=False, repeats=5):
    """Best float32 GFLOP/s of n x n matmuls over MATMUL_SIZES, all cores.

    With numpy (OpenBLAS) by default; through `keras.ops.matmul` on the current
    backend (the result brought back to the host) with `backend=True`.
    """
    import numpy as np

    if backend:
        import keras

        def multiply(a, b):
            return keras.ops.convert_to_numpy(keras.ops.matmul(a, b))

        to_input = keras.ops.convert_to_tensor
    else:
        multiply, to_input = np.matmul, np.asarray
    best = 0.0
    for n in MATMUL_SIZES:
        a = to_input(np.random.default_rng(0).random((n, n), dtype=np.float32))
        b = to_input(np.random.default_rng(1).random((n, n), dtype=np.float32))
        multiply(a, b)  # warm-up
        for _ in range(repeats):
            start = time.perf_counter()
            multiply(a, b)
            best = max(best, 2 * n**3 / (time.perf_counter() - start) / 1e9)
    return best


def _inference_images_per_s(model, batch, steps):
    """Images/s of the compiled predict step: the median of `steps` timed `predict_on_batch` calls.

    `predict`'s own loop (iterator, callbacks, concatenation) made these timings
    swing 2x between runs; one batch through the traced step, medianed, does not.
    """
    import numpy as np

    model.predict_on_batch(batch)  # trace
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        model.predict_on_batch(batch)  # returns numpy: the step has finished
        seconds.append(time.perf_counter() - start)
    return len(batch) / float(np.median(seconds))


def measure_backend(steps):
    """Runs inside a subprocess whose KERAS_BACKEND is already set."""
    import keras
    import numpy as np

    from kerasrecipes import optimizers
    from kerasrecipes.models import count_flops, vgg

    rng = np.random.default_rng(0)
    x = rng.random((BATCH * steps, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, BATCH * steps)
    rows = []
    for size, kwargs in SIZES.items():
        keras.utils.set_random_seed(0)
        model = vgg((28, 28, 1), 10, order="conv-bn-act", **kwargs)
        model.compile(optimizers.build("sgd", 0.01, momentum=0.9), "sparse_categorical_crossentropy")
        flops = count_flops(model)
        model.fit(x[: BATCH * 3], y[: BATCH * 3], batch_size=BATCH, epochs=1, verbose=0)  # compile/warm up
        start, cpu_start = time.perf_counter(), time.process_time()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        train_s, train_cpu_s = time.perf_counter() - start, time.process_time() - cpu_start
        train_ips = BATCH * steps / train_s
        infer_ips = _inference_images_per_s(model, x[:BATCH], steps)
        rows.append({
            "size": size, "params": model.count_params(), "mflops_per_image": flops / 1e6,
            "train_images_per_s": train_ips, "infer_images_per_s": infer_ips,
            # CPU seconds beside wall seconds: how much of the timed fit was this process's own work.
            "train_s": train_s, "train_cpu_s": train_cpu_s,
            # A training step is about 3 forward passes of FLOPs.
            "train_gflops": 3 * flops * train_ips / 1e9, "infer_gflops": flops * infer_ips / 1e9,
        })
    return {"backend": keras.backend.backend(), "backend_matmul_gflops": matmul_peak(backend=True),
            "facts": machine_facts(), "models": rows}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40, help="timed steps of %d images per model" % BATCH)
    parser.add_argument("--backends", default="tensorflow,jax")
    parser.add_argument("--quick", action="store_true", help="smoke run: 5 steps per model")
    parser.add_argument("--results", default=os.path.join(RESULTS_DIR, "throughput.jsonl"))
    parser.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._child:
        print(json.dumps(measure_backend(args.steps)))
        return
    if args.quick:
        args.steps = 5
    load_before = loadavg()
    peak = matmul_peak()
    results = {"benchmark": "throughput", "numpy_matmul_gflops": peak, "cores": os.cpu_count(),
               "steps": args.steps, "batch": BATCH, "quick": args.quick, "load_before": load_before,
               "backends": []}
    for backend in args.backends.split(","):
        env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3", "JAX_PLATFORMS": "cpu"}
        proc = subprocess.run([sys.executable, __file__, "--_child", "--steps", str(args.steps)],
                              env=env, capture_output=True, text=True)
        if proc.returncode:
            print(f"{backend}: failed\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        results["backends"].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    # The machine's peak is the best float32 matmul any library reached in this run.
    peak = max([peak] + [b["backend_matmul_gflops"] for b in results["backends"]])
    results["peak_gflops"] = peak
    results["load_after"] = loadavg()
    append_jsonl(args.results, [results])
    print(json.dumps(results))
    print(f"\nfloat32 matmul peak, best of numpy ({results['numpy_matmul_gflops']:.0f}) and the backends, "
          f"{os.cpu_count()} cores: {peak:.0f} GFLOP/s")
    print(f"{'backend':<11}{'model':<8}{'params':>9}{'MFLOP/img':>10}{'train img/s':>12}{'infer img/s':>12}"
          f"{'train %peak':>12}{'infer %peak':>12}")
    for b in results["backends"]:
        for r in b["models"]:
            print(f"{b['backend']:<11}{r['size']:<8}{r['params']:>9,}{r['mflops_per_image']:>10.1f}"
                  f"{r['train_images_per_s']:>12.0f}{r['infer_images_per_s']:>12.0f}"
                  f"{100 * r['train_gflops'] / peak:>11.1f}%{100 * r['infer_gflops'] / peak:>11.1f}%")
        print(f"{b['backend']:<11}matmul peak through keras.ops: {b['backend_matmul_gflops']:.0f} GFLOP/s")
    print(f"load average {load_before} -> {results['load_after']}; appended to {args.results}")


if __name__ == "__main__":
    main()
