"""`AtomicBackupAndRestore`: Keras's `BackupAndRestore` that a kill at any moment cannot break."""

import os

import keras
import numpy as np

from kerasrecipes import _io
from kerasrecipes._models import check_compiled


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras's `BackupAndRestore`, written atomically, with the last good copy and the random state kept.

    What it adds to Keras's: Keras rewrites `latest.weights.h5` in place, so a
    kill during that write leaves a file that can never be read again. Here
    each epoch's weights (model and optimizer) go to a new file through a temp
    file and a rename, and a small JSON state written the same way names the
    latest and the previous copy; a copy that cannot be read falls back to the
    previous one, and with none left training starts afresh (one line each).
    It also keeps the random state that Keras's weight files leave out: the
    seed-generator states of the model's layers (Dropout) and of the
    `random_state` layers that live outside the model (the tf.data
    augmentation layer). It marks the epoch after which
    training stops (so a kill after the last epoch redoes that epoch with every
    callback's state, instead of skipping the callbacks' end of training), and
    at the end of `fit` writes the final weights and `fit_done` and keeps the
    directory (`runs.train` removes it once the run is complete) unless
    `delete_checkpoint`.

    It overrides Keras's `on_train_begin`, `_save_model` and `on_train_end`; the
    resume epoch is handed to `fit` the way Keras's own callback does it,
    through the private `model._initial_epoch` (a private hook, the only one).

    Args:
        backup_dir: The directory of the backup (nothing else goes there).
        random_state: Layers outside the model whose variables (seed
            generator states) are saved and restored with each epoch.
        log: Where one-line notes go. Defaults to `print`.
        delete_checkpoint: As in Keras's: remove the backup when `fit` ends
            (a later `fit` then starts afresh). `False` keeps the final
            weights and `fit_done`, which `runs.train` reads to finish a run
            killed after `fit`. Defaults to `True`, Keras's default.
    """

    def __init__(self, backup_dir, random_state=(), log=print, delete_checkpoint=True):
        super().__init__(str(backup_dir), save_freq="epoch", delete_checkpoint=False)
        self.delete_when_done = bool(delete_checkpoint)
        self.random_state = list(random_state)
        self.log = log
        self._state_path = os.path.join(self.backup_dir, "backup.json")
        self._restored = None  # the epoch restored by `restore`, or 0 for a fresh start
        self._entry = None  # the backup entry restored
        self._said_unreadable = False

    # -- reading -------------------------------------------------------------------------------------------
    def read_state(self):
        """The backup's JSON state, or `None` (no backup, or one that cannot be read: said in one line)."""
        if not os.path.exists(self._state_path):
            return None
        try:
            state = _io.read_json(self._state_path)
            if not isinstance(state, dict) or not isinstance(state.get("latest"), dict):
                raise ValueError("no 'latest' entry")
            return state
        except (OSError, ValueError) as e:
            if not self._said_unreadable:  # one line, however often it is read
                self._said_unreadable = True
                self.log(f"note: the backup state {self._state_path} cannot be read ({e}); training starts afresh")
            return None

    def fit_done(self) -> bool:
        """Whether a `fit` with this backup already ran to its end (its final weights are saved)."""
        state = self.read_state()
        return bool(state and state.get("fit_done") and os.path.exists(self._path(state["fit_done"])))

    def load_final(self, model):
        """Loads the final weights written at the end of `fit` into `model`."""
        model.load_weights(self._path(self.read_state()["fit_done"]))

    def restore(self, model=None) -> int:
        """Loads the latest readable copy into the model; returns the epochs it had finished (0: fresh start).

        Called by `runs.train` before `fit` (so that it can skip the data
        already seen) and otherwise by `on_train_begin`.
        """
        model = model or self.model
        check_compiled(model, "AtomicBackupAndRestore.restore", why=" (a backup holds the optimizer's state too)")
        state = self.read_state()
        self._restored, self._random, self._entry = 0, None, None
        if state is None:
            return 0
        candidates = [state.get("latest"), state.get("previous")]
        if state["latest"].get("final") and not state.get("fit_done"):
            # Killed after the last epoch's backup but before fit ended: redo
            # that epoch from the previous copy, so that every callback ends
            # training from its saved state (their own states keep two epochs).
            self.log("note: the run was killed after its last epoch, before training ended; "
                     "that epoch is trained again")
            candidates = [state.get("previous")]
        saved = [np.array(v) for v in model.get_weights()]
        for entry in candidates:
            if not entry:
                continue
            try:
                if model.optimizer is not None and not model.optimizer.built:
                    model.optimizer.build(model.trainable_variables)
                model.load_weights(self._path(entry["weights"]))
            except Exception as e:  # a damaged or missing file: h5py raises OSError, Keras ValueError
                model.set_weights(saved)
                self.log(f"note: backup {entry['weights']} cannot be read ({type(e).__name__}: "
                         f"{str(e).splitlines()[0][:120]}); trying the copy before it")
                continue
            self._restored, self._random, self._entry = int(entry["epoch"]), entry.get("random"), entry
            return self._restored
        if any(candidates):
            self.log(f"note: no readable backup in {self.backup_dir}; training starts afresh")
        return 0

    def _path(self, name):
        return os.path.join(self.backup_dir, name)

    # -- Keras's hooks ---------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if self._restored is None:
            self.restore()
        if self._restored:
            self.model._initial_epoch = self._restored  # private hook: how Keras's BackupAndRestore resumes fit
            for variable, value in zip(self._random_variables(), self._random or []):
                variable.assign(np.asarray(value, dtype=variable.dtype))
        self._previous = self._entry if self._restored else None  # the copy training goes on from
        self._restored = None  # the next fit reads the directory again

    def _random_variables(self):
        # Keras's weight files leave out the layers' seed-generator states (Dropout's,
        # a RandomFlip's in the model), so without these a resumed epoch draws other masks.
        inside = [v for v in self.model.variables if v.path.endswith("seed_generator_state")]
        return inside + [v for layer in self.random_state for v in layer.variables]

    def _save_model(self):
        epoch = self._current_epoch  # epochs finished, as Keras's callback counts them
        name = f"backup-e{epoch:05d}.weights.h5"  # the epoch number as Keras prints it (1-based)
        _io.save_keras(self.model, self._path(name))
        entry = {"epoch": epoch, "weights": name, "final": bool(self.model.stop_training)
                 or epoch >= self.params.get("epochs", float("inf")),
                 "random": [keras.ops.convert_to_numpy(v).tolist() for v in self._random_variables()]}
        _io.write_json(self._state_path, {"latest": entry, "previous": self._previous})
        self._previous = entry
        self._collect()

    def on_train_end(self, logs=None):
        if self.delete_when_done:
            for name in os.listdir(self.backup_dir):
                if name == "backup.json" or name.endswith(".weights.h5"):
                    os.remove(self._path(name))
            return
        state = self.read_state() or {"latest": self._previous or {}, "previous": None}
        _io.save_keras(self.model, self._path("final.weights.h5"))
        _io.write_json(self._state_path, {**state, "fit_done": "final.weights.h5"})

    def _collect(self):
        """Deletes every weight file the state names neither as latest nor as previous."""
        state = self.read_state() or {}
        keep = {e["weights"] for e in (state.get("latest"), state.get("previous")) if e}
        for name in os.listdir(self.backup_dir):
            if name.startswith("backup-e") and name.endswith(".weights.h5") and name not in keep:
                os.remove(self._path(name))
