"""Log-space random search and coarse-to-fine refinement, run by keras-tuner.

keras-tuner's `RandomSearch` (or `Hyperband`) samples, schedules, records and
resumes the trials; this module adds the pieces of the cs231n recipe around it:
a declarative `SearchSpace` turned into `hp.Float(..., sampling="log")` and
`hp.Choice` calls, the recipe callbacks (halve the LR on a plateau, stop early)
inside every trial, `Search.refine()` for the next, finer stage (each stage is
its own keras-tuner project in the same directory), a results table with the
epochs run and seconds of every trial, the top-k models and their ensemble, and
plots of score against each hyperparameter.

Resuming: keras-tuner reloads a project whose files exist (`overwrite=False`);
a trial that was running when the process died is run again under the same
id, finished trials are kept as they are. Running the same script again after
a kill therefore finishes the requested number of trials.

Distributed: keras-tuner's own chief/worker mode works unchanged. Start the
same script in several processes with the environment variables
`KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT` (same in all) and
`KERASTUNER_TUNER_ID` (`chief` for the one that hosts the oracle over gRPC,
`tuner0`, `tuner1`, ... for the workers), all pointing `directory` at one
shared filesystem path. The chief runs no trial; its `random_search` returns
when every trial has ended, with the full results.
"""

import copy
import math
import os
import time

import keras
import keras_tuner as kt
import numpy as np

from kerasrecipes import _io, _traced
from kerasrecipes.tuning.space import SearchSpace

ALGORITHMS = ("random", "hyperband")
RECORD_FILE = "kerasrecipes_trial.json"  # epochs run, seconds, tuner id: one per trial directory
SPACE_FILE = "kerasrecipes_space.json"  # the stage's ranges, so a resumed refine reuses them
_OPTIMIZERS = ("adam", "sgd", "nesterov", "rmsprop", "adamw")


# --------------------------------------------------------------------------- hypermodels
def make_optimizer(name="adam", lr=1e-3, momentum=None):
    """A Keras optimizer by name: "adam", "sgd" (momentum 0.9), "nesterov", "rmsprop", "adamw"."""
    if name not in _OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(_OPTIMIZERS)}. Received optimizer={name!r}")
    lr = float(lr)
    if name in ("sgd", "nesterov"):
        # cs231n: SGD + momentum 0.9 (or Nesterov) is the baseline worth tuning.
        return keras.optimizers.SGD(lr, momentum=0.9 if momentum is None else float(momentum),
                                    nesterov=name == "nesterov")
    if name == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    if name == "adamw":
        return keras.optimizers.AdamW(lr)
    return keras.optimizers.Adam(lr)


class SpaceHyperModel(kt.HyperModel):
    """A keras-tuner HyperModel that builds `space.factory(...)` from a `SearchSpace`.

    `build(hp)` declares the space on `hp`, calls the factory and compiles with
    the sampled optimizer and learning rate; `fit` applies the sampled batch
    size. Everything else is keras-tuner's.

    Args:
        space: A `SearchSpace` with a factory.
        input_shape: Shape of one example.
        num_classes: Number of classes.
        loss: Loss to compile with. Defaults to `"sparse_categorical_crossentropy"`.
        metrics: Metrics to compile with. Defaults to `("accuracy",)`.
    """

    def __init__(self, space, input_shape, num_classes, loss="sparse_categorical_crossentropy",
                 metrics=("accuracy",)):
        super().__init__()
        self.space = space
        self.input_shape = tuple(input_shape)
        self.num_classes = int(num_classes)
        self.loss = loss
        self.metrics = list(metrics)

    def build(self, hp):
        values = self.space.sample(hp)
        kwargs, training = self.space.split(values)
        model = self.space.factory(self.input_shape, self.num_classes, **kwargs)
        lr = training.get("lr", training.get("learning_rate", 1e-3))
        optimizer = make_optimizer(training.get("optimizer", "adam"), lr, training.get("momentum"))
        model.compile(optimizer=optimizer, loss=self.loss, metrics=self.metrics)
        return model

    def fit(self, hp, model, *args, **kwargs):
        batch_size = self.space.decode(hp.values).get("batch_size")
        if batch_size is None and "batch_size" in self.space.params:
            batch_size = self.space.params["batch_size"].declare(hp, "batch_size")
        if batch_size is not None:
            kwargs["batch_size"] = int(batch_size)
        return model.fit(*args, **kwargs)


