"""Private base for the recipe callbacks: the monitored value, its direction, resumable state.

Nothing outside `kerasrecipes.callbacks` imports this module.
"""

import warnings

import keras
import numpy as np

from kerasrecipes.callbacks._state import StateStore

# Substrings of a metric name that mean "lower is better"; anything else
# (accuracy, auc, precision, recall, f1, iou, ...) is maximized, as in fastai.
_LOWER_IS_BETTER = (
    "loss", "error", "mae", "mse", "mape", "msle", "crossentropy", "hinge",
    "divergence", "perplexity", "poisson", "logcosh",
)


def infer_mode(monitor: str, mode: str = "auto") -> str:
    """Returns "min" or "max" for `monitor`, inferring it from the name when `mode="auto"`."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(
            f"mode must be one of 'auto', 'min', 'max'. Received mode={mode!r}"
        )
    if mode != "auto":
        return mode
    name = monitor.lower().removeprefix("val_")
    return "min" if any(word in name for word in _LOWER_IS_BETTER) else "max"


def check_monitor(monitor) -> None:
    if not isinstance(monitor, str) or not monitor:
        raise ValueError(
            "monitor must be the non-empty name of a logged metric, such as "
            f"'val_loss' or 'val_accuracy'. Received monitor={monitor!r}"
        )


class ResumableMixin:
    """Mixin for a callback whose small state survives a kill, for runs resumed with BackupAndRestore.

    Keras's BackupAndRestore saves the model's weights, the optimizer and the
    epoch, but no callback's state. A subclass given a `backup_dir` writes its
    state (a JSON dict plus named weight lists) at every epoch end, atomically,
    and reads it back at the start of the first epoch of a resumed `fit`: the
    state saved after epoch `e - 1` when that first epoch is `e`. Because the
    state is picked by the epoch that BackupAndRestore resumes at, list this
    callback *before* BackupAndRestore in `callbacks=` (so that it has saved its
    state for an epoch whenever BackupAndRestore has); the store keeps the last
    two epochs' states in case the kill fell between the two writes.

    Subclasses implement `_get_state() -> (dict, {name: [arrays]})` and
    `_set_state(dict, {name: [arrays]})`; a weight list's name must change when
    its content does (e.g. "best-e0007"), so that it is written only once.
    """

    def _init_resumable(self, backup_dir=None):
        if backup_dir is not None and not isinstance(backup_dir, (str, bytes)) and not hasattr(
            backup_dir, "__fspath__"
        ):
            raise ValueError(
                f"backup_dir must be a directory path or None. Received backup_dir={backup_dir!r}"
            )
        self.backup_dir = None if backup_dir is None else str(backup_dir)
        self._store = None
        self._resume_pending = False

    def _get_state(self):
        raise NotImplementedError

    def _set_state(self, state, arrays):
        raise NotImplementedError

    def _resume_train_begin(self):
        self._store = StateStore(self.backup_dir) if self.backup_dir else None
        self._resume_pending = True

    def _resume_epoch_begin(self, epoch):
        """Returns True when the state of a killed run was restored."""
        if not self._resume_pending:
            return False
        self._resume_pending = False
        if self._store is None:
            return False
        if epoch == 0:
            # A fresh run: whatever a finished or abandoned run left is stale.
            self._store.clear()
            return False
        saved = self._store.load(epoch - 1)
        if saved is None:
            warnings.warn(
                f"{type(self).__name__}: training resumes at epoch {epoch} but "
                f"{self.backup_dir} holds no state saved after epoch {epoch - 1}; "
                "starting this callback afresh. List it before BackupAndRestore "
                "in callbacks=.",
                stacklevel=2,
            )
            return False
        self._set_state(*saved)
        return True

    def _resume_epoch_end(self, epoch):
        if self._store is not None:
            state, arrays = self._get_state()
            self._store.save(epoch, state, arrays)

    def _resume_train_end(self):
        if self._store is not None:
            self._store.clear()


def to_float(value):
    """A logged metric as a Python float (logs may hold numpy or backend scalars)."""
    return float(np.asarray(keras.ops.convert_to_numpy(value)))
