"""Pruning of stalled trials: the median-stopping rule, read through keras-tuner's oracle.

keras-tuner 1.4 schedules trials but never stops a losing one early (its
`Oracle.update_trial` carries a "TODO: signal early stopping"); Hyperband
prunes by its fixed brackets only. `MedianStoppingRule` adds the rule of
Google Vizier (Golovin et al. 2017): a trial is stopped at epoch e when its
best objective so far is worse than the median (or another percentile) of the
running averages, up to epoch e, of the trials that already completed.

The per-epoch objective values go through the oracle itself
(`oracle.update_trial(trial_id, {objective: value}, step=epoch)`), and the
completed trials' curves are read back from it (`oracle.get_best_trials`), so
the rule works unchanged when the oracle is a keras-tuner chief on another
process or machine. keras-tuner then scores each trial from those per-epoch
values: the best epoch's value, as without pruning (with several executions
per trial, the best epoch of the mean curve).
"""

import math
import warnings

import keras
import numpy as np

# keras-tuner warns once per trial when the objective already reached the oracle
# during the trial; with per-epoch reports that is by design, not a deprecated use.
warnings.filterwarnings("ignore", message="The use case of calling `self.oracle.update_trial",
                        category=DeprecationWarning)

_ALL_TRIALS = 1_000_000  # get_best_trials(n) returns every trial when n exceeds their number


def median_stopping_threshold(curves, epoch, percentile=50.0, direction="max"):
    """The value a trial must reach by `epoch` under the median-stopping rule.

    Each completed trial that reported the objective at every epoch up to
    `epoch` contributes the running average of its values over epochs
    0..`epoch` (Vizier's rule); the threshold is the `percentile` of those
    averages counted from the bad end: 50 is the median, 75 asks a trial to
    beat three quarters of the completed ones.

    Args:
        curves: A list of per-epoch value lists (index = epoch, 0-based; a
            shorter list is a trial that stopped earlier and is left out).
        epoch: The epoch (0-based) being judged.
        percentile: In (0, 100). Defaults to `50.0`.
        direction: "max" or "min". Defaults to `"max"`.

    Returns:
        `(threshold, n)`: the threshold (None when no trial reached `epoch`)
        and the number of trials it was computed from.

    Example:
    >>> median_stopping_threshold([[0.5, 0.7], [0.3, 0.5], [0.6, 0.8]], epoch=1)
    (0.6, 3)
    """
    averages = [float(np.mean(c[: epoch + 1])) for c in curves
                if len(c) > epoch and all(v is not None and not math.isnan(v) for v in c[: epoch + 1])]
    if not averages:
        return None, 0
    q = percentile if direction == "max" else 100.0 - percentile
    return float(np.percentile(averages, q)), len(averages)


