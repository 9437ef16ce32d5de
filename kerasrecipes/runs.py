"""A whole training run written into one directory: the lifecycle behind `kerasrecipes train` and `demo`.

`train(out, recipe, data)` trains a `Recipe` (`kerasrecipes.recipe`) on an
`ImageData` (`kerasrecipes.datasets.load`) and keeps only the lifecycle here:
check everything, record the state, fit with resume, evaluate, write the
artefacts and the report. What a run directory promises:

1. Every setting and the data are checked before anything is written: a bad
   value is a `ValueError` and leaves a new directory absent and an existing
   one untouched.
2. `run.json` records the start time, the resolved recipe (every field as
   trained, the seed and precision included), the data, the package, Keras and
   TensorFlow versions and the status, which moves running -> complete or failed.
3. A complete directory is left as it is ("complete, nothing to do");
   `overwrite=True` trains into a hidden sibling and replaces the old
   artefacts only once the new run has finished.
4. A run killed at any moment (SIGKILL included) resumes when `train` is
   called again with the same settings: the backup (`AtomicBackupAndRestore`)
   is written atomically with the last good copy kept, every callback's state
   and the random state of the weights, the shuffling and the augmentation
   come back, and `history.json` holds every epoch once.
5. Every file is written atomically (`kerasrecipes._io`), with the mode the
   umask gives.
6. The run ends with its diagnosis (`diagnosis.txt`) and the next recipe it
   proposes (`proposal.json`, `kerasrecipes.proposal`), both in `report.html`
   and the console, which `kerasrecipes next` trains.
"""

import dataclasses
import os
import platform
import shutil
import time

import keras
import numpy as np

from kerasrecipes import _io
from kerasrecipes._stats import best_of
from kerasrecipes.callbacks.backup import AtomicBackupAndRestore  # noqa: F401  (re-exported: runs.AtomicBackupAndRestore)
from kerasrecipes.data.preprocessing import to_unit_range
from kerasrecipes.recipe import Recipe

STATE_FILE = "run.json"
HISTORY_FILE = "history.json"
PROPOSAL_FILE = "proposal.json"
MEMBERS_DIR = "members"
BACKUP_DIR = "backup"
_OVERWRITE_SUFFIX = ".overwrite"
_OLD_SUFFIX = ".replaced"


# -- the history, one row per epoch -------------------------------------------------------------------------

class EpochLog(keras.callbacks.Callback):
    """Writes `history.json` atomically at every epoch end, merged across resumes: every epoch once.

    What it adds to Keras's `History` and `CSVLogger`: History lives in memory
    and covers only the epochs of one `fit`, and CSVLogger appends in place
    (a kill can leave half a row, and a resumed run repeats the epochs trained
    after the last backup). This keeps one value per metric per epoch, a
    1-based `epoch` column as Keras prints it, drops the epochs a resumed
    `fit` trains again, and records each epoch's wall and CPU seconds (the
    process's CPU time, all threads) in `backup/epoch_seconds.json` and
    `backup/epoch_cpu_seconds.json`. List it before the backup callback.
    """

    def __init__(self, path):
        super().__init__()
        self.path = str(path)
        self.seconds_path = os.path.join(os.path.dirname(self.path), BACKUP_DIR, "epoch_seconds.json")
        self.cpu_seconds_path = os.path.join(os.path.dirname(self.path), BACKUP_DIR, "epoch_cpu_seconds.json")

    def on_train_begin(self, logs=None):
        self.rows = _read_rows(self.path)
        self.seconds = _io.read_json_or_none(self.seconds_path) or []  # damaged: the resumed epochs rewrite it
        self.cpu_seconds = _io.read_json_or_none(self.cpu_seconds_path) or []
        self._trimmed = False

    def on_epoch_begin(self, epoch, logs=None):
        if not self._trimmed:  # a resumed fit starts at `epoch`: what was logged after it is trained again
            self.rows, self.seconds, self._trimmed = self.rows[:epoch], self.seconds[:epoch], True
            self.cpu_seconds = self.cpu_seconds[:epoch]
        self._start, self._cpu_start = time.perf_counter(), time.process_time()

    def on_epoch_end(self, epoch, logs=None):
        row = {"epoch": epoch + 1}
        for key, value in (logs or {}).items():
            row[key] = float(np.asarray(keras.ops.convert_to_numpy(value)))
        if "learning_rate" in row:
            row.pop("lr", None)  # one learning-rate column: Keras's own
        self.rows = self.rows[:epoch] + [row]
        self.seconds = self.seconds[:epoch] + [round(time.perf_counter() - self._start, 3)]
        self.cpu_seconds = self.cpu_seconds[:epoch] + [round(time.process_time() - self._cpu_start, 3)]
        _io.write_json(self.seconds_path, self.seconds)
        _io.write_json(self.cpu_seconds_path, self.cpu_seconds)
        _io.write_json(self.path, rows_to_history(self.rows))