class FunctionHyperModel(kt.HyperModel):
    """Wraps a `build_fn(hp) -> compiled keras.Model`; a `batch_size` hyperparameter sets fit's batch size."""

    def __init__(self, build_fn):
        super().__init__()
        self.build_fn = build_fn

    def build(self, hp):
        return self.build_fn(hp)

    def fit(self, hp, model, *args, **kwargs):
        if "batch_size" in hp.values:
            kwargs["batch_size"] = int(hp.values["batch_size"])
        return model.fit(*args, **kwargs)


# --------------------------------------------------------------------------- tuners
class _RecipeTrials:
    """Mixin for keras-tuner tuners: a fresh session, a seed, a record and a progress line per trial.

    Only keras-tuner's documented hooks are overridden (`on_trial_begin`,
    `run_trial` around the parent's, `on_trial_end`); sampling, scheduling,
    checkpoints and reloading stay keras-tuner's.
    """

    def __init__(self, *args, weight_seed=None, progress=None, stage_label="", **kwargs):
        self._weight_seed = weight_seed
        self._progress = progress
        self._pruners = []
        self._stage_label = stage_label
        self._traced_mark = None  # TF gradient-registry names before the running trial
        super().__init__(*args, **kwargs)

    def on_trial_begin(self, trial):
        # Each trial starts from a clean Keras session (no layer-name or
        # graph build-up across dozens of models in one process).
        keras.backend.clear_session()
        self._traced_mark = _traced.mark()
        if self._weight_seed is not None:
            keras.utils.set_random_seed(int(self._weight_seed) * 1000 + int(trial.trial_id))
        super().on_trial_begin(trial)

    def run_trial(self, trial, *args, **kwargs):
        start = time.perf_counter()
        self._pruners = []
        results = super().run_trial(trial, *args, **kwargs)
        seconds = time.perf_counter() - start
        histories = results if isinstance(results, list) else [results]
        epochs = None
        if all(isinstance(h, keras.callbacks.History) for h in histories):
            epochs = sum(len(h.epoch) for h in histories)
        record = {"trial_id": trial.trial_id, "epochs": epochs, "seconds": seconds,
                  "tuner_id": self.tuner_id, "pid": os.getpid()}
        if self._pruners:  # a pruning callback ran: say whether, and at which epoch, it stopped the trial
            record["pruned_at"] = next((p.pruned_epoch for p in self._pruners if p.pruned_epoch), None)
        self._pruners = []
        _io.write_json(os.path.join(self.get_trial_dir(trial.trial_id), RECORD_FILE), record)
        return results

    def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
        # keras-tuner calls this on each trial's fresh copies of the callbacks:
        # the one place to hand a pruning callback its oracle and trial.
        for callback in callbacks:
            if callable(getattr(callback, "bind", None)) and hasattr(callback, "pruned_epoch"):
                callback.bind(self.oracle, trial.trial_id)
                self._pruners.append(callback)
        # keras-tuner 1.4 imports tensorboard for every trial on the TensorFlow
        # backend, though only a TensorBoard callback needs it, and TF >= 2.20
        # no longer installs tensorboard: skip the import when there is none.
        if any(type(c).__name__ == "TensorBoard" for c in callbacks):
            super()._configure_tensorboard_dir(callbacks, trial, execution)

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        # clear_session frees Keras's state but not TensorFlow's registry of the
        # trial's traced gradients, which keeps each train step's graph (~4 MB per
        # trial): release them, or memory grows trial after trial (_traced).
        _traced.release(self._traced_mark)
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
            "best": best[0].score if best else None,
            "seconds": record.get("seconds"),
            "hyperparameters": dict(ended.hyperparameters.values),
        })


class RecipeRandomSearch(_RecipeTrials, kt.RandomSearch):
    """keras-tuner's RandomSearch with a clean session, a seed and a record per trial."""


class RecipeHyperband(_RecipeTrials, kt.Hyperband):
    """keras-tuner's Hyperband with a clean session, a seed and a record per trial."""


