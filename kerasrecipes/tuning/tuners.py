"""Our keras-tuner tuners: RandomSearch and Hyperband with a clean session, a record and a line per trial.

They are keras-tuner's `Tuner` (and `Hyperband`) on the oracles of
`kerasrecipes.tuning.oracles` (atomic state, rebuilt after a kill, pruning
decided by the oracle). Only keras-tuner's documented hooks are overridden:
`on_trial_begin` (a fresh Keras session and the trial's weight seed),
`run_trial` around the parent's (epochs run, seconds, tuner id and, for a
FAILED trial, its error in one line, written atomically beside the trial's
files), `on_epoch_end` (each epoch's objective reported to the oracle when a
pruning rule is set; the oracle's reply "STOPPED" ends the fit), `on_trial_end`
(memory released, the progress line), and `save`/`reload` (atomic, and a cut
file is not fatal). Sampling, scheduling, checkpoints and reloading stay
keras-tuner's.
"""

import json
import os
import time

import keras
import keras_tuner as kt

from kerasrecipes import _io, memory
from kerasrecipes.tuning import oracles

RECORD_FILE = "kerasrecipes_trial.json"  # epochs run, seconds, tuner id, error: one per trial directory


def error_line(exc_or_message):
    """The one line that says what failed: `Type: message` of an exception, or a traceback's last line."""
    if isinstance(exc_or_message, BaseException):
        text = f"{type(exc_or_message).__name__}: {exc_or_message}"
    else:
        lines = [line.strip() for line in str(exc_or_message or "").strip().splitlines() if line.strip()]
        text = lines[-1] if lines else ""
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


class _RecipeTrials:
    """Mixin: what kerasrecipes adds around each keras-tuner trial (see the module)."""

    def __init__(self, *, oracle, hypermodel, directory, project_name, overwrite=False, weight_seed=None,
                 progress=None, stage_label="", **kwargs):
        self._weight_seed = weight_seed
        self._progress = progress
        self._stage_label = stage_label
        self._pruning = oracle.pruning
        self._pruned_at = None
        self._warned = False
        _mark_resumable(directory, project_name, overwrite)
        # kt.Tuner's constructor, not the next class's: kt.Hyperband.__init__ only builds its own
        # oracle, which ours replaces (keras-tuner: "to use this Oracle with your own Tuner").
        kt.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, directory=directory,
                          project_name=project_name, overwrite=overwrite, **kwargs)

    # -- state files ---------------------------------------------------------
    def save(self):
        if not self._is_worker():
            self.oracle.save()
        state = self.get_state()
        _io.atomic_write(self._get_tuner_fname(), lambda f: f.write(json.dumps(state)))

    def reload(self):
        if not self._is_worker():
            self.oracle.reload()
        try:
            state = _io.read_json(self._get_tuner_fname())
        except (ValueError, OSError):  # a tuner's own state is empty in keras-tuner 1.4: nothing is lost
            state = {}
        self.set_state(state)

    # -- trials --------------------------------------------------------------
    def on_trial_begin(self, trial):
        # Each trial starts from a clean session (no layer-name or graph build-up across
        # dozens of models in one process), with its own weight seed.
        memory.clear_session()
        if self._weight_seed is not None:
            keras.utils.set_random_seed((int(self._weight_seed) * 1000 + int(trial.trial_id)) % (2**32 - 1))
        self._pruned_at = None
        super().on_trial_begin(trial)

    def run_trial(self, trial, *args, **kwargs):
        start = time.perf_counter()
        record = {"trial_id": trial.trial_id, "tuner_id": self.tuner_id, "pid": os.getpid()}
        try:
            results = super().run_trial(trial, *args, **kwargs)
        except Exception as e:
            # The oracle keeps keras-tuner's traceback only in one process (gRPC drops it): say it here too.
            record.update(epochs=None, seconds=time.perf_counter() - start, error=error_line(e))
            _io.write_json(os.path.join(self.get_trial_dir(trial.trial_id), RECORD_FILE), record)
            raise
        histories = results if isinstance(results, list) else [results]
        epochs = None
        if all(isinstance(h, keras.callbacks.History) for h in histories):
            epochs = sum(len(h.epoch) for h in histories)
        record.update(epochs=epochs, seconds=time.perf_counter() - start)
        if self._pruning is not None:
            record["pruned_at"] = self._pruned_at
        _io.write_json(os.path.join(self.get_trial_dir(trial.trial_id), RECORD_FILE), record)
        return results

    def on_epoch_end(self, trial, model, epoch, logs=None):
        if self._pruning is None:
            return
        logs = logs or {}
        names = [self.oracle.objective.name]
        if self._pruning.objective and self._pruning.objective not in names:
            names.append(self._pruning.objective)
        if any(n not in logs for n in names):
            if not self._warned:
                print(f"kerasrecipes: pruning needs {', '.join(names)} in the logs; available: "
                      f"{', '.join(sorted(logs))}", flush=True)
                self._warned = True
            return
        reply = self.oracle.update_trial(trial.trial_id, {n: float(logs[n]) for n in names}, step=int(epoch))
        if reply.status == "STOPPED":  # the oracle's decision (MedianStoppingRule)
            self._pruned_at = int(epoch) + 1
            model.stop_training = True

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        # A private keras-tuner hook, overridden as a last resort: keras-tuner 1.4 imports tensorboard
        # in every trial on the TensorFlow backend, though only a TensorBoard callback needs it, and
        # TF >= 2.20 no longer installs tensorboard. Skip the import when there is no such callback.
        if any(type(c).__name__ == "TensorBoard" for c in callbacks):
            super()._configure_tensorboard_dir(callbacks, trial, execution)

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        # Keras's clear_session frees its state but not TensorFlow's registry of the trial's
        # traced gradients (~4 MB per trial): kerasrecipes.clear_session drops those too.
        memory.clear_session()
        if self._progress is None:
            return
        try:
            ended = self.oracle.get_trial(trial.trial_id)
            best = self.oracle.get_best_trials(1)
            record_path = os.path.join(self.get_trial_dir(trial.trial_id), RECORD_FILE)
            record = _io.read_json(record_path) if os.path.exists(record_path) else {}
        except Exception:  # a progress line must never break a search
            return
        self._progress({
            "stage": self._stage_label,
            "trial": int(trial.trial_id) + 1,
            "max_trials": getattr(self.oracle, "max_trials", None),
            "status": ended.status,
            "score": ended.score,
            "best": best[0].score if best and best[0].status == "COMPLETED" else None,
            "seconds": record.get("seconds"),
            "error": record.get("error") or (error_line(trial.message) if trial.message else None),
            "hyperparameters": dict(ended.hyperparameters.values),
        })


