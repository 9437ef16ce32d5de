"""Named end-to-end recipes: model, compile and fit settings that reach a measured accuracy fast.

A preset is data (a frozen dataclass of plain values, JSON-loggable) plus the
few methods that turn it into Keras objects, built only from the package's own
pieces: `models.vgg`, `schedules.OneCycle` / `scale_lr`, `callbacks.CheckpointEnsemble`
/ `HalveLROnPlateau`, `data.augmentation` / `data.pipeline` and `data.tta_predict`.
`benchmarks/time_to_accuracy.py` measures what each preset delivers.
"""

import dataclasses
import os

import keras
import numpy as np

from kerasrecipes import schedules
from kerasrecipes.callbacks import CheckpointEnsemble, HalveLROnPlateau
from kerasrecipes.data import augmentation, pipeline, tta_predict
from kerasrecipes.models import vgg

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("onecycle", "halving", "constant")
ENSEMBLES = ("every", "snapshot", None)


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A complete training recipe: architecture, optimizer, schedule, data, ensemble and TTA.

    Every field is a plain value, so `dataclasses.asdict(recipe)` is the JSON
    record of a run and `dataclasses.replace(recipe, epochs=20)` a variant.
    `fit` does the whole run; `build_model`, `compile`, `train_data`,
    `callbacks` and `predict` are the steps, for notebooks that want to look
    at (or swap) one of them.

    Args:
        input_shape: `(H, W, C)` of the images. Defaults to `(28, 28, 1)`.
        num_classes: Defaults to `10`.
        filters: VGG filters per stage (see `models.vgg`).
        convs_per_stage: 3x3 convolutions per stage, an int or one per stage.
        order: Unit order of `models.vgg`. Defaults to `"conv-bn-act"`.
        head: `"gap"` or `"flatten"`.
        dense_units: Hidden dense layers of the head.
        dropout: Conv-stage dropout rate.
        bn_momentum: Momentum of every BatchNorm's moving statistics. Defaults
            to `0.9` (Keras's is 0.99): with a one-cycle schedule the weights
            move fast, and at 0.99 the moving statistics lag about 100 steps
            behind them, which on short runs costs tens of points of test
            accuracy (measured in BENCHMARKS.md).
        epochs: Training epochs (all of the schedule).
        batch_size: Images per step.
        base_lr: Peak LR at `base_batch_size`; the LR used is
            `schedules.scale_lr(base_lr, batch_size, base_batch_size)`, the
            linear scaling rule.
        base_batch_size: Defaults to `256`.
        optimizer: `"sgd"` (with Nesterov momentum) or `"adamw"`.
        momentum: SGD momentum.
        weight_decay: The optimizer's decoupled weight decay (per step,
            multiplied by the LR), on every weight.
        label_smoothing: Of the categorical cross-entropy; `0` for none.
        schedule: `"onecycle"` (`schedules.OneCycle` over all steps),
            `"halving"` (`callbacks.HalveLROnPlateau` on `val_loss` when
            validation data is given, else `loss`) or `"constant"`.
        pct_start: Rising fraction of the one-cycle schedule.
        augment: `data.augmentation` preset applied in the tf.data pipeline
            (`"none"`, `"light"`, `"standard"`, `"strong"`).
        flip: Horizontal flips in training (and, with `tta_flips`, at test time).
        pad: Pad-and-crop shift in pixels.
        jit_compile: Passed to `model.compile`.
        mixed_precision: Build the network under Keras's `"mixed_bfloat16"`
            policy (bfloat16 compute, float32 weights); the softmax stays float32.
        ensemble: `"every"` (the last `ensemble_k` epochs' weights),
            `"snapshot"` or `None`; see `callbacks.CheckpointEnsemble`.
        ensemble_k: Checkpoints in the ensemble.
        tta_flips: `predict` averages each image with its mirror
            (`data.tta_predict`).
        seed: Seeds weights, shuffling and augmentation; `None` for fresh randomness.
    """

    input_shape: tuple = (28, 28, 1)
    num_classes: int = 10
    filters: tuple = (32, 64, 128)
    convs_per_stage: int | tuple = 2
    order: str = "conv-bn-act"
    head: str = "gap"
    dense_units: tuple = ()
    dropout: float = 0.0
    bn_momentum: float = 0.9
    epochs: int = 12
    batch_size: int = 256
    base_lr: float = 0.2
    base_batch_size: int = 256
    optimizer: str = "sgd"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    schedule: str = "onecycle"
    pct_start: float = 0.25
    augment: str = "light"
    flip: bool = True
    pad: int = 2
    jit_compile: bool | str = "auto"
    mixed_precision: bool = False
    ensemble: str | None = "every"
    ensemble_k: int = 3
    tta_flips: bool = True
    seed: int | None = None

    def __post_init__(self):
        for name in ("epochs", "batch_size", "base_batch_size", "ensemble_k"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1. Received {name}={value!r}")
        for name, choices in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES), ("ensemble", ENSEMBLES)):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {choices}. Received {name}={getattr(self, name)!r}")
        if not float(self.base_lr) > 0:
            raise ValueError(f"base_lr must be > 0. Received base_lr={self.base_lr!r}")
        if not 0.0 <= float(self.label_smoothing) < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1). Received label_smoothing={self.label_smoothing!r}")
        if not 0.0 <= float(self.bn_momentum) < 1.0:
            raise ValueError(f"bn_momentum must be in [0, 1). Received bn_momentum={self.bn_momentum!r}")
        if float(self.weight_decay) < 0:
            raise ValueError(f"weight_decay must be >= 0. Received weight_decay={self.weight_decay!r}")

    @property
    def learning_rate(self) -> float:
        """The peak LR at this batch size (linear scaling rule)."""
        return schedules.scale_lr(self.base_lr, self.batch_size, self.base_batch_size)

    def to_dict(self) -> dict:
        """The recipe as a JSON-ready dict."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    def build_model(self) -> keras.Model:
        """The VGG of this recipe, uncompiled, with a softmax output in float32."""
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        previous = keras.config.dtype_policy()
        if self.mixed_precision:
            # Layers take the global policy when they are built; restore it at once
            # so nothing else the caller builds changes precision.
            keras.config.set_dtype_policy("mixed_bfloat16")
        try:
            model = vgg(self.input_shape, self.num_classes, filters=tuple(self.filters),
                       convs_per_stage=self.convs_per_stage, order=self.order, head=self.head,
                       dense_units=tuple(self.dense_units), dropout=self.dropout,
                       bn_momentum=float(self.bn_momentum), name="fashion_mnist_fast")
        finally:
            keras.config.set_dtype_policy(previous)
        return model  # under mixed precision the factory keeps the softmax layer in float32

    def _lr(self, steps_per_epoch):
        if self.schedule == "onecycle":
            return schedules.OneCycle(self.learning_rate, self.epochs * steps_per_epoch, pct_start=self.pct_start)
        return self.learning_rate

    def compile(self, model: keras.Model, steps_per_epoch: int) -> keras.Model:
        """Compiles `model` with this recipe's optimizer, schedule and loss; returns it.

        Labels are one-hot (see `train_data`), so the loss is the categorical
        cross-entropy with `label_smoothing` (Keras's sparse one has none).
        """
        lr = self._lr(steps_per_epoch)
        if self.optimizer == "sgd":
            optimizer = keras.optimizers.SGD(lr, momentum=self.momentum, nesterov=True,
                                             weight_decay=self.weight_decay or None)
        else:
            optimizer = keras.optimizers.AdamW(lr, weight_decay=self.weight_decay)
        model.compile(
            optimizer,
            keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing),
            metrics=["accuracy"],
            jit_compile=self.jit_compile,
        )
        return model

    def augmentation(self):
        """The training augmentation layer (`data.augmentation`), or `None`."""
        if self.augment == "none":
            return None
        return augmentation(self.augment, tuple(self.input_shape), flip=self.flip, pad=self.pad, seed=self.seed)

    def train_data(self, x, y, shuffle: bool = True):
        """The shuffled, augmented, one-hot, prefetching `tf.data.Dataset` for `fit`."""
        ds = pipeline(x, y, self.batch_size, augment=self.augmentation(), shuffle=shuffle,
                      seed=self.seed, num_classes=self.num_classes)
        return _one_hot(ds, self.num_classes)

    def eval_data(self, x, y):
        """Un-augmented, un-shuffled batches with one-hot labels (for `validation_data`)."""
        return _one_hot(pipeline(x, y, self.batch_size, shuffle=False, num_classes=self.num_classes),
                        self.num_classes)

    def callbacks(self, validation: bool = False, directory=None, backup_dir=None) -> list:
        """The recipe's callbacks; a `CheckpointEnsemble`, when there is one, comes first.

        Args:
            validation: Whether `fit` gets validation data (halving then watches `val_loss`).
            directory: Where the ensemble's members are written; `None` keeps them in memory.
            backup_dir: Makes the run resumable: each callback's state goes to a
                subfolder, and Keras's `BackupAndRestore` (model, optimizer
                step and so the one-cycle position) comes last.
        """

        def sub(name):
            return None if backup_dir is None else os.path.join(str(backup_dir), name)

        out = []
        if self.ensemble is not None:
            out.append(CheckpointEnsemble(self.ensemble, k=self.ensemble_k, monitor="loss", directory=directory,
                                          backup_dir=sub("ensemble")))
        if self.schedule == "halving":
            out.append(HalveLROnPlateau("val_loss" if validation else "loss", patience=2, verbose=0,
                                        backup_dir=sub("halving")))
        if backup_dir is not None:
            out.append(keras.callbacks.BackupAndRestore(sub("keras")))
        return out

    def fit(self, x, y, *, validation_data=None, callbacks=(), verbose="auto"):
        """Builds, compiles and trains a model on `(x, y)`.

        Args:
            x: Training images `(N, H, W, C)`, uint8 in [0, 255] or float in [0, 1].
            y: Integer labels `(N,)`.
            validation_data: Optional `(x_val, y_val)`, held out of the
                training set (never the test set).
            callbacks: Extra callbacks, run after the recipe's own.
            verbose: Passed to `model.fit`.

        Returns:
            A `FitResult` with `.model`, `.history` and `.ensemble_callback`
            (the `CheckpointEnsemble`, or `None`).
        """
        x = np.asarray(x)
        steps = -(-len(x) // self.batch_size)
        model = self.compile(self.build_model(), steps)
        own = self.callbacks(validation=validation_data is not None)
        val = None if validation_data is None else self.eval_data(*validation_data)
        history = model.fit(self.train_data(x, y), epochs=self.epochs, validation_data=val,
                            callbacks=own + list(callbacks), verbose=verbose,
                            shuffle=False)  # the pipeline shuffles
        ensemble = own[0] if own and isinstance(own[0], CheckpointEnsemble) else None
        return FitResult(model, history, ensemble)

    def predict(self, model: keras.Model, x, tta: bool | None = None):
        """Class probabilities for images `x`, averaged with their mirrors when `tta_flips`.

        `x` may be uint8 (scaled by 1/255 here, as in `train_data`) or float in [0, 1].
        """
        x = np.asarray(x)
        if x.dtype.kind in "iu":
            x = x.astype("float32") / np.float32(255.0)
        tta = self.tta_flips if tta is None else tta
        if tta:
            return tta_predict(model, x, flips=self.flip, batch_size=512)
        return np.asarray(model.predict(x, batch_size=512, verbose=0))


@dataclasses.dataclass
class FitResult:
    """What `Recipe.fit` returns: the trained model, its History and the ensemble callback."""

    model: keras.Model
    history: keras.callbacks.History
    ensemble_callback: CheckpointEnsemble | None

    def ensemble(self) -> keras.Model:
        """The checkpoint ensemble as one model (`CheckpointEnsemble.ensemble()`)."""
        if self.ensemble_callback is None:
            raise ValueError("this recipe keeps no ensemble (Recipe.ensemble=None)")
        return self.ensemble_callback.ensemble()


def _one_hot(ds, num_classes):
    import tensorflow as tf

    return ds.map(lambda images, labels: (images, tf.one_hot(labels, num_classes)),
                  num_parallel_calls=tf.data.AUTOTUNE)


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
    unknown = set(overrides) - {f.name for f in dataclasses.fields(Recipe)}
    if unknown:
        raise ValueError(f"unknown Recipe fields {sorted(unknown)}. Received overrides={overrides!r}")
    return Recipe(**overrides)


def fashion_mnist_94(**overrides) -> Recipe:
    """`fashion_mnist_fast` for 15 epochs in bfloat16: 94 % single model, about 17 minutes on 2 CPU cores.

    Measured (BENCHMARKS.md, 3 seeds, full data, a 2-core CPU with
    AVX512_BF16): 94.02 ± 0.09 % single model, 94.24 ± 0.11 % with the
    last-3 checkpoint ensemble and test-time flips, in 960-1054 s of
    training. bfloat16 pays only where the hardware computes it natively
    (AVX512_BF16 or AMX CPUs, recent GPUs); elsewhere pass
    `mixed_precision=False` (same recipe in float32, slower per epoch there).

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
    return fashion_mnist_fast(**{"mixed_precision": True, "epochs": 15, **overrides})


# Name -> function returning a `Recipe`: what `kerasrecipes train --recipe NAME` accepts.
PRESETS = {"fashion_mnist_fast": fashion_mnist_fast, "fashion_mnist_94": fashion_mnist_94}


def get(name: str, **overrides) -> Recipe:
    """The preset `name` (a key of `PRESETS`) with `overrides` applied.

    Example:
    >>> recipe = get("fashion_mnist_fast", epochs=3, seed=0)
    """
    if name not in PRESETS:
        raise ValueError(f"recipe must be one of {sorted(PRESETS)}. Received recipe={name!r}")
    return PRESETS[name](**overrides)
