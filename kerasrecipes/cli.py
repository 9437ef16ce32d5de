"""The `kerasrecipes` command: the main job and its friends from a shell.

Heavy imports (TensorFlow, Keras) happen inside the commands, so `--help` and a
bad flag answer at once.
"""

import argparse
import json
import os
import sys

from kerasrecipes import _quiet, runs
from kerasrecipes._args import OneLineParser, positive_int


def _int_tuple(text):
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    return values


def _optional(kind):
    def parse(text):
        return None if text.lower() in ("none", "") else kind(text)

    parse.__name__ = kind.__name__
    return parse


# Flag -> (type, help). Every key of runs.DEFAULTS is a flag of `train`.
_TRAIN_FLAGS = {
    "dataset": (str, "sample (embedded, offline), fashion_mnist (Debian's dataset-fashion-mnist), mnist, cifar10"),
    "recipe": (_optional(str), "a named recipe (fashion_mnist_fast, fashion_mnist_94) that sets model, "
               "optimizer, one-cycle schedule, augmentation and ensemble; epochs, batch-size and k keep the "
               "recipe's values unless set, and only they, flip, seed and the data flags combine with it; "
               "none: build from the flags below"),
    "preset": (_optional(str), "vgg11, vgg13, vgg16 or vgg19 stage layout"),
    "filters": (_int_tuple, "filters per stage, e.g. 32,64,128"),
    "convs_per_stage": (_int_tuple, "3x3 convolutions per stage: one number, or one per stage"),
    "order": (str, "unit order: conv-bn-act, conv-act-bn, conv-act, conv-drop-act, conv-bn-act-drop"),
    "activation": (str, "relu, leaky_relu, prelu, rrelu, elu, selu, gelu, swish, tanh, sigmoid, maxout"),
    "kernel_initializer": (str, "auto, zeros, small_random, glorot, he, lecun or a Keras initializer name"),
    "dropout": (float, "dropout rate of the conv units"),
    "dense_units": (_int_tuple, "hidden dense layers of the head, e.g. 256,128 (empty: none)"),
    "dense_dropout": (float, "dropout rate of the head"),
    "head": (str, "flatten or gap"),
    "pooling": (str, "max, avg or stride"),
    "weight_decay": (_optional(float), "L2 coefficient on every kernel"),
    "l1": (_optional(float), "L1 coefficient on every kernel"),
    "max_norm": (_optional(float), "max-norm constraint on every unit's weights (3 or 4)"),
    "optimizer": (str, "adam or sgd (Nesterov momentum)"),
    "lr": (float, "initial learning rate"),
    "momentum": (float, "SGD momentum"),
    "batch_size": (positive_int, "images per step"),
    "epochs": (positive_int, "most epochs (early stopping may end sooner)"),
    "augment": (str, "none, light (flip + pad-and-crop), standard (+ cutout), strong (+ colour)"),
    "flip": (lambda t: t.lower() in ("1", "true", "yes"), "horizontal flips in augmentation and TTA (false for digits)"),
    "mixup": (_optional(float), "MixUp Beta alpha, e.g. 0.2"),
    "ensemble": (_optional(str), "top_k, snapshot, every or none"),
    "k": (positive_int, "ensemble members"),
    "patience": (positive_int, "epochs without progress before the LR is halved"),
    "val_fraction": (float, "fraction of the training set held out for validation"),
    "train_limit": (_optional(int), "use only the first N training images"),
    "seed": (int, "random seed"),
}

# The demo runs the measured preset (BENCHMARKS.md): 12 epochs on the sample, 110 s of training on 2 cores.
DEMO_DEFAULTS = {"recipe": "fashion_mnist_fast", "train_limit": None}  # epochs: the recipe's own


def _add_train_flags(parser, defaults):
    for key, (kind, text) in _TRAIN_FLAGS.items():
        default = defaults.get(key, runs.DEFAULTS[key])
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        parser.add_argument("--" + key.replace("_", "-"), dest=key, type=kind, default=argparse.SUPPRESS,
                            help=f"{text} (default: {shown})")