def print_progress(event, file=None):
    """The default progress line: stage, trial n of N, its score and the best so far."""
    total = event["max_trials"]
    score, best = event["score"], event["best"]
    text = f"{event['stage'] or 'search'}: trial {event['trial']}" + (f"/{total}" if total else "")
    text += f"  {'score ' + format(score, '.4f') if score is not None else event['status'].lower()}"
    text += f"  best {best:.4f}" if best is not None else ""
    text += f"  ({event['seconds']:.1f} s)" if event.get("seconds") is not None else ""
    print(text, file=file, flush=True)


# --------------------------------------------------------------------------- results
_ROW_KEYS = ("stage", "trial_id", "score", "epochs", "best_epoch", "seconds", "status")
_PRUNED_KEY = "pruned_at"  # a column only when a pruning callback ran: the epoch a trial was stopped at


class Results:
    """The trials of a search as rows: stage, trial id, score, epochs run, seconds, hyperparameters.

    Rows are plain dicts (hyperparameters under their own names). Sort with
    `sort("score")` or by any column; `to_csv` / `to_json` write atomically.

    Attributes:
        rows: The list of row dicts.
        objective: The objective's name.
        direction: "max" or "min".
        names: The hyperparameter columns.
    """

    def __init__(self, rows, objective, direction, names):
        self.rows = list(rows)
        self.objective = objective
        self.direction = direction
        self.names = list(names)

    @property
    def columns(self):
        pruning = any(_PRUNED_KEY in r for r in self.rows)
        return list(_ROW_KEYS) + ([_PRUNED_KEY] if pruning else []) + self.names

    @property
    def pruned(self):
        """The number of trials a pruning callback stopped early."""
        return sum(1 for r in self.rows if r.get(_PRUNED_KEY))

    def sort(self, by="score", descending=None):
        """A new `Results` sorted by a column; for "score", best first by default. Missing values go last."""
        if by not in self.columns:
            raise ValueError(f"by must be one of {', '.join(self.columns)}. Received by={by!r}")
        if descending is None:
            descending = by == "score" and self.direction == "max"
        present = [r for r in self.rows if r.get(by) is not None]
        missing = [r for r in self.rows if r.get(by) is None]
        try:
            present.sort(key=lambda r: r[by], reverse=descending)
        except TypeError:  # mixed types in a column: compare as text
            present.sort(key=lambda r: str(r[by]), reverse=descending)
        return Results(present + missing, self.objective, self.direction, self.names)

    def best(self, k=1):
        """The `k` best completed rows."""
        completed = Results([r for r in self.rows if r["status"] == "COMPLETED" and r["score"] is not None],
                            self.objective, self.direction, self.names)
        return completed.sort("score").rows[:k]

    def to_json(self, path):
        """Writes the rows as a JSON list (atomically); returns the path."""
        _io.write_json(path, {"objective": self.objective, "direction": self.direction, "rows": self.rows})
        return path

    def to_csv(self, path):
        """Writes the rows as CSV (atomically), tuples as JSON text; returns the path."""
        import csv
        import json

        def cell(value):
            if isinstance(value, (tuple, list, dict)) or value is None:
                return "" if value is None else json.dumps(list(value) if isinstance(value, tuple) else value)
            return value

        def write(f):
            writer = csv.writer(f)
            writer.writerow(self.columns)
            for row in self.rows:
                writer.writerow([cell(row.get(c)) for c in self.columns])

        _io.atomic_write(path, write)
        return path

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    def __getitem__(self, index):
        return self.rows[index]

    def _cells(self):
        def fmt(value):
            if value is None:
                return "-"
            if isinstance(value, float):
                return f"{value:.4g}"
            return str(value)

        return [self.columns] + [[fmt(r.get(c)) for c in self.columns] for r in self.rows]

    def __repr__(self):
        cells = self._cells()
        widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
        pruned = f", {self.pruned} pruned" if _PRUNED_KEY in self.columns else ""
        return (f"Results({len(self.rows)} trials{pruned}, objective={self.objective} ({self.direction}))\n"
                + "\n".join(lines))

    def _repr_html_(self):
        cells = self._cells()
        head = "".join(f"<th>{c}</th>" for c in cells[0])
        body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in cells[1:])
        return f"<table><tr>{head}</tr>{body}</table>"


