"""The one base of the recipe callbacks: resumable state, and the monitored value with its direction.

`Resumable` gives a callback state that survives a killed run: a subclass
declares the attributes that make up its state (`state_fields`, JSON values;
`weight_fields`, lists of arrays) and gets saving and restoring for free.
`Monitor` adds what every monitoring callback shares: the monitored metric,
its direction (from the name), `min_delta`, `best` and `best_epoch`, and a
clear error when the metric is not logged. `HalveLROnPlateau`,
and `CheckpointEnsemble` are short subclasses of `Monitor`; `SWA` of
`Resumable`; `EarlyStopping` of `Resumable` and Keras's own `EarlyStopping`.

Both are public as `kerasrecipes.callbacks.Monitor` / `Resumable`, with the
direction helpers `infer_mode` and `improves` (which the tuner's pruning rule
can call too).
"""

import logging
import math
import sys
import warnings

import keras
import numpy as np

from kerasrecipes._stats import infer_mode  # the one direction rule; re-exported as kerasrecipes.callbacks.infer_mode
from kerasrecipes.callbacks._state import StateStore

def improves(value, reference, mode: str, min_delta: float = 0.0) -> bool:
    """Whether `value` beats `reference` by more than `min_delta` in direction `mode` ("min" or "max").

    Keras's `MonitorCallback._is_improvement` rule: `value < reference - min_delta`
    for "min", `value > reference + min_delta` for "max"; any value beats a
    `None` reference, and NaN never improves.

    Example:
    >>> improves(0.9, 1.0, "min"), improves(0.99, 1.0, "min", min_delta=0.05)
    (True, False)
    """
    if reference is None:
        return value is not None and not math.isnan(value)
    if value is None:
        return False
    if mode == "min":
        return value < reference - min_delta
    return value > reference + min_delta


def check_monitor(monitor) -> None:
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(
            "monitor must be the non-empty name of a logged metric, such as "
            f"'val_loss' or 'val_accuracy'. Received monitor={monitor!r}"
        )