def _read_rows(path):
    if not os.path.exists(path):
        return []
    history = _io.read_json_or_none(path)
    if not isinstance(history, dict):  # damaged: the resumed run writes it again from the epochs it trains
        return []
    n = len(history.get("epoch", []))
    return [{key: values[i] for key, values in history.items() if i < len(values)} for i in range(n)]


def rows_to_history(rows):
    """Rows of `{metric: value}` to the dict of lists that `diagnose.load_history` reads (`None` for gaps)."""
    keys = ["epoch"] + sorted({k for row in rows for k in row} - {"epoch"})
    return {key: [row.get(key) for row in rows] for key in keys}


# -- checks -----------------------------------------------------------------------------------------------------

def check_data(data, val_fraction=0.1):
    """A `ValueError` naming what is wrong with an `ImageData` (shapes, dtypes, labels, sizes)."""
    from kerasrecipes.datasets import ImageData

    if not isinstance(data, ImageData):
        raise ValueError(f"data must be a kerasrecipes.datasets.ImageData. Received data={type(data).__name__}")
    for split in ("train", "test"):
        x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
        if not isinstance(x, np.ndarray) or x.ndim != 4 or x.shape[-1] not in (1, 3):
            raise ValueError(f"x_{split} must be images (N, H, W, 1 or 3). "
                             f"Received x_{split} of shape {getattr(x, 'shape', None)}")
        if x.dtype != np.uint8 and not (x.dtype.kind == "f" and x.size and 0 <= x.min() and x.max() <= 1):
            raise ValueError(f"x_{split} must be uint8 or float in [0, 1]. Received dtype {x.dtype}")
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != len(x) or y.dtype.kind not in "iu":
            raise ValueError(f"y_{split} must be {len(x)} integer labels. Received y_{split} of shape {y.shape}, "
                             f"dtype {y.dtype}")
        if len(y) and (y.min() < 0 or y.max() >= len(data.class_names)):
            raise ValueError(f"y_{split} must lie in [0, {len(data.class_names)}) (one per class name). "
                             f"Received labels {int(y.min())}..{int(y.max())}")
    if data.x_test.shape[1:] != data.x_train.shape[1:]:
        raise ValueError(f"x_test images {data.x_test.shape[1:]} differ from x_train's {data.x_train.shape[1:]}")
    if len(data.x_test) == 0:
        raise ValueError(f"data {data.name!r} has no test images")
    n_val = sum(int(round(np.sum(data.y_train == c) * val_fraction)) for c in np.unique(data.y_train))
    if n_val < 1 or len(data.x_train) - n_val < 1:
        raise ValueError(f"val_fraction={val_fraction!r} of {len(data.x_train)} training images leaves "
                         f"{n_val} for validation and {len(data.x_train) - n_val} for training; both need one")


def read_state(out):
    """The `run.json` of a run directory, or `None`."""
    path = os.path.join(os.fspath(out), STATE_FILE)
    if not os.path.exists(path):
        return None
    try:
        return _io.read_json(path)
    except (OSError, ValueError) as e:
        raise ValueError(f"{path} cannot be read as JSON ({e}); move the directory away or pass another --out") \
            from None


