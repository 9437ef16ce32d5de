"""The `kerasrecipes` command: the main job and its friends from a shell.

`train` and `demo` get one flag per field of `Recipe` (`kerasrecipes.recipe`):
its name, type, default and help come from the field, so a new field is a new
flag. `--recipe NAME` picks the starting values (`presets.RECIPES`) and any
flag overrides a field. The data flags are `kerasrecipes.datasets.cli`'s,
shared by every subcommand. With `KERASRECIPES_SMOKE=1` in the environment
every command runs at tiny size (`_smoke`, the one place that decides it).

Heavy imports (TensorFlow, Keras) happen inside the commands, so `--help` and a
bad flag answer at once.
"""

import argparse
import dataclasses
import os
import sys

from kerasrecipes import _quiet
from kerasrecipes._args import OneLineParser, positive_int
from kerasrecipes._recipe_args import _add_recipe_flags, _number, data_flags_line, recipe_from_args

# The demo runs the measured recipe (BENCHMARKS.md): 12 epochs on the sample, ~110 s of training on 2 cores.
DEMO_RECIPE = "fashion_mnist_fast"
TRAIN_RECIPE = "factory"
RECIPE_NAMES = ("factory", "fashion_mnist_fast", "fashion_mnist_94")  # keys of presets.RECIPES (checked in tests)
SMOKE = {"train_images": 512, "test_images": 256, "epochs": 1, "lr_find_steps": 30}


def _smoke_on():
    return os.environ.get("KERASRECIPES_SMOKE") == "1"


def _smoke(data=None, overrides=None):
    """`KERASRECIPES_SMOKE=1`: ~512 training and ~256 test images, 1 epoch. The one place that shrinks runs."""
    if not _smoke_on():
        return data, overrides
    if data is not None:
        data = dataclasses.replace(data, x_train=data.x_train[:SMOKE["train_images"]],
                                   y_train=data.y_train[:SMOKE["train_images"]],
                                   x_test=data.x_test[:SMOKE["test_images"]], y_test=data.y_test[:SMOKE["test_images"]])
    if overrides is not None:
        overrides = {**overrides, "epochs": SMOKE["epochs"]}
    return data, overrides


# -- commands -----------------------------------------------------------------------------------------------

def _verbosity():
    return 1 if sys.stdout.isatty() else 2  # a progress bar on a terminal, a line per epoch in a log


def _train(args, default_recipe):
    from kerasrecipes import presets, runs
    from kerasrecipes.datasets import cli as data_cli

    name, overrides = recipe_from_args(args, default_recipe)
    data, overrides = _smoke(None, overrides)
    recipe = presets.get(name, **overrides)  # every field checked here, before the data or any file
    data, _ = _smoke(data_cli.from_args(args))
    if getattr(args, "minutes", None) is not None:
        recipe, name = _budget_recipe(args, data, overrides), "for_data"
    if _smoke_on():
        print(f"KERASRECIPES_SMOKE=1: tiny run ({len(data.x_train)} training and {len(data.x_test)} test images, "
              f"{recipe.epochs} epoch)")
    summary = runs.train(args.out, recipe, data, overwrite=args.overwrite, verbose=_verbosity(), recipe_name=name)
    print()
    print(runs.format_summary(summary))
    print(f"\nfiles in {args.out}: {', '.join(runs.files_written(args.out))}")
    return 0


def _budget_recipe(args, data, overrides):
    """`--minutes M`: the recipe `sizing.for_data` sizes to the data and to M minutes on this machine."""
    from kerasrecipes import sizing

    if getattr(args, "recipe", None) is not None:
        raise ValueError("--minutes sizes its own recipe to the data and the time budget, so it cannot be used "
                         f"with --recipe. Received --recipe {args.recipe} --minutes {args.minutes:g}")
    if _smoke_on():  # tiny and fast: the sizing rules without the timed steps
        print(f"KERASRECIPES_SMOKE=1: --minutes {args.minutes:g} sizes the recipe without timing it")
        return sizing.for_data(data.input_shape, data.num_classes, len(data.x_train), **overrides)
    print(f"sizing the recipe to {len(data.x_train)} images of {data.input_shape} and {args.minutes:g} minutes "
          "(timing a few training steps first)")
    return sizing.from_args(args, data, **overrides)


def _report(args):
    from kerasrecipes import report, runs

    if not os.path.isdir(args.run_dir):
        raise ValueError(f"{args.run_dir!r} is not a directory")
    if os.path.exists(os.path.join(args.run_dir, runs.HISTORY_FILE)):
        path = runs.write_report(args.run_dir)
    elif os.path.exists(os.path.join(args.run_dir, report.RUN_FILES["lr_find"])):
        path = report.lr_find_report(args.run_dir)
    else:
        raise ValueError(f"{args.run_dir!r} holds neither {runs.HISTORY_FILE} (a train or demo run) nor "
                         f"{report.RUN_FILES['lr_find']} (an lr-find run): nothing to report")
    print(f"wrote {path}")
    return 0


