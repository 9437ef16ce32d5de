"""`kerasrecipes train` and `kerasrecipes demo`: a `Recipe` trained into a run directory (`runs.train`)."""

import sys

from kerasrecipes.cli import flags, smoke

# The demo runs the measured recipe (BENCHMARKS.md): 12 epochs on the sample, ~110 s of training on 2 cores.
DEMO_RECIPE = "fashion_mnist_fast"
TRAIN_RECIPE = "factory"

DEMO_DESCRIPTION = (
    "Train the measured recipe fashion_mnist_fast (a 290k-parameter VGG with BatchNorm, Nesterov SGD under a "
    "one-cycle schedule, label smoothing, flips and pad-and-crop, an ensemble of the last 3 epochs) on the "
    "embedded real Fashion-MNIST sample, then print single model against ensemble and test-time flips on "
    "held-out data, and write the learning curves, diagnosis and HTML report into --out. About 2 minutes on 2 "
    "CPU cores. --recipe factory trains the factory's small VGG with halving on plateau, early stopping and a "
    "top-3 ensemble instead; every flag of train works here too.")
TRAIN_DESCRIPTION = (
    "Train a Recipe into the run directory --out: model.keras, history.json, summary.json, diagnosis.txt, "
    "proposal.json, ensemble.keras, report.html and run.json. Every setting and the data are checked before "
    "anything is written. Running the same command again after a kill resumes; into a complete directory it "
    "does nothing (--overwrite retrains, replacing the old files only once the new run has finished).")


def verbosity():
    return 1 if sys.stdout.isatty() else 2  # a progress bar on a terminal, a line per epoch in a log


def add_parsers(command):
    """Registers `demo` and `train` through `command(name, **kwargs) -> parser`."""
    demo = command(
        "demo", help="the main job: train the fashion_mnist_fast recipe on the embedded sample, offline",
        description=DEMO_DESCRIPTION,
        epilog="Examples:\n  kerasrecipes demo\n  kerasrecipes demo --dataset fashion_mnist --out runs/full"
        "\n  kerasrecipes demo --recipe factory --out runs/halving")
    demo.add_argument("--out", default="runs/demo", help="run directory (default: runs/demo)")
    train = command(
        "train", help="train any recipe or factory model; saves model, history, ensemble and report",
        description=TRAIN_DESCRIPTION,
        epilog="Examples:\n  kerasrecipes train --recipe fashion_mnist_fast --dataset fashion_mnist --out runs/fast"
        "\n  kerasrecipes train --dataset fashion_mnist --filters 32,64,128 --activation prelu --epochs 20 "
        "--out runs/prelu\n  kerasrecipes train --config my_run.json --out runs/mine\n\n"
        "--config FILE.json holds any of the recipe fields below (and \"recipe\") as a JSON object; flags "
        "override it.")
    train.add_argument("--out", required=True, help="run directory")
    train.add_argument("--config", help="JSON file of recipe fields (flags override it)")
    for sub, default_recipe in ((demo, DEMO_RECIPE), (train, TRAIN_RECIPE)):
        sub.add_argument("--overwrite", action="store_true", help="retrain into a directory that holds a complete run")
        flags.add_data_flags(sub.add_argument_group("data"))
        flags.add_budget_flag(sub.add_argument_group("time budget"))
        flags.add_recipe_flags(sub, default_recipe)
        sub.set_defaults(func=lambda args, r=default_recipe: run(args, r))


def run(args, default_recipe):
    from kerasrecipes import presets

    name, overrides = flags.recipe_from_args(args, default_recipe)
    overrides = smoke.overrides(overrides)
    recipe = presets.get(name, **overrides)  # every field checked here, before the data or any file
    data = smoke.data(flags.load_data(args))
    if args.minutes is not None:
        recipe, name = budget_recipe(args, data, overrides), "for_data"
    return train_and_print(args.out, recipe, data, name, overwrite=args.overwrite)


def train_and_print(out, recipe, data, name, *, overwrite=False, parent=None):
    """`runs.train` with the console lines of a command: the smoke note, the results, the files. Returns 0."""
    from kerasrecipes import runs

    smoke.announce(data, recipe)
    summary = runs.train(out, recipe, data, overwrite=overwrite, verbose=verbosity(), recipe_name=name,
                         parent=parent)
    print()
    print(runs.format_summary(summary, out))
    print(f"\nfiles in {out}: {', '.join(runs.files_written(out))}")
    return 0


def budget_recipe(args, data, overrides):
    """`--minutes M`: the recipe `sizing.for_data` sizes to the data and to M minutes on this machine."""
    from kerasrecipes import sizing

    if getattr(args, "recipe", None) is not None:
        raise ValueError("--minutes sizes its own recipe to the data and the time budget, so it cannot be used "
                         f"with --recipe. Received --recipe {args.recipe} --minutes {args.minutes:g}")
    shape = (data.input_shape, data.num_classes, len(data.x_train))
    if smoke.on():  # tiny and fast: the sizing rules without the timed steps
        print(f"KERASRECIPES_SMOKE=1: --minutes {args.minutes:g} sizes the recipe without timing it")
        return sizing.for_data(*shape, **overrides)
    print(f"sizing the recipe to {len(data.x_train)} images of {data.input_shape} and {args.minutes:g} minutes "
          "(timing a few training steps first)")
    return sizing.for_data(*shape, minutes=args.minutes, **overrides)