def run_directory(path, *, complete=False) -> dict:
    """The `run.json` state of the run directory `path`; a one-line `ValueError` naming it when it is none.

    A run directory (of `train`, `demo` or `next`) holds `run.json` and
    `history.json`; with `complete=True` its run must also have finished.
    `next`, `compare` and `loop` check their folders with it before any work.

    Example:
    >>> state = run_directory("runs/demo", complete=True)
    >>> state["recipe"]["epochs"], state["parent"]
    """
    path = os.fspath(path)
    state = read_state(path) if os.path.isdir(path) else None
    if not isinstance(state, dict) or not os.path.exists(os.path.join(path, HISTORY_FILE)):
        raise ValueError(f"{path!r} is not a run directory of kerasrecipes (no {STATE_FILE} and {HISTORY_FILE}); "
                         "pass a directory written by train, demo or next")
    if complete and state.get("status") != "complete":
        raise ValueError(f"{path!r} holds a run that is {state.get('status')!r}, not complete: finish it first "
                         "(run its command again)")
    return state


def _data_record(data, n_fit, n_val):
    return {"name": data.name, "train_images": n_fit, "validation_images": n_val, "test_images": len(data.x_test),
            "input_shape": list(data.input_shape), "class_names": list(data.class_names)}


def run_data(state):
    """The `ImageData` a run trained on, loaded again from its `run.json` record (`state`).

    The named dataset, or the folder with its recorded files and split
    (`datasets.from_source`), cut to the run's own sizes: the first
    `train_images + validation_images` training and `test_images` test images
    (fewer than the dataset's when the run was cut down, as
    `KERASRECIPES_SMOKE=1` does). With the recipe's seed and `val_fraction`,
    `runs.train` then splits it as the run did. A `ValueError` when the data
    cannot be had again.
    """
    from kerasrecipes import datasets
    from kerasrecipes.datasets.load import NAMES

    record = (state or {}).get("data") or {}
    name = record.get("name")
    if name in NAMES:
        data = datasets.load(name)
    elif (state or {}).get("data_source"):
        data = datasets.from_source(state["data_source"])
    else:
        raise ValueError(f"the run's data {name!r} is neither a named dataset nor a recorded folder")
    n = (record.get("train_images") or 0) + (record.get("validation_images") or 0) or len(data.x_train)
    m = record.get("test_images") or len(data.x_test)
    if n > len(data.x_train) or m > len(data.x_test):
        raise ValueError(f"the run trained on {n} training and {m} test images of {name!r}, which now has "
                         f"{len(data.x_train)} and {len(data.x_test)}")
    return dataclasses.replace(data, x_train=data.x_train[:n], y_train=data.y_train[:n], x_test=data.x_test[:m],
                               y_test=data.y_test[:m])


def _versions():
    from kerasrecipes._version import __version__

    versions = {"kerasrecipes": __version__, "keras": keras.__version__,
                "backend": keras.backend.backend(), "numpy": np.__version__, "python": platform.python_version()}
    try:
        import tensorflow as tf  # the input pipeline's version, recorded

        versions["tensorflow"] = tf.__version__
    except ImportError:
        pass
    return versions


