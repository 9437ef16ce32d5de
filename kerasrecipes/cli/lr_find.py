"""`kerasrecipes lr-find`: the LR range test on a recipe, and the recipe with the suggested `base_lr`."""

import dataclasses
import os

from kerasrecipes.cli import flags, smoke
from kerasrecipes.cli.train import TRAIN_RECIPE

DESCRIPTION = (
    "Raise the learning rate exponentially batch by batch (Smith 2017) on the recipe's own net, augmentation, "
    "loss and optimizer (the recipe flags of train; --recipe factory by default) and the chosen data, stop when "
    "the loss diverges, and write the loss-against-LR plot (lr_find.png), the numbers (lr_find.json) and the "
    "recipe with the suggested base_lr (recipe.json, for `train --config`).")


def add_parser(command):
    finder = command(
        "lr-find", help="the LR range test on a recipe: plot, lr_find.json, and recipe.json with the suggested base_lr",
        description=DESCRIPTION,
        epilog="Example:\n  kerasrecipes lr-find --dataset sample --out runs/lr\n  kerasrecipes report runs/lr"
        "\n  kerasrecipes train --config runs/lr/recipe.json --dataset sample --out runs/lr_found")
    flags.add_data_flags(finder.add_argument_group("data"))
    finder.add_argument("--images", type=flags.positive_int, default=4096, help="training images used (default: 4096)")
    finder.add_argument("--min-lr", type=flags.number(float), default=1e-7, help="(default: 1e-7)")
    finder.add_argument("--max-lr", type=flags.number(float), default=10.0, help="(default: 10)")
    finder.add_argument("--steps", type=flags.positive_int, default=100, help="batches (default: 100)")
    finder.add_argument("--out", default="runs/lr_find", help="output directory (default: runs/lr_find)")
    finder.add_argument("--config", help="JSON file of recipe fields (flags override it)")
    flags.add_recipe_flags(finder, TRAIN_RECIPE)
    finder.set_defaults(func=run)


def run(args):
    from kerasrecipes import _io, lr_find, optimizers, presets
    from kerasrecipes.lr_finder import LR_FIND_FILE
    from kerasrecipes.recipe import data_statistics, one_hot

    if not 0 < args.min_lr < args.max_lr:
        raise ValueError(f"need 0 < --min-lr < --max-lr. Received min_lr={args.min_lr!r}, max_lr={args.max_lr!r}")
    name, overrides = flags.recipe_from_args(args, TRAIN_RECIPE)
    recipe = presets.get(name, **overrides)  # every field checked before the data or any file
    steps = min(args.steps, smoke.TRAIN["lr_find_steps"]) if smoke.on() else args.steps
    data = smoke.data(flags.load_data(args))
    recipe = dataclasses.replace(recipe, input_shape=data.input_shape, num_classes=data.num_classes)
    x, y = data.x_train[: args.images], data.y_train[: args.images]
    recipe.seed_everything()
    # The recipe's own net, training model (augmentation in the step) and loss; the optimizer at a float LR
    # that the range test raises batch by batch (a schedule could not be moved).
    model = recipe.training_model(recipe.build_model(data_statistics(x) if recipe.normalize else None))
    model.compile(optimizers.build(recipe.optimizer, 1e-3, momentum=recipe.momentum,
                                   weight_decay=recipe.weight_decay),
                  recipe.loss(), jit_compile=recipe.jit_compile)
    result = lr_find(model, x, one_hot(y, recipe.num_classes), min_lr=args.min_lr, max_lr=args.max_lr,
                     steps=steps, batch_size=recipe.batch_size)
    record = {**result.to_dict(), "dataset": data.name, "images": len(x), "recipe_name": name,
              "recipe": recipe.to_dict(), "min_lr": args.min_lr, "max_lr": args.max_lr}
    png = os.path.join(args.out, "lr_find.png")
    figure = result.plot()
    _io.atomic_write(png, lambda f: figure.savefig(f, format="png", dpi=100), mode="wb")
    _io.write_json(os.path.join(args.out, LR_FIND_FILE), record)
    print(result.summary())
    print(f"wrote {png} and {os.path.join(args.out, LR_FIND_FILE)}; `kerasrecipes report {args.out}` makes "
          "the HTML page")
    if result.suggestion is not None:
        base_lr = recipe.base_lr_for(result.suggestion)
        path = os.path.join(args.out, "recipe.json")
        _io.write_json(path, {"recipe": name, **recipe.fields(), "base_lr": base_lr})
        print(f"wrote {path} with base_lr {base_lr:.3g}; train it with:\n  kerasrecipes train --config {path} "
              f"{flags.data_flags_line(args)} --out runs/lr_found")
    return 0
