"""The trials of a search as a table, read through keras-tuner's oracle API.

`stage_rows` asks the stage's oracle (`oracle.trials`, `oracle.get_trial`) for
each trial's status, score, best step and hyperparameter values, and adds what
the kerasrecipes tuners record beside each trial (epochs run, seconds, the
epoch pruning stopped it at, a FAILED trial's error in one line). `Results`
holds the rows: sort, best, CSV/JSON (atomic), a pandas DataFrame when pandas is
installed, and a table `repr`.
"""

import math
import os

from kerasrecipes import _io
from kerasrecipes.tuning.tuners import RECORD_FILE, error_line

ROW_KEYS = ("stage", "trial_id", "score", "epochs", "best_epoch", "seconds", "status")
PRUNED_KEY = "pruned_at"  # a column only when pruning ran: the epoch a trial was stopped at
ERROR_KEY = "error"  # a column only when a trial failed: its error in one line
_OPTIONAL = (PRUNED_KEY, ERROR_KEY)


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
        optional = [k for k in _OPTIONAL if any(k in r for r in self.rows)]
        return list(ROW_KEYS) + optional + self.names

    @property
    def pruned(self):
        """The number of trials the pruning rule stopped early."""
        return sum(1 for r in self.rows if r.get(PRUNED_KEY))

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

    @property
    def failed(self):
        """The rows of FAILED trials (each with its error in one line under "error")."""
        return [r for r in self.rows if r["status"] == "FAILED"]

    def to_dataframe(self):
        """The rows as a `pandas.DataFrame` (as Optuna's `Study.trials_dataframe()`), if pandas is installed.

        pandas is not a dependency of kerasrecipes: this imports it when called.

        Raises:
            ImportError: with what to install, when pandas is missing.
        """
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("Results.to_dataframe() needs pandas: pip install pandas") from None
        return pd.DataFrame([{c: r.get(c) for c in self.columns} for r in self.rows], columns=self.columns)

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
        pruned = f", {self.pruned} pruned" if PRUNED_KEY in self.columns else ""
        failed = f", {len(self.failed)} failed" if self.failed else ""
        return (f"Results({len(self.rows)} trials{pruned}{failed}, objective={self.objective} ({self.direction}))\n"
                + "\n".join(lines))

    def _repr_html_(self):
        cells = self._cells()
        head = "".join(f"<th>{c}</th>" for c in cells[0])
        body = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in row) + "</tr>" for row in cells[1:])
        return f"<table><tr>{head}</tr>{body}</table>"


def stage_rows(tuner, stage_index, space=None):
    """The rows of one stage, in trial-id order, from `tuner.oracle` (a keras-tuner Oracle).

    Args:
        tuner: The stage's tuner (its oracle holds the trials: the tuner that ran
            them, or one that reloaded the project).
        stage_index: The stage's number (the rows' "stage").
        space: The stage's `SearchSpace`, to decode tuples and None; or None.
    """
    oracle = tuner.oracle
    decode = space.decode if space is not None else (lambda v: v)
    rows = []
    for trial_id in sorted(oracle.trials, key=lambda t: (len(t), t)):
        trial = oracle.get_trial(trial_id)
        record_path = os.path.join(tuner.project_dir, f"trial_{trial_id}", RECORD_FILE)
        try:
            record = _io.read_json(record_path) if os.path.exists(record_path) else {}
        except ValueError:  # our records are written atomically; an older cut one is only missing data
            record = {}
        values = {k: v for k, v in trial.hyperparameters.values.items() if not k.startswith("tuner/")}
        score = trial.score
        row = {
            "stage": stage_index,
            "trial_id": trial.trial_id,
            "score": None if score is None or math.isnan(float(score)) else float(score),
            "epochs": record.get("epochs"),
            "best_epoch": None if trial.best_step is None else int(trial.best_step),
            "seconds": record.get("seconds"),
            "status": trial.status,
        }
        if PRUNED_KEY in record:
            row[PRUNED_KEY] = record[PRUNED_KEY]
        if trial.status == "FAILED":
            row[ERROR_KEY] = record.get("error") or error_line(trial.message) or "failed (no message)"
        row.update(decode(values))
        rows.append(row)
    return rows
