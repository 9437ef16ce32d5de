"""One stage of a search: its settings (`StageSpec`), the work (`StageJob`) and `run_stage`.

This module sits below both the `Search` (which makes a spec per stage) and the
runners (in-process, local workers, cluster; `kerasrecipes.tuning.runners`),
which all end in the one public `run_stage(spec, job)`: build the stage's
tuner from the spec and run keras-tuner's `search` on the job's data.
`open_stage(spec, hypermodel)` builds the same tuner without running it, outside
keras-tuner's distributed mode, to read a finished (or resumed) project.
"""

import contextlib
import dataclasses
import os
import sys
from typing import Any

from kerasrecipes.tuning import parallel as parallel_module
from kerasrecipes.tuning.pruning import MedianStoppingRule
from kerasrecipes.tuning.results import ERROR_KEY, stage_rows
from kerasrecipes.tuning.tuners import RecipeHyperband, RecipeRandomSearch, error_line

ALGORITHMS = ("random", "hyperband")
SPACE_FILE = "kerasrecipes_space.json"  # the stage's ranges, so a resumed refine reuses them


class SearchError(RuntimeError):
    """A search could not go on: every trial of a stage failed, or its chief or a worker died.

    The message says why in its first line (the first trial's error, or the
    dead process's last output lines below it). The search is resumable.
    """


@dataclasses.dataclass
class StageSpec:
    """What a stage is: plain settings, the same in every process that runs it.

    Attributes:
        index: 0 for the coarse stage, n for the n-th refine.
        directory, project_name: Where its keras-tuner project lives.
        algorithm: "random" or "hyperband".
        objective: A metric name or a `keras_tuner.Objective`.
        epochs: Epochs per trial (Hyperband: the most).
        max_trials: Trials (random search).
        seed: The oracle's seed (never falsy: see `derive_seed`), or None.
        executions_per_trial: Trainings per trial.
        hyperband_factor: Hyperband's reduction factor.
        pruning: A `MedianStoppingRule` config, or None.
        space: The stage's `SearchSpace`, or None for a build function.
        label: The label of its progress lines.
        verbose: 0, 1 or 2.
        tuner_kwargs: More keyword arguments for the tuner (in-process only:
            `distribution_strategy`).
    """

    index: int
    directory: str
    project_name: str
    algorithm: str
    objective: Any
    epochs: int
    max_trials: Any
    seed: Any = None
    executions_per_trial: int = 1
    hyperband_factor: int = 3
    pruning: Any = None
    space: Any = None
    label: str = ""
    verbose: int = 1
    tuner_kwargs: dict = dataclasses.field(default_factory=dict)

    @property
    def project_dir(self):
        return os.path.join(self.directory, self.project_name)


@dataclasses.dataclass
class StageJob:
    """What a stage trains: the hypermodel, `fit`'s data and arguments, the callbacks, the progress callable."""

    hypermodel: Any
    fit_args: tuple
    fit_kwargs: dict
    callbacks: list
    progress: Any = None


def derive_seed(seed, index):
    """Stage `index`'s oracle and weight seed: `seed * 1000 + index + 1`, never 0.

    keras-tuner's oracle reads `seed or random.randint(1, 10000)`, so a seed of 0
    would not seed at all.
    """
    return None if seed is None else int(seed) * 1000 + int(index) + 1


def make_tuner(spec, hypermodel, progress=None):
    """The stage's tuner (`RecipeRandomSearch` or `RecipeHyperband`), reloading its project if it exists."""
    common = dict(
        hypermodel=hypermodel,
        objective=spec.objective,
        seed=spec.seed,
        hyperparameters=None if spec.space is None else spec.space.to_hyperparameters(),
        directory=spec.directory,
        project_name=spec.project_name,
        overwrite=False,  # a Search clears a project itself before its runner starts
        executions_per_trial=spec.executions_per_trial,
        weight_seed=spec.seed,
        progress=progress,
        stage_label=spec.label,
        pruning=None if spec.pruning is None else MedianStoppingRule.from_config(spec.pruning),
        **spec.tuner_kwargs,
    )
    # keras-tuner prints "Reloading Tuner from ..." to stdout; the CLI keeps stdout for its JSON line.
    with contextlib.redirect_stdout(sys.stderr):
        if spec.algorithm == "hyperband":
            return RecipeHyperband(max_epochs=spec.epochs, factor=spec.hyperband_factor, **common)
        return RecipeRandomSearch(max_trials=spec.max_trials, **common)


def run_stage(spec, job):
    """Builds the stage's tuner and runs keras-tuner's `search` on the job; returns the tuner.

    In keras-tuner's distributed mode (its environment variables set) this
    process is the chief (it serves the oracle until every trial has ended) or
    a worker (it runs trials until the chief says stop).

    Raises:
        SearchError: keras-tuner stopped the search after consecutive failed
            trials (the first error in the message).
    """
    tuner = make_tuner(spec, job.hypermodel, job.progress)
    kwargs = dict(job.fit_kwargs)
    kwargs["epochs"] = spec.epochs
    kwargs["callbacks"] = list(job.callbacks)
    kwargs.setdefault("verbose", 2 if spec.verbose >= 2 else 0)
    try:
        tuner.search(*job.fit_args, **kwargs)
    except RuntimeError as e:
        if "consecutive failures" not in str(e):
            raise
        raise SearchError(f"{spec.label or 'search'}: keras-tuner stopped after consecutive failed trials; "
                          f"the first: {first_error(tuner) or error_line(str(e))}") from None
    return tuner


def open_stage(spec, hypermodel):
    """The stage's tuner over its project on disk, never in distributed mode (to read results)."""
    with parallel_module.local_env():
        return make_tuner(spec, hypermodel)


def first_error(tuner):
    """The one-line error of the first FAILED trial in `tuner.oracle`, or None."""
    for row in stage_rows(tuner, 0):
        if row["status"] == "FAILED":
            return row.get(ERROR_KEY)
    return None


def check_stage(tuner, spec):
    """Raises `SearchError` with the first error when trials ended and every one of them FAILED."""
    trials = list(tuner.oracle.trials.values())
    ended = [t for t in trials if t.status in ("COMPLETED", "FAILED")]
    if ended and all(t.status == "FAILED" for t in ended):
        raise SearchError(f"every trial of {spec.label or 'the search'} failed ({len(ended)} of them); "
                          f"the first: {first_error(tuner)}")


