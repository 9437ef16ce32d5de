"""Log-space random search and coarse-to-fine refinement, run by keras-tuner.

keras-tuner's `RandomSearch` (or `Hyperband`) samples, schedules, records and
resumes the trials; this module adds the pieces of the cs231n recipe around it:
a declarative `SearchSpace` turned into `hp.Float(..., sampling="log")` and
`hp.Choice` calls, the recipe callbacks (halve the LR on a plateau, stop early)
inside every trial, `Search.refine()` for the next, finer stage (each stage is
its own keras-tuner project in the same directory), a results table with the
epochs run and seconds of every trial, the top-k models and their ensemble, and
plots of score against each hyperparameter.

The pieces, split by role as keras-tuner splits oracle from tuner:
`hypermodels` (what a trial builds), `oracles` and `tuners` (our keras-tuner
subclasses: kill-safe state, pruning, the per-trial record), `results` (the
table, read through the oracle's API), `stage` (`StageSpec`, `run_stage`) and
`runners` (in-process, local workers, cluster). This module holds the stages
and their refinement.

Resuming: keras-tuner reloads a project whose files exist (`overwrite=False`);
a trial that was running when the process died is run again under the same id,
finished trials are kept as they are; our oracles write their state atomically
and rebuild a cut `oracle.json` from the trials' own files. Running the same
script again after a kill therefore finishes the requested number of trials.

Distributed: keras-tuner's own chief/worker mode works unchanged. Start the
same script in several processes with the environment variables
`KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT` (same in all) and
`KERASTUNER_TUNER_ID` (`chief` for the one that hosts the oracle over gRPC,
`tuner0`, `tuner1`, ... for the workers), all pointing `directory` at one
shared filesystem path. The chief runs no trial; its `random_search` returns
when every trial has ended, with the full results.
"""

import copy
import os
import pickle
import shutil

import numpy as np

import keras_tuner as kt

from kerasrecipes import _io
from kerasrecipes.tuning import checks
from kerasrecipes.tuning import parallel as parallel_module
from kerasrecipes.tuning.hypermodels import FunctionHyperModel, RecipeHyperModel, SpaceHyperModel
from kerasrecipes.tuning.pruning import MedianStoppingRule
from kerasrecipes.tuning.results import ERROR_KEY, PRUNED_KEY, ROW_KEYS, Results, stage_rows
from kerasrecipes.tuning.runners import runner_for
from kerasrecipes.tuning.space import SearchSpace
from kerasrecipes.tuning.stage import ALGORITHMS, SPACE_FILE, StageJob, StageSpec, check_stage, derive_seed
from kerasrecipes.tuning.tuners import print_progress, stderr_progress


class _Stage:
    def __init__(self, index, project_name, tuner, space, epochs, max_trials):
        self.index = index
        self.project_name = project_name
        self.tuner = tuner
        self.space = space
        self.epochs = epochs
        self.max_trials = max_trials


