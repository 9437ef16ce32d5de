"""Named recipes: the `Recipe` values that `kerasrecipes train --recipe NAME` starts from.

Each entry of `RECIPES` is a function returning a `Recipe` (`kerasrecipes.recipe`,
re-exported here); `get(name, **overrides)` builds one. `factory` is the
package's small VGG trained with the cs231n loop (Adam, halving on plateau with
roll-back, early stopping, a top-3 checkpoint ensemble); `fashion_mnist_fast`
and `fashion_mnist_94` are the measured ones (`benchmarks/time_to_accuracy.py`,
BENCHMARKS.md).
"""

from kerasrecipes.recipe import FitResult, Recipe

__all__ = ["Recipe", "FitResult", "RECIPES", "get", "factory", "fashion_mnist_fast", "fashion_mnist_94"]


def _make(defaults, overrides):
    from kerasrecipes.recipe import check_fields

    check_fields(overrides, what="the overrides", values=overrides)
    if overrides.get("arch") is not None:  # an arch brings its own stage plan unless filters/convs are also given
        defaults = {**defaults, "filters": None, "convs_per_stage": None}
    return Recipe(**{**defaults, **overrides})


def factory(**overrides) -> Recipe:
    """The factory's small VGG with the cs231n training loop: what `--recipe factory` trains.

    Two stages of 32 and 64 filters (two 3x3 conv-BN-ReLU units each, 25 %
    dropout), a Flatten head with one 128-unit layer (50 % dropout), the input
    zero-centred and scaled with the training set's statistics, Adam at 1e-3
    (batch 128), halving the LR when `val_loss` stalls for 2 epochs with
    roll-back to the best weights, early stopping after 5, flips and
    pad-and-crop by 4 pixels, a top-3 checkpoint ensemble and test-time flips.

    Args:
        **overrides: Any `Recipe` field.

    Returns:
        A `Recipe`.
    """
    return _make(dict(filters=(32, 64), convs_per_stage=2, head="flatten", dense_units=(128,), dropout=0.25,
                      dense_dropout=0.5, normalize=True, epochs=10, batch_size=128, base_lr=1e-3,
                      base_batch_size=128, optimizer="adam", weight_decay=None, label_smoothing=0.0,
                      schedule="halving", patience=2, early_stopping=True, pad=4, ensemble="top_k",
                      ensemble_k=3), overrides)


def fashion_mnist_fast(**overrides) -> Recipe:
    """The fast Fashion-MNIST recipe (see BENCHMARKS.md for what it measured).

    A 290k-parameter VGG (32-64-128 filters, two 3x3 conv-BN-ReLU units per
    stage, global average pooling), Nesterov SGD under a one-cycle schedule
    with the linear LR scaling rule, decoupled weight decay, label smoothing,
    flips and pad-and-crop by 2 pixels, an ensemble of the last checkpoints and
    test-time flips.

    Args:
        **overrides: Any `Recipe` field, e.g. `epochs=20`, `seed=0`.

    Returns:
        A `Recipe`.

    Example:
    >>> (x, y), (x_test, y_test) = kerasrecipes.datasets.fashion_mnist()
    >>> recipe = fashion_mnist_fast(seed=0)
    >>> result = recipe.fit(x, y)
    >>> probs = recipe.predict(result.ensemble(), x_test)
    """
    return _make(dict(filters=(32, 64, 128), convs_per_stage=2), overrides)


def fashion_mnist_94(**overrides) -> Recipe:
    """`fashion_mnist_fast` for 15 epochs in bfloat16: 94 % single model, about 17 minutes on 2 CPU cores.

    Measured (BENCHMARKS.md, 3 seeds, full data, a 2-core CPU with
    AVX512_BF16): 94.02 ± 0.09 % single model, 94.24 ± 0.11 % with the
    last-3 checkpoint ensemble and test-time flips, in 960-1054 s of
    training. bfloat16 pays only where the hardware computes it natively
    (AVX512_BF16 or AMX CPUs, recent GPUs); elsewhere pass
    `precision="auto"` (`precision.choose` then picks float32 there) or
    `"float32"`.

    Args:
        **overrides: Any `Recipe` field.

    Returns:
        A `Recipe`.

    Example:
    >>> (x, y), (x_test, y_test) = kerasrecipes.datasets.fashion_mnist()
    >>> recipe = fashion_mnist_94(seed=0)
    >>> result = recipe.fit(x, y)
    >>> probs = recipe.predict(result.ensemble(), x_test)
    """
    return fashion_mnist_fast(**{"precision": "mixed_bfloat16", "epochs": 15, **overrides})


# Name -> function returning a `Recipe`: what `kerasrecipes train --recipe NAME` accepts.
RECIPES = {"factory": factory, "fashion_mnist_fast": fashion_mnist_fast, "fashion_mnist_94": fashion_mnist_94}


def get(name: str, **overrides) -> Recipe:
    """The named recipe `name` (a key of `RECIPES`) with `overrides` applied.

    Example:
    >>> recipe = get("fashion_mnist_fast", epochs=3, seed=0)
    """
    if name not in RECIPES:
        raise ValueError(f"recipe must be one of {', '.join(RECIPES)}. Received recipe={name!r}")
    return RECIPES[name](**overrides)


from kerasrecipes.sizing import for_data  # noqa: E402  (re-export: a recipe sized to any data; no cycle)