def _config_from(args, defaults):
    config = dict(defaults)
    if getattr(args, "config", None):
        config.update(runs.load_config(args.config))
    config.update({key: getattr(args, key) for key in _TRAIN_FLAGS if hasattr(args, key)})
    return runs.check_config(config)


def _verbosity():
    return 1 if sys.stdout.isatty() else 2  # a progress bar on a terminal, a line per epoch in a log


def _train(args, defaults):
    config = _config_from(args, defaults)
    summary = runs.train(args.out, config, verbose=_verbosity())
    print()
    print(runs.format_summary(summary))
    print(f"\nwrote {args.out}: model.keras, history.json, summary.json, diagnosis.txt"
          + (", ensemble.keras" if os.path.exists(os.path.join(args.out, "ensemble.keras")) else "")
          + ", report.html")
    return 0


def _report(args):
    if not os.path.isdir(args.run_dir):
        raise ValueError(f"{args.run_dir!r} is not a directory")
    path = runs.write_report(args.run_dir)
    print(f"wrote {path}")
    return 0


def _lr_find(args):
    import keras

    from kerasrecipes import lr_find, models

    config = runs.check_config({"dataset": args.dataset})
    (x, y), _ = runs.load_dataset(config["dataset"])
    x = x[: args.images].astype("float32") / 255.0
    y = y[: args.images]
    model = models.vgg(x.shape[1:], int(y.max()) + 1, filters=tuple(args.filters), order=args.order)
    model.compile(keras.optimizers.Adam() if args.optimizer == "adam" else keras.optimizers.SGD(momentum=0.9),
                  "sparse_categorical_crossentropy")
    result = lr_find(model, x, y, min_lr=args.min_lr, max_lr=args.max_lr, steps=args.steps,
                     batch_size=args.batch_size)
    os.makedirs(args.out, exist_ok=True)
    figure = result.plot()
    figure.savefig(os.path.join(args.out, "lr_find.png"), dpi=100)
    print(json.dumps({"suggestion": result.suggestion, "steps": len(result.lrs)}))
    print(f"wrote {os.path.join(args.out, 'lr_find.png')}")
    return 0


