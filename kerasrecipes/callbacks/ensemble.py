"""Checkpoint ensembles: snapshots of one training run, averaged into one model."""

import dataclasses
import os
import warnings

import keras

from kerasrecipes import _io, ensembles, schedules
from kerasrecipes._models import check_compiled
from kerasrecipes.callbacks._monitor import Monitor, check_count, print_msg

_MODES = ("snapshot", "top_k", "every")
MANIFEST = "ensemble.json"
ARCHITECTURE = "architecture.json"


@dataclasses.dataclass
class EnsembleMember:
    """One checkpoint of a `CheckpointEnsemble`.

    Attributes:
        epoch: The epoch, 1-based as Keras's progress bar counts it
            (`history.history[...][epoch - 1]`).
        metric: The monitored value at that epoch (None if it was not logged).
        weights: The weights (`model.get_weights()`) for an in-memory member, else None.
        path: The `.weights.h5` file for an on-disk member, else None.
    """

    epoch: int
    metric: float | None
    weights: list | None = dataclasses.field(default=None, repr=False)
    path: str | None = None


class CheckpointEnsemble(Monitor):
    """Keeps checkpoints of one training run and averages them into one model.

    "Different checkpoints of a single model over time ... form an ensemble ...
    very cheap" (cs231n): the members cost no extra training. Keras's
    `ModelCheckpoint` saves checkpoints but keeps no set of them and builds no
    ensemble; this callback adds the selection policy, the bookkeeping and
    `.ensemble()`, on the package's `Monitor` base:

    - `mode="snapshot"`: a member at the end of each cycle of a cyclic LR
      schedule (Huang et al. 2017, "Snapshot Ensembles: Train 1, get M for
      free"). The cycle ends are read from the optimizer's schedule when it is
      `kerasrecipes.schedules.CyclicCosine` or Keras's `CosineDecayRestarts`
      (also behind `schedules.Warmup`); otherwise a member every `every` epochs.
      The last `k` snapshots are kept.
    - `mode="top_k"`: the `k` best epochs by `monitor`.
    - `mode="every"`: a member every `every` epochs, keeping the last `k`.

    The monitored value is recorded for every member, so `monitor` must be
    logged (a misspelled one is an error at the end of the first epoch; pass
    `monitor="loss"` for a run without validation data).

    Members live in memory, each costing one copy of the model's weights (k
    copies in all); with `directory` they are written to disk instead, as
    `member-eNNNNN.weights.h5` files named by the 1-based epoch (atomically:
    temp file, then rename, so a killed run never leaves a half-written
    member) with an `ensemble.json` manifest, and reload with
    `CheckpointEnsemble.from_directory(directory)`. The on-disk set also
    survives a killed run resumed with Keras's `BackupAndRestore`; for
    in-memory members pass `backup_dir` for that.

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

    state_fields = Monitor.state_fields + ("member_records", "_last_iteration")
    weight_fields = ("member_weights",)

    def __init__(self, mode="top_k", k=5, monitor="val_loss", every=1, directory=None,
                 monitor_mode="auto", backup_dir=None, verbose=0):
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}. Received mode={mode!r}")
        k = check_count("k", k, minimum=1)
        every = check_count("every", every, minimum=1)
        if directory is not None and not isinstance(directory, str) and not hasattr(directory, "__fspath__"):
            raise ValueError(f"directory must be a directory path or None. Received directory={directory!r}")
        directory = None if directory is None else os.fspath(directory)
        super().__init__(monitor, mode=monitor_mode, backup_dir=directory or backup_dir, verbose=verbose)
        self.mode = mode
        self.k = k
        self.every = every
        self.directory = directory
        self.members = []
        self._template = None
        self._cyclic_schedule = None
        self._last_iteration = 0

    # `Monitor.mode` is the direction (Keras's name); here `mode` is the selection policy, as the
    # argument says, and the direction is `monitor_mode`.
    mode = None

    # -- state fields -------------------------------------------------------
    @property
    def member_records(self):
        return [{"epoch": m.epoch, "metric": m.metric, "path": m.path and os.path.basename(m.path)}
                for m in self.members]

    @member_records.setter
    def member_records(self, records):
        self.members = [EnsembleMember(r["epoch"], r["metric"],
                                       path=r["path"] and os.path.join(self.directory, r["path"]))
                        for r in records]

    @property
    def member_weights(self):
        return {} if self.directory else {f"e{m.epoch:05d}": m.weights for m in self.members}

    @member_weights.setter
    def member_weights(self, weights):
        for m in self.members:
            if not self.directory:
                m.weights = weights[f"e{m.epoch:05d}"]

    # -- training hooks -----------------------------------------------------
    def reset(self):
        check_compiled(self.model, "CheckpointEnsemble", why=" (it reads the optimizer's step and schedule)")
        super().reset()
        self.members = []
        self._template = None
        self._cyclic_schedule = None
        self._last_iteration = 0
        if self.mode == "snapshot":
            self._read_cycles()

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

    def begin_fit(self, epoch, restored):
        if not restored and epoch == 0 and self.directory:
            self._clear_directory()
        if not restored:
            self._last_iteration = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def end_epoch(self, epoch, logs):
        if self.directory:
            self._collect_member_files()
        value = self.current(logs)
        self.track(epoch, logs)
        if self._should_take(epoch, value):
            self._take(epoch, value)
        if self.directory:
            self._write_manifest()

    def _should_take(self, epoch, value):
        if self.mode == "top_k":
            if value is None:
                return False
            if len(self.members) < self.k:
                return True
            return self._is_improvement(value, self._worst().metric)
        if self.mode == "snapshot" and self._cyclic_schedule is not None:
            iteration = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
            ends = schedules.cycle_end_steps(self._cyclic_schedule, iteration)
            ended = any(self._last_iteration < end <= iteration for end in ends)
            self._last_iteration = iteration
            return ended
        return (epoch + 1) % self.every == 0

    def _worst(self):
        return min(self.members, key=lambda m: self.rank_key(m.metric))

    def _take(self, epoch, value):
        number = epoch + 1
        if self.directory:
            path = os.path.join(self.directory, f"member-e{number:05d}.weights.h5")
            _io.save_keras(self._net(), path)
            member = EnsembleMember(number, value, path=path)
        else:
            member = EnsembleMember(number, value, weights=self._net().get_weights())
        if len(self.members) >= self.k:
            evicted = self._worst() if self.mode == "top_k" else self.members[0]
            self.members.remove(evicted)
            # An evicted file is deleted only once no kept state names it (see
            # _collect_member_files), so a resumed run can still go back to it.
        self.members.append(member)
        self.members.sort(key=lambda m: m.epoch)
        if self.verbose > 0:
            shown = "n/a" if value is None else format(value, ".4g")
            print_msg(f"\nEpoch {number}: CheckpointEnsemble({self.mode!r}) kept this epoch "
                      f"({self.monitor}={shown}); {len(self.members)} member(s).")

    def _net(self):
        """The network the members hold: the trained model, or the net an `Augmented` model trains."""
        from kerasrecipes.models.augmented import inference_model

        return inference_model(self.model)

    def end_training(self, logs):
        self._template = self._net()
        if self.directory:
            self._write_manifest()
            self._save_architecture()
            self._remove_member_files(keep=[m.path for m in self.members])

    # -- on-disk bookkeeping ------------------------------------------------
    def _manifest(self):
        return {
            "mode": self.mode,
            "monitor": self.monitor,
            "monitor_mode": self.monitor_mode,
            "epochs": "1-based",
            "members": self.member_records,
        }

    def _write_manifest(self):
        _io.write_json(os.path.join(self.directory, MANIFEST), self._manifest())

    def _save_architecture(self):
        try:
            text = self._net().to_json()
        except Exception:  # subclassed models have no JSON; from_directory then needs `model`
            return
        _io.write_text(os.path.join(self.directory, ARCHITECTURE), text)

    def _collect_member_files(self):
        """Delete member files that neither the members nor a kept state name."""
        kept = [m.path for m in self.members]
        if self._store is not None:
            kept += [r.get("path") for state in self._store.states() for r in state.get("member_records") or []
                     if isinstance(r, dict)]
        self._remove_member_files(keep=kept)

    def _remove_member_files(self, keep):
        keep = {os.path.basename(p) for p in keep if p}
        if not os.path.isdir(self.directory):
            return
        for fname in os.listdir(self.directory):
            if fname.startswith("member-") and fname.endswith(".weights.h5") and fname not in keep:
                os.remove(os.path.join(self.directory, fname))

    def _clear_directory(self):
        if os.path.isdir(self.directory):
            self._remove_member_files(keep=[])
            for name in (MANIFEST, ARCHITECTURE):
                if os.path.exists(os.path.join(self.directory, name)):
                    os.remove(os.path.join(self.directory, name))

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
        problems = []
        manifest = _io.read_json_or_none(manifest_path, problems)
        if not isinstance(manifest, dict) or not isinstance(manifest.get("members"), list):
            raise ValueError(f"{manifest_path} cannot be read ({problems[0] if problems else 'not a manifest'}); "
                             f"the members cannot be listed. Received directory={directory!r}")
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
            clone.name = f"member_epoch{member.epoch}"  # 1-based, as the file names
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