class MedianStoppingRule(keras.callbacks.Callback):
    """Stops a trial whose objective trails the median of completed trials at the same epoch.

    Pass it in a search's callbacks (`random_search(..., callbacks=[...])`,
    `Search`, `kerasrecipes search --prune`); the kerasrecipes tuners
    (`RecipeRandomSearch`, `RecipeHyperband`) bind each trial's copy to the
    oracle and the trial. At the end of every epoch it reports the objective to
    the oracle, and from epoch `warmup_epochs + 1` on, once at least
    `min_trials` completed trials reached that epoch, it stops training when
    the trial's best value so far is worse than the threshold of
    `median_stopping_threshold`. The trial still ends as COMPLETED with the
    score of its best epoch, and `Search.results()` shows the epoch it was
    stopped at in `pruned_at`.

    What it adds to keras-tuner: the stopping decision itself (keras-tuner
    has none outside Hyperband's brackets) and per-epoch curves in the oracle,
    shared by every worker of a distributed search.

    Args:
        objective: Metric to judge, as `fit` logs it. Defaults to the
            search's objective.
        percentile: A trial must be at least as good as this percentile of the
            completed trials (50: the median). Defaults to `50.0`.
        warmup_epochs: Epochs run before any trial can be stopped. Defaults to `2`.
        min_trials: Completed trials needed at an epoch before the rule acts
            there. Defaults to `3`.
        verbose: 1 prints one line when a trial is stopped. Defaults to `0`.

    Example:
    >>> search = random_search(space, x, y, validation_data=(xv, yv), max_trials=20, epochs=8,
    ...                        callbacks=[*recipe_callbacks(), MedianStoppingRule(warmup_epochs=2)])
    >>> search.results().rows[-1]["pruned_at"]
    """

    def __init__(self, objective=None, percentile=50.0, warmup_epochs=2, min_trials=3, verbose=0):
        super().__init__()
        if objective is not None and (not isinstance(objective, str) or not objective):
            raise ValueError(f"objective must be a metric name or None. Received objective={objective!r}")
        if isinstance(percentile, bool) or not isinstance(percentile, (int, float)) or not 0 < percentile < 100:
            raise ValueError(f"percentile must be a number in (0, 100). Received percentile={percentile!r}")
        for name, value, low in (("warmup_epochs", warmup_epochs, 0), ("min_trials", min_trials, 1)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}. Received {name}={value!r}")
        self.objective = objective
        self.percentile = float(percentile)
        self.warmup_epochs = int(warmup_epochs)
        self.min_trials = int(min_trials)
        self.verbose = verbose
        self._oracle = None
        self._trial_id = None
        self._direction = "max"
        self.pruned_epoch = None

    def __deepcopy__(self, memo):
        # keras-tuner deep-copies the callbacks of every trial; a bound copy must
        # not drag the oracle (locks, a gRPC channel) along.
        return type(self)(self.objective, self.percentile, self.warmup_epochs, self.min_trials, self.verbose)

    def bind(self, oracle, trial_id):
        """Attaches this (per-trial) copy to a keras-tuner oracle (or `OracleClient`) and a trial id.

        Called by the kerasrecipes tuners; call it yourself from a custom
        `Tuner.run_trial` to use the rule with another tuner.
        """
        self._oracle = oracle
        self._trial_id = trial_id
        objective = oracle.objective
        if self.objective is None:
            if not hasattr(objective, "name") or not hasattr(objective, "direction"):
                raise ValueError("MedianStoppingRule needs objective=... with a multi-objective search.")
            self.objective = objective.name
        if getattr(objective, "name", None) == self.objective:
            self._direction = objective.direction
        else:
            self._direction = "min" if ("loss" in self.objective or "error" in self.objective) else "max"
        return self

    def on_train_begin(self, logs=None):
        self.pruned_epoch = None
        self._values = []
        self._warned = False

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._oracle is None:
            if not self._warned:
                warnings.warn("MedianStoppingRule is not bound to a trial (use it in a kerasrecipes search, "
                              "or call bind(oracle, trial_id)); it will not stop anything.", stacklevel=2)
                self._warned = True
            return
        if self.objective not in logs:
            if not self._warned:
                warnings.warn(f"MedianStoppingRule: {self.objective!r} is not in the logs; available: "
                              f"{', '.join(sorted(logs))}", stacklevel=2)
                self._warned = True
            return
        value = float(logs[self.objective])
        self._values.append(value)
        # The epoch's value goes to the oracle under the objective's name (the
        # oracle requires the objective in every report); steps are epochs.
        self._oracle.update_trial(self._trial_id, {self.objective: value}, step=int(epoch))
        if epoch < self.warmup_epochs:
            return
        threshold, n = median_stopping_threshold(self._completed_curves(), epoch, self.percentile,
                                                 self._direction)
        if threshold is None or n < self.min_trials:
            return
        best = max(self._values) if self._direction == "max" else min(self._values)
        worse = best < threshold if self._direction == "max" else best > threshold
        if worse:
            self.pruned_epoch = epoch + 1
            self.model.stop_training = True
            if self.verbose:
                print(f"trial {self._trial_id}: stopped at epoch {epoch + 1}, best {self.objective} "
                      f"{best:.4f} worse than the {self.percentile:g}th percentile {threshold:.4f} of {n} "
                      "completed trials", flush=True)

    def _completed_curves(self):
        curves = []
        for trial in self._oracle.get_best_trials(_ALL_TRIALS):
            if trial.trial_id == self._trial_id or trial.status != "COMPLETED":
                continue
            if not trial.metrics.exists(self.objective):
                continue
            history = trial.metrics.get_history(self.objective)
            by_step = {int(obs.step): float(obs.mean()) for obs in history}
            curve = []
            for step in range(len(by_step)):
                if step not in by_step:
                    break
                curve.append(by_step[step])
            curves.append(curve)
        return curves
