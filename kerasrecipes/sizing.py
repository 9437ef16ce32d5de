"""A recipe sized to any image dataset, and to a time budget: `for_data`.

`fashion_mnist_fast` is measured on one dataset (28x28 grayscale, 60,000
images). `for_data` carries its choices (a VGG of conv-BN-ReLU units, Nesterov
SGD under a one-cycle schedule with the linear scaling rule, label smoothing,
a last-epochs ensemble with test-time flips) to other image sizes, class counts
and data sizes by a few explicit rules, and with `minutes` it times a few
training steps of that recipe on this machine first and picks the epochs so
that training ends within the budget, so the one-cycle schedule spans it.
Keras, keras-tuner, fastai and timm size nothing to the data or the clock;
this is what it adds.
"""

import dataclasses
import math
import time

import keras
import numpy as np

from kerasrecipes.recipe import Recipe

MIN_SIDE_NATURAL = 64  # px: from here up, random-resized crops and colour jitter replace pad-and-crop
MAX_EPOCHS = 60  # a budget that allows more is left partly unused: further epochs barely pay on small data
TARGET_STEPS = 2800  # optimizer steps without a budget: fashion_mnist_fast's 12 epochs x 235 steps
VALIDATION_COST = 1 / 3  # a forward pass of a batch, as a fraction of a training step (no backward)
# Step time ~ width ** 1.35 for these VGGs: 49 against 306-332 training images/s for 32 and 8
# filters first (batch 256, 28x28; BENCHMARKS.md "Your own images" (c)), 6.2-6.8x for 4x the width.
# Used to jump straight to the width that fits a budget, so at most two widths are timed.
WIDTH_EXPONENT = 1.35
STARTUPS = 2  # start-ups a run pays: its train step's and its validation step's tracing and compilation


def _check(input_shape, num_classes, num_images, minutes):
    if (not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3
            or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0 for d in input_shape)):
        raise ValueError(f"input_shape must be (height, width, channels) of positive integers. "
                         f"Received input_shape={input_shape!r}")
    for name, value, low in (("num_classes", num_classes, 2), ("num_images", num_images, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}. Received {name}={value!r}")
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, (int, float))
                                or not math.isfinite(minutes) or minutes <= 0):
        raise ValueError(f"minutes must be a positive number (fractions allowed). Received minutes={minutes!r}")


def _fields():
    return {f.name for f in dataclasses.fields(Recipe)}