class Search:
    """A keras-tuner search in stages: the coarse random search, then each `refine()`.

    Made by `random_search`; holds one keras-tuner tuner per stage (its own
    project, `project_name`, `project_name_refine1`, ... under `directory`),
    the training data, and the runner that runs a stage's trials (in this
    process, local workers or a cluster), so that `refine()` can run the next stage.

    Attributes:
        stages: List of stages (`.tuner`, `.space`, `.epochs`, `.max_trials`,
            `.project_name`).
        directory: The search directory.
        objective: The objective's name.
        direction: "max" or "min".
    """

    def __init__(self, *, hypermodel, space, directory, project_name, objective, fit_args, fit_kwargs,
                 callbacks, algorithm, seed, overwrite, executions_per_trial, tuner_kwargs, verbose, progress,
                 parallel=None, pruning=None, hyperband_factor=3):
        self.parallel = parallel
        self.hypermodel = hypermodel
        self.directory = os.fspath(directory)
        self.project_name = project_name
        self._objective = objective
        self.algorithm = algorithm
        self.seed = seed
        self.overwrite = overwrite
        self.executions_per_trial = executions_per_trial
        self._tuner_kwargs = tuner_kwargs
        self._hyperband_factor = hyperband_factor
        self.verbose = verbose
        self.pruning = pruning
        self.bounds = space
        self.stages = []
        if parallel is not None and parallel.role is None:
            try:
                pickle.dumps(progress)
            except Exception:  # a closure: the workers print the default lines to stderr instead
                progress = stderr_progress if verbose >= 1 else None
        self._callbacks = callbacks
        self._job = StageJob(hypermodel=hypermodel, fit_args=tuple(fit_args), fit_kwargs=dict(fit_kwargs),
                             callbacks=self._trial_callbacks(), progress=progress)
        self._runner = runner_for(parallel)

    # -- running ----------------------------------------------------------
    def run_stage(self, space, epochs, max_trials):
        """Runs the next stage (its own keras-tuner project) through this search's runner; returns it."""
        index = len(self.stages)
        project = self.project_name if index == 0 else f"{self.project_name}_refine{index}"
        project_dir = os.path.join(self.directory, project)
        space_path = os.path.join(project_dir, SPACE_FILE)
        role = self.parallel.role if self.parallel is not None else None
        if self.overwrite and role != "worker" and os.path.isdir(project_dir):
            shutil.rmtree(project_dir)  # once, here: the tuners then never overwrite
        if space is not None and os.path.exists(space_path):
            space = space.with_config(_io.read_json(space_path)["space"])  # a resumed stage keeps its ranges
        elif space is not None and role != "worker":
            _io.write_json(space_path, {"stage": index, "epochs": epochs, "max_trials": max_trials,
                                        "space": space.get_config()})
        spec = StageSpec(
            index=index, directory=self.directory, project_name=project, algorithm=self.algorithm,
            objective=self._objective, epochs=epochs, max_trials=max_trials, seed=derive_seed(self.seed, index),
            executions_per_trial=self.executions_per_trial, hyperband_factor=self._hyperband_factor,
            pruning=None if self.pruning is None else self.pruning.get_config(), space=space,
            label=f"stage {index}" if index else "coarse", verbose=self.verbose, tuner_kwargs=self._tuner_kwargs,
        )
        tuner = self._runner.run(spec, self._job)
        stage = _Stage(index, project, tuner, space, epochs, max_trials)
        self.stages.append(stage)
        check_stage(tuner, spec)
        return stage

    def _trial_callbacks(self):
        if self._callbacks is not None:
            return list(self._callbacks)
        if isinstance(self.hypermodel, RecipeHyperModel):
            return []  # a recipe trains with its own schedule and callbacks (Recipe.callbacks)
        return recipe_callbacks(checks.objective_names(self._objective)[0])

    def refine(self, top_k=5, epochs=None, max_trials=None, margin=0.1):
        """Runs the next, finer stage around the best `top_k` trials of the last stage.

        Each numeric range shrinks to the span of the winners' values plus a
        `margin` of the current width on each side — in log space for log
        ranges — and never leaves the first stage's bounds; each choice is
        narrowed to the values that won. The stage trains longer (twice the last
        stage's epochs unless `epochs` is given) and is its own keras-tuner
        project, `<project_name>_refine<n>`, in the same directory (so it
        resumes like the first stage).

        Args:
            top_k: Number of best trials of the last stage whose values define
                the new ranges (fewer if fewer completed). Defaults to `5`.
            epochs: Epochs per trial. Defaults to twice the last stage's.
            max_trials: Trials of the new stage. Defaults to the last stage's.
            margin: Padding around the winners as a fraction of the current
                range's width, in [0, 1). Defaults to `0.1`.

        Returns:
            This `Search` (for chaining), with one more stage.

        Example:
        >>> search = random_search(space, x, y, validation_data=(xv, yv), max_trials=30, epochs=2)
        >>> search.refine(top_k=5, epochs=6, max_trials=10).refine(top_k=3, epochs=12, max_trials=5)
        """
        checks.check_positive_int(top_k, "top_k")
        checks.check_positive_int(epochs, "epochs", allow_none=True)
        checks.check_positive_int(max_trials, "max_trials", allow_none=True)
        if not isinstance(margin, (int, float)) or not 0 <= margin < 1:
            raise ValueError(f"margin must be a number in [0, 1). Received margin={margin!r}")
        last = self.stages[-1]
        winners = self.results(stage=last.index).best(top_k)
        if not winners:
            raise ValueError(
                f"refine needs at least one completed trial in stage {last.index} "
                f"({os.path.join(self.directory, last.project_name)}); none completed."
            )
        if last.space is not None:
            space, bounds = last.space, self.bounds
        else:  # a build function: its ranges as keras-tuner recorded them
            space = SearchSpace.from_hyperparameters(last.tuner.oracle.get_space())
            bounds = self.bounds or space
            self.bounds = bounds
        values = [{n: r[n] for n in space.params if n in r} for r in winners]
        refined = space.refine(values, bounds=bounds, margin=margin)
        self.run_stage(refined, epochs or 2 * last.epochs, max_trials or last.max_trials)
        return self

    # -- reading ----------------------------------------------------------
    @property
    def objective(self):
        return self.stages[0].tuner.oracle.objective.name

    @property
    def direction(self):
        return self.stages[0].tuner.oracle.objective.direction

    def results(self, stage=None):
        """The trials of every stage (or of one), in the order they were created.

        Args:
            stage: A stage index, or `None` for all. Defaults to `None`.

        Returns:
            A `Results` (rows with stage, trial_id, score, epochs, best_epoch,
            seconds, status and the hyperparameters; `.sort()`, `.to_csv()`,
            `.to_json()`).
        """
        stages = self.stages if stage is None else [self.stages[stage]]
        rows = [row for s in stages for row in stage_rows(s.tuner, s.index, s.space)]
        names = []
        for s in stages:
            for name in (s.space.searched if s.space is not None else []):
                if name not in names:
                    names.append(name)
        for key in (PRUNED_KEY, ERROR_KEY):
            if any(key in row for row in rows):
                for row in rows:
                    row.setdefault(key, None)
        for row in rows:
            for name in row:
                if name not in ROW_KEYS and name not in (PRUNED_KEY, ERROR_KEY) and name not in names:
                    names.append(name)
        return Results(rows, self.objective, self.direction, names)

    def _best_rows(self, k):
        checks.check_positive_int(k, "k")
        return self.results().best(k)

    def best_hyperparameters(self, k=1):
        """The hyperparameter values of the `k` best trials of all stages, best first.

        Returns:
            A list of dicts (decoded values, fixed values of the space included),
            ready for `space.factory(...)` or JSON.
        """
        out = []
        for row in self._best_rows(k):
            stage = self.stages[row["stage"]]
            values = {n: row[n] for n in row if n not in ROW_KEYS and n not in (PRUNED_KEY, ERROR_KEY)}
            if stage.space is not None:
                fixed = {n: p.value for n, p in stage.space.params.items() if n not in stage.space.searched}
                values = {**fixed, **values}
            out.append(values)
        return out

    def best_recipes(self, k=1):
        """The `Recipe`s of the `k` best trials of all stages, best first (a recipe search only).

        Each is exactly what its trial trained (the stage's epochs included),
        ready for `Recipe.fit`, `runs.train` or, written with `to_dict()`,
        `kerasrecipes train --config`.
        """
        import dataclasses

        if self.bounds is None or self.bounds.base_recipe is None:
            raise ValueError("best_recipes needs a search over a Recipe (tuning.recipe_space); this one searched "
                             f"{self.bounds!r}")
        out = []
        for row, values in zip(self._best_rows(k), self.best_hyperparameters(k)):
            recipe = self.bounds.recipe(values)
            if "epochs" not in values:
                recipe = dataclasses.replace(recipe, epochs=int(self.stages[row["stage"]].epochs))
            out.append(recipe)
        return out

    def best_recipe(self):
        """The best trial's `Recipe` (`best_recipes(1)[0]`)."""
        return self.best_recipes(1)[0]

    def best_models(self, k=1):
        """The trained models of the `k` best trials, with the weights of their best epoch (the nets, for a recipe search)."""
        from kerasrecipes.models.augmented import inference_model

        import warnings

        models = []
        for row in self._best_rows(k):
            stage = self.stages[row["stage"]]
            trial = stage.tuner.oracle.get_trial(row["trial_id"])
            with warnings.catch_warnings():
                # The checkpoint holds the trained optimizer's variables, the
                # freshly built model's optimizer has none yet: nothing is lost.
                warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                model = inference_model(stage.tuner.load_model(trial))
            # Unique names, so the models can live side by side in one ensemble.
            model.name = f"stage{row['stage']}_trial{row['trial_id']}"
            models.append(model)
        return models

    def ensemble(self, k=3, method="mean"):
        """The `k` best models averaged into one model ("the top models discovered during the search").

        Args:
            k: Number of best trials. Defaults to `3`.
            method: "mean" or "geometric", as `kerasrecipes.ensembles.average`.
                Defaults to `"mean"`.

        Returns:
            A `keras.Model`, compiled with the members' loss and accuracy.
        """
        from kerasrecipes.ensembles import average

        models = self.best_models(k)
        ensemble = average(models, method=method, name=f"top{len(models)}_ensemble")
        first = models[0]
        if getattr(first, "compiled", False) and getattr(first, "loss", None) is not None:
            ensemble.compile(loss=first.loss, metrics=["accuracy"])
        return ensemble

    def plot(self):
        """Matplotlib Figures: score against each hyperparameter (log x for log ranges) and best so far.

        Returns:
            A dict: one Figure per searched hyperparameter (by name) and
            `"best_so_far"`. Built with the object API (no pyplot), so it works headless.
        """
        from kerasrecipes.tuning.plots import plot_search

        return plot_search(self.results(), self._log_names(), self._categorical_names())

    def _log_names(self):
        names = set()
        for s in self.stages:
            space = s.space if s.space is not None else self.bounds
            if space is not None:
                names |= {n for n, p in space.params.items() if getattr(p, "log", False)}
        return names

    def _categorical_names(self):
        names = set()
        for s in self.stages:
            space = s.space if s.space is not None else self.bounds
            if space is not None:
                names |= {n for n, p in space.params.items() if not p.numeric}
        return names

    def save(self, directory=None):
        """Writes results.csv, results.json and one PNG per plot (atomically) under `directory`.

        Args:
            directory: Defaults to the search directory.

        Returns:
            The list of written paths.
        """
        directory = os.fspath(directory or self.directory)
        results = self.results()
        paths = [results.to_csv(os.path.join(directory, "results.csv")),
                 results.to_json(os.path.join(directory, "results.json"))]
        for name, figure in self.plot().items():
            path = os.path.join(directory, "plots", f"{name.replace('/', '_')}.png")
            _io.atomic_write(path, lambda f, fig=figure: fig.savefig(f, format="png", dpi=90), mode="wb")
            paths.append(path)
        return paths

    def __repr__(self):
        lines = [f"Search({self.algorithm}, {self.directory!r}, objective={self._objective!r})"]
        for s in self.stages:
            rows = stage_rows(s.tuner, s.index, s.space)
            done = [r for r in rows if r["status"] == "COMPLETED" and r["score"] is not None]
            failed = [r for r in rows if r["status"] == "FAILED"]
            best = None
            if done:
                pick = max if self.direction == "max" else min
                best = pick(r["score"] for r in done)
            lines.append(
                f"  stage {s.index}: {len(done)}/{s.max_trials or len(rows)} trials x {s.epochs} epochs"
                + (f", best {best:.4f}" if best is not None else "")
                + (f", {sum(1 for r in rows if r.get(PRUNED_KEY))} pruned" if any(PRUNED_KEY in r for r in rows)
                   else "")
                + (f", {len(failed)} failed (first: {failed[0][ERROR_KEY]})" if failed else "")
                + (f", {s.space!r}" if s.space is not None else "")
            )
        return "\n".join(lines)


