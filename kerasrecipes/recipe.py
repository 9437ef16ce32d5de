"""`Recipe`: the one run configuration, for every training path.

A recipe is data (a frozen dataclass of plain values, JSON-loggable) plus the
few methods that turn it into Keras objects, built only from the package's own
pieces: `models.vgg`, `optimizers.build`, `schedules.OneCycle` / `CyclicCosine`
/ `scale_lr`, `callbacks.CheckpointEnsemble` / `HalveLROnPlateau` /
`EarlyStopping`, `data.augmentation` / `data.pipeline` and `data.tta_predict`.
`runs.train` writes a run of it into a directory, `kerasrecipes train` builds
its flags from the fields below (the `help` of each field is the flag's help),
and `presets` names the measured ones.
"""

import contextlib
import dataclasses
import os
import warnings

import keras
import numpy as np

SCHEDULES = ("onecycle", "halving", "cyclic", "constant")
ENSEMBLES = ("every", "top_k", "snapshot", None)
HEADS = ("gap", "flatten")
POOLINGS = ("max", "avg", "stride")


def _field(default, help, cli=True):
    return dataclasses.field(default=default, metadata={"help": help, "cli": cli})


@dataclasses.dataclass(frozen=True)
class Recipe:
    """A complete training run's settings: model, optimizer, schedule, data, ensemble, TTA, seed.

    Every field is a plain value, so `to_dict()` is the JSON record of a run
    and `dataclasses.replace(recipe, epochs=20)` a variant. `fit` does the
    whole run in memory; `build_model`, `compile`, `train_data`, `callbacks`
    and `predict` are the steps, for notebooks that want to look at (or swap)
    one of them. Each field's documentation is in its `metadata["help"]`
    (`kerasrecipes train --help` prints them all).

    Example:
    >>> recipe = Recipe(filters=(8, 16), epochs=2, seed=0)
    >>> result = recipe.fit(x_train, y_train, validation_data=(x_val, y_val))
    """

    # -- the data it is built for (set by runs.train from the data, not flags)
    input_shape: tuple = _field((28, 28, 1), "(H, W, C) of the images", cli=False)
    num_classes: int = _field(10, "number of classes", cli=False)
    # -- model (models.vgg)
    arch: str | None = _field(None, "VGG stage layout of Simonyan & Zisserman: vgg11, vgg13, vgg16 or vgg19 "
                              "(filters and convs-per-stage from its table unless given); none: the two below")
    filters: tuple | None = _field(None, "filters per stage, e.g. 32,64,128 (none: the arch's, else 32,64,128)")
    convs_per_stage: int | tuple | None = _field(None, "3x3 convolutions per stage: one number or one per "
                                                 "stage (none: the arch's, else 2)")
    order: str = _field("conv-bn-act", "unit order: conv-bn-act, conv-act-bn, conv-act, conv-drop-act, "
                        "conv-bn-act-drop")
    activation: str = _field("relu", "relu, leaky_relu, prelu, rrelu, elu, selu, gelu, swish, tanh, sigmoid, maxout")
    kernel_initializer: str = _field("auto", "auto, zeros, small_random, glorot, he, lecun or a Keras "
                                     "initializer name")
    head: str = _field("gap", "gap (global average pooling) or flatten (Flatten + dense layers)")
    pooling: str = _field("max", "down-sampling at each stage end: max, avg or stride")
    dense_units: tuple = _field((), "hidden dense layers of the head, e.g. 256,128 (empty: none)")
    dropout: float = _field(0.0, "dropout rate of the conv units")
    dense_dropout: float = _field(0.5, "dropout rate of the head's dense units")
    bn_momentum: float = _field(0.9, "momentum of every BatchNorm's moving statistics (Keras's 0.99 lags "
                                "about 100 steps behind fast-moving weights: BENCHMARKS.md)")
    l2: float | None = _field(None, "L2 penalty coefficient on every kernel (a loss term; see weight-decay "
                              "for the optimizer's decoupled decay)")
    l1: float | None = _field(None, "L1 penalty coefficient on every kernel")
    max_norm: float | None = _field(None, "max-norm constraint on every unit's incoming weights (3 or 4)")
    normalize: bool = _field(False, "zero-centre and scale the input with the training set's mean and "
                             "variance (a Normalization layer in the model; cs231n's first step)")
    # -- optimization
    epochs: int = _field(12, "training epochs (all of the schedule; early stopping may end sooner)")
    batch_size: int = _field(256, "images per step")
    base_lr: float = _field(0.2, "learning rate at base-batch-size; the LR used is scaled linearly with "
                            "batch-size (the linear scaling rule); the peak of a one-cycle schedule")
    base_batch_size: int = _field(256, "batch size at which base-lr applies")
    optimizer: str = _field("nesterov", "sgd (momentum), nesterov (SGD with Nesterov momentum), adam, adamw "
                            "or rmsprop (kerasrecipes.optimizers.build)")
    momentum: float = _field(0.9, "SGD momentum")
    weight_decay: float | None = _field(5e-4, "the optimizer's decoupled weight decay on every weight "
                                        "(none: no decay)")
    label_smoothing: float = _field(0.1, "label smoothing of the cross-entropy (0: none)")
    schedule: str = _field("onecycle", "onecycle (schedules.OneCycle over all steps), halving (halve the LR "
                           "when val_loss stalls for patience epochs, rolling back to the best weights), "
                           "cyclic (cosine cycles, one per ensemble member: snapshot ensembles) or constant")
    pct_start: float = _field(0.25, "rising fraction of the one-cycle schedule")
    patience: int = _field(2, "epochs without progress before halving (schedule=halving)")
    early_stopping: bool = _field(False, "with schedule=halving, stop after 2*patience+1 epochs without "
                                  "progress and restore the best weights")
    # -- data
    augment: str = _field("light", "training augmentation: none, light (flip + pad-and-crop), standard "
                          "(+ cutout), strong (+ colour)")
    flip: bool = _field(True, "horizontal flips in augmentation and test-time flips (false for digits)")
    pad: int = _field(2, "pad-and-crop shift in pixels")
    mixup: float | None = _field(None, "MixUp Beta alpha, e.g. 0.2 (none: no MixUp)")
    cutmix: float | None = _field(None, "CutMix Beta alpha, e.g. 1.0 (none: no CutMix; with mixup too, each "
                                  "batch uses one of them)")
    val_fraction: float = _field(0.1, "fraction of the training images held out for validation")
    # -- ensemble and test time
    ensemble: str | None = _field("every", "checkpoint ensemble: every (the last k epochs), top_k (the k "
                                  "best by val_loss), snapshot (one per LR cycle) or none")
    ensemble_k: int = _field(3, "checkpoints in the ensemble")
    tta_flips: bool = _field(True, "also report each test image averaged with its mirror")
    # -- execution
    jit_compile: bool | str = _field("auto", "XLA compilation passed to model.compile: auto, true or false")
    input: str = _field("auto", "how batches reach the device: auto (kerasrecipes.execution.input_path), host "
                        "(sliced from host arrays, copied per step) or device (JAX: the training set on the "
                        "accelerator once)")
    data_parallel: bool = _field(True, "with several devices under JAX, train data-parallel over all of them "
                                 "(keras.distribution.DataParallel)")
    precision: str = _field("auto", "dtype policy: auto (kerasrecipes.precision.choose: mixed_bfloat16 where "
                            "the hardware computes bfloat16 natively, else float32), float32, mixed_bfloat16, "
                            "mixed_float16")
    seed: int | None = _field(None, "seeds weights, shuffling and augmentation (none: fresh randomness)")
    deterministic: bool = _field(False, "also make TensorFlow's ops deterministic, so the same seed gives "
                                 "identical numbers (slower)")

    def __post_init__(self):
        for name in ("epochs", "batch_size", "base_batch_size", "ensemble_k", "patience", "num_classes"):
            _check_int(self, name, low=1)
        _check_int(self, "pad", low=0)
        if self.seed is not None:
            _check_int(self, "seed", low=0)
        for name, choices in (("schedule", SCHEDULES), ("ensemble", ENSEMBLES), ("head", HEADS),
                              ("pooling", POOLINGS)):
            if getattr(self, name) not in choices:
                raise ValueError(f"{name} must be one of {_names(choices)}. Received {name}={getattr(self, name)!r}")
        from kerasrecipes import optimizers, precision
        from kerasrecipes.data import AUGMENTATION_PRESETS
        from kerasrecipes.models import VGG_ARCHS

        if self.optimizer not in optimizers.NAMES:
            raise ValueError(f"optimizer must be one of {', '.join(optimizers.NAMES)}. "
                             f"Received optimizer={self.optimizer!r}")
        if self.augment not in AUGMENTATION_PRESETS:
            raise ValueError(f"augment must be one of {', '.join(AUGMENTATION_PRESETS)}. "
                             f"Received augment={self.augment!r}")
        if self.arch is not None and self.arch not in VGG_ARCHS:
            raise ValueError(f"arch must be one of {', '.join(VGG_ARCHS)} or None. Received arch={self.arch!r}")
        if self.precision != "auto" and self.precision not in precision.POLICIES:
            raise ValueError(f"precision must be 'auto' or one of {', '.join(precision.POLICIES)}. "
                             f"Received precision={self.precision!r}")
        if self.jit_compile not in ("auto", True, False):
            raise ValueError(f"jit_compile must be 'auto', True or False. Received jit_compile={self.jit_compile!r}")
        _check_number(self, "base_lr", low=0, low_open=True)
        _check_number(self, "momentum", low=0, high=1)
        _check_number(self, "label_smoothing", low=0, high=1)
        _check_number(self, "bn_momentum", low=0, high=1)
        _check_number(self, "dropout", low=0, high=1)
        _check_number(self, "dense_dropout", low=0, high=1)
        _check_number(self, "pct_start", low=0, high=1, low_open=True)
        _check_number(self, "val_fraction", low=0, high=1, low_open=True)
        for name in ("weight_decay", "l2", "l1"):
            if getattr(self, name) is not None:
                _check_number(self, name, low=0)
        if self.max_norm is not None:
            _check_number(self, "max_norm", low=0, low_open=True)
        for name in ("mixup", "cutmix"):
            if getattr(self, name) is not None:
                _check_number(self, name, low=0, low_open=True)
        from kerasrecipes.execution import INPUT_PATHS

        if self.input not in INPUT_PATHS:
            raise ValueError(f"input must be one of {', '.join(INPUT_PATHS)}. Received input={self.input!r}")
        for name in ("flip", "tta_flips", "normalize", "early_stopping", "deterministic", "data_parallel"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be True or False. Received {name}={getattr(self, name)!r}")
        for name in ("order", "activation", "kernel_initializer"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{name} must be a non-empty string. Received {name}={getattr(self, name)!r}")
        # The factory's own checks, here so that a recipe that cannot be built is refused where it is written.
        from kerasrecipes.models import _units

        _units.parse_order(self.order, "conv")
        _units.check_activation(self.activation)
        _units.resolve_initializer(self.kernel_initializer, self.activation)

    @classmethod
    def from_dict(cls, values: dict) -> "Recipe":
        """A recipe from `to_dict()` output (lists back to tuples); unknown keys are a `ValueError`."""
        check_fields(values, what="Recipe", values=values)
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    @property
    def learning_rate(self) -> float:
        """The LR at this batch size (linear scaling rule): the peak of a one-cycle schedule."""
        from kerasrecipes import schedules

        return schedules.scale_lr(self.base_lr, self.batch_size, self.base_batch_size)

    def base_lr_for(self, learning_rate: float) -> float:
        """The `base_lr` that gives `learning_rate` at this batch size (the linear scaling rule, inverted).

        An LR range test measures an LR at the batch size it ran with; a recipe
        stores the LR at `base_batch_size`.
        """
        return float(learning_rate) * self.base_batch_size / self.batch_size

    def to_dict(self) -> dict:
        """The recipe as a JSON-ready dict (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    def fields(self) -> dict:
        """`to_dict()` less the fields a run takes from its data (`input_shape`, `num_classes`): what a
        `--config` file holds."""
        return {k: v for k, v in self.to_dict().items() if k not in ("input_shape", "num_classes")}

    def loss(self) -> keras.losses.Loss:
        """The categorical cross-entropy with this recipe's `label_smoothing` (labels are one-hot)."""
        return keras.losses.CategoricalCrossentropy(label_smoothing=self.label_smoothing)

    def stage_plan(self) -> tuple:
        """`(filters, convs_per_stage)` as the model is built: the arch's table filled in where `None`."""
        from kerasrecipes.models.vgg import ARCHS, DEFAULT_CONVS_PER_STAGE, DEFAULT_FILTERS

        table = ARCHS.get(self.arch, {}) if self.arch else {}
        filters = self.filters if self.filters is not None else table.get("filters", DEFAULT_FILTERS)
        convs = self.convs_per_stage if self.convs_per_stage is not None \
            else table.get("convs_per_stage", DEFAULT_CONVS_PER_STAGE)
        return tuple(filters), (tuple(convs) if isinstance(convs, (tuple, list)) else int(convs))

    def resolved(self, seed=None, precision=None) -> "Recipe":
        """This recipe with every choice made: the stage plan, the precision and a seed.

        `seed` is used when `self.seed` is `None` (a run draws one and records it);
        `precision` is the policy already chosen (an `ExecutionPlan`'s), else
        `policy()` chooses it. What `runs.train` trains and writes into `run.json`.
        """
        filters, convs = self.stage_plan()
        return dataclasses.replace(self, filters=filters, convs_per_stage=convs,
                                   precision=precision or self.policy()[0],
                                   seed=self.seed if self.seed is not None else seed)

    def policy(self) -> tuple:
        """`(dtype policy, reason)` for this recipe's `precision` (`kerasrecipes.precision.choose`)."""
        from kerasrecipes import precision

        return precision.choose(self.precision)

    def seed_everything(self) -> None:
        """Seeds Python, NumPy and the backend (`keras.utils.set_random_seed`); with `deterministic`,
        also TensorFlow's op determinism (`tf.config.experimental.enable_op_determinism`, process-wide).

        A seed alone fixes the initial weights, the shuffling and the augmentation
        draws; TensorFlow's multi-threaded kernels still sum in varying order, so
        numbers drift apart by rounding after the first epoch. `deterministic`
        removes that drift, at a cost measured in BENCHMARKS.md.
        """
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        if self.deterministic:
            if self.seed is None:
                raise ValueError("deterministic=True needs a seed. Received seed=None")
            if keras.backend.backend() == "tensorflow":
                import tensorflow as tf  # input side only: this is a process-wide switch, not a layer op

                tf.config.experimental.enable_op_determinism()

    def build_model(self, normalization=None) -> keras.Model:
        """The VGG of this recipe, uncompiled, with its softmax output in float32.

        Args:
            normalization: `(mean, variance)` of the training images in [0, 1],
                used when `normalize` is set (`data_statistics` computes it).
        """
        from kerasrecipes import models

        if self.normalize and normalization is None:
            raise ValueError("normalize=True needs the training set's (mean, variance). Received normalization=None")
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        filters, convs = self.stage_plan()
        policy = self.policy()[0]
        previous = keras.config.dtype_policy()
        # Layers take the global policy when they are built; restore it at once
        # so nothing else the caller builds changes precision.
        keras.config.set_dtype_policy(policy)
        try:
            model = models.vgg(
                tuple(self.input_shape), self.num_classes, arch=self.arch, filters=filters, convs_per_stage=convs,
                order=self.order, activation=self.activation, kernel_initializer=self.kernel_initializer,
                dropout=self.dropout, dense_units=tuple(self.dense_units), dense_dropout=self.dense_dropout,
                head=self.head, pooling=self.pooling, l2=self.l2, l1=self.l1, max_norm=self.max_norm,
                input_normalization=normalization if self.normalize else None,
                bn_momentum=float(self.bn_momentum), name=self.arch or "vgg")
        finally:
            keras.config.set_dtype_policy(previous)
        return model  # under mixed precision the factory keeps the softmax layer in float32

    def lr_schedule(self, steps_per_epoch: int):
        """The optimizer's learning rate: a schedule (onecycle, cyclic) or a number (halving, constant)."""
        from kerasrecipes import schedules

        if self.schedule == "onecycle":
            return schedules.OneCycle(self.learning_rate, self.epochs * steps_per_epoch, pct_start=self.pct_start)
        if self.schedule == "cyclic":
            cycles = max(1, min(self.ensemble_k, self.epochs))
            return schedules.CyclicCosine(self.learning_rate, cycle_steps=steps_per_epoch * max(1, self.epochs // cycles))
        return self.learning_rate

    def compile(self, model: keras.Model, steps_per_epoch: int) -> keras.Model:
        """Compiles `model` with this recipe's optimizer (`optimizers.build`), schedule and loss; returns it.

        Labels are one-hot (see `train_data`), so the loss is the categorical
        cross-entropy with `label_smoothing` (Keras's sparse one has none).
        """
        from kerasrecipes import optimizers

        optimizer = optimizers.build(self.optimizer, self.lr_schedule(steps_per_epoch), momentum=self.momentum,
                                     weight_decay=self.weight_decay)
        model.compile(optimizer, self.loss(), metrics=["accuracy"], jit_compile=self.jit_compile)
        if self.jit_compile != False and keras.backend.backend() == "jax" and not model.jit_compile:  # noqa: E712
            refused = sorted({layer.name for layer in _all_layers(model) if not layer.supports_jit})
            # Keras's "auto" turns XLA off silently when one layer refuses it: the whole step then runs op by op.
            warnings.warn(f"XLA is off for {model.name!r}: layer(s) {', '.join(refused)} refuse it "
                          "(supports_jit=False), so every training step runs op by op")
        return model

    def augmentation(self):
        """The training augmentation layer (`data.augmentation`), or `None`."""
        from kerasrecipes.data import augmentation

        if self.augment == "none":
            return None
        return augmentation(self.augment, tuple(self.input_shape), flip=self.flip, pad=self.pad, seed=self.seed)

    def training_model(self, net: keras.Model) -> keras.Model:
        """`net` wrapped with this recipe's augmentation, MixUp and CutMix inside the compiled step.

        A `kerasrecipes.models.Augmented`: uint8 batches scaled in the step,
        then augmented and mixed. Always a wrapper, even with nothing to add
        but the scaling. Save and evaluate `net`; train the returned model.
        """
        from kerasrecipes.models.augmented import Augmented

        return Augmented(net, self.augmentation(), mixup=self.mixup, cutmix=self.cutmix,
                         seed=None if self.seed is None else self.seed + 1000, name="training")

    def train_data(self, x, y, *, shuffle: bool = True, epoch: int = 0, plan=None):
        """The training batches: a `kerasrecipes.data.ArrayBatches` of uint8 images and one-hot labels.

        Each epoch's order is drawn from `(seed, epoch)` (a resumed run sees
        the orders it would have seen); the images are scaled and augmented in
        the step (`training_model`), so nothing here needs TensorFlow.

        Args:
            x, y: uint8 (or [0, 1] float) images and integer labels.
            shuffle: Reshuffle every epoch. Defaults to `True`.
            epoch: The 0-based epoch `fit` starts at (a resumed run's). Defaults to `0`.
            plan: The `execution.ExecutionPlan` (input path, data parallelism);
                `None` plans for this machine.
        """
        from kerasrecipes import execution
        from kerasrecipes.data.batches import ArrayBatches

        plan = plan or execution.plan(self)
        return ArrayBatches(np.asarray(x), one_hot(y, self.num_classes), self.batch_size, shuffle=shuffle,
                            seed=self.seed, epoch=epoch, drop_remainder=plan.data_parallel and len(x) >= self.batch_size,
                            on_device=plan.input == "device")

    def eval_data(self, x, y) -> tuple:
        """`(x, one-hot y)` for `validation_data` (images are scaled in the model, like the training batches)."""
        return np.asarray(x), one_hot(y, self.num_classes)

    def callbacks(self, validation: bool = False, directory=None, backup_dir=None) -> list:
        """The recipe's callbacks, the one place they are assembled, in the order that makes them work together.

        A `CheckpointEnsemble` first (when `ensemble` is set: each member holds
        its own epoch's weights before any roll-back), then for
        `schedule="halving"` `HalveLROnPlateau` and, with `early_stopping`,
        `EarlyStopping` (patience `2 * patience + 1`, as `callbacks.recipe`),
        and last, with `backup_dir`, `callbacks.AtomicBackupAndRestore`.
        Find one by type (`find_callback`), not by position.

        Args:
            validation: Whether `fit` gets validation data (then `val_loss` is monitored).
            directory: Where the ensemble's members are written; `None` keeps them in memory.
            backup_dir: Makes the run resumable: each callback's state goes to a
                subfolder and `callbacks.AtomicBackupAndRestore` (model, optimizer step
                and so the schedule's position, the random state of augmentation
                and mixing, which live in the training model) comes last.
        """
        from kerasrecipes.callbacks import CheckpointEnsemble, EarlyStopping, HalveLROnPlateau

        def sub(name):
            return None if backup_dir is None else os.path.join(str(backup_dir), name)

        monitor = "val_loss" if validation else "loss"
        out = []
        if self.ensemble is not None:
            out.append(CheckpointEnsemble(self.ensemble, k=self.ensemble_k, monitor=monitor, directory=directory,
                                          backup_dir=sub("ensemble")))
        if self.schedule == "halving":
            out.append(HalveLROnPlateau(monitor, patience=self.patience, verbose=0, backup_dir=sub("halving")))
            if self.early_stopping:
                out.append(EarlyStopping(monitor, patience=2 * self.patience + 1, restore_best_weights=True,
                                         verbose=0, backup_dir=sub("early_stopping")))
        if backup_dir is not None:
            from kerasrecipes.callbacks.backup import AtomicBackupAndRestore

            out.append(AtomicBackupAndRestore(sub("keras"), delete_checkpoint=False))
        return out

    def prepare(self, x, y, *, plan=None, normalization=None) -> "Training":
        """Everything `fit` needs, built and checked: the net, the compiled training model, the batches, the plan.

        The one fit core: `fit` and `runs.train` both train what this returns.

        Args:
            x, y: The training images (uint8 or [0, 1] float) and integer labels.
            plan: The `execution.ExecutionPlan`; `None` plans for this machine.
            normalization: `(mean, variance)` for `normalize` (`None`: computed from `x`).

        Example:
        >>> training = recipe.prepare(x_train, y_train)
        >>> history = training.fit(epochs=recipe.epochs, validation_data=recipe.eval_data(x_val, y_val))
        >>> training.net.save("net.keras")
        """
        from kerasrecipes import execution
        from kerasrecipes.data._checks import check_array, check_labels

        x = check_array(x, "x", ranks=(4,))  # numeric, non-empty, finite images (N, H, W, C)
        if tuple(x.shape[1:]) != tuple(self.input_shape):
            raise ValueError(f"x must be images of the recipe's input_shape {tuple(self.input_shape)}. "
                             f"Received x of shape {x.shape}")
        y = check_labels(y, "y", length=len(x), num_classes=self.num_classes)
        plan = plan or execution.plan(self)
        if self.normalize and normalization is None:
            normalization = data_statistics(x)
        distribution = plan.distribution()
        scope = distribution.scope() if distribution is not None else contextlib.nullcontext()
        with scope:
            net = self.build_model(normalization if self.normalize else None)
            batches = self.train_data(x, y, plan=plan)
            model = self.compile(self.training_model(net), len(batches))
        return Training(net, model, batches, plan, distribution)

    def fit(self, x, y, *, validation_data=None, callbacks=(), verbose="auto"):
        """Builds, compiles and trains a model on `(x, y)` in memory (`runs.train` writes a run directory).

        Args:
            x: Training images `(N, H, W, C)`, uint8 in [0, 255] or float in [0, 1].
            y: Integer labels `(N,)`.
            validation_data: Optional `(x_val, y_val)`, held out of the
                training set (never the test set).
            callbacks: Extra callbacks, run after the recipe's own.
            verbose: Passed to `model.fit`.

        Returns:
            A `FitResult` with `.model` (the network, without the training
            wrapper), `.history` and `.ensemble_callback` (the
            `CheckpointEnsemble`, or `None`).
        """
        from kerasrecipes.callbacks import CheckpointEnsemble

        self.seed_everything()
        training = self.prepare(x, y)
        own = self.callbacks(validation=validation_data is not None)
        val = None if validation_data is None else self.eval_data(*validation_data)
        history = training.fit(epochs=self.epochs, validation_data=val, callbacks=own + list(callbacks),
                               verbose=verbose)
        return FitResult(training.net, history, find_callback(own, CheckpointEnsemble))

    def predict(self, model: keras.Model, x, tta: bool | None = None):
        """Class probabilities for images `x`, averaged with their mirrors when `tta_flips`.

        `x` may be uint8 (scaled by 1/255 here, as in `train_data`) or float in [0, 1].
        """
        from kerasrecipes.data import to_unit_range, tta_predict

        x = to_unit_range(x)
        tta = (self.tta_flips and self.flip) if tta is None else tta
        if tta:
            return tta_predict(model, x, flips=True, batch_size=512)
        return np.asarray(model.predict(x, batch_size=512, verbose=0))


@dataclasses.dataclass
class FitResult:
    """What `Recipe.fit` returns: the trained model, its History and the ensemble callback."""

    model: keras.Model
    history: keras.callbacks.History
    ensemble_callback: object | None

    def ensemble(self) -> keras.Model:
        """The checkpoint ensemble as one model (`CheckpointEnsemble.ensemble()`)."""
        if self.ensemble_callback is None:
            raise ValueError("this recipe keeps no ensemble (Recipe.ensemble=None)")
        return self.ensemble_callback.ensemble()


def data_statistics(x) -> tuple:
    """`(mean, variance)` of images scaled to [0, 1]: what `Recipe.build_model(normalization=...)` takes."""
    from kerasrecipes.data.preprocessing import to_unit_range

    scaled = to_unit_range(x)
    return float(scaled.mean()), float(scaled.var())


def check_fields(names, *, what="Recipe", cli_only=False, values=None):
    """A `ValueError` naming the first unknown `Recipe` field among `names` (the one unknown-field check).

    `cli_only` leaves out the fields a run takes from the data (`input_shape`,
    `num_classes`); `values` (a dict) lets the message echo the value given.
    """
    fields = [f for f in dataclasses.fields(Recipe) if not cli_only or f.metadata.get("cli", True)]
    known = {f.name for f in fields}
    unknown = sorted(set(names) - known)
    if unknown:
        shown = f"={values[unknown[0]]!r}" if values is not None and unknown[0] in values else ""
        raise ValueError(f"unknown Recipe field(s) {', '.join(unknown)} in {what}; valid: "
                         f"{', '.join(sorted(known))}. Received {unknown[0]}{shown}")


def one_hot(y, num_classes) -> np.ndarray:
    """Integer labels to float32 one-hot rows (the recipes' loss is the label-smoothed categorical one)."""
    from kerasrecipes.data._checks import check_labels

    return np.eye(num_classes, dtype=np.float32)[check_labels(y, "y", num_classes=num_classes)]


def _all_layers(layer):
    """`layer` and every layer inside it, through the public `layers` of models and Sequentials."""
    yield layer
    for inner in getattr(layer, "layers", None) or ():
        yield from _all_layers(inner)


def find_callback(callbacks, kind):
    """The first callback of type `kind` in `callbacks`, or `None` (callbacks are found by type, not position)."""
    return next((c for c in callbacks if isinstance(c, kind)), None)


@dataclasses.dataclass
class Training:
    """What `Recipe.prepare` builds: the net, the compiled training model, the batches and the plan."""

    net: keras.Model
    model: keras.Model
    batches: object
    plan: object
    distribution: object = None

    def fit(self, *, initial_epoch=0, callbacks=(), **kwargs):
        """`model.fit` on the batches, from `initial_epoch`, inside the plan's distribution; returns the History.

        The batches follow `fit`'s epoch (`ArrayBatches.epoch_callback`), so
        a resumed `fit` sees each epoch's own order.
        """
        self.batches.epoch = initial_epoch
        scope = self.distribution.scope() if self.distribution is not None else contextlib.nullcontext()
        with scope:
            # shuffle=False: Keras would also permute the batches of a PyDataset, from the global random state
            # (which a resumed run does not have); the batches shuffle themselves from (seed, epoch).
            return self.model.fit(self.batches, initial_epoch=initial_epoch, shuffle=False,
                                  callbacks=[self.batches.epoch_callback()] + list(callbacks), **kwargs)


def _names(choices):
    return ", ".join("None" if c is None else c for c in choices)


def _check_int(recipe, name, low):
    value = getattr(recipe, name)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}. Received {name}={value!r}")


def _check_number(recipe, name, low=None, high=None, low_open=False):
    value = getattr(recipe, name)
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and np.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high
    if not ok:
        span = (f"in {'(' if low_open else '['}{low}, {high})" if high is not None
                else f"{'>' if low_open else '>='} {low}")
        raise ValueError(f"{name} must be a number {span}. Received {name}={value!r}")