def _differences(old, new):
    return [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def _sibling(out, suffix):
    out = os.path.abspath(out)
    return os.path.join(os.path.dirname(out), "." + os.path.basename(out) + suffix)


def _finish_swap(out):
    """Completes an `overwrite` swap a kill interrupted (old moved aside, new not yet in place, old not deleted)."""
    new, old = _sibling(out, _OVERWRITE_SUFFIX), _sibling(out, _OLD_SUFFIX)
    if os.path.isdir(old):
        if not os.path.exists(out) and (read_state(new) or {}).get("status") == "complete":
            os.replace(new, out)
        if os.path.exists(out):
            shutil.rmtree(old)


def _remove_temp_files(out):
    for root, _, names in os.walk(out):
        for name in names:
            if name.startswith(".tmp-"):
                os.remove(os.path.join(root, name))


# -- the run ------------------------------------------------------------------------------------------------------

def train(out, recipe: Recipe, data, *, overwrite=False, verbose=1, log=print, recipe_name=None, parent=None):
    """Train `recipe` on `data` end to end and write everything into the directory `out`.

    Args:
        out: The run directory (created if needed). Running again into the same
            directory after a kill resumes; into a complete one does nothing.
        recipe: A `Recipe` (`kerasrecipes.presets.get(name, **overrides)`).
            `input_shape` and `num_classes` are taken from `data`.
        data: A `kerasrecipes.datasets.ImageData` (`datasets.load(name)`).
        overwrite: Retrain a complete (or other) run in `out`, replacing its
            files only once the new run has finished. Defaults to `False`.
        verbose: Keras's fit verbosity (0, 1 or 2). Defaults to `1`.
        log: Where one-line messages go. Defaults to `print`.
        recipe_name: The name the recipe came from, recorded in `run.json`.
        parent: The run directory this run follows (`kerasrecipes next`),
            recorded in `run.json` as `parent`. Defaults to `None`.

    Returns:
        The summary dict also written to `out/summary.json`: test accuracy of
        the single model, with test-time flips, of the ensemble (and with
        flips), epochs run, the best epoch (1-based), seconds, the findings.

    Example:
    >>> data = kerasrecipes.datasets.load("sample")
    >>> summary = train("runs/quick", presets.get("factory", epochs=2), data)
    """
    from kerasrecipes import data as kdata

    # 1. Everything is checked before anything is written.
    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be a kerasrecipes.recipe.Recipe. Received recipe={type(recipe).__name__}")
    check_data(data, recipe.val_fraction)
    recipe = dataclasses.replace(recipe, input_shape=data.input_shape, num_classes=data.num_classes)
    out = os.fspath(out)
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"out must be a directory; {out!r} is a file. Received out={out!r}")
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1 or 2. Received verbose={verbose!r}")
    _finish_swap(out)
    state = read_state(out)
    if state is None and os.path.isdir(out) and os.listdir(out):
        raise ValueError(f"{out!r} exists and holds no {STATE_FILE}: it is not a run directory; "
                         "pass another --out")
    complete = state is not None and state.get("status") == "complete"
    target = out
    if overwrite and state is not None:  # trained beside the old run, which goes only once the new one is complete
        target = _sibling(out, _OVERWRITE_SUFFIX)
        state = read_state(target)
        complete = False
    recorded_seed = (state or {}).get("recipe", {}).get("seed")
    seed = recorded_seed if recorded_seed is not None else int(np.random.default_rng().integers(2**31 - 1))
    from kerasrecipes import execution

    plan = execution.plan(recipe)  # every decision of how the run executes, once: printed, recorded, used
    resolved = recipe.resolved(seed=seed, precision=plan.precision)
    (x_fit, y_fit), (x_val, y_val) = kdata.train_val_split(data.x_train, data.y_train, resolved.val_fraction,
                                                           seed=resolved.seed)
    data_record = _data_record(data, len(x_fit), len(x_val))
    if state is not None:
        # Only the same command continues (or, complete, does nothing): anything else is refused, never
        # answered with the old run's results.
        # A field the record lacks (written before the field existed) counts as its default.
        recorded = {**Recipe().to_dict(), **state.get("recipe", {})}
        changed = _differences(recorded, resolved.to_dict()) + _differences(state.get("data", {}), data_record)
        if changed:
            what = "a complete run" if complete else "an unfinished run"
            raise ValueError(f"{target} holds {what} with other settings ({'; '.join(changed)}); "
                             f"{'run the same command to resume it, ' if not complete else ''}"
                             "pass --overwrite to retrain it, or another --out")
    if complete:
        log(f"{out} holds a complete run of the same settings (finished {state.get('finished')}): nothing to "
            "do; --overwrite retrains it")
        return _io.read_json(os.path.join(out, "summary.json"))
    unfinished = state is not None

    # The model and the batches are built before any file is written, so
    # that what only they check (image size against the net's depth) fails here too.
    from kerasrecipes.memory import clear_session

    clear_session()
    resolved.seed_everything()
    training = resolved.prepare(x_fit, y_fit, plan=plan)

    # 2. From here on, files are written.
    os.makedirs(target, exist_ok=True)
    if unfinished:
        _remove_temp_files(target)  # what a kill left halfway through an atomic write
    record = {"status": "running", "started": state["started"] if unfinished else _now(), "finished": None,
              "recipe_name": recipe_name, "parent": None if parent is None else os.fspath(parent),
              "recipe": resolved.to_dict(), "precision": plan.precision,
              "precision_reason": plan.precision_reason, "device": plan.device, "execution": plan.to_dict(),
              "data": data_record,
              "data_source": data.source,  # a folder's files and split, so `report` can load its test set again
              "versions": _versions(),
              "resumed": (state.get("resumed", []) + [_now()]) if unfinished else []}
    _io.write_json(os.path.join(target, STATE_FILE), record)
    try:
        summary = _fit_and_write(target, resolved, data, training, (x_val, y_val), record, verbose, log)
    except Exception as e:
        _io.write_json(os.path.join(target, STATE_FILE),
                       {**record, "status": "failed", "error": f"{type(e).__name__}: {e}"[:2000]})
        raise
    if target != out:  # overwrite: the old artefacts go only now that the new run is complete
        old = _sibling(out, _OLD_SUFFIX)
        os.replace(out, old)
        os.replace(target, out)
        shutil.rmtree(old)
    return summary


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def _fit_and_write(out, recipe, data, training, val, record, verbose, log):
    from kerasrecipes import diagnose
    from kerasrecipes.callbacks import CheckpointEnsemble
    from kerasrecipes.proposal import propose
    from kerasrecipes.recipe import find_callback

    model, net, n_fit = training.model, training.net, training.batches.n
    x_val, y_val = val
    os.makedirs(os.path.join(out, MEMBERS_DIR), exist_ok=True)
    own = recipe.callbacks(validation=True, directory=os.path.join(out, MEMBERS_DIR),
                           backup_dir=os.path.join(out, BACKUP_DIR))
    backup = find_callback(own, AtomicBackupAndRestore)
    backup.log = log
    epoch_log = EpochLog(os.path.join(out, HISTORY_FILE))
    # The epoch log before the backup: an epoch the backup counts is logged.
    callbacks = [c for c in own if c is not backup] + [epoch_log, backup]
    log(f"training {record['recipe_name'] or 'a recipe'}: {net.count_params():,} parameters, "
        f"{_settings_line(recipe)}")
    d = record["data"]
    log(f"data {d['name']}: {d['train_images']} training, {d['validation_images']} validation, "
        f"{d['test_images']} test images of {'x'.join(map(str, d['input_shape']))}, {len(d['class_names'])} classes")
    log(f"{training.plan.line()}; seed {recipe.seed}{', deterministic' if recipe.deterministic else ''}; "
        f"files go to {out}")

    ensemble_cb = find_callback(own, CheckpointEnsemble)
    if backup.fit_done():
        log("note: training had finished before the run was stopped; evaluating the saved model")
        backup.load_final(model)
        if ensemble_cb is not None:
            ensemble_cb = CheckpointEnsemble.from_directory(os.path.join(out, MEMBERS_DIR), model=net)
    else:
        start = backup.restore(model)
        if start:
            log(f"note: the run started {record['started']} did not finish; resuming after epoch {start} "
                f"of {recipe.epochs}")
        # Each epoch's order is drawn from (seed, epoch) (ArrayBatches), so a resumed fit sees the orders an
        # uninterrupted one would: tests/test_run_kills.py checks resumed == uninterrupted.
        training.fit(initial_epoch=start, validation_data=recipe.eval_data(x_val, y_val), epochs=recipe.epochs,
                     callbacks=callbacks, verbose=verbose)
    history = diagnose.load_history(os.path.join(out, HISTORY_FILE))
    seconds = _io.read_json_or_none(epoch_log.seconds_path) or []
    cpu_seconds = _io.read_json_or_none(epoch_log.cpu_seconds_path) or []
    _io.save_keras(net, os.path.join(out, "model.keras"))
    timing = compile_estimate(seconds)

    x_test = to_unit_range(data.x_test)
    results = {"single": _accuracy(recipe.predict(net, x_test, tta=False), data.y_test)}
    if recipe.tta_flips and recipe.flip:
        results["single + TTA flips"] = _accuracy(recipe.predict(net, x_test, tta=True), data.y_test)
    if ensemble_cb is not None and ensemble_cb.members:
        ensemble = ensemble_cb.ensemble()
        _io.save_keras(ensemble, os.path.join(out, "ensemble.keras"))
        name = f"{ensemble_cb.mode} ensemble of {len(ensemble_cb.members)}"
        results[name] = _accuracy(recipe.predict(ensemble, x_test, tta=False), data.y_test)
        if recipe.tta_flips and recipe.flip:
            results[name + " + TTA flips"] = _accuracy(recipe.predict(ensemble, x_test, tta=True), data.y_test)
    diagnosis = diagnose.diagnose(history)
    proposal = propose(diagnosis, recipe)
    monitor = diagnose.monitor_key(history)
    best_index = (best_of(history[monitor], monitor) or (0, None))[0]  # epoch 1 when every value is NaN
    summary = {
        "dataset": data.name, "train_images": n_fit, "validation_images": len(x_val),
        "test_images": len(x_test), "epochs_run": len(history[monitor]),
        "best_epoch": best_index + 1, "best_monitor": monitor,
        "train_seconds": round(float(sum(seconds)), 1), "train_cpu_seconds": round(float(sum(cpu_seconds)), 1),
        **timing, "test_accuracy": results,
        "ensemble_members_epochs": [m.epoch for m in ensemble_cb.members] if ensemble_cb else [],
        "findings": [f.name for f in diagnosis.findings], "proposal": proposal.reason_lines(),
    }
    _io.write_json(os.path.join(out, PROPOSAL_FILE), proposal.to_dict())
    _io.write_json(os.path.join(out, "summary.json"), summary)
    _io.write_text(os.path.join(out, "diagnosis.txt"),
                   f"{diagnosis}\n\nNext run:\n" + "\n".join(f"  {line}" for line in proposal.lines()) + "\n")
    write_report(out, model=net, x_test=x_test, y_test=data.y_test, state=record, summary=summary)
    _io.write_json(os.path.join(out, STATE_FILE), {**record, **timing, "status": "complete", "finished": _now()})
    shutil.rmtree(os.path.join(out, BACKUP_DIR), ignore_errors=True)  # the run is complete: nothing to resume
    return summary


