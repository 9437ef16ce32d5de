"""`compare` and `kerasrecipes compare`: run directories side by side, values read back from their files.

Two real tiny runs on the embedded sample (different widths and epochs); the
table's numbers are checked against each run's `summary.json` and
`history.json`, the differences against their recipes, the page for its table
and embedded figure.
"""

import os

import pytest

from kerasrecipes import _io, diagnose, presets, runs
from kerasrecipes.cli import main
from kerasrecipes.compare import compare

TINY = dict(convs_per_stage=1, dense_units=(8,), batch_size=64, ensemble="every", ensemble_k=1,
            jit_compile=False, seed=0)


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, sample_small):
    data = sample_small
    root = tmp_path_factory.mktemp("compare")
    dirs = []
    for name, fields in (("narrow", dict(filters=(4, 8), epochs=2)), ("wide", dict(filters=(8, 16), epochs=3))):
        out = root / name
        runs.train(out, presets.get("factory", **TINY, **fields), data, verbose=0, log=lambda line: None,
                   recipe_name="factory")
        dirs.append(str(out))
    return dirs


def test_the_table_holds_each_runs_own_numbers_and_the_fields_that_differ(two_runs):
    result = compare(*two_runs)
    assert [row["variant"] for row in result.table] == two_runs
    for row, run in zip(result.table, two_runs):
        summary = _io.read_json(os.path.join(run, "summary.json"))
        history = diagnose.load_history(os.path.join(run, runs.HISTORY_FILE))
        assert row["status"] == "complete" and row["epochs"] == len(history["loss"])
        assert row["best_val_accuracy"] == max(history["val_accuracy"])
        assert row["best_epoch"] == history["val_accuracy"].index(row["best_val_accuracy"]) + 1
        assert row["test single"] == summary["test_accuracy"]["single"]
        assert row["test flips"] == summary["test_accuracy"]["single + TTA flips"]
        assert row["test ensemble + flips"] == summary["test_accuracy"]["every ensemble of 1 + TTA flips"]
        assert row["train seconds"] == summary["train_seconds"] and row["CPU seconds"] == summary["train_cpu_seconds"]
        assert result.histories[run]["loss"] == history["loss"]
        assert row["diagnosis"] == (", ".join(summary["findings"]) or "healthy")
    assert [r["epochs"] for r in result.table] == [2, 3]
    assert result.differences == {"epochs": [2, 3], "filters": [[4, 8], [8, 16]]}
    text = repr(result)
    assert "settings that differ: epochs: 2 / 3; filters: 4,8 / 8,16" in text and "test single" in text
    assert "<h2>Settings that differ</h2>" in result._repr_html_()  # the notebook shows them too


def test_the_page_has_the_table_the_differences_and_the_curves(two_runs, tmp_path):
    path = compare(*two_runs).write_html(tmp_path / "c.html")
    text = open(path).read()
    assert text.startswith("<!DOCTYPE html>") and "<h2>Settings that differ</h2>" in text
    assert "<th>filters</th><td>4,8</td><td>8,16</td>" in text
    assert text.count('<img alt="learning curves overlaid" src="data:image/png;base64,') == 1
    assert all(run in text for run in two_runs)
    assert not [n for n in os.listdir(tmp_path) if n != "c.html"]  # atomic: no temp file left


def test_the_command_writes_the_page_and_names_it(two_runs, tmp_path, capsys):
    out = tmp_path / "compare.html"
    assert main(["compare", *two_runs, "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert str(out) in said and out.read_text().count("<tr>") >= 3
    assert main(["compare", *two_runs, "--out", str(tmp_path)]) == 2  # a directory is not a page
    assert "--out must name an HTML file" in capsys.readouterr().err


@pytest.mark.parametrize("make, message", [
    (lambda tmp, runs_: [runs_[0], str(tmp)], "is not a run directory of kerasrecipes"),
    (lambda tmp, runs_: [runs_[0], str(tmp / "absent")], "is not a run directory of kerasrecipes"),
    (lambda tmp, runs_: [runs_[0], runs_[0]], "twice"),
])
def test_compare_refuses_what_is_not_two_run_directories_in_one_line(two_runs, tmp_path, capsys, make, message):
    dirs = make(tmp_path, two_runs)
    with pytest.raises(ValueError, match=message):
        compare(*dirs)
    out = tmp_path / "page.html"
    assert main(["compare", *dirs, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("kerasrecipes compare: error:") and message in err
    assert not out.exists()
    with pytest.raises(ValueError, match="two or more run directories"):
        compare(two_runs[0])
