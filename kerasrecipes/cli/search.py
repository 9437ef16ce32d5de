"""`kerasrecipes search`: a coarse-to-fine hyperparameter search from the command line.

Progress lines go to stderr; stdout gets one line, the best hyperparameters as
JSON, so the command composes with `jq` and friends. Results (CSV, JSON) and
plots (PNG) are written under `--dir`. The data and recipe flags are the ones
every subcommand shares (`kerasrecipes.cli.flags`); `KERASRECIPES_SMOKE=1` in
the environment shrinks the search to a tiny one (`kerasrecipes.cli.smoke`),
so the documented commands can be run as a test.
"""

import argparse
import dataclasses
import functools
import json
import os
import sys

from kerasrecipes.cli import flags, smoke
from kerasrecipes.cli.flags import non_negative_int, positive_int

MODELS = ("recipe", "vgg", "mlp")
SEARCH_RECIPE = "factory"  # the base recipe of `--model recipe`, as `kerasrecipes train`'s
# The search's own flags of these names: --epochs per coarse trial, --seed of the sampling and the trials.
NOT_RECIPE_FLAGS = ("epochs", "seed")
BEST_RECIPE_FILE = "best_recipe.json"

DESCRIPTION = """\
Log-space random search with keras-tuner, then --refine finer stages around the
best trials (ranges shrunk in log space, choices narrowed, epochs doubled).
Resumable: run the same command again after an interruption and it continues
(add --overwrite to start over). Progress goes to stderr; the best
hyperparameters are printed to stdout as JSON."""


def add_parser(command):
    """Registers `search` through `command(name, **kwargs) -> parser`; returns its parser."""
    parser = command("search", help="log-space random search with coarse-to-fine refinement",
                     description=DESCRIPTION,
                     epilog="Examples:\n  kerasrecipes search --dataset sample --trials 30 --epochs 3 --refine 2 "
                     "--dir runs/fm\n  kerasrecipes search --dataset fashion_mnist --model mlp --trials 60 "
                     "--epochs 2 --dir runs/mlp")
    flags.add_data_flags(parser.add_argument_group("data"))
    parser.add_argument("--model", choices=MODELS, default="recipe",
                        help="What is searched: recipe (default_recipe_space around the recipe of --recipe, "
                             "--config and the recipe flags; the winner is written to best_recipe.json for "
                             "`kerasrecipes train --config`), or the vgg / mlp factory's own space "
                             "(default_vgg_space / default_mlp_space). Default: %(default)s")
    parser.add_argument("--config", help="JSON file of recipe fields for the base recipe (flags override it)")
    parser.add_argument("--trials", type=positive_int, default=30,
                        help="Trials of the first, coarse stage. Default: %(default)s")
    parser.add_argument("--epochs", type=positive_int, default=3,
                        help="Epochs per coarse trial (each refine stage doubles it). Default: %(default)s")
    parser.add_argument("--refine", type=non_negative_int, default=0,
                        help="Number of refine stages after the coarse one. Default: %(default)s")
    parser.add_argument("--refine-trials", type=positive_int, default=None,
                        help="Trials of each refine stage. Default: a third of --trials (at least 1)")
    parser.add_argument("--top-k", type=positive_int, default=5,
                        help="Best trials whose values define the next stage's ranges. Default: %(default)s")
    parser.add_argument("--dir", default="runs/search",
                        help="Directory for the keras-tuner projects, results and plots. Default: %(default)s")
    parser.add_argument("--project", default="search",
                        help="Project name of the first stage (refine stages add _refineN). Default: %(default)s")
    parser.add_argument("--train-size", type=positive_int, default=None,
                        help="Training images taken from the start of the training split. Default: the "
                             "rest of the split after --val-size, at most 10000")
    parser.add_argument("--val-size", type=positive_int, default=None,
                        help="Validation images, held out from the training split, stratified by class "
                             "(the test split is never used for selection). Default: a fifth of the "
                             "split, at most 2000")
    parser.add_argument("--objective", default="val_accuracy",
                        help="Metric to optimize, as fit reports it. Default: %(default)s")
    parser.add_argument("--algorithm", choices=("random", "hyperband"), default="random",
                        help="keras-tuner RandomSearch, or Hyperband (successive halving; --trials is "
                             "then ignored and --epochs is the most epochs of a trial). Default: %(default)s")
    parser.add_argument("--seed", type=non_negative_int, default=None,
                        help="Seed of the sampling and of each trial's initialization. Default: none")
    parser.add_argument("--overwrite", action="store_true",
                        help="Start over instead of resuming the projects found in --dir")
    parser.add_argument("--workers", type=positive_int, default=None,
                        help="Run trials in N local worker processes under a keras-tuner chief on a free "
                             "127.0.0.1 port; a killed worker is restarted and resumes its trial. "
                             "Default: one process")
    parser.add_argument("--gpus", default=None,
                        help="GPU ids, e.g. 0,1: one worker pinned to each (--workers defaults to their "
                             "number). Without GPUs, workers split the CPU cores")
    parser.add_argument("--role", choices=("chief", "worker"), default=None,
                        help="Run one process of a cluster search (same command and shared --dir on every "
                             "machine); needs --oracle")
    parser.add_argument("--oracle", default=None,
                        help="HOST:PORT of the chief. Unauthenticated gRPC: private networks only")
    parser.add_argument("--prune", action="store_true",
                        help="Stop trials whose objective trails the median of completed trials at the same "
                             "epoch (MedianStoppingRule, after 2 warm-up epochs and 3 completed trials)")
    parser.add_argument("--no-plots", action="store_true", help="Do not write the PNG plots")
    parser.add_argument("--quiet", action="store_true", help="No progress lines on stderr")
    flags.add_recipe_flags(parser, SEARCH_RECIPE, exclude=NOT_RECIPE_FLAGS)
    parser.set_defaults(func=run)
    return parser