def compile_estimate(seconds) -> dict:
    """`compile_seconds` (estimated), `first_epoch_seconds` and `steady_epoch_seconds` from per-epoch seconds.

    Keras compiles the training step during the first batch and offers no
    hook to time it without a per-batch callback (which would turn off its
    asynchronous dispatch for the whole run), so compilation is estimated as
    the first epoch's seconds less the median of the others. With a warm
    compilation cache (`execution.enable_compile_cache`) it is near zero. A
    resumed run's first epoch after the restart compiles too; the median
    ignores it.
    """
    seconds = [float(s) for s in seconds]
    if not seconds:
        return {}
    out = {"first_epoch_seconds": round(seconds[0], 2)}
    if len(seconds) > 1:
        steady = float(np.median(seconds[1:]))
        out.update(steady_epoch_seconds=round(steady, 3), compile_seconds=round(max(0.0, seconds[0] - steady), 2))
    return out


def _accuracy(probabilities, y):
    return float(np.mean(np.asarray(probabilities).argmax(-1) == np.asarray(y)))


def _settings_line(recipe):
    filters, convs = recipe.stage_plan()
    parts = [f"{recipe.arch or 'VGG'} {'-'.join(map(str, filters))} x{convs}", recipe.order, recipe.activation,
             f"{recipe.optimizer} lr {recipe.learning_rate:.3g}", f"{recipe.schedule} schedule",
             f"{recipe.epochs} epoch{'s' if recipe.epochs != 1 else ''} of batch {recipe.batch_size}", f"augment {recipe.augment}"]
    if recipe.ensemble:
        parts.append(f"{recipe.ensemble} ensemble of {recipe.ensemble_k}")
    return ", ".join(parts)


