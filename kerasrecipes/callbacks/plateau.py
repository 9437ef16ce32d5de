"""Halving the learning rate on a plateau, with roll-back to the best weights; resumable early stopping."""

import keras
import numpy as np

from kerasrecipes.callbacks._monitor import ResumableMixin, check_monitor, infer_mode, to_float


def _settable_lr(optimizer, owner):
    """The optimizer's learning-rate variable; a ValueError if it is a schedule."""
    lr = optimizer.learning_rate
    if not isinstance(lr, keras.Variable):
        raise ValueError(
            f"{owner} needs a settable learning rate, but the optimizer's "
            "learning_rate is computed by a schedule or callable, which the "
            "callback cannot change. Compile with a float learning rate, e.g. "
            "keras.optimizers.SGD(0.1, momentum=0.9), or drop the schedule. "
            f"Received optimizer.learning_rate={lr!r} "
            f"(config: {optimizer.get_config().get('learning_rate')!r})"
        )
    return lr


def _current_lr(optimizer):
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class HalveLROnPlateau(keras.callbacks.ReduceLROnPlateau, ResumableMixin):
    """Halves the learning rate when the monitored metric stalls, going back to the best weights.

    "If you see that you stopped making progress on the validation set, divide
    the LR by 2 (or by 5), and keep going." This extends Keras's
    `ReduceLROnPlateau` (its patience, cooldown, min_delta and min_lr logic is
    reused as is) with what it lacks:

    - at each reduction the weights roll back to those of the best epoch so far
      (`restore_best_weights=True`), so training goes on at the lower LR from
      the best point rather than from wherever the plateau drifted;
    - once no further halving is allowed (`max_halvings` reached, or the LR is
      at `min_lr`) and patience runs out once more, training stops;
    - at the end of training the best weights are left in the model;
    - the LR of every epoch is logged as `logs["lr"]` (so
      `history.history["lr"]`), the LR used *during* that epoch;
    - the direction follows the metric's name ("loss", "error", "mse"... are
      minimized, "accuracy", "auc"... maximized) unless `mode` is given;
    - an optimizer whose LR is a schedule is a clear `ValueError`, since
      halving needs a settable LR;
    - with `backup_dir`, its state (halvings, best value, best weights, wait and
      cooldown counters) survives a killed run resumed with
      `keras.callbacks.BackupAndRestore` (list this callback before it).

    The best weights are held as one numpy copy of `model.get_weights()`, i.e.
    the memory of one copy of the model's weights. The optimizer's own state
    (momentum, Adam moments) is not rolled back.

    Args:
        monitor: Metric to watch. Defaults to `"val_loss"`.
        factor: LR multiplier at each reduction, in (0, 1). Defaults to `0.5`.
        patience: Epochs without improvement before a reduction. Defaults to `3`.
        min_delta: Smallest change that counts as an improvement. Defaults to `0.0`.
        cooldown: Epochs to wait after a reduction before counting again.
            Defaults to `0`.
        min_lr: The LR never goes below this. Defaults to `1e-6`.
        restore_best_weights: Roll back to the best weights at each reduction
            and at the end of training. Defaults to `True`.
        max_halvings: Most reductions before the next exhausted patience stops
            training; `None` for no limit. Defaults to `None`.
        mode: `"auto"`, `"min"` or `"max"`. Defaults to `"auto"`.
        verbose: 0 or 1. Defaults to `1`.
        backup_dir: Directory for the resumable state, distinct from
            BackupAndRestore's own `backup_dir`; `None` keeps none. Defaults to `None`.

    Example:
    >>> model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy")
    >>> history = model.fit(x, y, validation_split=0.2, epochs=30,
    ...                     callbacks=[HalveLROnPlateau(patience=2, max_halvings=3)])
    >>> history.history["lr"]  # e.g. [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, ...]
    """

    def __init__(
        self,
        monitor="val_loss",
        factor=0.5,
        patience=3,
        min_delta=0.0,
        cooldown=0,
        min_lr=1e-6,
        restore_best_weights=True,
        max_halvings=None,
        mode="auto",
        verbose=1,
        backup_dir=None,
    ):
        check_monitor(monitor)
        if not 0.0 < float(factor) < 1.0:
            raise ValueError(f"factor must be in (0, 1). Received factor={factor!r}")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            if not isinstance(value, (int, np.integer)) or value < 0:
                raise ValueError(f"{name} must be an integer >= 0. Received {name}={value!r}")
        if float(min_lr) < 0.0:
            raise ValueError(f"min_lr must be >= 0. Received min_lr={min_lr!r}")
        if max_halvings is not None and (
            not isinstance(max_halvings, (int, np.integer)) or max_halvings < 0
        ):
            raise ValueError(
                f"max_halvings must be an integer >= 0 or None. Received max_halvings={max_halvings!r}"
            )
        super().__init__(
            monitor=monitor,
            factor=float(factor),
            patience=int(patience),
            verbose=verbose,
            mode=infer_mode(monitor, mode),
            min_delta=float(min_delta),
            cooldown=int(cooldown),
            min_lr=float(min_lr),
        )
        self._init_resumable(backup_dir)
        self.restore_best_weights = restore_best_weights
        self.max_halvings = max_halvings
        self._min_lr_arg = float(min_lr)
        self._reset_own()

    def _reset_own(self):
        self.halvings = 0
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = None
        self.min_lr = self._min_lr_arg

    def on_train_begin(self, logs=None):
        _settable_lr(self.model.optimizer, type(self).__name__)
        super().on_train_begin(logs)
        self._reset_own()
        if self.max_halvings == 0:
            self.min_lr = _current_lr(self.model.optimizer)
        self._resume_train_begin()

    def on_epoch_begin(self, epoch, logs=None):
        self._resume_epoch_begin(epoch)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        lr_before = _current_lr(self.model.optimizer)
        logs["lr"] = lr_before
        best_before = self.best
        verbose, self.verbose = self.verbose, 0  # our message below says more than Keras's
        try:
            super().on_epoch_end(epoch, logs)
        finally:
            self.verbose = verbose
        if logs.get(self.monitor) is not None:
            self._after_keras_step(epoch, lr_before, best_before)
        self._resume_epoch_end(epoch)

    def _after_keras_step(self, epoch, lr_before, best_before):
        if self.best is not best_before:  # Keras stored a new best this epoch
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
        lr_after = _current_lr(self.model.optimizer)
        if lr_after < lr_before:
            self.halvings += 1
            self._roll_back(epoch, f"LR halved to {lr_after:.3g} (halving {self.halvings})")
            if self.max_halvings is not None and self.halvings >= self.max_halvings:
                # Keras reduces only while lr > min_lr: pinning min_lr here makes
                # the next exhausted patience a "cannot reduce" event.
                self.min_lr = lr_after
        elif self.wait >= self.patience:
            # Keras wanted to reduce but could not (at min_lr or max_halvings).
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: HalveLROnPlateau stops training after "
                    f"{self.halvings} halving(s); best {self.monitor}="
                    f"{to_float(self.best):.5g} at epoch {self.best_epoch + 1}."
                )

    def _roll_back(self, epoch, why):
        rolled = self.restore_best_weights and self.best_weights is not None
        if rolled:
            self.model.set_weights(self.best_weights)
        if self.verbose > 0:
            where = f"; weights rolled back to epoch {self.best_epoch + 1}" if rolled else ""
            print(f"\nEpoch {epoch + 1}: {why}{where}.")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        self._resume_train_end()

    # -- resumable state --------------------------------------------------
    def _get_state(self):
        state = {
            "best": None if self.best is None else to_float(self.best),
            "best_epoch": self.best_epoch,
            "wait": int(self.wait),
            "cooldown_counter": int(self.cooldown_counter),
            "halvings": self.halvings,
            "min_lr": float(self.min_lr),
            "lr": _current_lr(self.model.optimizer),
        }
        arrays = {}
        if self.best_weights is not None:
            arrays[f"best-e{self.best_epoch:05d}"] = self.best_weights
        return state, arrays

    def _set_state(self, state, arrays):
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.wait = state["wait"]
        self.cooldown_counter = state["cooldown_counter"]
        self.halvings = state["halvings"]
        self.min_lr = state["min_lr"]
        self.model.optimizer.learning_rate = state["lr"]
        self.best_weights = next(iter(arrays.values()), None)