def recipe_callbacks(monitor="val_accuracy", patience=2):
    """The per-trial recipe: halve the LR on a plateau, stop early when halving no longer helps.

    `kerasrecipes.callbacks.recipe(monitor, ensemble=None, patience=patience)`:
    `HalveLROnPlateau` (rolls back to the best weights at each halving) and
    `EarlyStopping` with patience `2 * patience + 1`, restoring the best
    weights. Both hold no model between trials, so keras-tuner can deep-copy them.

    Args:
        monitor: The metric both watch; its direction follows its name.
            Defaults to `"val_accuracy"`.
        patience: Epochs without improvement before halving. Defaults to `2`.

    Returns:
        A list of two callbacks.
    """
    from kerasrecipes.callbacks import recipe

    return recipe(monitor, ensemble=None, patience=patience, verbose=0)


def random_search(
    space_or_build_fn,
    x,
    y=None,
    *,
    validation_data=None,
    validation_split=None,
    max_trials=10,
    epochs=3,
    directory="kerasrecipes_search",
    project_name="search",
    objective="val_accuracy",
    seed=None,
    callbacks=None,
    overwrite=False,
    executions_per_trial=1,
    algorithm="random",
    hyperband_factor=3,
    distribution_strategy=None,
    verbose=1,
    progress=None,
    workers=None,
    gpus=None,
    role=None,
    oracle=None,
    parallel=None,
):
    """Runs keras-tuner's RandomSearch (or Hyperband) over a `SearchSpace` or a build function.

    Every trial starts from `keras.backend.clear_session()`, trains with the
    recipe callbacks (`recipe_callbacks`: halve the LR on a plateau, stop early)
    unless `callbacks` is given, is recorded with its epochs run and seconds,
    and ends by releasing the traced gradients TensorFlow would otherwise keep
    (so memory stays flat over many trials in one process). The search is
    resumable: with `overwrite=False`, calling this again with the same
    `directory` and `project_name` reloads the keras-tuner project and runs
    only the missing trials.

    Args:
        space_or_build_fn: A `SearchSpace` (its factory is built for
            `x.shape[1:]` and the number of classes in `y`, compiled with the
            sampled optimizer and learning rate, and trained with the sampled
            batch size) or a function `build_fn(hp)` returning a compiled model
            (or a `keras_tuner.HyperModel`).
        x: Training inputs (numpy array for a `SearchSpace`; anything `fit`
            takes for a build function).
        y: Training labels: integer classes or one-hot rows.
        validation_data: `(x_val, y_val)`, needed for a "val_" objective unless
            `validation_split` is given.
        validation_split: Fraction of `x` held out by `fit`.
        max_trials: Trials of this first stage (random search only).
            Defaults to `10`.
        epochs: Epochs per trial (Hyperband: the most epochs of a trial).
            Defaults to `3`.
        directory: Where the keras-tuner projects go. Defaults to `"kerasrecipes_search"`.
        project_name: Name of the first stage's project. Defaults to `"search"`.
        objective: Metric to optimize, as `fit` reports it, or a
            `keras_tuner.Objective`. Defaults to `"val_accuracy"`.
        seed: An integer >= 0 (0 included) that seeds keras-tuner's sampling
            and each trial's weight initialization: the same seed gives the
            same trials in the same order (stage `i` draws with
            `seed * 1000 + i + 1`). Defaults to `None` (not seeded).
        callbacks: Callbacks for every trial (deep-copied by keras-tuner);
            `None` for the recipe callbacks, `[]` for none. A
            `MedianStoppingRule` in the list is taken out and given to the
            oracle (pruning). Defaults to `None`.
        overwrite: Start over instead of resuming. Defaults to `False`.
        executions_per_trial: Trainings per trial, scores averaged. Defaults to `1`.
        algorithm: `"random"` (keras_tuner.RandomSearch) or `"hyperband"`
            (keras_tuner.Hyperband: successive halving of bad trials, the
            budget set by `epochs` and `hyperband_factor`). Defaults to `"random"`.
        hyperband_factor: Hyperband's reduction factor. Defaults to `3`.
        distribution_strategy: Passed to the tuner, e.g.
            `tf.distribute.MirroredStrategy()` to train each trial on all local GPUs.
        verbose: 0 silent, 1 one progress line per trial, 2 also keras-tuner's
            display and one line per epoch. Defaults to `1`.
        progress: A callable receiving one dict per ended trial (stage, trial,
            max_trials, status, score, best, seconds, error, hyperparameters);
            defaults to printing a line when `verbose >= 1`. With `workers`,
            it runs in the worker processes if it pickles; otherwise they
            print the default line, which reaches this process's stderr
            prefixed with the worker (`[tuner0] coarse: trial 2/8 ...`).
        workers: Run the trials in this many local processes, under a local
            keras-tuner chief on a free port of 127.0.0.1 (see
            `kerasrecipes.tuning.runners`); the stage goes to them pickled
            through a pipe, so a build function must be defined at module
            level. Defaults to `None` (one process).
        gpus: GPU ids ("0,1" or `[0, 1]`): one worker pinned to each
            (CUDA_VISIBLE_DEVICES, memory growth); `workers` defaults to their
            number. Without GPUs, workers split the CPU cores.
        role: `"chief"` or `"worker"`: this process is one part of a cluster
            search (same arguments and shared `directory` everywhere).
        oracle: `"HOST:PORT"` of the chief in cluster mode (unauthenticated:
            private networks only), or the local chief's address with `workers`.
        parallel: A `Parallel` already made by `kerasrecipes.tuning.parallel.resolve`
            (the CLI resolves its flags once, before loading data), instead of
            `workers`/`gpus`/`role`/`oracle`. Defaults to `None`.

    Returns:
        A `Search`: `.results()`, `.refine()`, `.best_hyperparameters(k)`,
        `.best_models(k)`, `.ensemble(k)`, `.plot()`, `.save()`.

    Raises:
        ValueError: before any trial, for a bad range, an unknown factory
            argument, an objective the model does not report, a missing
            validation set, a bad count or seed, NaN or infinity in `x` or the
            validation inputs, a label outside the model's classes (training or
            validation), or lengths that differ.
        SearchError: every trial of a stage FAILED (the first error in the
            message), or a local chief or worker died (its last lines in the message).

    Example:
    >>> space = SearchSpace(lr=LogUniform(1e-4, 1e-1), dropout=Uniform(0.0, 0.5),
    ...                     width=Choice(8, 16), head="gap")
    >>> search = random_search(space, x, y, validation_data=(xv, yv), max_trials=3, epochs=1,
    ...                        directory="runs", seed=0)
    >>> search.refine(top_k=2, max_trials=2)
    >>> search.results().sort("score")
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm must be one of {', '.join(ALGORITHMS)}. Received algorithm={algorithm!r}")
    checks.check_positive_int(max_trials, "max_trials")
    checks.check_positive_int(epochs, "epochs")
    checks.check_positive_int(executions_per_trial, "executions_per_trial")
    checks.check_seed(seed)
    if algorithm == "hyperband":
        checks.check_positive_int(hyperband_factor, "hyperband_factor")
        if hyperband_factor < 2:
            raise ValueError(f"hyperband_factor must be >= 2. Received hyperband_factor={hyperband_factor!r}")
    if not isinstance(project_name, str) or not project_name or os.sep in project_name:
        raise ValueError(f"project_name must be a non-empty name without '{os.sep}'. Received {project_name!r}")
    if not isinstance(directory, (str, os.PathLike)) or not os.fspath(directory):
        raise ValueError(f"directory must be a path. Received directory={directory!r}")
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2. Received verbose={verbose!r}")
    if validation_split is not None and not (isinstance(validation_split, float) and 0 < validation_split < 1):
        raise ValueError(f"validation_split must be a float in (0, 1). Received validation_split={validation_split!r}")
    if validation_data is not None and (not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2):
        raise ValueError(
            f"validation_data must be a tuple (x_val, y_val). Received validation_data of type "
            f"{type(validation_data).__name__}"
        )
    if callbacks is not None and not isinstance(callbacks, (list, tuple)):
        raise ValueError(f"callbacks must be a list of callbacks or None. Received callbacks={callbacks!r}")
    pruning = None
    if callbacks is not None:
        rules = [c for c in callbacks if isinstance(c, MedianStoppingRule)]
        if len(rules) > 1:
            raise ValueError(f"callbacks holds {len(rules)} MedianStoppingRule; give one. Received {rules!r}")
        pruning = rules[0] if rules else None
        callbacks = [c for c in callbacks if not isinstance(c, MedianStoppingRule)]
    if parallel is not None:
        if any(v is not None for v in (workers, gpus, role, oracle)):
            raise ValueError("parallel is a resolved Parallel; give it or workers/gpus/role/oracle, not both. "
                             f"Received parallel={parallel!r}, workers={workers!r}, role={role!r}")
        if not isinstance(parallel, parallel_module.Parallel):
            raise ValueError(f"parallel must be made by kerasrecipes.tuning.parallel.resolve. Received {parallel!r}")
    else:
        parallel = parallel_module.resolve(workers=workers, gpus=gpus, role=role, oracle=oracle)
    if parallel is not None and distribution_strategy is not None:
        raise ValueError("distribution_strategy trains one trial on several devices; it cannot be combined with "
                         f"workers/gpus/role. Received distribution_strategy={distribution_strategy!r}")
    names = checks.objective_names(objective)
    validated = validation_data is not None or validation_split is not None
    for name in names:
        if name.startswith("val_") and not validated:
            raise ValueError(
                f"objective {name!r} is a validation metric but no validation_data or validation_split "
                "was given; pass one, or use a training metric such as 'accuracy'."
            )
    n = checks.length(x)
    checks.check_lengths(x, y, "x", "y")

    if isinstance(space_or_build_fn, SearchSpace):
        space = space_or_build_fn
        if space.factory is False:
            raise ValueError("space has no factory (SearchSpace.ranges); give SearchSpace(factory=...) ")
        if not space.searched:
            raise ValueError(f"space searches nothing (every value is fixed). Received {space!r}")
        if y is None or n is None or not hasattr(x, "shape"):
            raise ValueError(
                "A SearchSpace search needs x as a numpy array and y as labels (the input shape and "
                f"the number of classes are read from them). Received x of type {type(x).__name__}, y={type(y).__name__}"
            )
        num_classes, loss = checks.infer_classes(y)
        if space.base_recipe is not None:
            from kerasrecipes.recipe import data_statistics

            if loss != "sparse_categorical_crossentropy":
                raise ValueError("a recipe search takes integer labels (its recipe makes them one-hot). "
                                 f"Received y of shape {np.shape(y)}")
            hypermodel = RecipeHyperModel(space, x.shape[1:], num_classes,
                                          data_statistics(x) if space.base_recipe.normalize else None)
        else:
            hypermodel = SpaceHyperModel(space, x.shape[1:], num_classes, loss=loss)
        reported = {"loss", "accuracy"}
        reported |= {"val_" + m for m in reported} if validated else set()
    elif isinstance(space_or_build_fn, kt.HyperModel) or callable(space_or_build_fn):
        space = None
        hypermodel = (space_or_build_fn if isinstance(space_or_build_fn, kt.HyperModel)
                      else FunctionHyperModel(space_or_build_fn))
        reported, num_classes = (checks.reported_metrics(hypermodel, x, y, validated) if n is not None
                                 else (None, None))
    else:
        raise ValueError(
            "space_or_build_fn must be a SearchSpace or a function build_fn(hp) -> compiled keras.Model. "
            f"Received {space_or_build_fn!r}"
        )
    checks.check_data(x, y, None if validation_data is None else tuple(validation_data), num_classes)
    if reported is not None:
        for name in names:
            if name not in reported:
                raise ValueError(
                    f"objective {name!r} is not reported by the model; it reports "
                    f"{', '.join(sorted(reported))}. Received objective={objective!r}"
                )
    parallel_module.enable_gpu_memory_growth()

    fit_kwargs = {}
    if y is not None:
        fit_kwargs["y"] = y
    if validation_data is not None:
        fit_kwargs["validation_data"] = tuple(validation_data)
    if validation_split is not None:
        fit_kwargs["validation_split"] = validation_split
    tuner_kwargs = {}
    if distribution_strategy is not None:
        tuner_kwargs["distribution_strategy"] = distribution_strategy
    if progress is None and verbose >= 1:
        progress = print_progress
    search = Search(
        hypermodel=hypermodel, space=space, directory=directory, project_name=project_name,
        objective=copy.deepcopy(objective), fit_args=(x,), fit_kwargs=fit_kwargs, callbacks=callbacks,
        algorithm=algorithm, seed=seed, overwrite=overwrite, executions_per_trial=executions_per_trial,
        tuner_kwargs=tuner_kwargs, verbose=verbose, progress=progress, parallel=parallel, pruning=pruning,
        hyperband_factor=hyperband_factor,
    )
    search.run_stage(space, epochs, None if algorithm == "hyperband" else max_trials)
    return search