def files_written(out):
    """The files of a run directory, as a user lists them (`members/` summarized)."""
    names = []
    for name in sorted(os.listdir(out)):
        path = os.path.join(out, name)
        if os.path.isdir(path):
            inner = sorted(os.listdir(path))
            names.append(f"{name}/ ({len(inner)} files)")
        elif not name.startswith("."):
            names.append(name)
    return names


def write_report(out, *, model=None, x_test=None, y_test=None, state=None, summary=None):
    """Write `out/report.html` for a run directory: results, settings, curves, diagnosis, confusion matrix.

    Without a model and data it loads `out/model.keras` and the test set named
    in `out/run.json`, so `kerasrecipes report DIR` gives the same page.
    """
    from kerasrecipes import report

    if not os.path.exists(os.path.join(out, HISTORY_FILE)):
        raise ValueError(f"{out!r} is not a run directory: it has no {HISTORY_FILE}")
    state = state or read_state(out) or {}
    if summary is None and os.path.exists(os.path.join(out, "summary.json")):
        summary = _io.read_json(os.path.join(out, "summary.json"))
    class_names = (state.get("data") or {}).get("class_names")
    if model is None and os.path.exists(os.path.join(out, "model.keras")):
        try:
            loaded = run_data(state)
        except ValueError as e:
            print(f"note: the test images of the run cannot be loaded again ({str(e).splitlines()[0]}); "
                  "the report has no confusion matrix")
            loaded = None
        if loaded is not None:
            model = keras.saving.load_model(os.path.join(out, "model.keras"))
            x_test, y_test = to_unit_range(loaded.x_test), loaded.y_test
    kwargs = {}
    if model is not None:
        kwargs = {"model": model, "x": x_test, "y": y_test, "class_names": class_names,
                  "model_name": "model.keras: the single model as training ended"}
    return report.report(out, results=(summary or {}).get("test_accuracy"), settings=state.get("recipe"),
                         facts=_facts(state, summary), **kwargs)