def _mark_resumable(directory, project_name, overwrite):
    """keras-tuner reloads a project only when this tuner id's own file exists; a project whose
    oracle or trial files exist (this tuner id never ended a trial there) must reload too."""
    project = os.path.join(os.fspath(directory), project_name)
    if overwrite or not os.path.isdir(project):
        return
    fname = os.path.join(project, os.environ.get("KERASTUNER_TUNER_ID", "tuner0") + ".json")
    if os.path.exists(fname):
        return
    if os.path.exists(os.path.join(project, "oracle.json")) or any(
            e.startswith("trial_") for e in os.listdir(project)):
        _io.write_text(fname, "{}")


class RecipeRandomSearch(_RecipeTrials, kt.Tuner):
    """keras-tuner's random search (its Tuner on our `RandomSearchOracle`) with the per-trial additions.

    Args:
        hypermodel: A `keras_tuner.HyperModel` or build function.
        objective, max_trials, seed, hyperparameters: as `keras_tuner.RandomSearch`
            (`seed` must not be falsy to seed: keras-tuner reads `seed or random...`).
        pruning: A `MedianStoppingRule` for the oracle, or None.
        weight_seed: Seeds each trial's weights (`weight_seed * 1000 + trial id`).
        progress: A callable receiving one dict per ended trial.
        stage_label: The label of the progress lines.
        **kwargs: `kt.Tuner`'s (directory, project_name, overwrite, executions_per_trial...).
    """

    def __init__(self, hypermodel=None, objective=None, max_trials=10, seed=None, hyperparameters=None,
                 pruning=None, **kwargs):
        oracle = oracles.RandomSearchOracle(objective=objective, max_trials=max_trials, seed=seed,
                                            hyperparameters=hyperparameters, pruning=pruning)
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)


class RecipeHyperband(_RecipeTrials, kt.Hyperband):
    """keras-tuner's Hyperband (its tuner on our `HyperbandOracle`) with the per-trial additions.

    Args: as `RecipeRandomSearch`, with `max_epochs` and `factor` of `keras_tuner.Hyperband`
    instead of `max_trials`.
    """

    def __init__(self, hypermodel=None, objective=None, max_epochs=100, factor=3, seed=None,
                 hyperparameters=None, pruning=None, **kwargs):
        oracle = oracles.HyperbandOracle(objective=objective, max_epochs=max_epochs, factor=factor, seed=seed,
                                         hyperparameters=hyperparameters, pruning=pruning)
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)


def print_progress(event, file=None):
    """The default progress line: stage, trial n of N, its score (or its error) and the best so far."""
    total = event["max_trials"]
    score, best = event["score"], event["best"]
    text = f"{event['stage'] or 'search'}: trial {event['trial']}" + (f"/{total}" if total else "")
    if score is not None and event["status"] == "COMPLETED":
        text += f"  score {score:.4f}"
    else:
        text += f"  {event['status'].lower()}" + (f": {event['error']}" if event.get("error") else "")
    text += f"  best {best:.4f}" if best is not None else ""
    text += f"  ({event['seconds']:.1f} s)" if event.get("seconds") is not None else ""
    print(text, file=file, flush=True)




def stderr_progress(event):
    """`print_progress` to stderr: the progress of worker processes (a module-level function: it pickles)."""
    import sys

    print_progress(event, file=sys.stderr)