def _lr_find(args):
    import dataclasses

    from kerasrecipes import _io, lr_find, optimizers, presets
    from kerasrecipes.datasets import cli as data_cli
    from kerasrecipes.recipe import data_statistics, one_hot

    if not 0 < args.min_lr < args.max_lr:
        raise ValueError(f"need 0 < --min-lr < --max-lr. Received min_lr={args.min_lr!r}, max_lr={args.max_lr!r}")
    name, overrides = recipe_from_args(args, TRAIN_RECIPE)
    recipe = presets.get(name, **overrides)  # every field checked before the data or any file
    steps = min(args.steps, SMOKE["lr_find_steps"]) if _smoke_on() else args.steps
    data, _ = _smoke(data_cli.from_args(args))
    recipe = dataclasses.replace(recipe, input_shape=data.input_shape, num_classes=data.num_classes)
    x, y = data.x_train[: args.images], data.y_train[: args.images]
    recipe.seed_everything()
    # The recipe's own net, training model (augmentation in the step) and loss; the optimizer at a float LR
    # that the range test raises batch by batch (a schedule could not be moved).
    model = recipe.training_model(recipe.build_model(data_statistics(x) if recipe.normalize else None))
    model.compile(optimizers.build(recipe.optimizer, 1e-3, momentum=recipe.momentum,
                                   weight_decay=recipe.weight_decay),
                  keras_loss(recipe), jit_compile=recipe.jit_compile)
    result = lr_find(model, x, one_hot(y, recipe.num_classes), min_lr=args.min_lr, max_lr=args.max_lr,
                     steps=steps, batch_size=recipe.batch_size)
    record = {**result.to_dict(), "dataset": data.name, "images": len(x), "recipe_name": name,
              "recipe": recipe.to_dict(), "min_lr": args.min_lr, "max_lr": args.max_lr}
    png = os.path.join(args.out, "lr_find.png")
    figure = result.plot()
    _io.atomic_write(png, lambda f: figure.savefig(f, format="png", dpi=100), mode="wb")
    _io.write_json(os.path.join(args.out, "lr_find.json"), record)
    print(result.summary())
    print(f"wrote {png} and {os.path.join(args.out, 'lr_find.json')}; `kerasrecipes report {args.out}` makes "
          "the HTML page")
    if result.suggestion is not None:
        # The suggestion is an LR at this batch size; base_lr is the LR at base_batch_size (linear scaling rule).
        base_lr = float(result.suggestion) * recipe.base_batch_size / recipe.batch_size
        path = os.path.join(args.out, "recipe.json")
        fields = {k: v for k, v in recipe.to_dict().items() if k not in ("input_shape", "num_classes")}
        _io.write_json(path, {"recipe": name, **fields, "base_lr": base_lr})
        print(f"wrote {path} with base_lr {base_lr:.3g}; train it with:\n  kerasrecipes train --config {path} "
              f"{data_flags_line(args)} --out runs/lr_found")
    return 0


def keras_loss(recipe):
    """The recipe's loss: the categorical cross-entropy with its label smoothing (as `Recipe.compile`)."""
    import keras

    return keras.losses.CategoricalCrossentropy(label_smoothing=recipe.label_smoothing)


# -- the parser ---------------------------------------------------------------------------------------------

def _data_flags(parser):
    from kerasrecipes.datasets import cli as data_cli

    data_cli.add_arguments(parser.add_argument_group("data"))


def _budget_flags(parser):
    from kerasrecipes import sizing

    sizing.add_arguments(parser.add_argument_group("time budget"))


