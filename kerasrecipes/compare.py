"""Run directories side by side: curves overlaid, test accuracy, seconds and the recipe fields that differ.

cs231n's babysitting loop ends in a comparison: did the change help? `compare`
reads any run directories of this package (`train`, `demo`, `next`, the rounds
of `next --rounds`) and returns an `experiments.Comparison` (the class the
in-notebook experiments return): a table, `_repr_html_` for Jupyter, the
curves overlaid (`plots.overlay`) and `write_html(path)` for one
self-contained page. `kerasrecipes compare DIR1 DIR2 ...` is its command.

TensorBoard and Keras show curves of several runs; what this adds is the
table of the package's own results (single model, test-time flips, checkpoint
ensemble; wall and CPU seconds) and the settings that differ, read from each
run's `run.json`.
"""

import os

from kerasrecipes import _io
from kerasrecipes._stats import best_of

# (ensemble?, with test-time flips?) -> column
_TEST_COLUMNS = {(False, False): "test single", (False, True): "test flips", (True, False): "test ensemble",
                 (True, True): "test ensemble + flips"}


def compare(*run_dirs, title="runs compared"):
    """Compare run directories; every one is checked before anything is read further.

    Args:
        *run_dirs: Two or more run directories of this package (complete or not:
            an unfinished run shows its curves and no test accuracy).
        title: Title of the table and page. Defaults to "runs compared".

    Returns:
        An `experiments.Comparison` with one row per run (its path as given):
        status, best validation accuracy and its epoch, epochs run, test accuracy
        (single, flips, ensemble, ensemble + flips), training wall and CPU
        seconds, estimated compile seconds, the diagnosis's findings and the run it
        follows (`parent`);
        `.differences` holds the recipe fields (and the data) that differ.

    Example:
    >>> result = compare("runs/demo", "runs/demo_next")
    >>> result.write_html("runs/compare.html")
    """
    from kerasrecipes import diagnose, runs
    from kerasrecipes.experiments import Comparison

    if len(run_dirs) < 2:
        raise ValueError(f"compare needs two or more run directories. Received run_dirs={list(run_dirs)!r}")
    names = [os.fspath(d) for d in run_dirs]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"run_dirs names {twice[0]!r} twice. Received run_dirs={names!r}")
    states = [runs.run_directory(name) for name in names]
    table, histories = [], {}
    for name, state in zip(names, states):
        history = diagnose.load_history(os.path.join(name, runs.HISTORY_FILE))
        summary_path = os.path.join(name, "summary.json")
        summary = _io.read_json_or_none(summary_path) if os.path.exists(summary_path) else None
        histories[name] = history
        table.append(_row(name, state, history, summary or {}))
    return Comparison(table, histories, title, differences=_differences(states))


def _row(name, state, history, summary):
    from kerasrecipes import diagnose

    row = {"variant": name, "status": state.get("status")}
    key = diagnose.accuracy_key(history)
    found = best_of(history.get(f"val_{key}", []), f"val_{key}") if key else None
    if found is not None:
        row.update(best_val_accuracy=found[1], best_epoch=found[0] + 1)
    row["epochs"] = len(history.get("loss", []))
    row.update(_test_accuracies(summary.get("test_accuracy") or {}))
    if "findings" in summary:
        row["diagnosis"] = ", ".join(summary["findings"]) or "healthy"
    row.update({"train seconds": summary.get("train_seconds"), "CPU seconds": summary.get("train_cpu_seconds"),
                "compile seconds": summary.get("compile_seconds"), "parent": state.get("parent")})
    return {k: v for k, v in row.items() if v is not None}


def _test_accuracies(results):
    """`summary.json`'s `test_accuracy` ("single", "single + TTA flips", "every ensemble of 3", ...) in four
    fixed columns."""
    return {_TEST_COLUMNS["ensemble" in model, model.endswith("TTA flips")]: accuracy
            for model, accuracy in results.items()}


def _differences(states):
    recipes = [state.get("recipe") or {} for state in states]
    fields = sorted({k for r in recipes for k in r})
    differ = {k: [r.get(k) for r in recipes] for k in fields if len({repr(r.get(k)) for r in recipes}) > 1}
    data = [(state.get("data") or {}).get("name") for state in states]
    if len(set(data)) > 1:
        differ = {"data": data, **differ}
    return differ
