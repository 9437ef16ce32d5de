"""keras-tuner oracles whose state survives SIGKILL, and which decide on pruning.

keras-tuner writes `oracle.json` and each `trial.json` with a plain
`open(path, "w").write(...)`: a kill during the write leaves an empty or cut
file, and every later run fails on it (`Expecting value: line 1 column 1`). The
oracles here are keras-tuner's `RandomSearchOracle` and `HyperbandOracle` with:

- atomic state files: `save()` and `_save_trial()` (keras-tuner's own save
  hooks; `_save_trial` is private, overridden as a last resort because it is
  the only place a trial file is written) go through `kerasrecipes._io.atomic_write`;
- a `reload()` that rebuilds an empty or corrupt `oracle.json` from the trials'
  own files (said in one line on stderr), and reconciles the two kinds of file
  after a kill between their writes: a trial whose file says COMPLETED or FAILED
  is ended (never run again), a trial that was handed out but never ended is
  queued to run again under its id;
- a re-run trial starts with an empty metrics history (the killed run's epochs
  are dropped, not averaged in);
- pruning decided here, in `update_trial`, by a `MedianStoppingRule`: the reply
  to an epoch's report has status "STOPPED" when the trial should stop (the
  signal keras-tuner's `update_trial` leaves as a TODO), also through gRPC.
"""

import copy
import json
import os
import sys

import keras_tuner as kt

from kerasrecipes import _io
from kerasrecipes._stats import infer_mode

_ENDED = ("COMPLETED", "FAILED")


