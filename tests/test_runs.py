"""runs.train's lifecycle in one process: checks before any write, complete runs left alone, --overwrite.

(The SIGKILL promises are in tests/test_run_kills.py, with real processes.)
"""

import dataclasses
import json
import os

import pytest

from kerasrecipes import presets, runs

TINY = dict(filters=(4, 8), convs_per_stage=1, dense_units=(8,), epochs=1, batch_size=64, ensemble="every",
            ensemble_k=1, jit_compile=False, seed=0)


@pytest.fixture(scope="module")
def data(sample_small):
    return sample_small


def _snapshot(directory):
    return {os.path.relpath(os.path.join(root, n), directory): open(os.path.join(root, n), "rb").read()
            for root, _, names in os.walk(directory) for n in names}


@pytest.mark.parametrize("recipe, bad_data, match", [
    (dict(order="conv-relu-bn"), None, "Received order='conv-relu-bn'"),  # found only by the model factory
    (dict(filters=(4, 8, 8, 8, 8, 8)), None, "too small for 6 pooling stages"),
    (dict(val_fraction=0.001), None, "leaves 0 for validation"),
    ({}, "labels", r"y_train must lie in \[0, 10\)"),
    ({}, "shape", "x_test images"),
])
def test_bad_settings_or_data_write_nothing(recipe, bad_data, match, data, tmp_path):
    if bad_data == "labels":
        data = dataclasses.replace(data, y_train=data.y_train + 5)
    elif bad_data == "shape":
        data = dataclasses.replace(data, x_test=data.x_test[:, :20])
    with pytest.raises(ValueError, match=match):
        runs.train(tmp_path / "new", presets.get("factory", **{**TINY, **recipe}), data, verbose=0,
                   log=lambda line: None)
    assert not (tmp_path / "new").exists()
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    with pytest.raises(ValueError):
        runs.train(other, presets.get("factory", **TINY), data, verbose=0, log=lambda line: None)
    assert _snapshot(other) == {"mine.txt": b"keep me"}


def test_complete_run_is_left_alone_other_settings_refused_overwrite_replaces_at_the_end(data, tmp_path):
    out = tmp_path / "run"
    said = []
    summary = runs.train(out, presets.get("factory", **TINY), data, verbose=0, log=said.append)
    assert summary["epochs_run"] == 1 and summary["train_images"] == 288 and summary["validation_images"] == 32
    assert set(summary["test_accuracy"]) == {"single", "single + TTA flips", "every ensemble of 1",
                                             "every ensemble of 1 + TTA flips"}
    assert said[0].startswith("training a recipe: ") and f"files go to {out}" in said[2]
    state = json.loads((out / "run.json").read_text())
    assert state["status"] == "complete" and state["started"] and state["finished"]
    assert state["recipe"]["filters"] == [4, 8] and state["recipe"]["precision"] in ("float32", "mixed_bfloat16")
    assert set(state["versions"]) >= {"kerasrecipes", "keras", "tensorflow"}
    page = (out / "report.html").read_text()
    assert "Test accuracy" in page and "Recipe settings" in page and page.count(">learning_rate<") == 1
    before = _snapshot(out)

    # The same command again into the complete directory: nothing to do, nothing touched.
    said.clear()
    again = runs.train(out, presets.get("factory", **TINY), data, verbose=0, log=said.append)
    assert again == summary and "nothing to do" in said[0] and _snapshot(out) == before
    # Another command into it is refused in one line naming what differs and the ways out; nothing touched.
    with pytest.raises(ValueError, match=r"holds a complete run with other settings \(epochs: 1 -> 2; order: "
                                         r"'conv-bn-act' -> 'conv-act-bn'\); pass --overwrite to retrain it, or "
                                         r"another --out"):
        runs.train(out, presets.get("factory", **dict(TINY, epochs=2, order="conv-act-bn")), data, verbose=0,
                   log=said.append)
    assert _snapshot(out) == before
    # A mistyped setting never reaches the directory: the recipe itself refuses it.
    with pytest.raises(ValueError, match="order has an unknown token 'relu'"):
        presets.get("factory", **dict(TINY, order="conv-relu-bn"))

    # An unfinished run with other settings is refused before anything is written.
    unfinished = tmp_path / "unfinished"
    os.makedirs(unfinished)
    (unfinished / "run.json").write_text(json.dumps({**state, "status": "running"}))
    with pytest.raises(ValueError, match=r"other settings \(epochs: 1 -> 2\)"):
        runs.train(unfinished, presets.get("factory", **dict(TINY, epochs=2)), data, verbose=0,
                   log=lambda line: None)
    assert json.loads((unfinished / "run.json").read_text())["status"] == "running"

    # --overwrite: trains beside, replaces only once complete.
    summary2 = runs.train(out, presets.get("factory", **dict(TINY, epochs=2)), data, overwrite=True, verbose=0,
                          log=lambda line: None)
    assert summary2["epochs_run"] == 2
    assert json.loads((out / "history.json").read_text())["epoch"] == [1, 2]
    assert json.loads((out / "run.json").read_text())["recipe"]["epochs"] == 2
    assert sorted(os.listdir(tmp_path)) == ["run", "unfinished"]  # no sibling left behind

