"""`AtomicBackupAndRestore`: Keras's `BackupAndRestore` that a kill at any moment cannot break."""

import os

import keras
import numpy as np

from kerasrecipes import _io
from kerasrecipes._models import check_compiled


STATE = "backup.json"
FINAL = "final.weights.h5"
FINAL_RECORD = "final.json"
_COPY = ("backup-e", ".weights.h5")  # backup-e00003.weights.h5: the copy after epoch 3, as Keras prints epochs


def _record_name(weights_name):
    """The name of a copy's own record: backup-e00003.weights.h5 -> backup-e00003.json."""
    return weights_name[: -len(_COPY[1])] + ".json"


def _is_entry(entry):
    return (isinstance(entry, dict) and isinstance(entry.get("epoch"), int) and isinstance(entry.get("weights"), str)
            and entry["weights"].startswith(_COPY[0]) and entry["weights"].endswith(_COPY[1]))


def weights_readable(path):
    """Whether the `.weights.h5` file `path` opens and every array in it reads back (h5py, no model needed).

    Catches what a disk error or a cut leaves: zero bytes, random bytes, a
    file cut short (an array reaching past the end of the file).
    """
    import h5py

    def read(_, item):
        if isinstance(item, h5py.Dataset):
            item[()]

    try:
        with h5py.File(path, "r") as f:
            f.visititems(read)
    except Exception:  # OSError from h5py for an unreadable file, and its kin
        return False
    return True


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras's `BackupAndRestore`, written atomically, with the last good copy and the random state kept.

    What it adds to Keras's: Keras rewrites `latest.weights.h5` in place, so a
    kill during that write leaves a file that can never be read again. Here
    each epoch's weights (model and optimizer) go to a new file through a temp
    file and a rename, and a small JSON state written the same way names the
    latest and the previous copy; a copy that cannot be read falls back to the
    previous one, and with none left training starts afresh (one line each).
    Each copy also has its own record beside it (`backup-e00003.json`), so a
    `backup.json` that is missing or damaged (zero bytes, cut short, random
    bytes) is rebuilt from the copies' records; the final weights are checked
    to be readable before `fit_done` trusts them.
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
        self._state_path = os.path.join(self.backup_dir, STATE)
        self._restored = None  # the epoch restored by `restore`, or 0 for a fresh start
        self._entry = None  # the backup entry restored
        self._said_unreadable = False

    # -- reading -------------------------------------------------------------------------------------------
    def read_state(self):
        """The backup's JSON state, or `None` when there is no backup.

        A `backup.json` that is missing or cannot be read is rebuilt from the
        copies' own records (said in one line); with none readable either,
        `None`: training starts afresh.
        """
        problems = []
        state = _io.read_json_or_none(self._state_path, problems)
        if state is not None and not (isinstance(state, dict) and _is_entry(state.get("latest"))):
            state, problems = None, ["no 'latest' entry naming a copy"]
        if state is not None:
            return state
        state = self._state_from_records()
        if (problems or state) and not self._said_unreadable:  # one line, however often it is read
            self._said_unreadable = True
            what = f"cannot be read ({problems[0]})" if problems else "is missing"
            then = (f"going on from the copies' own records (latest: {state['latest']['weights']})" if state
                    else "no copy has a readable record either; training starts afresh")
            self.log(f"note: the backup state {self._state_path} {what}; {then}")
        return state

    def _state_from_records(self):
        """`backup.json` as rebuilt from the records beside the copies (the newest two), or None."""
        if not os.path.isdir(self.backup_dir):
            return None
        entries = []
        for name in os.listdir(self.backup_dir):
            if name.startswith(_COPY[0]) and name.endswith(".json"):
                entry = _io.read_json_or_none(self._path(name))
                if _is_entry(entry) and _record_name(entry["weights"]) == name:
                    entries.append(entry)
        if not entries:
            return None
        entries.sort(key=lambda e: e["epoch"], reverse=True)
        state = {"latest": entries[0], "previous": entries[1] if len(entries) > 1 else None}
        final = _io.read_json_or_none(self._path(FINAL_RECORD))
        if isinstance(final, dict) and final.get("fit_done") == FINAL:
            state["fit_done"] = FINAL
        return state

    def _final(self, state):
        """The name of the final weights if `fit` ended and they read back, else None."""
        name = (state or {}).get("fit_done")
        return name if isinstance(name, str) and weights_readable(self._path(name)) else None

    def fit_done(self) -> bool:
        """Whether a `fit` with this backup already ran to its end (its final weights saved and readable)."""
        return self._final(self.read_state()) is not None

    def load_final(self, model):
        """Loads the final weights written at the end of `fit` into `model`."""
        model.load_weights(self._path(self._final(self.read_state())))

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
        if state["latest"].get("final") and self._final(state) is None:
            # Killed after the last epoch's backup but before fit ended (or its final
            # weights are damaged): redo that epoch from the previous copy, so that every
            # callback ends training from its saved state (their own states keep two epochs).
            if state.get("fit_done"):
                self.log(f"note: the final weights {self._path(state['fit_done'])} cannot be read; "
                         "the last epoch is trained again")
            else:
                self.log("note: the run was killed after its last epoch, before training ended; "
                         "that epoch is trained again")
            candidates = [state.get("previous")]
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        # A file cut short can fail half-way through loading: put back every variable, the optimizer's too.
        saved = [np.array(keras.ops.convert_to_numpy(v)) for v in model.variables + model.optimizer.variables]
        for entry in candidates:
            if not _is_entry(entry):
                continue
            try:
                model.load_weights(self._path(entry["weights"]))
            except Exception as e:  # a damaged or missing file: h5py raises OSError, Keras ValueError
                for variable, value in zip(model.variables + model.optimizer.variables, saved):
                    variable.assign(value)
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
        _io.write_json(self._path(_record_name(name)), entry)  # the copy's own record, should backup.json be lost
        _io.write_json(self._state_path, {"latest": entry, "previous": self._previous})
        self._previous = entry
        self._collect()

    def on_train_end(self, logs=None):
        if self.delete_when_done:
            for name in os.listdir(self.backup_dir):
                if name in (STATE, FINAL_RECORD) or name.endswith(".weights.h5") or (
                        name.startswith(_COPY[0]) and name.endswith(".json")):
                    os.remove(self._path(name))
            return
        state = self.read_state() or {"latest": self._previous or {}, "previous": None}
        _io.save_keras(self.model, self._path(FINAL))
        _io.write_json(self._path(FINAL_RECORD), {"fit_done": FINAL})
        _io.write_json(self._state_path, {**state, "fit_done": FINAL})

    def _collect(self):
        """Deletes every weight file the state names neither as latest nor as previous."""
        state = self.read_state() or {}
        keep = {e["weights"] for e in (state.get("latest"), state.get("previous")) if _is_entry(e)}
        keep |= {_record_name(name) for name in keep}
        for name in os.listdir(self.backup_dir):
            if name.startswith(_COPY[0]) and name.endswith((_COPY[1], ".json")) and name not in keep:
                os.remove(self._path(name))
