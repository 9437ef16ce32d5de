"""sizing.for_data under a time budget: how long training really takes, and the test accuracy it reaches.

Two datasets:

- `--data rgb32` (default): a 32x32 RGB folder dataset made from Fashion-MNIST,
  each image tinted by its own random per-channel gain drawn independently of
  its class (colour carries no label information), written as PNG/JPEG files
  and read back through `datasets.load_folder` with a separate `--test-dir`
  (training images from Fashion-MNIST's training set, test images from its
  test set);
- `--data fashion_mnist`: the full 60,000 / 10,000 images. With `--baseline`,
  `fashion_mnist_fast` (the hand-tuned preset) also runs at each budget, its
  epochs set by the same measured step time (at least 1, so it may overrun).

For each budget in `--minutes`: `for_data(..., minutes=M)` (which times a few
steps first), then `Recipe.fit` on the training images less `val_fraction`
held out for validation, timed, then test accuracy of the single model, with
test-time flips, and of the checkpoint ensemble with flips. One record per run
goes to benchmarks/results/for_data.jsonl with the machine facts and the load
average. Run it with:

    python benchmarks/for_data.py --data rgb32 --minutes 1 2
    python benchmarks/for_data.py --data fashion_mnist --minutes 2 5 15 --baseline
"""

import argparse
import dataclasses
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import RESULTS_DIR, append_jsonl, loadavg, machine_facts  # noqa: E402
from folder_loader import write_folder  # noqa: E402

HYP = {
    "train_images": 5_000,  # rgb32: files written from Fashion-MNIST's training set (1-2 min budgets, shared CPU)
    "test_images": 2_000,  # rgb32: from its test set
    "root": "/tmp/kerasrecipes_bench/for_data",
    "seed": 0,
}


def rgb32_data(root, train_images, test_images):
    from kerasrecipes import datasets

    (x, y), (x_test, y_test) = datasets.fashion_mnist()
    names = datasets.FASHION_MNIST_CLASSES
    write_folder(os.path.join(root, "train"), x[:train_images], y[:train_images], names, rgb32=True, seed=1)
    write_folder(os.path.join(root, "test"), x_test[:test_images], y_test[:test_images], names, rgb32=True, seed=2)
    return datasets.load_folder(os.path.join(root, "train"), (32, 32), "rgb",
                                test_dir=os.path.join(root, "test"), log=lambda m: None)


def budget_epochs(recipe, num_images, minutes):
    """Epochs of `recipe` that fit `minutes` by `sizing.measure` (at least 1): the baseline's budget rule."""
    from kerasrecipes import sizing

    per_step, startup = sizing.measure(recipe)
    fraction = float(getattr(recipe, "val_fraction", 0.0) or 0.0)
    steps = -(-round(num_images * (1 - fraction)) // recipe.batch_size)
    val = -(-round(num_images * fraction) // recipe.batch_size)
    epoch = per_step * (steps + sizing.VALIDATION_COST * val)
    return max(1, int((60 * minutes - startup) // epoch))


def run(recipe, data, label, minutes, seed):
    import kerasrecipes as kr
    from kerasrecipes.data import train_val_split

    fraction = float(getattr(recipe, "val_fraction", 0.1) or 0.1)
    (x_fit, y_fit), (x_val, y_val) = train_val_split(data.x_train, data.y_train, fraction, seed=seed)
    kr.clear_session()
    load_start = loadavg()
    start, cpu_start = time.perf_counter(), time.process_time()
    result = recipe.fit(x_fit, y_fit, validation_data=(x_val, y_val), verbose=0)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    accuracy = {
        "single": float(np.mean(recipe.predict(result.model, data.x_test, tta=False).argmax(-1) == data.y_test)),
        "single + TTA flips": float(np.mean(recipe.predict(result.model, data.x_test, tta=True).argmax(-1)
                                            == data.y_test)),
    }
    try:
        ensemble = result.ensemble()
        accuracy["ensemble + TTA flips"] = float(np.mean(recipe.predict(ensemble, data.x_test, tta=True)
                                                         .argmax(-1) == data.y_test))
    except ValueError:
        pass
    return {"recipe": label, "minutes": minutes, "train_seconds": round(seconds, 1),
            "train_cpu_seconds": round(cpu_seconds, 1),
            "budget_seconds": 60 * minutes, "epochs": recipe.epochs, "filters": list(recipe.filters),
            "batch_size": recipe.batch_size, "augment": recipe.augment, "test_accuracy": accuracy,
            "loadavg_start": load_start, "loadavg_end": loadavg()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", choices=("rgb32", "fashion_mnist"), default="rgb32")
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--baseline", action="store_true")
    parser.add_argument("--results", default=os.path.join(RESULTS_DIR, "for_data.jsonl"))
    args = parser.parse_args()

    from kerasrecipes import datasets, presets, sizing

    facts = machine_facts()
    if args.data == "rgb32":
        data = rgb32_data(HYP["root"], HYP["train_images"], HYP["test_images"])
    else:
        data = datasets.load("fashion_mnist")
    for minutes in args.minutes:
        lines = []
        start = time.perf_counter()
        try:
            recipe = sizing.for_data(data.input_shape, data.num_classes, len(data.x_train), minutes=minutes,
                                     log=lines.append, seed=HYP["seed"])
        except ValueError as e:  # a budget shorter than one epoch here: recorded, not hidden
            record = {"recipe": "for_data", "minutes": minutes, "declined": str(e), "data": args.data,
                      "sizing_seconds": round(time.perf_counter() - start, 1), "loadavg": loadavg(), "facts": facts}
            append_jsonl(args.results, [record])
            print({k: v for k, v in record.items() if k != "facts"}, flush=True)
            continue
        sizing_seconds = time.perf_counter() - start
        record = run(recipe, data, "for_data", minutes, HYP["seed"])
        record.update(data=args.data, train_images=len(data.x_train), test_images=len(data.x_test),
                      for_data_line=lines[0], sizing_seconds=round(sizing_seconds, 1), facts=facts)
        append_jsonl(args.results, [record])
        print({k: v for k, v in record.items() if k != "facts"}, flush=True)
        if args.baseline:
            base = presets.fashion_mnist_fast(input_shape=data.input_shape, num_classes=data.num_classes,
                                              seed=HYP["seed"])
            epochs = budget_epochs(base, len(data.x_train), minutes)
            base = dataclasses.replace(base, epochs=epochs, ensemble_k=min(base.ensemble_k, epochs))
            record = run(base, data, "fashion_mnist_fast", minutes, HYP["seed"])
            record.update(data=args.data, train_images=len(data.x_train), test_images=len(data.x_test), facts=facts)
            append_jsonl(args.results, [record])
            print({k: v for k, v in record.items() if k != "facts"}, flush=True)


if __name__ == "__main__":
    main()