# --------------------------------------------------------------------------- search
class _Stage:
    def __init__(self, index, project_name, tuner, space, epochs, max_trials):
        self.index = index
        self.project_name = project_name
        self.tuner = tuner
        self.space = space
        self.epochs = epochs
        self.max_trials = max_trials


def _check_positive_int(value, name, allow_none=False):
    if allow_none and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int. Received {name}={value!r}")


def _objective_names(objective):
    if isinstance(objective, str):
        return [objective]
    if isinstance(objective, kt.Objective):
        return [objective.name]
    if isinstance(objective, (list, tuple)) and objective:
        return [n for o in objective for n in _objective_names(o)]
    raise ValueError(
        f"objective must be a metric name such as 'val_accuracy' or a keras_tuner.Objective. "
        f"Received objective={objective!r}"
    )


def _length(data):
    try:
        return len(data)
    except TypeError:
        return None


def _infer_classes(y):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.shape[1], "categorical_crossentropy"
    if y.ndim > 2 or not np.issubdtype(y.dtype, np.integer) and not np.all(np.mod(y, 1) == 0):
        raise ValueError(
            "y must hold integer class labels (shape (N,)) or one-hot rows (shape (N, C)) for a "
            f"SearchSpace search. Received y of shape {y.shape} and dtype {y.dtype}"
        )
    if y.size == 0 or y.min() < 0:
        raise ValueError(f"y must hold non-negative class labels. Received y with min {y.min() if y.size else None}")
    return int(y.max()) + 1, "sparse_categorical_crossentropy"


def _reported_metrics(hypermodel, x, y, validation):
    """Names of the metrics `fit` will report, from one test step on two examples."""
    hp = kt.HyperParameters()
    keras.backend.clear_session()
    model = hypermodel.build(hp)
    if not getattr(model, "compiled", False):
        raise ValueError(
            "The build function must return a compiled keras.Model (call model.compile(...) in it). "
            f"Received an uncompiled {type(model).__name__}"
        )
    try:
        logs = model.test_on_batch(x[:2], None if y is None else y[:2], return_dict=True)
    except Exception as e:  # the same error would fail every trial: report it once, up front
        raise ValueError(
            f"The build function's model cannot be evaluated on the first two examples of x, y: "
            f"{type(e).__name__}: {e}"
        ) from e
    names = set(logs)
    keras.backend.clear_session()
    return names | ({"val_" + n for n in names} if validation else set())


