"""Halving the learning rate on a plateau, with roll-back to the best weights; resumable early stopping."""

import keras
import numpy as np

from kerasrecipes._models import check_compiled
from kerasrecipes.callbacks._monitor import Monitor, check_count, check_number, print_msg


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
        best, best_epoch: Best monitored value and its epoch (1-based).
        stopped_epoch: The epoch (1-based) at which it stopped training, or None.

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
        self.stopped_epoch = None
        self.best_weights = None

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
        self.stopped_epoch = None
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
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True
            if self.verbose > 0:
                print_msg(f"\nEpoch {epoch + 1}: HalveLROnPlateau stops training after {self.halvings} "
                          f"halving(s); best {self.monitor}={self.best:.5g} at epoch {self.best_epoch}.")

    def _roll_back(self, epoch, why):
        rolled = self.restore_best_weights and self.best_weights is not None
        if rolled:
            self.model.set_weights(self.best_weights)
        if self.verbose > 0:
            where = f"; weights rolled back to epoch {self.best_epoch}" if rolled else ""
            print_msg(f"\nEpoch {epoch + 1}: {why}{where}.")

    def end_training(self, logs):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)


class EarlyStopping(Monitor):
    """Keras's `EarlyStopping` on the package's `Monitor` base: mode from the name, resumable, epochs 1-based.

    The rule is Keras's (same arguments; tested against
    `keras.callbacks.EarlyStopping` epoch by epoch): stop once `patience`
    epochs pass without an improvement of more than `min_delta`, after
    `start_from_epoch` warm-up epochs; `baseline`, when given, must also be
    beaten for the patience counter to reset. What it adds:

    - `mode="auto"` is resolved from the metric's name ("loss"/"error"-like
      names are minimized, others maximized), and a misspelled `monitor` is an
      error at the end of the first epoch (Keras warns every epoch);
    - `best_epoch` and `stopped_epoch` are 1-based, as printed;
    - with `backup_dir`, the patience counter, best value and best weights
      survive a killed run resumed with `keras.callbacks.BackupAndRestore`
      (list this callback before it).

    Args:
        monitor, min_delta, patience, verbose, mode, baseline,
        restore_best_weights, start_from_epoch: as in Keras.
        backup_dir: Directory for the resumable state; `None` keeps none.
            Defaults to `None`.

    Example:
    >>> model.fit(x, y, validation_split=0.2, epochs=50,
    ...           callbacks=[EarlyStopping(patience=5, restore_best_weights=True)])
    """

    state_fields = Monitor.state_fields + ("wait", "stopped_epoch")
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
        super().__init__(monitor, mode=mode, min_delta=min_delta, backup_dir=backup_dir, verbose=verbose)
        self.patience = check_count("patience", patience)
        self.start_from_epoch = check_count("start_from_epoch", start_from_epoch)
        self.baseline = None if baseline is None else check_number("baseline", baseline)
        self.restore_best_weights = bool(restore_best_weights)
        self.wait = 0
        self.stopped_epoch = None
        self.best_weights = None

    def reset(self):
        super().reset()
        self.wait = 0
        self.stopped_epoch = None
        self.best_weights = None

    def end_epoch(self, epoch, logs):
        if self.monitor not in logs or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch + 1
        self.wait += 1
        if self.track(epoch, logs):
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(self.best, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch + 1
            self.model.stop_training = True

    def end_training(self, logs):
        if self.stopped_epoch is not None and self.verbose > 0:
            print_msg(f"Epoch {self.stopped_epoch}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print_msg(f"Restoring model weights from the end of the best epoch: {self.best_epoch}.")
            self.model.set_weights(self.best_weights)