class EarlyStopping(keras.callbacks.EarlyStopping, ResumableMixin):
    """Keras's `EarlyStopping`, plus a mode read from the metric's name and a resumable state.

    Identical to `keras.callbacks.EarlyStopping` (same arguments, same
    behaviour) except that: `mode="auto"` is resolved from the metric's name
    ("loss"/"error"-like names are minimized, others maximized) before Keras
    would have to find the metric object; and with `backup_dir`, the patience
    counter, best value and best weights survive a killed run resumed with
    `keras.callbacks.BackupAndRestore` (list this callback before it).

    Args:
        monitor, min_delta, patience, verbose, mode, baseline,
        restore_best_weights, start_from_epoch: as in Keras.
        backup_dir: Directory for the resumable state; `None` keeps none.
            Defaults to `None`.

    Example:
    >>> model.fit(x, y, validation_split=0.2, epochs=50,
    ...           callbacks=[EarlyStopping(patience=5, restore_best_weights=True)])
    """

    def __init__(
        self,
        monitor="val_loss",
        min_delta=0,
        patience=0,
        verbose=0,
        mode="auto",
        baseline=None,
        restore_best_weights=False,
        start_from_epoch=0,
        backup_dir=None,
    ):
        check_monitor(monitor)
        super().__init__(
            monitor=monitor,
            min_delta=min_delta,
            patience=patience,
            verbose=verbose,
            mode=infer_mode(monitor, mode),
            baseline=baseline,
            restore_best_weights=restore_best_weights,
            start_from_epoch=start_from_epoch,
        )
        self._init_resumable(backup_dir)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self._resume_train_begin()

    def on_epoch_begin(self, epoch, logs=None):
        self._resume_epoch_begin(epoch)

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        self._resume_epoch_end(epoch)

    def on_train_end(self, logs=None):
        super().on_train_end(logs)
        self._resume_train_end()

    def _get_state(self):
        state = {
            "best": None if self.best is None else to_float(self.best),
            "best_epoch": int(self.best_epoch),
            "wait": int(self.wait),
            "stopped_epoch": int(self.stopped_epoch),
        }
        arrays = {}
        if self.best_weights is not None:
            arrays[f"best-e{self.best_epoch:05d}"] = self.best_weights
        return state, arrays

    def _set_state(self, state, arrays):
        self.best = state["best"]
        self.best_epoch = state["best_epoch"]
        self.wait = state["wait"]
        self.stopped_epoch = state["stopped_epoch"]
        self.best_weights = next(iter(arrays.values()), None)