def _facts(state, summary):
    facts = {}
    if state:
        facts.update({"recipe": state.get("recipe_name"), "data": (state.get("data") or {}).get("name"),
                      "device": state.get("device"), "precision": state.get("precision"),
                      "started": state.get("started"), "finished": state.get("finished")})
    if summary:
        facts.update({"epochs run": summary.get("epochs_run"), "best epoch": summary.get("best_epoch"),
                      "training seconds": summary.get("train_seconds"),
                      "ensemble members (epochs)": ", ".join(map(str, summary.get("ensemble_members_epochs") or []))
                      or None})
    return {k: v for k, v in facts.items() if v not in (None, "")}


def format_summary(summary, out=None):
    """The results table a person reads at the end of a run; with `out`, the command of the proposed next run."""
    lines = [f"{'model':<36}{'test accuracy':>14}"]
    for name, accuracy in summary["test_accuracy"].items():
        lines.append(f"{name:<36}{accuracy:>13.2%}")
    n = summary["epochs_run"]
    lines.append(f"({summary['test_images']} held-out test images; {n} epoch{'s' if n != 1 else ''}, best "
                 f"{summary['best_monitor']} at epoch {summary['best_epoch']}; {summary['train_seconds']} s of "
                 "training)")
    if summary.get("findings"):
        lines.append("diagnosis: " + ", ".join(summary["findings"]) + " (see diagnosis.txt)")
    if summary.get("proposal"):
        lines.append("next run (the sources in diagnosis.txt and report.html):")
        lines += [f"  {line}" for line in summary["proposal"]]
        if out is not None:
            from kerasrecipes.proposal import next_command

            lines.append(f"  run it: {next_command(out)}")
    elif summary.get("findings") == []:
        lines.append("diagnosis: the curves look healthy; no change proposed")
    return "\n".join(lines)
