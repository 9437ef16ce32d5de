"""Images per second of kerasrecipes.data.pipeline(...) against what training consumes.

For each augmentation preset (and MixUp / CutMix on top of "standard") it times
iterating the prefetching tf.data pipeline alone over real Fashion-MNIST
(60,000 images, batch 128), then the training throughput of small factory VGGs
fed from the un-augmented pipeline on the same machine. The pipeline should
deliver at least 5x what training consumes. Never run in CI.

    nohup python benchmarks/pipeline.py > benchmarks/pipeline.log 2>&1 &
    python benchmarks/pipeline.py --batches 60 --train-steps 30   # quicker
"""

import argparse
import json
import os
import platform
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

HYP = {
    "batch_size": 128,  # images per batch, for the pipeline and for training
    "batches": 200,  # timed pipeline batches per configuration (after 20 warm-up batches)
    "train_steps": 60,  # timed training steps per model (after one warm-up epoch)
    "configs": {  # name -> pipeline(...) keyword arguments
        "none": {},
        "light": {"augment": "light"},
        "standard": {"augment": "standard"},
        "strong": {"augment": "strong"},
        "standard+mixup": {"augment": "standard", "mixup": 0.2},
        "standard+cutmix": {"augment": "standard", "cutmix": 1.0},
    },
    "models": {  # name -> kerasrecipes.models.vgg keyword arguments
        "vgg-small": dict(filters=(16, 32, 64), convs_per_stage=1, head="gap", dense_units=()),
        "vgg-fm290k": dict(filters=(32, 64, 128), convs_per_stage=2, head="gap", dense_units=()),
    },
}


def pipeline_rate(x, y, kwargs, batch_size, batches):
    from kerasrecipes.data import pipeline

    ds = pipeline(x, y, batch_size, seed=0, **kwargs).repeat()
    it = iter(ds)
    for _ in range(20):  # fill the prefetch buffer, trace the map function
        next(it)
    start = time.perf_counter()
    for _ in range(batches):
        images, _ = next(it)
    images.numpy()
    return batches * batch_size / (time.perf_counter() - start)


def training_rate(x, y, vgg_kwargs, batch_size, steps):
    import keras

    import kerasrecipes as kr

    model = kr.models.vgg((28, 28, 1), 10, **vgg_kwargs)
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "sparse_categorical_crossentropy")
    ds = kr.data.pipeline(x, y, batch_size, seed=0).repeat()
    times = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    # Epoch 1 traces and compiles the step; epoch 2 is the timed one.
    model.fit(ds, epochs=2, steps_per_epoch=steps, callbacks=[EpochTimer()], verbose=0)
    return steps * batch_size / times[-1], model.count_params()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=HYP["batches"])
    parser.add_argument("--train-steps", type=int, default=HYP["train_steps"])
    args = parser.parse_args()

    import keras
    import tensorflow as tf

    from kerasrecipes.datasets import fashion_mnist

    (x, y), _ = fashion_mnist()
    bs = HYP["batch_size"]
    results = {"machine": f"{platform.machine()} {os.cpu_count()} CPU cores, "
                          f"GPUs: {len(tf.config.list_physical_devices('GPU'))}",
               "backend": keras.backend.backend(), "tensorflow": tf.__version__, "keras": keras.__version__,
               "load_average_before": os.getloadavg()[0], "batch_size": bs, "pipeline": {}, "training": {}}
    for name, kwargs in HYP["configs"].items():
        results["pipeline"][name] = pipeline_rate(x, y, kwargs, bs, args.batches)
        print(f"pipeline {name:<16} {results['pipeline'][name]:>10,.0f} images/s", flush=True)
    for name, kwargs in HYP["models"].items():
        rate, params = training_rate(x, y, kwargs, bs, args.train_steps)
        results["training"][name] = {"images_per_s": rate, "params": params}
        print(f"training {name:<16} {rate:>10,.0f} images/s ({params:,} parameters)", flush=True)
    results["load_average_after"] = os.getloadavg()[0]
    fastest = max(t["images_per_s"] for t in results["training"].values())
    results["min_ratio_to_fastest_training"] = min(results["pipeline"].values()) / fastest

    print(json.dumps(results))
    print(f"\n{results['machine']}, {results['backend']} backend, batch {bs}, "
          f"load average {results['load_average_before']:.1f} -> {results['load_average_after']:.1f}")
    print(f"{'pipeline config':<18}{'images/s':>12}" + "".join(f"{'x ' + m:>16}" for m in results["training"]))
    for name, rate in results["pipeline"].items():
        ratios = "".join(f"{rate / t['images_per_s']:>16.1f}" for t in results["training"].values())
        print(f"{name:<18}{rate:>12,.0f}{ratios}")
    for name, t in results["training"].items():
        print(f"training {name:<9}{t['images_per_s']:>12,.0f}")


if __name__ == "__main__":
    main()
