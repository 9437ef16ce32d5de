"""Pruning of stalled trials: the median-stopping rule, read through keras-tuner's oracle.

keras-tuner 1.4 schedules trials but never stops a losing one early (its
`Oracle.update_trial` carries a "TODO: signal early stopping"); Hyperband
prunes by its fixed brackets only. `MedianStoppingRule` adds the rule of
Google Vizier (Golovin et al. 2017): a trial is stopped at epoch e when its
best objective so far is worse than the median (or another percentile) of the
running averages, up to epoch e, of the trials that already completed.

How it is wired, through keras-tuner's documented hooks only: the
kerasrecipes tuners report each epoch's objective from `Tuner.on_epoch_end(trial,
model, epoch, logs)` to the oracle (`oracle.update_trial(trial_id, {objective:
value}, step=epoch)`); the kerasrecipes oracles (`kerasrecipes.tuning.oracles`)
apply this rule to the trial's curve and the completed trials' curves they hold,
and answer with the trial's status "STOPPED" (the signal keras-tuner's own
`update_trial` leaves as a TODO); the tuner then ends the fit. The decision is
the oracle's, so it works unchanged when the oracle is a keras-tuner chief on
another process or machine. keras-tuner then scores each trial from those
per-epoch values: the best epoch's value, as without pruning (with several
executions per trial, the best epoch of the mean curve).
"""

import math
import warnings

import numpy as np

from kerasrecipes.callbacks import improves

# keras-tuner warns once per trial when the objective already reached the oracle
# during the trial; with per-epoch reports that is by design, not a deprecated use.
warnings.filterwarnings("ignore", message="The use case of calling `self.oracle.update_trial",
                        category=DeprecationWarning)


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


class MedianStoppingRule:
    """Stops a trial whose objective trails the median of completed trials at the same epoch.

    Pass it to a search (`random_search(..., callbacks=[*recipe_callbacks(),
    MedianStoppingRule()])`, or `kerasrecipes search --prune`): the search takes
    it out of the per-trial callbacks and hands it to the oracle. At the end of
    every epoch the tuner reports the objective to the oracle; from epoch
    `warmup_epochs + 1` on, once at least `min_trials` completed trials reached
    that epoch, the oracle stops the trial when its best value so far is worse
    than the threshold of `median_stopping_threshold`. The trial still ends as
    COMPLETED with the score of its best epoch, and `Search.results()` shows the
    epoch it was stopped at in `pruned_at`.

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
        verbose: 1 prints one line (in the oracle's process) when a trial is
            stopped. Defaults to `0`.

    Example:
    >>> search = random_search(space, x, y, validation_data=(xv, yv), max_trials=20, epochs=8,
    ...                        callbacks=[*recipe_callbacks(), MedianStoppingRule(warmup_epochs=2)])
    >>> search.results().rows[-1]["pruned_at"]
    """

    def __init__(self, objective=None, percentile=50.0, warmup_epochs=2, min_trials=3, verbose=0):
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
        self.verbose = int(verbose)

    def get_config(self):
        """The rule as JSON-ready settings (what a worker or chief process receives)."""
        return {"objective": self.objective, "percentile": self.percentile,
                "warmup_epochs": self.warmup_epochs, "min_trials": self.min_trials, "verbose": self.verbose}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def should_stop(self, values, completed_curves, epoch, direction="max"):
        """Whether a trial with per-epoch `values` (epochs 0..`epoch`) is stopped at `epoch`.

        Args:
            values: The trial's objective per epoch so far.
            completed_curves: The per-epoch curves of the completed trials.
            epoch: The epoch (0-based) just ended.
            direction: "max" or "min". Defaults to `"max"`.

        Returns:
            `(stop, threshold, n)`.
        """
        if epoch < self.warmup_epochs or not values:
            return False, None, 0
        threshold, n = median_stopping_threshold(completed_curves, epoch, self.percentile, direction)
        if threshold is None or n < self.min_trials:
            return False, threshold, n
        best = max(values) if direction == "max" else min(values)
        # the callbacks' one direction rule: stop when the median of the others beats this trial's best
        return improves(threshold, best, direction), threshold, n

    def __repr__(self):
        return ("MedianStoppingRule(" + ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()) + ")")