def sized(input_shape, num_classes, num_images, *, width=None, **overrides):
    """The recipe `for_data` starts from, without timing anything: sizes by rule only.

    - depth: stages of two 3x3 convolutions, one per halving of the image,
      until about 4-8 px are left (3 stages at 28 or 32 px, 4 at 64, 5 from
      about 96 up), as VGG stacks them;
    - width: 32 filters in the first stage (fashion_mnist_fast's), 16 below
      3,000 images, doubling per stage up to 256;
    - batch size: 256 (fashion_mnist_fast's) but at least 16 steps per epoch,
      and at most 128 from 64 px and 64 from 128 px, which keeps a step's
      activations within a few hundred megabytes;
    - augmentation: flips and pad-and-crop by about 1/14 of the side (2 px at
      28, fashion_mnist_fast's) below 64 px; from 64 px up `"natural"`
      (flips, `layers.RandomResizedCrop` and `layers.RandomHSV` colour jitter),
      the random crops and scales and the colour jitter the cs231n notes and
      Wei's "Must Know Tips/Tricks" recommend for natural images;
    - epochs: about 2,800 optimizer steps (fashion_mnist_fast's), 5 to 60 epochs.

    Args:
        input_shape: `(height, width, channels)`.
        num_classes: Number of classes.
        num_images: Training images per epoch.
        width: Filters of the first stage. Defaults to the rule above.
        **overrides: Any `Recipe` field, applied last.

    Returns:
        A `Recipe`.
    """
    _check(input_shape, num_classes, num_images, None)
    height, image_width, _ = (int(d) for d in input_shape)
    side = min(height, image_width)
    stages = int(min(5, max(2, round(math.log2(side / 4))))) if side >= 8 else 1
    width = width or (16 if num_images < 3000 else 32)
    filters = tuple(min(width * 2 ** i, 256) for i in range(stages))
    batch_size = 256 if side < 64 else 128 if side < 128 else 64
    while batch_size > 16 and num_images / batch_size < 16:
        batch_size //= 2
    steps = -(-num_images // batch_size)
    epochs = int(min(MAX_EPOCHS, max(5, round(TARGET_STEPS / steps))))
    values = {
        "input_shape": (height, image_width, int(input_shape[2])), "num_classes": int(num_classes),
        "filters": filters, "convs_per_stage": 2, "batch_size": batch_size, "epochs": epochs,
        "augment": "natural" if side >= MIN_SIDE_NATURAL else "light", "pad": max(1, round(side / 14)),
        "ensemble_k": _members(epochs),
    }
    unknown = sorted(set(overrides) - _fields())
    if unknown:
        raise ValueError(f"unknown Recipe fields {unknown}. Received overrides={overrides!r}")
    values.update(overrides)
    if "epochs" in overrides and "ensemble_k" not in overrides:
        values["ensemble_k"] = _members(values["epochs"])
    return Recipe(**values)


class _BatchClock(keras.callbacks.Callback):
    """Times of the ends of training batches: a per-batch hook, for this measurement fit only."""

    def on_train_begin(self, logs=None):
        self.begin, self.ends = time.perf_counter(), []

    def on_train_batch_end(self, batch, logs=None):
        self.ends.append(time.perf_counter())


def measure(recipe, steps=4, warmup=1):
    """Seconds per training step of `recipe` on this machine, and the one-off start-up seconds.

    Trains the recipe's own model, optimizer and augmenting pipeline for one
    epoch on random images of its input shape: `warmup` steps (tracing and XLA
    compilation, what a real run pays once at its start), then `steps` timed
    ones, clocked at the end of each batch.

    Returns:
        `(seconds_per_step, startup_seconds)`.
    """
    from kerasrecipes.memory import released

    rng = np.random.default_rng(0)
    n = recipe.batch_size * (warmup + steps)
    x = rng.integers(0, 256, (n,) + tuple(recipe.input_shape), dtype=np.uint8)
    y = rng.integers(0, recipe.num_classes, n)
    clock = _BatchClock()
    with released():
        training = recipe.prepare(x, y)
        training.fit(epochs=1, verbose=0, callbacks=[clock])
        del training
    ends = clock.ends
    per_step = (ends[-1] - ends[warmup - 1]) / (len(ends) - warmup)
    return per_step, max(0.0, ends[warmup - 1] - clock.begin - warmup * per_step)


def for_data(input_shape, num_classes, num_images, minutes=None, *, log=print, measure_steps=4, **overrides):
    """A `Recipe` sized to the data and, with `minutes`, to a time budget on this machine.

    Without `minutes`, the rules of `sized` (depth from the image size, width
    from the number of images, batch size, augmentation, about 2,800 steps).
    With `minutes`, it first times a few training steps (`measure`) and sets
    the epochs to as many as end within the budget, counting the validation
    passes (`Recipe.val_fraction` of the images) and the start-up; the
    one-cycle schedule spans those epochs, so the learning rate comes down as
    the budget runs out. When not even 3 epochs fit, it halves the width
    (down to 8 filters; as many halvings at once as the measured time predicts,
    step time growing as width ** 1.35) and times that one; when more than 60
    epochs would fit, it keeps 60. The ensemble keeps one checkpoint per 4
    epochs, at most 3.

    Args:
        input_shape: `(height, width, channels)` of the images.
        num_classes: Number of classes.
        num_images: Images in the training set (validation is split off them
            by the run, `Recipe.val_fraction`).
        minutes: Optional training budget in minutes (fractions allowed).
        log: Where the one-line account of the choice goes. Defaults to `print`.
        measure_steps: Training steps timed per candidate. Defaults to `4`.
        **overrides: Any `Recipe` field, applied last (they are timed too).

    Returns:
        A `Recipe`.

    Raises:
        ValueError: for a bad argument, or a budget shorter than one epoch of
            the narrowest model (the message gives the measured epoch time).

    Example:
    >>> recipe = for_data((32, 32, 3), 10, 50_000, minutes=5)
    >>> result = recipe.fit(x_train, y_train)
    """
    _check(input_shape, num_classes, num_images, minutes)
    if minutes is not None and "epochs" in overrides:
        raise ValueError(f"minutes sets the epochs; give one of the two. Received minutes={minutes!r}, "
                         f"epochs={overrides['epochs']!r}")
    log = log or (lambda message: None)
    recipe = sized(input_shape, num_classes, num_images, **overrides)
    if minutes is None:
        log(f"for_data: {_describe(recipe)}, {recipe.epochs} epochs (about {TARGET_STEPS} steps)")
        return recipe
    fraction = float(getattr(recipe, "val_fraction", 0.0) or 0.0)
    budget = 60.0 * minutes
    width = recipe.filters[0]
    while True:
        per_step, startup = measure(recipe, steps=measure_steps)
        # A run traces and compiles twice (the train step, then the validation step at the first
        # epoch end): 4 measured runs ended 17-30 s past a start-up counted once (BENCHMARKS.md (b)).
        startup *= STARTUPS
        train_steps = -(-round(num_images * (1 - fraction)) // recipe.batch_size)
        val_steps = -(-round(num_images * fraction) // recipe.batch_size) if fraction else 0
        epoch_seconds = per_step * (train_steps + VALIDATION_COST * val_steps)
        epochs = int((budget - startup) // epoch_seconds) if budget > startup else 0
        if epochs >= 3 or width <= 8 or "filters" in overrides:
            break
        # The widest halving predicted to fit 3 epochs (else the narrowest, 8), then timed for real.
        measured, width = width, width // 2
        while width > 8 and (budget - startup) // (epoch_seconds * (width / measured) ** WIDTH_EXPONENT) < 3:
            width //= 2
        width = max(width, 8)
        recipe = sized(input_shape, num_classes, num_images, width=width, **overrides)
    if epochs < 1:
        raise ValueError(f"minutes={minutes!r} is shorter than one epoch of the narrowest recipe here "
                         f"({_describe(recipe)}: {epoch_seconds:.1f} s per epoch + {startup:.1f} s start-up, "
                         f"measured); ask for at least {(epoch_seconds + startup) / 60:.2f} minutes or fewer images")
    epochs = min(epochs, MAX_EPOCHS)
    recipe = dataclasses.replace(recipe, epochs=epochs,
                                 ensemble_k=overrides.get("ensemble_k", _members(epochs)))
    log(f"for_data: {_describe(recipe)}; measured {per_step * 1000:.0f} ms per step, {epoch_seconds:.1f} s per "
        f"epoch, {startup:.0f} s start-up: {epochs} epochs fit in {minutes:g} min (about "
        f"{(startup + epochs * epoch_seconds) / 60:.1f} "
        "min of training)")
    return recipe


def _members(epochs):
    """Checkpoints in the ensemble: the last 3 epochs, fewer on short runs (one per 4 epochs, at least 1).

    Measured (BENCHMARKS.md, "Your own images"): after 2-3 epochs the last-3 ensemble scored 4-5
    points below the single model, its early members being far from trained.
    """
    return max(1, min(3, epochs // 4))


def _describe(recipe):
    h, w, c = recipe.input_shape
    return (f"{h}x{w}x{c}, filters {'-'.join(map(str, recipe.filters))}, batch {recipe.batch_size}, "
            f"augment {recipe.augment}")