def check_count(name, value, minimum=0):
    """An integer argument (a patience, a count of epochs) of at least `minimum`."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}. Received {name}={value!r}")
    return int(value)


def check_number(name, value, *, low=None, high=None, low_open=False, high_open=False):
    """A real number argument within the given bounds (open or closed)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    ok = ok and not math.isnan(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        bounds = f"in {left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
        raise ValueError(f"{name} must be a number {bounds}. Received {name}={value!r}")
    return float(value)


def check_logged(callback, epoch, logs, seen):
    """True once `callback.monitor` was in the logs; a `ValueError` naming the logged metrics if the first
    epoch's logs (`seen` False) lack it. Later epochs may skip it (`validation_freq > 1`)."""
    if seen:
        return True
    if callback.monitor not in logs:
        available = ", ".join(k for k in logs if k != callback.monitor) or "none"
        hint = " (validation metrics need validation data in fit)" if callback.monitor.startswith("val_") else ""
        raise ValueError(
            f"{type(callback).__name__} monitors {callback.monitor!r}, which the logs at the end of epoch "
            f"{epoch + 1} do not hold{hint}. Available metrics are: {available}. "
            f"Received monitor={callback.monitor!r}"
        )
    return True


def to_float(value, name="value"):
    """A logged metric as a Python float (logs may hold numpy or backend scalars, or a one-element array,
    as `F1Score` logs for one class); a `ValueError` for a metric of several values."""
    array = np.asarray(keras.ops.convert_to_numpy(value))
    if array.size != 1:
        raise ValueError(f"{name} must be one number to be monitored, but it logs {array.size} values "
                         f"(shape {array.shape}); average it (e.g. F1Score(average='macro')). Received {name}={value!r}")
    return float(array.reshape(()))


def print_msg(message):
    """Keras's `io_utils.print_msg` (private in Keras 3) through its public switch.

    To stdout while `keras.utils.is_interactive_logging_enabled()`, else to the
    log, so `keras.config.disable_interactive_logging()` silences it as it does
    Keras's own callbacks.
    """
    if keras.utils.is_interactive_logging_enabled():
        sys.stdout.write(f"{message}\n")
        sys.stdout.flush()
    else:
        logging.getLogger("kerasrecipes").info(message)


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class Resumable(keras.callbacks.Callback):
    """Base for a callback whose state survives a killed run resumed with `BackupAndRestore`.

    Keras's `BackupAndRestore` saves the model, the optimizer and the epoch,
    but no callback's state. A subclass names its state once, and with a
    `backup_dir` the base writes it at every epoch end (atomically, through
    `kerasrecipes._io`) and reads it back at the first epoch of a resumed
    `fit`: the state saved after epoch `e - 1` when that first epoch is `e`.

    - `state_fields`: attribute names whose values are JSON (numbers, strings,
      None, lists, dicts); a property works too.
    - `weight_fields`: attribute names holding `None`, a list of arrays (e.g.
      `model.get_weights()`), or a dict of such lists. A list is written again
      only when the attribute holds a new list object, so assign a fresh list
      when the weights change rather than updating one in place.

    Subclasses override these hooks instead of Keras's `on_*` methods (which
    the base implements, so that the state is saved after the subclass's work
    and restored before it):

    - `reset()`: give every state field its start value (at `on_train_begin`,
      so an instance can be reused across fits; the model is set);
    - `begin_fit(epoch, restored)`: once, at the first epoch of a fit, after
      any state was restored;
    - `begin_epoch(epoch)`, `end_epoch(epoch, logs)`, `end_training(logs)`.

    List resumable callbacks before `BackupAndRestore` in `callbacks=`, so
    that each has saved its state for an epoch whenever the backup has; the
    store keeps the last two epochs' states in case a kill fell between them.

    Args:
        backup_dir: Directory for the state (not BackupAndRestore's own);
            `None` keeps none. Defaults to `None`.
        verbose: 0 or 1. Defaults to `0`.
    """

    state_fields = ()
    weight_fields = ()

    def __init__(self, backup_dir=None, verbose=0):
        super().__init__()
        if backup_dir is not None and not isinstance(backup_dir, (str, bytes)) and not hasattr(
            backup_dir, "__fspath__"
        ):
            raise ValueError(f"backup_dir must be a directory path or None. Received backup_dir={backup_dir!r}")
        if verbose not in (0, 1, 2, True, False):
            raise ValueError(f"verbose must be 0 or 1. Received verbose={verbose!r}")
        self.backup_dir = None if backup_dir is None else str(backup_dir)
        self.verbose = int(verbose)
        self._store = None
        self._first_epoch_pending = False
        self._written = {}

    # -- hooks for subclasses ---------------------------------------------------
    def reset(self):
        """Give every state field its start value; called at the start of each fit."""

    def begin_fit(self, epoch, restored):
        """Called once per fit at its first epoch (`restored`: a killed run's state was read back)."""

    def begin_epoch(self, epoch):
        """Called at each epoch's start, after any restore."""

    def end_epoch(self, epoch, logs):
        """Called at each epoch's end (`logs` is a dict); the state is saved right after."""

    def end_training(self, logs):
        """Called at the end of the fit."""

    # -- Keras's hooks ----------------------------------------------------------
    def on_train_begin(self, logs=None):
        self._store = StateStore(self.backup_dir) if self.backup_dir else None
        self._first_epoch_pending = True
        self._written = {}
        self.reset()

    def on_epoch_begin(self, epoch, logs=None):
        if self._first_epoch_pending:
            self._first_epoch_pending = False
            self.begin_fit(epoch, self._restore(epoch))
        self.begin_epoch(epoch)

    def on_epoch_end(self, epoch, logs=None):
        self.end_epoch(epoch, logs if logs is not None else {})
        if self._store is not None:
            self._store.save(epoch, *self.get_state(epoch))

    def on_train_end(self, logs=None):
        self.end_training(logs or {})
        if self._store is not None:
            self._store.clear()

    # -- the state --------------------------------------------------------------
    def get_state(self, epoch):
        """`(json_state, {name: [arrays]})` of the declared fields, as the store writes them."""
        state = {name: _jsonable(getattr(self, name)) for name in self.state_fields}
        arrays, layout = {}, {}
        for field in self.weight_fields:
            value = getattr(self, field)
            entries = value if isinstance(value, dict) else {None: value}
            layout[field] = {}
            for key, weights in entries.items():
                if weights is None:
                    continue
                last = self._written.get((field, key))
                if last is None or last[0] is not weights:
                    # A new list: a new file name, so the store writes it (once).
                    suffix = "" if key is None else f".{key}"
                    last = (weights, f"{field}{suffix}-e{epoch + 1:06d}")
                    self._written[(field, key)] = last
                arrays[last[1]] = weights
                layout[field]["" if key is None else key] = last[1]
        state["__weights__"] = layout
        return state, arrays

    def set_state(self, state, arrays):
        """Put a saved state back: the JSON fields first, then the weight fields."""
        layout = state.pop("__weights__", {})
        for name in self.state_fields:
            setattr(self, name, state[name])
        for field in self.weight_fields:
            names = layout.get(field, {})
            if list(names) in ([], [""]):
                value = arrays[names[""]] if names else None
                key_values = {None: value}
            else:
                value = {key: arrays[name] for key, name in names.items()}
                key_values = value
            setattr(self, field, value)
            for key, weights in key_values.items():
                if weights is not None:
                    self._written[(field, key)] = (weights, names["" if key is None else key])

    def _restore(self, epoch):
        if self._store is None:
            return False
        if epoch == 0:
            # A fresh run: whatever a finished or abandoned run left is stale.
            self._store.clear()
            return False
        problems = []
        saved = self._store.load(epoch - 1, problems)
        if saved is not None:
            try:
                self.set_state(*saved)
                return True
            except (KeyError, TypeError, ValueError, AttributeError) as e:  # readable JSON, not this callback's state
                problems.append(f"its state does not fit {type(self).__name__} ({type(e).__name__}: {e})")
                self.reset()
        if problems:
            why = f"its state saved after epoch {epoch} in {self.backup_dir} cannot be read ({problems[0]})"
        else:
            why = (f"{self.backup_dir} holds no state saved after epoch {epoch} "
                   "(list this callback before BackupAndRestore in callbacks=)")
        warnings.warn(f"{type(self).__name__}: training resumes at epoch {epoch + 1} but {why}; "
                      "starting this callback afresh.", stacklevel=3)
        return False


class Monitor(Resumable):
    """Base for a callback that watches one metric: its direction, `min_delta`, the best value and epoch.

    The interface of Keras's `MonitorCallback` (`monitor`, `mode`, `min_delta`,
    `best`, `_is_improvement`; that class is private in Keras 3, so it cannot
    be subclassed through the public API) plus what the recipe callbacks need:

    - the direction is resolved at construction from the metric's name
      (`infer_mode`) unless `mode` says it;
    - a `monitor` that the first epoch's logs lack is a `ValueError` at the end
      of that epoch naming the metrics that exist (Keras warns every epoch and
      never acts);
    - `track(epoch, logs)` updates `best` and `best_epoch` and says whether
      this epoch is a new best; `best_epoch` means what Keras's
      `EarlyStopping.best_epoch` means (the 0-based epoch index of
      `history.epoch`, 0 before any), and `best_epoch_1based` is the number
      Keras prints (None before any);
      `current(logs)` is the value, `is_better(a, b)` the comparison;
    - resumable state (see `Resumable`): `best` and `best_epoch` are state
      fields already; subclasses add theirs.

    Args:
        monitor: Metric to watch. Defaults to `"val_loss"`.
        mode: `"auto"`, `"min"` or `"max"`. Defaults to `"auto"`.
        min_delta: Smallest change that counts as an improvement, >= 0.
            Defaults to `0.0`.
        backup_dir, verbose: as for `Resumable`.

    Example (a complete monitoring callback, in the README's "extending" section):
    >>> class BestEpochLogger(Monitor):
    ...     state_fields = Monitor.state_fields + ("improvements",)
    ...     def reset(self):
    ...         super().reset()
    ...         self.improvements = 0
    ...     def end_epoch(self, epoch, logs):
    ...         if self.track(epoch, logs):
    ...             self.improvements += 1
    """

    state_fields = ("best", "best_epoch")

    def __init__(self, monitor="val_loss", mode="auto", min_delta=0.0, backup_dir=None, verbose=0):
        check_monitor(monitor)
        super().__init__(backup_dir=backup_dir, verbose=verbose)
        self.monitor = monitor
        self.monitor_mode = infer_mode(monitor, mode)
        self.min_delta = check_number("min_delta", min_delta, low=0.0)
        self.best = None
        self.best_epoch = 0

    def reset(self):
        super().reset()
        self.best = None
        self.best_epoch = 0
        self._seen_monitor = False

    @property
    def best_epoch_1based(self):
        """The best epoch as Keras prints it (1-based); None before any epoch was monitored."""
        return None if self.best is None else self.best_epoch + 1

    @property
    def mode(self):
        """The direction, "min" or "max" (Keras's name; also `monitor_mode`)."""
        return self.monitor_mode

    def is_better(self, value, reference):
        """Whether `value` beats `reference` in this monitor's direction by more than `min_delta`."""
        return improves(value, reference, self.monitor_mode, self.min_delta)

    _is_improvement = is_better  # Keras's MonitorCallback name for it

    def rank_key(self, value):
        """A sort key under which a better value is larger (for ranking several epochs)."""
        return value if self.monitor_mode == "max" else -value

    def current(self, logs):
        """The monitored value in `logs` as a float, or None on an epoch that did not log it.

        (Only possible after the first epoch, e.g. with `validation_freq > 1`.)
        """
        value = logs.get(self.monitor)
        return None if value is None else to_float(value, self.monitor)

    def track(self, epoch, logs):
        """Update `best` / `best_epoch` from this epoch's logs; True when the epoch is a new best."""
        value = self.current(logs)
        if value is not None and self._is_improvement(value, self.best):
            self.best, self.best_epoch = value, epoch
            return True
        return False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        self._seen_monitor = check_logged(self, epoch, logs, self._seen_monitor)
        super().on_epoch_end(epoch, logs)