def sizes(n, train_size=None, val_size=None, name="the dataset"):
    """`(train_size, val_size)` for a training split of `n` images.

    Defaults: a fifth of the split (at most 2000) for validation, the rest (at
    most 10000) for training.
    """
    val = val_size or min(2000, max(1, n // 5))
    train = train_size or min(10000, n - val)
    if train < 1 or train + val > n:
        raise ValueError(f"--train-size + --val-size must be at most the {n} training images of {name}. "
                         f"Received {train} + {val}")
    return train, val


def smoke_settings(args):
    """`KERASRECIPES_SMOKE=1`: 2 trials x 1 epoch on a few hundred images (`kerasrecipes.cli.smoke.SEARCH`)."""
    if not smoke.on():
        return args
    small = argparse.Namespace(**vars(args))
    small.trials = min(args.trials, smoke.SEARCH["trials"])
    small.epochs = smoke.SEARCH["epochs"]
    small.refine = min(args.refine, smoke.SEARCH["refine"])
    small.refine_trials = smoke.SEARCH["refine_trials"]
    small.smoke_sizes = (smoke.SEARCH["train_images"], smoke.SEARCH["val_images"])  # caps on the dataset's sizes
    return small


def split(args, data):
    """`(x, y), (x_val, y_val)` of the search: a class-stratified validation part of the training split
    (`kerasrecipes.data.train_val_split`, seeded by --seed or 0, so a resumed search sees the same images),
    and the first --train-size images of the rest."""
    from kerasrecipes.data import to_unit_range, train_val_split

    train, val = sizes(len(data.x_train), args.train_size, args.val_size, data.name)
    caps = getattr(args, "smoke_sizes", None)
    if caps:  # KERASRECIPES_SMOKE=1: a few hundred images, or fewer when the dataset has fewer
        train, val = min(train, caps[0]), min(val, caps[1])
    x = data.x_train if data.x_train.ndim == 4 else data.x_train[..., None]
    if args.model != "recipe":  # a recipe scales its uint8 images inside the training step
        x = to_unit_range(x)
    (x_fit, y_fit), (x_val, y_val) = train_val_split(x, data.y_train.astype("int32"), val / len(x),
                                                     seed=args.seed if args.seed is not None else 0)
    return (x_fit[:train], y_fit[:train]), (x_val, y_val)


def run(args):
    """Runs the search described by parsed `args`; returns the exit status (0; 1 if it failed).

    A bad value is a `ValueError`, which `kerasrecipes.cli.main` prints in one line with exit status 2."""
    from kerasrecipes.tuning import parallel as parallel_module
    from kerasrecipes.tuning import search as search_module
    from kerasrecipes.tuning import space as space_module
    from kerasrecipes.tuning.stage import SearchError
    from kerasrecipes.tuning.tuners import print_progress

    args = smoke_settings(args)
    try:
        # Bad --workers/--gpus/--role/--oracle values are reported before the data is loaded; the
        # resolved set-up (a bound port, a reached chief) is passed on, never resolved again.
        parallel = parallel_module.resolve(workers=args.workers, gpus=args.gpus, role=args.role, oracle=args.oracle)
        base_name, base = _base_recipe(args)
        data = flags.load_data(args)
        (x, y), (x_val, y_val) = split(args, data)
        if base is not None:
            base = dataclasses.replace(base, input_shape=data.input_shape, num_classes=data.num_classes)
            space = space_module.default_recipe_space(base)
            if getattr(args, "filters", None) is not None:  # the user fixed the stages: width is not searched
                space = space_module.recipe_space(base, **{n: p for n, p in space.params.items() if n != "width"})
        else:
            space = space_module.default_vgg_space() if args.model == "vgg" else space_module.default_mlp_space()
        callbacks = None
        if args.prune:
            from kerasrecipes.tuning.pruning import MedianStoppingRule

            # A recipe brings its own schedule and callbacks; a factory's trials get the recipe callbacks.
            own = [] if base is not None else search_module.recipe_callbacks(args.objective)
            callbacks = [*own, MedianStoppingRule(args.objective)]
        progress = None if args.quiet else functools.partial(print_progress, file=sys.stderr)
        search = search_module.random_search(
            space, x, y, validation_data=(x_val, y_val), max_trials=args.trials, epochs=args.epochs,
            directory=args.dir, project_name=args.project, objective=args.objective, seed=args.seed,
            overwrite=args.overwrite, algorithm=args.algorithm, verbose=0 if args.quiet else 1,
            progress=progress, parallel=parallel, callbacks=callbacks,
        )
        refine_trials = args.refine_trials or max(1, args.trials // 3)
        for _ in range(args.refine):
            search.refine(top_k=args.top_k, max_trials=refine_trials)
    except SearchError as e:
        print(f"kerasrecipes search: error: {e}", file=sys.stderr)
        return 1
    results = search.results()
    if args.role == "worker":  # the chief writes the results and plots once the search has ended
        return 0
    if args.no_plots:
        results.to_csv(os.path.join(args.dir, "results.csv"))
        results.to_json(os.path.join(args.dir, "results.json"))
    else:
        search.save(args.dir)
    if not args.quiet:
        print(repr(results.sort("score")), file=sys.stderr)
        print(f"results and plots in {args.dir}", file=sys.stderr)
    best = search.best_hyperparameters(1)
    print(json.dumps(best[0] if best else None, default=lambda v: list(v) if isinstance(v, tuple) else str(v)))
    if base is not None and best:
        path = write_best_recipe(search, args.dir, base_name)
        print(f"the best trial's recipe is in {path}; to retrain it on the whole training split:\n  "
              f"{train_command(args, path)}", file=sys.stderr)
    return 0


def _base_recipe(args):
    """`(name, Recipe)` of `--model recipe` from --recipe, --config and the recipe flags; `(None, None)` else."""
    if args.model != "recipe":
        given = [f for f in ("recipe", "config") if getattr(args, f, None)]
        if given:
            raise ValueError(f"--{given[0]} sets the base recipe of --model recipe. Received --model {args.model}")
        return None, None
    from kerasrecipes import presets

    name, overrides = flags.recipe_from_args(args, SEARCH_RECIPE)
    for field in NOT_RECIPE_FLAGS:
        if field in overrides and getattr(args, "config", None):
            raise ValueError(f"--config sets {field!r}, which the search sets itself (--{field}); remove it "
                             f"from {args.config}")
    return name, presets.get(name, **overrides)


def write_best_recipe(search, directory, name):
    """Writes the best trial's recipe as `directory/best_recipe.json` (what `train --config` reads); returns the path."""
    from kerasrecipes import _io

    path = os.path.join(directory, BEST_RECIPE_FILE)
    _io.write_json(path, {"recipe": name, **search.best_recipe().fields()})
    return path


def train_command(args, config_path):
    """The `kerasrecipes train` line that retrains a recipe file on this search's data."""
    import shlex

    out = os.path.join(os.path.dirname(config_path) or ".", "best")
    return f"kerasrecipes train --config {shlex.quote(config_path)} {flags.data_flags_line(args)} --out {shlex.quote(out)}"
