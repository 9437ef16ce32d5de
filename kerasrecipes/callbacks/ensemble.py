"""Checkpoint ensembles: snapshots of one training run, averaged into one model."""

import dataclasses
import json
import os
import warnings

import keras
import numpy as np

from kerasrecipes import _io, ensembles, schedules
from kerasrecipes.callbacks._monitor import ResumableMixin, check_monitor, infer_mode, to_float
from kerasrecipes.callbacks._state import write_json

_MODES = ("snapshot", "top_k", "every")
MANIFEST = "ensemble.json"
ARCHITECTURE = "architecture.json"


@dataclasses.dataclass
class EnsembleMember:
    """One checkpoint of a `CheckpointEnsemble`.

    Attributes:
        epoch: 0-based epoch index, as in `history.history[...][epoch]`.
        metric: The monitored value at that epoch (None if it was not logged).
        weights: The weights (`model.get_weights()`) for an in-memory member, else None.
        path: The `.weights.h5` file for an on-disk member, else None.
    """

    epoch: int
    metric: float | None
    weights: list | None = dataclasses.field(default=None, repr=False)
    path: str | None = None


class CheckpointEnsemble(ResumableMixin, keras.callbacks.Callback):
    """Keeps checkpoints of one training run and averages them into one model.

    "Different checkpoints of a single model over time ... form an ensemble ...
    very cheap": the members cost no extra training. Keras's `ModelCheckpoint`
    saves checkpoints but keeps no set of them and builds no ensemble; this
    callback adds the selection policy, the bookkeeping and `.ensemble()`:

    - `mode="snapshot"`: a member at the end of each cycle of a cyclic LR
      schedule (Huang et al. 2017, "Snapshot Ensembles: Train 1, get M for
      free"). The cycle ends are read from the optimizer's schedule when it is
      `kerasrecipes.schedules.CyclicCosine` or Keras's `CosineDecayRestarts`
      (also behind `schedules.Warmup`); otherwise a member every `every` epochs.
      The last `k` snapshots are kept.
    - `mode="top_k"`: the `k` best epochs by `monitor`.
    - `mode="every"`: a member every `every` epochs, keeping the last `k`.

    Members live in memory, each costing one copy of the model's weights (k
    copies in all); with `directory` they are written to disk instead, as
    `member-eNNNNN.weights.h5` files (atomically: temp file, then rename, so a
    killed run never leaves a half-written member) with an `ensemble.json`
    manifest, and reload with `CheckpointEnsemble.from_directory(directory)`.
    The on-disk set also survives a killed run resumed with Keras's
    `BackupAndRestore`; for in-memory members pass `backup_dir` for that.

    List this callback before callbacks that change the weights at epoch end
    (`HalveLROnPlateau`'s roll-back, `SWA`), so each member holds its own epoch's
    weights.

    Args:
        mode: `"snapshot"`, `"top_k"` or `"every"`. Defaults to `"top_k"`.
        k: Most members kept. Defaults to `5`.
        monitor: Metric that ranks members (`top_k`) and is recorded for all.
            Defaults to `"val_loss"`.
        every: Epochs between members for `"every"` (and for `"snapshot"`
            without a cyclic schedule). Defaults to `1`.
        directory: Where to write members; `None` keeps them in memory.
            Defaults to `None`.
        monitor_mode: `"auto"`, `"min"` or `"max"`; direction of `monitor`.
            Defaults to `"auto"` (from the name).
        backup_dir: For in-memory members, where to keep a resumable copy of the
            state; ignored with `directory`. Defaults to `None`.
        verbose: 0 or 1. Defaults to `0`.

    Attributes:
        members: list of `EnsembleMember`, in epoch order.

    Example:
    >>> steps = len(x) // 128
    >>> model.compile(keras.optimizers.SGD(schedules.CyclicCosine(0.1, 5 * steps), momentum=0.9), ...)
    >>> snap = CheckpointEnsemble("snapshot", k=4)
    >>> model.fit(x, y, batch_size=128, epochs=20, callbacks=[snap])
    >>> ensemble = snap.ensemble()      # mean of 4 snapshots' probabilities
    >>> ensemble.save("snapshots.keras")
    """

    def __init__(self, mode="top_k", k=5, monitor="val_loss", every=1, directory=None,
                 monitor_mode="auto", backup_dir=None, verbose=0):
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}. Received mode={mode!r}")
        for name, value in (("k", k), ("every", every)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1. Received {name}={value!r}")
        check_monitor(monitor)
        super().__init__()
        self.mode = mode
        self.k = int(k)
        self.monitor = monitor
        self.every = int(every)
        self.directory = None if directory is None else str(directory)
        self.monitor_mode = infer_mode(monitor, monitor_mode)
        self.verbose = verbose
        self._init_resumable(self.directory or backup_dir)
        self.members = []
        self._template = None
        self._cyclic_schedule = None
        self._last_iteration = 0
        self._warned_missing = False

    # -- training hooks -----------------------------------------------------
    def on_train_begin(self, logs=None):
        self.members = []
        self._template = None
        self._warned_missing = False
        self._cyclic_schedule = None
        if self.mode == "snapshot":
            self._read_cycles()
        self._resume_train_begin()

    def _read_cycles(self):
        config = self.model.optimizer.get_config().get("learning_rate")
        schedule = keras.optimizers.schedules.deserialize(config) if isinstance(config, dict) else None
        if schedule is not None:
            cyclic = schedules.cycle_end_steps(schedule, 0) is not None
            self._cyclic_schedule = schedule if cyclic else None
            if not cyclic:
                warnings.warn(
                    "CheckpointEnsemble(mode='snapshot') does not know the cycles of "
                    f"{type(schedule).__name__}; taking a snapshot every {self.every} "
                    "epoch(s) instead. Use schedules.CyclicCosine for snapshot ensembles.",
                    stacklevel=3,
                )

    def on_epoch_begin(self, epoch, logs=None):
        if self._resume_pending:
            resumed = self._resume_epoch_begin(epoch)
            if not resumed and epoch == 0 and self.directory:
                self._clear_directory()
            self._last_iteration = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        value = logs.get(self.monitor)
        value = None if value is None else to_float(value)
        if value is None and self.mode == "top_k" and not self._warned_missing:
            self._warned_missing = True
            warnings.warn(
                f"CheckpointEnsemble(mode='top_k') ranks members by `{self.monitor}`, which "
                f"is not in the logs. Available metrics are: {', '.join(logs)}",
                stacklevel=2,
            )
        if self._should_take(epoch, value):
            self._take(epoch, value)
        self._resume_epoch_end(epoch)
        if self.directory:
            self._write_manifest()

    def _should_take(self, epoch, value):
        if self.mode == "top_k":
            if value is None:
                return False
            if len(self.members) < self.k:
                return True
            return self._better(value, self._worst().metric)
        if self.mode == "snapshot" and self._cyclic_schedule is not None:
            iteration = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
            ends = schedules.cycle_end_steps(self._cyclic_schedule, iteration)
            ended = any(self._last_iteration < end <= iteration for end in ends)
            self._last_iteration = iteration
            return ended
        return (epoch + 1) % self.every == 0

    def _better(self, a, b):
        return a < b if self.monitor_mode == "min" else a > b

    def _worst(self):
        sign = 1.0 if self.monitor_mode == "min" else -1.0
        return max(self.members, key=lambda m: sign * m.metric)

    def _take(self, epoch, value):
        if self.directory:
            path = os.path.join(self.directory, f"member-e{epoch:05d}.weights.h5")
            _io.save_keras(self.model, path)
            member = EnsembleMember(epoch, value, path=path)
        else:
            member = EnsembleMember(epoch, value, weights=self.model.get_weights())
        if len(self.members) >= self.k:
            evicted = self._worst() if self.mode == "top_k" else self.members[0]
            self.members.remove(evicted)
            # An evicted file is deleted only once no kept state names it (see
            # _collect_member_files), so a resumed run can still go back to it.
        self.members.append(member)
        self.members.sort(key=lambda m: m.epoch)
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: CheckpointEnsemble({self.mode!r}) kept this epoch "
                f"({self.monitor}={'n/a' if value is None else format(to_float(value), '.4g')}); "
                f"{len(self.members)} member(s)."
            )

    def on_train_end(self, logs=None):
        self._template = self.model
        if self.directory:
            self._write_manifest()
            self._save_architecture()
        self._resume_train_end()
        if self.directory:
            self._collect_member_files(keep=[m.path for m in self.members])

    # -- on-disk bookkeeping ------------------------------------------------
    def _manifest(self):
        return {
            "mode": self.mode,
            "monitor": self.monitor,
            "monitor_mode": self.monitor_mode,
            "members": [
                {"epoch": m.epoch, "metric": m.metric, "path": os.path.basename(m.path)}
                for m in self.members
            ],
        }

    def _write_manifest(self):
        write_json(os.path.join(self.directory, MANIFEST), self._manifest())

    def _save_architecture(self):
        try:
            text = self.model.to_json()
        except Exception:  # subclassed models have no JSON; from_directory then needs `model`
            return
        _io.write_text(os.path.join(self.directory, ARCHITECTURE), text)

    def _collect_member_files(self, keep):
        keep = {os.path.basename(p) for p in keep}
        for fname in os.listdir(self.directory):
            if fname.startswith("member-") and fname.endswith(".weights.h5") and fname not in keep:
                os.remove(os.path.join(self.directory, fname))

    def _clear_directory(self):
        if os.path.isdir(self.directory):
            self._collect_member_files(keep=[])
            for name in (MANIFEST, ARCHITECTURE):
                if os.path.exists(os.path.join(self.directory, name)):
                    os.remove(os.path.join(self.directory, name))

    # -- resumable state ----------------------------------------------------
    def _get_state(self):
        state = {
            "members": [
                {"epoch": m.epoch, "metric": m.metric, "path": m.path and os.path.basename(m.path)}
                for m in self.members
            ],
            "last_iteration": self._last_iteration,
        }
        arrays = {} if self.directory else {f"member-e{m.epoch:05d}": m.weights for m in self.members}
        return state, arrays

    def _set_state(self, state, arrays):
        self.members = []
        for m in state["members"]:
            if self.directory:
                self.members.append(EnsembleMember(m["epoch"], m["metric"], path=os.path.join(self.directory, m["path"])))
            else:
                self.members.append(EnsembleMember(m["epoch"], m["metric"], weights=arrays[f"member-e{m['epoch']:05d}"]))
        self._last_iteration = state["last_iteration"]

    def _resume_epoch_end(self, epoch):
        super()._resume_epoch_end(epoch)
        if self.directory:
            kept = []
            store = self._store
            for e in store._state_epochs():
                kept += [m["path"] for m in store.load(e)[0]["members"]]
            self._collect_member_files(keep=kept + [m.path for m in self.members])

    # -- after training -----------------------------------------------------
    @classmethod
    def from_directory(cls, directory, model=None):
        """Reloads an on-disk ensemble written by `CheckpointEnsemble(directory=...)`.

        Args:
            directory: The `directory` given to the callback.
            model: A model of the same architecture, used as a template; `None`
                rebuilds it from `architecture.json` (saved for functional and
                Sequential models). Defaults to `None`.

        Returns:
            A `CheckpointEnsemble` whose `.members` and `.ensemble()` work as
            after `fit`.
        """
        manifest_path = os.path.join(str(directory), MANIFEST)
        if not os.path.exists(manifest_path):
            raise ValueError(f"directory holds no {MANIFEST}. Received directory={directory!r}")
        with open(manifest_path) as f:
            manifest = json.load(f)
        callback = cls(manifest["mode"], k=max(1, len(manifest["members"])), monitor=manifest["monitor"],
                       directory=directory, monitor_mode=manifest["monitor_mode"])
        callback.members = [
            EnsembleMember(m["epoch"], m["metric"], path=os.path.join(str(directory), m["path"]))
            for m in manifest["members"]
        ]
        if model is None:
            arch = os.path.join(str(directory), ARCHITECTURE)
            if not os.path.exists(arch):
                raise ValueError(
                    f"{directory!r} holds no {ARCHITECTURE} (the model was not JSON-serializable); "
                    "pass model=<a model of the same architecture>."
                )
            with open(arch) as f:
                model = keras.models.model_from_json(f.read())
        callback._template = model
        return callback

    def member_models(self):
        """One `keras.Model` per member (clones of the trained model holding each member's weights)."""
        template = self._template
        if template is None:
            raise ValueError("CheckpointEnsemble has no model yet: call fit() with it first.")
        if not self.members:
            raise ValueError(
                "CheckpointEnsemble has no members: no epoch met the selection rule "
                f"(mode={self.mode!r}, k={self.k}, every={self.every}, monitor={self.monitor!r})."
            )
        models = []
        for member in self.members:
            clone = keras.models.clone_model(template)
            if member.weights is not None:
                clone.set_weights(member.weights)
            else:
                clone.load_weights(member.path)
            clone.name = f"member_epoch{member.epoch}"
            models.append(clone)
        return models

    def ensemble(self, method: str = "mean") -> keras.Model:
        """The members averaged into one model (see `kerasrecipes.ensembles.average`).

        Args:
            method: `"mean"` of probabilities or `"geometric"` mean. Defaults to `"mean"`.

        Returns:
            A `keras.Model`, saveable as `.keras`.
        """
        return ensembles.average(self.member_models(), method=method, name=f"{self.mode}_ensemble")
