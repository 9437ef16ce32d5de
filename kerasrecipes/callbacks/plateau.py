"""Halving the learning rate on a plateau, with roll-back to the best weights; resumable early stopping."""

import keras
import numpy as np

from kerasrecipes._models import check_compiled
from kerasrecipes.callbacks._monitor import (Monitor, Resumable, check_count, check_logged, check_monitor,
                                             check_number, infer_mode, print_msg, to_float)


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


class HalveLROnPlateau(Monitor):
    """Halves the learning rate when the monitored metric stalls, going back to the best weights.

    "If you see that you stopped making progress on the validation set, divide
    the LR by 2 (or by 5), and keep going" (Wei's "Must Know Tips/Tricks"). The schedule
    is Keras's `ReduceLROnPlateau` (same patience, cooldown, min_delta and
    min_lr rule, tested against it epoch by epoch), written on the package's
    `Monitor` base, with what Keras's lacks:

    - at each reduction the weights roll back to those of the best epoch so far
      (`restore_best_weights=True`), so training goes on at the lower LR from
      the best point rather than from wherever the plateau drifted;
    - once no further halving is allowed (`max_halvings` reached, or the LR is
      at `min_lr`) and patience runs out once more, training stops;
    - at the end of training the best weights are left in the model;
    - the direction follows the metric's name ("loss", "error", "mse"... are
      minimized, "accuracy", "auc"... maximized) unless `mode` is given, and a
      misspelled `monitor` is an error at the end of the first epoch;
    - an optimizer whose LR is a schedule is a clear `ValueError`, since
      halving needs a settable LR;
    - with `backup_dir`, its state (halvings, best value and weights, wait and
      cooldown counters, the LR) survives a killed run resumed with
      `keras.callbacks.BackupAndRestore` (list this callback before it).

    The LR used *during* each epoch is logged as `logs["learning_rate"]`, the
    key Keras's `ReduceLROnPlateau` writes, so `history.history["learning_rate"]`.

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

    Attributes:
        halvings: Reductions so far.
        best, best_epoch: Best monitored value and its epoch, 0-based as
            Keras's `EarlyStopping.best_epoch` (`best_epoch_1based`: as printed).
        stopped_epoch: The epoch at which it stopped training, 0-based as
            Keras's `EarlyStopping.stopped_epoch`, 0 when it did not stop
            (`stopped_epoch_1based`: as printed, or None).

    Example:
    >>> model.compile(keras.optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy")
    >>> history = model.fit(x, y, validation_split=0.2, epochs=30,
    ...                     callbacks=[HalveLROnPlateau(patience=2, max_halvings=3)])
    >>> history.history["learning_rate"]  # e.g. [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, ...]
    """

    state_fields = Monitor.state_fields + ("wait", "cooldown_counter", "halvings", "stopped_epoch",
                                           "learning_rate")
    weight_fields = ("best_weights",)

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
        super().__init__(monitor, mode=mode, min_delta=min_delta, backup_dir=backup_dir, verbose=verbose)
        self.factor = check_number("factor", factor, low=0.0, high=1.0, low_open=True, high_open=True)
        self.patience = check_count("patience", patience)
        self.cooldown = check_count("cooldown", cooldown)
        self.min_lr = check_number("min_lr", min_lr, low=0.0)
        self.max_halvings = None if max_halvings is None else check_count("max_halvings", max_halvings)
        self.restore_best_weights = bool(restore_best_weights)
        self.wait = self.cooldown_counter = self.halvings = 0
        self.stopped_epoch = 0
        self.best_weights = None

    @property
    def stopped_epoch_1based(self):
        """The epoch at which it stopped training, 1-based as Keras prints it; None when it did not stop."""
        return self.stopped_epoch + 1 if self.stopped_epoch else None

    @property
    def learning_rate(self):
        """The optimizer's current LR (a state field, so a resumed run gets it back)."""
        return _current_lr(self.model.optimizer)

    @learning_rate.setter
    def learning_rate(self, value):
        self.model.optimizer.learning_rate = value

    def reset(self):
        check_compiled(self.model, "HalveLROnPlateau", why=" (it halves the optimizer's learning rate)")
        _settable_lr(self.model.optimizer, type(self).__name__)
        super().reset()
        self.wait = self.cooldown_counter = self.halvings = 0
        self.stopped_epoch = 0
        self.best_weights = None

    def end_epoch(self, epoch, logs):
        lr = self.learning_rate
        logs["learning_rate"] = lr
        if self.monitor not in logs:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.track(epoch, logs):
            self.wait = 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        if self.cooldown_counter > 0:
            return
        self.wait += 1
        if self.wait < self.patience:
            return
        # Keras's test for "can still reduce": the LR above min_lr in float32.
        can_halve = lr > np.float32(self.min_lr) and (self.max_halvings is None or self.halvings < self.max_halvings)
        if can_halve:
            new_lr = max(lr * self.factor, self.min_lr)
            self.learning_rate = new_lr
            self.halvings += 1
            self.cooldown_counter, self.wait = self.cooldown, 0
            self._roll_back(epoch, f"LR halved to {new_lr:.3g} (halving {self.halvings})")
        else:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: HalveLROnPlateau stops training after {self.halvings} "
                          f"halving(s); best {self.monitor}={self.best:.5g} at epoch {self.best_epoch_1based}.")

    def _roll_back(self, epoch, why):
        rolled = self.restore_best_weights and self.best_weights is not None
        if rolled:
            self.model.set_weights(self.best_weights)
        if self.verbose > 0:
            where = f"; weights rolled back to epoch {self.best_epoch_1based}" if rolled else ""
            print_msg(f"\nEpoch {epoch + 1}: {why}{where}.")

    def end_training(self, logs):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class EarlyStopping(Resumable, keras.callbacks.EarlyStopping):
    """Keras's `EarlyStopping`, subclassed: its rule and attributes, plus mode from the name and resume.

    The rule, the arguments and the attributes are Keras's own (this class is
    `keras.callbacks.EarlyStopping`, and `tests/callbacks/test_plateau.py` runs
    Keras's own EarlyStopping tests against it): stop once `patience` epochs
    pass without an improvement of more than `min_delta`, after
    `start_from_epoch` warm-up epochs; `baseline`, when given, must also be
    beaten for the patience counter to reset. `stopped_epoch` and `best_epoch`
    mean what Keras's mean: 0-based epoch indices (`history.epoch`), and
    `stopped_epoch` is 0 when training did not stop early. The 1-based numbers
    that Keras prints are `stopped_epoch_1based` and `best_epoch_1based`. What
    it adds:

    - `mode="auto"` is resolved at construction from the metric's name
      ("loss"/"error"-like names are minimized, others maximized; `mode` then
      holds "min" or "max"), so it works for metrics Keras cannot place and
      before `compile`; a misspelled `monitor` is a `ValueError` at the end of
      the first epoch naming the metrics that exist (Keras warns every epoch);
    - arguments are checked at construction (a `ValueError` echoing the value);
    - with `backup_dir`, the patience counter, best value and epoch and the
      best weights survive a killed run resumed with
      `keras.callbacks.BackupAndRestore` (list this callback before it).

    Args:
        monitor, min_delta, patience, verbose, mode, baseline,
        restore_best_weights, start_from_epoch: as in Keras.
        backup_dir: Directory for the resumable state; `None` keeps none.
            Defaults to `None`.

    Example:
    >>> stop = EarlyStopping(patience=5, restore_best_weights=True)
    >>> model.fit(x, y, validation_split=0.2, epochs=50, callbacks=[stop])
    >>> stop.stopped_epoch_1based, stop.best_epoch_1based   # e.g. (14, 9), as Keras prints them
    """

    state_fields = ("best", "best_epoch", "wait", "stopped_epoch")
    weight_fields = ("best_weights",)

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
        direction = infer_mode(monitor, mode)
        min_delta = check_number("min_delta", min_delta, low=0.0)
        patience = check_count("patience", patience)
        start_from_epoch = check_count("start_from_epoch", start_from_epoch)
        baseline = None if baseline is None else check_number("baseline", baseline)
        Resumable.__init__(self, backup_dir=backup_dir, verbose=verbose)
        # Keras's own attributes, set by Keras; "min"/"max" spares its compiled-metric lookup for the direction.
        keras.callbacks.EarlyStopping.__init__(
            self, monitor=monitor, min_delta=min_delta, patience=patience, verbose=int(verbose), mode=direction,
            baseline=baseline, restore_best_weights=bool(restore_best_weights), start_from_epoch=start_from_epoch)
        self.monitor_mode = direction
        self._seen_monitor = False

    @property
    def stopped_epoch_1based(self):
        """The epoch at which training stopped, 1-based as Keras prints it; None when it did not stop."""
        return self.stopped_epoch + 1 if self.stopped_epoch else None

    @property
    def best_epoch_1based(self):
        """The best epoch, 1-based as Keras prints it; None before any epoch was monitored."""
        return None if self.best is None else self.best_epoch + 1

    def reset(self):
        keras.callbacks.EarlyStopping.on_train_begin(self)
        self._seen_monitor = False

    def end_epoch(self, epoch, logs):
        self._seen_monitor = check_logged(self, epoch, logs, self._seen_monitor)
        keras.callbacks.EarlyStopping.on_epoch_end(self, epoch, logs)

    def end_training(self, logs):
        keras.callbacks.EarlyStopping.on_train_end(self, logs)

    def get_monitor_value(self, logs):
        """The monitored value as a float; None (silently) on an epoch that did not log it (validation_freq)."""
        value = (logs or {}).get(self.monitor)
        return None if value is None else to_float(value, self.monitor)