class _SafeState:
    """Mixin for keras-tuner oracles: atomic files, rebuilt state, fresh metrics on re-runs, pruning."""

    def __init__(self, *args, pruning=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pruning = pruning  # a MedianStoppingRule or None

    # -- atomic state files ------------------------------------------------
    def save(self):
        state = self.get_state()
        _io.atomic_write(self._get_oracle_fname(), lambda f: f.write(json.dumps(state)))

    def _save_trial(self, trial):
        path = os.path.join(self._get_trial_dir(trial.trial_id), "trial.json")
        state = trial.get_state()
        _io.atomic_write(path, lambda f: f.write(json.dumps(state)))

    # -- reloading after a kill --------------------------------------------
    def reload(self):
        project = self._project_dir
        bad = []
        for entry in sorted(os.listdir(project)):
            path = os.path.join(project, entry, "trial.json")
            if not entry.startswith("trial_") or not os.path.exists(path):
                continue
            try:
                trial = kt.engine.trial.Trial.load(path)
            except (ValueError, KeyError, TypeError, OSError):
                bad.append(entry)  # only files of keras-tuner before this fix can be cut
                continue
            self.trials[trial.trial_id] = trial
        if bad:
            print(f"kerasrecipes: skipped unreadable trial files in {project}: {', '.join(bad)}",
                  file=sys.stderr, flush=True)
        fname = self._get_oracle_fname()
        try:
            with open(fname, encoding="utf-8") as f:
                self.set_state(json.loads(f.read()))
        except (ValueError, KeyError, TypeError, OSError) as e:
            self._rebuild_from_trials()
            reason = "empty" if os.path.exists(fname) and os.path.getsize(fname) == 0 else type(e).__name__
            print(f"kerasrecipes: {fname} was unreadable ({reason}); rebuilt the oracle's state from "
                  f"{len(self.trials)} trial files", file=sys.stderr, flush=True)
        # keras-tuner's own reload: trials that were running go back in the queue.
        for _, trial in self.ongoing_trials.items():
            self._retry_queue.append(trial.trial_id)
        self.ongoing_trials = {}
        self._reconcile()

    def _rebuild_from_trials(self):
        """The oracle's bookkeeping from the trial files alone (the search space comes from the tuner)."""
        import collections

        self.ongoing_trials = {}
        ids = sorted(self.trials, key=lambda t: (len(t), t))
        self.start_order = list(ids)
        self.end_order = [t for t in ids if self.trials[t].status in _ENDED]
        self._run_times = collections.defaultdict(lambda: 0)
        self._run_times.update({t: 1 for t in self.end_order})
        self._retry_queue = []
        self._tried_so_far = set()
        self._id_to_hash = collections.defaultdict(lambda: None)
        draws = 0
        for t in ids:
            trial = self.trials[t]
            self.update_space(trial.hyperparameters)
            self._record_values(trial)
            draws += sum(1 for name in trial.hyperparameters.values if not name.startswith("tuner/"))
        # RandomSearchOracle draws value i of the search with seed `seed + i`: continue after the
        # trials on disk so a rebuilt search does not draw the same values again.
        self._seed_state = self.seed + draws

    def _reconcile(self):
        ended = set(self.end_order)
        queued = set(self._retry_queue)
        for trial_id in sorted(self.trials, key=lambda t: (len(t), t)):
            trial = self.trials[trial_id]
            if trial.status in _ENDED:
                if trial_id not in ended:  # killed after the trial file, before oracle.json: it did end
                    self.end_order.append(trial_id)
                    self._run_times[trial_id] = max(1, self._run_times[trial_id])
                if trial_id in queued:
                    self._retry_queue.remove(trial_id)
            elif trial_id not in ended and trial_id not in queued:
                # handed out (its file exists) but never ended, and not in oracle.json's queue
                self._retry_queue.append(trial_id)
                if trial_id not in self.start_order:
                    self.start_order.append(trial_id)

    # -- trials ------------------------------------------------------------
    @kt.synchronized
    def create_trial(self, tuner_id):
        trial = super().create_trial(tuner_id)
        if trial.status == "RUNNING" and trial.metrics.metrics:
            # A trial handed out again (a restarted worker, a resumed search): its killed
            # run's epochs would be averaged into the new run's; start its history afresh.
            trial.metrics = type(trial.metrics)()
            self._save_trial(trial)
        return trial

    @kt.synchronized
    def update_trial(self, trial_id, metrics, step=0):
        trial = super().update_trial(trial_id, metrics, step=step)
        if self.pruning is None or trial.status != "RUNNING":
            return trial
        name = self.pruning.objective or self.objective.name
        if name not in metrics or not trial.metrics.exists(name):
            return trial
        direction = self._direction_of(name)
        values = [obs.mean() for obs in trial.metrics.get_history(name)]
        stop, threshold, n = self.pruning.should_stop(values, self._completed_curves(trial_id, name),
                                                      int(step), direction)
        if not stop:
            return trial
        if self.pruning.verbose:
            print(f"trial {trial_id}: stopped at epoch {int(step) + 1}, best {name} "
                  f"{max(values) if direction == 'max' else min(values):.4f} worse than the "
                  f"{self.pruning.percentile:g}th percentile {threshold:.4f} of {n} completed trials",
                  file=sys.stderr, flush=True)
        reply = copy.copy(trial)  # the stored trial stays RUNNING until the tuner ends it
        reply.status = "STOPPED"
        return reply

    def _direction_of(self, name):
        objective = self.objective
        if getattr(objective, "name", None) == name:
            return objective.direction
        return infer_mode(name)

    def _completed_curves(self, trial_id, name):
        curves = []
        for other_id, trial in self.trials.items():
            if other_id == trial_id or trial.status != "COMPLETED" or not trial.metrics.exists(name):
                continue
            by_step = {int(obs.step): float(obs.mean()) for obs in trial.metrics.get_history(name)}
            curve = []
            for step in range(len(by_step)):
                if step not in by_step:
                    break
                curve.append(by_step[step])
            curves.append(curve)
        return curves


class RandomSearchOracle(_SafeState, kt.oracles.RandomSearchOracle):
    """keras-tuner's RandomSearchOracle with kill-safe state and pruning (see the module)."""


class HyperbandOracle(_SafeState, kt.oracles.HyperbandOracle):
    """keras-tuner's HyperbandOracle with kill-safe state and pruning (see the module).

    A rebuilt `oracle.json` cannot restore Hyperband's brackets: they start afresh
    (the completed trials are kept and not run again).
    """