def build_parser():
    parser = OneLineParser(
        prog="kerasrecipes",
        description="Training recipes for deep CNNs, from the command line.",
        epilog="Examples:\n  kerasrecipes demo\n  kerasrecipes train --dataset fashion_mnist --order conv-act-bn "
        "--epochs 20 --out runs/fm\n  kerasrecipes report runs/fm",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)

    demo = commands.add_parser(
        "demo",
        help="the main job: train the fashion_mnist_fast recipe on the embedded sample, offline",
        description="Train the measured preset presets.fashion_mnist_fast (a 290k-parameter VGG with "
        "BatchNorm, Nesterov SGD under a one-cycle schedule, label smoothing, flips and pad-and-crop, an "
        "ensemble of the last 3 epochs) on the embedded real Fashion-MNIST sample, then print single model "
        "against ensemble and test-time flips on held-out data, and write the learning curves, diagnosis "
        "and HTML report into --out. About 2 minutes on 2 CPU cores. --recipe none trains the factory's "
        "small VGG with halving on plateau, early stopping and a top-3 ensemble instead.",
        epilog="Examples:\n  kerasrecipes demo\n  kerasrecipes demo --dataset fashion_mnist --out runs/full"
        "\n  kerasrecipes demo --recipe none --out runs/halving",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("--dataset", choices=("sample", "fashion_mnist"), default=argparse.SUPPRESS,
                      help="the embedded 10k-image sample (default) or the full set from dataset-fashion-mnist")
    demo.add_argument("--epochs", type=positive_int, default=argparse.SUPPRESS,
                      help="epochs (default: the recipe's, 12 for fashion_mnist_fast; 10 with --recipe none)")
    demo.add_argument("--recipe", type=_optional(str), metavar="NAME", default=argparse.SUPPRESS,
                      help="the preset to train: fashion_mnist_fast, fashion_mnist_94 (15 epochs in bfloat16), "
                      f"or none for the factory VGG with halving (default: {DEMO_DEFAULTS['recipe']})")
    demo.add_argument("--out", default="runs/demo", help="run directory (default: runs/demo)")
    demo.add_argument("--seed", type=int, default=argparse.SUPPRESS, help="random seed (default: 0)")
    demo.set_defaults(func=lambda args: _train(args, DEMO_DEFAULTS))

    train = commands.add_parser(
        "train",
        help="train any factory model with the recipe; saves model, history, ensemble and report",
        description="Train a VGG from the factory with any of its options, the augmenting pipeline and the "
        "recipe callbacks. Writes model.keras, history.json, summary.json, diagnosis.txt, ensemble.keras "
        "and report.html into --out. Running again into the same --out after a kill resumes.",
        epilog="Examples:\n  kerasrecipes train --dataset fashion_mnist --preset vgg11 --filters 32,64,128,128,128 "
        "--epochs 20 --out runs/vgg11\n  kerasrecipes train --config my_run.json --out runs/mine\n\n"
        "--config FILE.json holds any of the settings below as a JSON object; flags override it.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument("--out", required=True, help="run directory")
    train.add_argument("--config", help="JSON file of settings (flags override it)")
    _add_train_flags(train, {})
    train.set_defaults(func=lambda args: _train(args, {}))

    report = commands.add_parser(
        "report", help="write report.html for a run directory",
        description="Write one self-contained HTML page (learning curves, diagnosis, LR finder and layer "
        "statistics where present) for a run directory written by train or demo.",
        epilog="Example:\n  kerasrecipes report runs/demo", formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("run_dir", help="a directory written by `kerasrecipes train` or `demo`")
    report.set_defaults(func=_report)

    from kerasrecipes.tuning import cli as search_cli

    search = search_cli.add_search_parser(commands)
    search.epilog = ("Examples:\n  kerasrecipes search --dataset sample --trials 30 --epochs 3 --refine 2 --dir runs/fm\n"
                     "  kerasrecipes search --dataset fashion_mnist --model mlp --trials 60 --epochs 2 --dir runs/mlp")
    search.set_defaults(func=search_cli.run_search)

    finder = commands.add_parser(
        "lr-find", help="the LR range test on a small VGG: plot and suggested learning rate",
        description="Raise the learning rate exponentially batch by batch (Smith 2017) on a small VGG and "
        "the chosen data, stop when the loss diverges, and write the loss-against-LR plot and the suggestion.",
        epilog="Example:\n  kerasrecipes lr-find --dataset sample --out runs/lr",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    finder.add_argument("--dataset", default="sample", help="sample, fashion_mnist, mnist or cifar10 (default: sample)")
    finder.add_argument("--images", type=positive_int, default=4096, help="training images used (default: 4096)")
    finder.add_argument("--filters", type=_int_tuple, default=(32, 64), help="filters per stage (default: 32,64)")
    finder.add_argument("--order", default="conv-bn-act", help="unit order (default: conv-bn-act)")
    finder.add_argument("--optimizer", choices=("adam", "sgd"), default="adam", help="(default: adam)")
    finder.add_argument("--min-lr", type=float, default=1e-7, help="(default: 1e-7)")
    finder.add_argument("--max-lr", type=float, default=10.0, help="(default: 10)")
    finder.add_argument("--steps", type=positive_int, default=100, help="batches (default: 100)")
    finder.add_argument("--batch-size", type=positive_int, default=64, help="(default: 64)")
    finder.add_argument("--out", default="runs/lr_find", help="output directory (default: runs/lr_find)")
    finder.set_defaults(func=_lr_find)
    return parser


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except ValueError as e:
        print(f"kerasrecipes {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"kerasrecipes {args.command}: interrupted; finished files are kept, run again to resume",
              file=sys.stderr)
        return 130
    except Exception:
        _quiet.dump_parked()  # an unexpected failure: show what native code said too
        raise