def build_parser():
    parser = OneLineParser(
        prog="kerasrecipes", allow_abbrev=False,
        description="Training recipes for deep CNNs, from the command line.",
        epilog="Examples:\n  kerasrecipes demo\n  kerasrecipes train --dataset fashion_mnist --order conv-act-bn "
        "--epochs 20 --out runs/fm\n  kerasrecipes report runs/fm",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    parser.commands = {}  # name -> subparser, so that main() reports stray arguments under the subcommand

    def command(name, **kwargs):
        parser.commands[name] = commands.add_parser(
            name, allow_abbrev=False, formatter_class=argparse.RawDescriptionHelpFormatter, **kwargs)
        return parser.commands[name]

    demo = command(
        "demo", help="the main job: train the fashion_mnist_fast recipe on the embedded sample, offline",
        description="Train the measured recipe fashion_mnist_fast (a 290k-parameter VGG with BatchNorm, Nesterov "
        "SGD under a one-cycle schedule, label smoothing, flips and pad-and-crop, an ensemble of the last 3 "
        "epochs) on the embedded real Fashion-MNIST sample, then print single model against ensemble and "
        "test-time flips on held-out data, and write the learning curves, diagnosis and HTML report into --out. "
        "About 2 minutes on 2 CPU cores. --recipe factory trains the factory's small VGG with halving on "
        "plateau, early stopping and a top-3 ensemble instead; every flag of train works here too.",
        epilog="Examples:\n  kerasrecipes demo\n  kerasrecipes demo --dataset fashion_mnist --out runs/full"
        "\n  kerasrecipes demo --recipe factory --out runs/halving")
    demo.add_argument("--out", default="runs/demo", help="run directory (default: runs/demo)")

    train = command(
        "train", help="train any recipe or factory model; saves model, history, ensemble and report",
        description="Train a Recipe into the run directory --out: model.keras, history.json, summary.json, "
        "diagnosis.txt, ensemble.keras, report.html and run.json. Every setting and the data are checked before "
        "anything is written. Running the same command again after a kill resumes; into a complete directory "
        "it does nothing (--overwrite retrains, replacing the old files only once the new run has finished).",
        epilog="Examples:\n  kerasrecipes train --recipe fashion_mnist_fast --dataset fashion_mnist --out runs/fast"
        "\n  kerasrecipes train --dataset fashion_mnist --filters 32,64,128 --activation prelu --epochs 20 "
        "--out runs/prelu\n  kerasrecipes train --config my_run.json --out runs/mine\n\n"
        "--config FILE.json holds any of the recipe fields below (and \"recipe\") as a JSON object; flags "
        "override it.")
    train.add_argument("--out", required=True, help="run directory")
    train.add_argument("--config", help="JSON file of recipe fields (flags override it)")
    for sub, default_recipe in ((demo, DEMO_RECIPE), (train, TRAIN_RECIPE)):
        sub.add_argument("--overwrite", action="store_true",
                         help="retrain into a directory that holds a complete run")
        _data_flags(sub)
        _budget_flags(sub)
        _add_recipe_flags(sub, default_recipe)
        sub.set_defaults(func=lambda args, r=default_recipe: _train(args, r))

    report = command(
        "report", help="write report.html for a run or lr-find directory",
        description="Write one self-contained HTML page for a directory written by train or demo (test accuracy, "
        "recipe settings, learning curves, diagnosis, confusion matrix) or by lr-find (the range test).",
        epilog="Example:\n  kerasrecipes report runs/demo")
    report.add_argument("run_dir", help="a directory written by `kerasrecipes train`, `demo` or `lr-find`")
    report.set_defaults(func=_report)

    from kerasrecipes.tuning import cli as search_cli

    search = search_cli.add_search_parser(commands)
    search.epilog = ("Examples:\n  kerasrecipes search --dataset sample --trials 30 --epochs 3 --refine 2 --dir runs/fm\n"
                     "  kerasrecipes search --dataset fashion_mnist --model mlp --trials 60 --epochs 2 --dir runs/mlp")
    search.set_defaults(func=search_cli.run_search)
    search.allow_abbrev = False  # no prefix matching anywhere
    parser.commands["search"] = search

    finder = command(
        "lr-find", help="the LR range test on a recipe: plot, lr_find.json, and recipe.json with the suggested base_lr",
        description="Raise the learning rate exponentially batch by batch (Smith 2017) on the recipe's own net, "
        "augmentation, loss and optimizer (the recipe flags of train; --recipe factory by default) and the chosen "
        "data, stop when the loss diverges, and write the loss-against-LR plot (lr_find.png), the numbers "
        "(lr_find.json) and the recipe with the suggested base_lr (recipe.json, for `train --config`).",
        epilog="Example:\n  kerasrecipes lr-find --dataset sample --out runs/lr\n  kerasrecipes report runs/lr"
        "\n  kerasrecipes train --config runs/lr/recipe.json --dataset sample --out runs/lr_found")
    _data_flags(finder)
    finder.add_argument("--images", type=positive_int, default=4096, help="training images used (default: 4096)")
    finder.add_argument("--min-lr", type=_number(float), default=1e-7, help="(default: 1e-7)")
    finder.add_argument("--max-lr", type=_number(float), default=10.0, help="(default: 10)")
    finder.add_argument("--steps", type=positive_int, default=100, help="batches (default: 100)")
    finder.add_argument("--out", default="runs/lr_find", help="output directory (default: runs/lr_find)")
    finder.add_argument("--config", help="JSON file of recipe fields (flags override it)")
    _add_recipe_flags(finder, TRAIN_RECIPE)
    finder.set_defaults(func=_lr_find)
    return parser


def main(argv=None):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # argparse would blame "kerasrecipes"; the subcommand's parser names itself
        parser.commands.get(getattr(args, "command", None), parser).error(
            f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except ValueError as e:
        message = " ".join(str(e).split())  # one line, whatever the exception held
        print(f"kerasrecipes {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"kerasrecipes {args.command}: interrupted; finished files are kept, run the same command again "
              "to resume", file=sys.stderr)
        return 130
    except Exception:
        _quiet.dump_parked()  # an unexpected failure: show what native code said too
        raise
