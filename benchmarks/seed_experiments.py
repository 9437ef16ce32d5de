"""The four classic experiments (initializers, activations, BatchNorm placement, dropout; cs231n, Lee) on the embedded Fashion-MNIST sample: tables (JSON + text) and figures (PNG).

    python benchmarks/seed_experiments.py --out runs/seed_experiments            # all four, 5 epochs
    python benchmarks/seed_experiments.py --only initializers --epochs 3 --train 2000

Not run in CI: every variant trains a small VGG (16-32 filters, no BatchNorm
unless the experiment is about it) for `--epochs` epochs.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import kerasrecipes as kr  # noqa: E402

EXPERIMENTS = {
    "initializers": kr.experiments.compare_initializers,
    "activations": kr.experiments.compare_activations,
    "dropout": kr.experiments.compare_dropout,
    "batchnorm": kr.experiments.compare_batchnorm,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/seed_experiments")
    parser.add_argument("--only", choices=sorted(EXPERIMENTS), action="append")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train", type=int, default=8000, help="training images from the sample (max 8000)")
    parser.add_argument("--model", default="vgg", choices=("vgg", "mlp"))
    args = parser.parse_args()
    (x, y), (xv, yv) = kr.datasets.fashion_mnist_sample()
    data = ((x[: args.train], y[: args.train]), (xv, yv))
    os.makedirs(args.out, exist_ok=True)
    for name in args.only or EXPERIMENTS:
        start = time.perf_counter()
        result = EXPERIMENTS[name](data, epochs=args.epochs, model=args.model)
        result.figure().savefig(os.path.join(args.out, f"{name}.png"), dpi=90)
        with open(os.path.join(args.out, f"{name}.json"), "w") as f:
            json.dump(result.to_dict(), f)
        print(json.dumps({"experiment": name, "epochs": args.epochs, "train": args.train,
                          "seconds": round(time.perf_counter() - start, 1), "table": result.table}))
        print(result)


if __name__ == "__main__":
    main()