class Search:
    """A keras-tuner search in stages: the coarse random search, then each `refine()`.

    Made by `random_search`; holds one keras-tuner tuner per stage (its own
    project, `project_name`, `project_name_refine1`, ... under `directory`) and
    the training data, so that `refine()` can run the next stage.

    Attributes:
        stages: List of stages (`.tuner`, `.space`, `.epochs`, `.max_trials`,
            `.project_name`).
        directory: The search directory.
        objective: The objective's name.
        direction: "max" or "min".
    """

    def __init__(self, *, hypermodel, space, directory, project_name, objective, fit_args, fit_kwargs,
                 callbacks, algorithm, seed, overwrite, executions_per_trial, tuner_kwargs, verbose, progress,
                 parallel=None):
        # What a spawned chief or worker needs to rebuild this search (see tuning.parallel).
        self._init_kwargs = dict(
            hypermodel=hypermodel, space=space, directory=directory, project_name=project_name,
            objective=objective, fit_args=fit_args, fit_kwargs=fit_kwargs, callbacks=callbacks,
            algorithm=algorithm, seed=seed, overwrite=False, executions_per_trial=executions_per_trial,
            tuner_kwargs=tuner_kwargs, verbose=verbose, progress=progress,
        )
        self.parallel = parallel
        self.hypermodel = hypermodel
        self.directory = os.fspath(directory)
        self.project_name = project_name
        self._objective = objective
        self._fit_args = fit_args
        self._fit_kwargs = fit_kwargs
        self._callbacks = callbacks
        self.algorithm = algorithm
        self.seed = seed
        self.overwrite = overwrite
        self.executions_per_trial = executions_per_trial
        self._tuner_kwargs = tuner_kwargs
        self.verbose = verbose
        self._progress = progress
        self.bounds = space
        self.stages = []

    # -- running ----------------------------------------------------------
    def _run_stage(self, space, epochs, max_trials, index=None):
        import contextlib
        import sys

        from kerasrecipes.tuning import parallel as parallel_module

        index = len(self.stages) if index is None else index
        project = self.project_name if index == 0 else f"{self.project_name}_refine{index}"
        project_dir = os.path.join(self.directory, project)
        space_path = os.path.join(project_dir, SPACE_FILE)
        if space is not None and not self.overwrite and os.path.exists(space_path):
            space = space.with_config(_io.read_json(space_path)["space"])  # a resumed stage keeps its ranges
        seed = None if self.seed is None else int(self.seed) + index
        local = self.parallel is not None and self.parallel.role is None
        overwrite = self.overwrite
        label = f"stage {index}" if index else "coarse"
        if os.environ.get("KERASTUNER_TUNER_ID", "chief") != "chief":
            label += f" [{os.environ['KERASTUNER_TUNER_ID']}]"
        if local:
            # A local chief and workers run the stage in their own processes; this
            # process then reads the finished project like a resumed search.
            if overwrite:
                parallel_module.clear_project(project_dir)
            if space is not None:
                _io.write_json(space_path, {"stage": index, "epochs": epochs, "max_trials": max_trials,
                                            "space": space.get_config()})
            parallel_module.run_local(self.parallel, self._child_kwargs(), (space, epochs, max_trials), index,
                                      project_dir)
            overwrite = False
        env = (parallel_module.cluster_env(self.parallel) if self.parallel is not None and self.parallel.role
               else contextlib.nullcontext())
        # keras-tuner prints "Reloading Tuner from ..." to stdout; the CLI keeps stdout for its JSON line
        quiet = contextlib.redirect_stdout(sys.stderr) if local else contextlib.nullcontext()
        with env, quiet:
            return self._build_and_search(space, epochs, max_trials, index, project, seed, overwrite, label,
                                          search=not local)

    def _child_kwargs(self):
        import pickle

        kwargs = dict(self._init_kwargs)
        try:
            pickle.dumps(kwargs["progress"])
        except Exception:  # a closure: the workers print the default lines to stderr instead
            from kerasrecipes.tuning.parallel import _stderr_progress

            kwargs["progress"] = _stderr_progress if self.verbose >= 1 else None
        return kwargs

    def _build_and_search(self, space, epochs, max_trials, index, project, seed, overwrite, label, search):
        project_dir = os.path.join(self.directory, project)
        space_path = os.path.join(project_dir, SPACE_FILE)
        common = dict(
            hypermodel=self.hypermodel,
            objective=self._objective,
            seed=seed,
            hyperparameters=None if space is None else space.to_hyperparameters(),
            directory=self.directory,
            project_name=project,
            overwrite=overwrite,
            executions_per_trial=self.executions_per_trial,
            weight_seed=seed,
            progress=self._progress,
            stage_label=label,
            **self._tuner_kwargs,
        )
        if self.algorithm == "hyperband":
            tuner = RecipeHyperband(max_epochs=epochs, **common)
        else:
            tuner = RecipeRandomSearch(max_trials=max_trials, **common)
        if space is not None and not tuner._is_worker() and search:
            _io.write_json(space_path, {"stage": index, "epochs": epochs, "max_trials": max_trials,
                                        "space": space.get_config()})
        stage = _Stage(index, project, tuner, space, epochs, max_trials)
        self.stages.append(stage)
        kwargs = dict(self._fit_kwargs)
        kwargs["epochs"] = epochs
        kwargs["callbacks"] = self._trial_callbacks()
        kwargs.setdefault("verbose", 2 if self.verbose >= 2 else 0)
        if search:
            tuner.search(*self._fit_args, **kwargs)
        return stage

    def _trial_callbacks(self):
        if self._callbacks is not None:
            return list(self._callbacks)
        return recipe_callbacks(_objective_names(self._objective)[0])

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
        _check_positive_int(top_k, "top_k")
        _check_positive_int(epochs, "epochs", allow_none=True)
        _check_positive_int(max_trials, "max_trials", allow_none=True)
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
        self._run_stage(refined, epochs or 2 * last.epochs, max_trials or last.max_trials)
        return self

    # -- reading ----------------------------------------------------------
    @property
    def objective(self):
        return self.stages[0].tuner.oracle.objective.name

    @property
    def direction(self):
        return self.stages[0].tuner.oracle.objective.direction

    def _stage_rows(self, stage):
        """Rows read from the trial files on disk, so a chief, a worker or a resumed process sees all trials."""
        project_dir = os.path.join(self.directory, stage.project_name)
        rows = []
        if not os.path.isdir(project_dir):
            return rows
        decode = stage.space.decode if stage.space is not None else (lambda v: v)
        for entry in sorted(os.listdir(project_dir)):
            trial_path = os.path.join(project_dir, entry, "trial.json")
            if not entry.startswith("trial_") or not os.path.exists(trial_path):
                continue
            trial = _io.read_json(trial_path)
            record_path = os.path.join(project_dir, entry, RECORD_FILE)
            record = _io.read_json(record_path) if os.path.exists(record_path) else {}
            values = {k: v for k, v in trial["hyperparameters"]["values"].items() if not k.startswith("tuner/")}
            score = trial.get("score")
            row = {
                "stage": stage.index,
                "trial_id": trial["trial_id"],
                "score": None if score is None or (isinstance(score, float) and math.isnan(score)) else score,
                "epochs": record.get("epochs"),
                "best_epoch": trial.get("best_step"),
                "seconds": record.get("seconds"),
                "status": trial.get("status"),
            }
            if _PRUNED_KEY in record:
                row[_PRUNED_KEY] = record[_PRUNED_KEY]
            row.update(decode(values))
            rows.append(row)
        return rows

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
        rows = [row for s in stages for row in self._stage_rows(s)]
        names = []
        for s in stages:
            for name in (s.space.searched if s.space is not None else []):
                if name not in names:
                    names.append(name)
        if any(_PRUNED_KEY in row for row in rows):
            for row in rows:
                row.setdefault(_PRUNED_KEY, None)
        for row in rows:
            for name in row:
                if name not in _ROW_KEYS and name != _PRUNED_KEY and name not in names:
                    names.append(name)
        return Results(rows, self.objective, self.direction, names)

    def _best_rows(self, k):
        _check_positive_int(k, "k")
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
            values = {n: row[n] for n in row if n not in _ROW_KEYS and n != _PRUNED_KEY}
            if stage.space is not None:
                fixed = {n: p.value for n, p in stage.space.params.items() if n not in stage.space.searched}
                values = {**fixed, **values}
            out.append(values)
        return out

    def best_models(self, k=1):
        """The trained models of the `k` best trials, with the weights of their best epoch."""
        import warnings

        models = []
        for row in self._best_rows(k):
            stage = self.stages[row["stage"]]
            trial = stage.tuner.oracle.get_trial(row["trial_id"])
            with warnings.catch_warnings():
                # The checkpoint holds the trained optimizer's variables, the
                # freshly built model's optimizer has none yet: nothing is lost.
                warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
                model = stage.tuner.load_model(trial)
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
            rows = self._stage_rows(s)
            done = [r for r in rows if r["status"] == "COMPLETED" and r["score"] is not None]
            best = None
            if done:
                pick = max if self.direction == "max" else min
                best = pick(r["score"] for r in done)
            lines.append(
                f"  stage {s.index}: {len(done)}/{s.max_trials or len(rows)} trials x {s.epochs} epochs"
                + (f", best {best:.4f}" if best is not None else "")
                + (f", {sum(1 for r in rows if r.get(_PRUNED_KEY))} pruned" if any(_PRUNED_KEY in r for r in rows)
                   else "")
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
        seed: Seeds keras-tuner's sampling (stage `i` uses `seed + i`) and each
            trial's weight initialization. Defaults to `None`.
        callbacks: Callbacks for every trial (deep-copied by keras-tuner);
            `None` for the recipe callbacks, `[]` for none. Defaults to `None`.
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
            max_trials, status, score, best, seconds, hyperparameters);
            defaults to printing a line when `verbose >= 1`. With `workers`,
            it runs in the worker processes if it pickles; otherwise they
            print the default line to stderr.
        workers: Run the trials in this many local processes, under a local
            keras-tuner chief on a free port of 127.0.0.1 (see
            `kerasrecipes.tuning.parallel`); the arguments are pickled to
            them, so a build function must be defined at module level.
            Defaults to `None` (one process).
        gpus: GPU ids ("0,1" or `[0, 1]`): one worker pinned to each
            (CUDA_VISIBLE_DEVICES, memory growth); `workers` defaults to their
            number. Without GPUs, workers split the CPU cores.
        role: `"chief"` or `"worker"`: this process is one part of a cluster
            search (same arguments and shared `directory` everywhere).
        oracle: `"HOST:PORT"` of the chief in cluster mode (unauthenticated:
            private networks only), or the local chief's address with `workers`.

    Returns:
        A `Search`: `.results()`, `.refine()`, `.best_hyperparameters(k)`,
        `.best_models(k)`, `.ensemble(k)`, `.plot()`, `.save()`.

    Raises:
        ValueError: before any trial, for a bad range, an unknown factory
            argument, an objective the model does not report, a missing
            validation set, or a bad count.

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
    _check_positive_int(max_trials, "max_trials")
    _check_positive_int(epochs, "epochs")
    _check_positive_int(executions_per_trial, "executions_per_trial")
    if algorithm == "hyperband":
        _check_positive_int(hyperband_factor, "hyperband_factor")
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
    from kerasrecipes.tuning import parallel as parallel_module

    parallel = parallel_module.resolve(workers=workers, gpus=gpus, role=role, oracle=oracle)
    if parallel is not None and distribution_strategy is not None:
        raise ValueError("distribution_strategy trains one trial on several devices; it cannot be combined with "
                         f"workers/gpus/role. Received distribution_strategy={distribution_strategy!r}")
    names = _objective_names(objective)
    validated = validation_data is not None or validation_split is not None
    for name in names:
        if name.startswith("val_") and not validated:
            raise ValueError(
                f"objective {name!r} is a validation metric but no validation_data or validation_split "
                "was given; pass one, or use a training metric such as 'accuracy'."
            )
    n = _length(x)
    if y is not None and n is not None and _length(y) is not None and _length(y) != n:
        raise ValueError(f"x and y must have the same length. Received len(x)={n}, len(y)={_length(y)}")

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
        num_classes, loss = _infer_classes(y)
        hypermodel = SpaceHyperModel(space, x.shape[1:], num_classes, loss=loss)
        reported = {"loss", "accuracy"}
        reported |= {"val_" + m for m in reported} if validated else set()
    elif isinstance(space_or_build_fn, kt.HyperModel) or callable(space_or_build_fn):
        space = None
        hypermodel = (space_or_build_fn if isinstance(space_or_build_fn, kt.HyperModel)
                      else FunctionHyperModel(space_or_build_fn))
        reported = _reported_metrics(hypermodel, x, y, validated) if n is not None else None
    else:
        raise ValueError(
            "space_or_build_fn must be a SearchSpace or a function build_fn(hp) -> compiled keras.Model. "
            f"Received {space_or_build_fn!r}"
        )
    if reported is not None:
        for name in names:
            if name not in reported:
                raise ValueError(
                    f"objective {name!r} is not reported by the model; it reports "
                    f"{', '.join(sorted(reported))}. Received objective={objective!r}"
                )
    _enable_gpu_memory_growth()

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
    if algorithm == "hyperband":
        tuner_kwargs["factor"] = hyperband_factor
    if progress is None and verbose >= 1:
        progress = print_progress
    search = Search(
        hypermodel=hypermodel, space=space, directory=directory, project_name=project_name,
        objective=copy.deepcopy(objective), fit_args=(x,), fit_kwargs=fit_kwargs, callbacks=callbacks,
        algorithm=algorithm, seed=seed, overwrite=overwrite, executions_per_trial=executions_per_trial,
        tuner_kwargs=tuner_kwargs, verbose=verbose, progress=progress, parallel=parallel,
    )
    search._run_stage(space, epochs, None if algorithm == "hyperband" else max_trials)
    return search


def _enable_gpu_memory_growth():
    """Lets several trials (or processes, one per GPU) share GPU memory instead of grabbing it all."""
    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialized: growth can no longer change
            pass
