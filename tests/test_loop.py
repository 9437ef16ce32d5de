"""The babysitting loop: `next` trains a run's proposal on the same data and split; `--rounds` follows it.

Real tiny runs on the embedded sample; the `follow` control flow (stop on no
improvement, on a healthy run, on the budget) with the proposals and scores
set by the test.
"""

import dataclasses
import json
import os

import pytest

from kerasrecipes import _io, loop, presets, runs
from kerasrecipes.cli import main
from kerasrecipes.proposal import Change, Proposal
from kerasrecipes.recipe import Recipe

TINY = dict(filters=(4, 8), convs_per_stage=1, dense_units=(8,), epochs=2, batch_size=64, ensemble="every",
            ensemble_k=1, jit_compile=False, seed=0)


@pytest.fixture(scope="module")
def data(sample_small):
    return sample_small


@pytest.fixture(scope="module")
def parent(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("loop") / "start"
    runs.train(out, presets.get("factory", **TINY), data, verbose=0, log=lambda line: None, recipe_name="factory")
    return out


def _set_proposal(run_dir, **changes):
    """Writes a proposal.json of `changes` for `run_dir` (so the test knows what `next` must train)."""
    recipe = Recipe.from_dict(runs.read_state(run_dir)["recipe"])
    proposal = Proposal(dataclasses.replace(recipe, **changes),
                        [Change(k, getattr(recipe, k), v, "overfitting", "set by the test", "the test")
                         for k, v in changes.items()], ["overfitting"])
    _io.write_json(os.path.join(run_dir, runs.PROPOSAL_FILE), proposal.to_dict())
    return proposal


def test_every_run_writes_its_proposal_and_next_trains_it_on_the_same_data_and_split(parent, tmp_path, capsys):
    record = _io.read_json(os.path.join(parent, runs.PROPOSAL_FILE))
    assert Proposal.from_dict(record).to_dict() == record  # written by runs.train, read back whole
    _set_proposal(parent, base_lr=0.05, epochs=3)
    out = tmp_path / "next"
    assert main(["next", str(parent), "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "base_lr" in said and f"kerasrecipes compare {parent} {out}" in said
    old, new = runs.read_state(parent), runs.read_state(out)
    assert new["status"] == "complete" and new["parent"] == str(parent)
    assert new["data"] == old["data"]  # the same images, the same train/validation/test sizes
    changed = {k for k in new["recipe"] if new["recipe"][k] != old["recipe"][k]}
    assert changed == {"base_lr", "epochs"} and new["recipe"]["base_lr"] == 0.05 and new["recipe"]["epochs"] == 3
    assert new["recipe"]["seed"] == old["recipe"]["seed"]  # the seed that drew the validation split
    assert len(_io.read_json(os.path.join(out, runs.HISTORY_FILE))["epoch"]) == 3
    finished = new["finished"]
    assert main(["next", str(parent), "--out", str(out)]) == 0  # a rerun: complete, nothing to do
    assert runs.read_state(out)["finished"] == finished and "nothing to do" in capsys.readouterr().out


@pytest.mark.parametrize("make, message", [
    (lambda tmp: tmp / "absent", "is not a run directory of kerasrecipes"),
    (lambda tmp: tmp, "is not a run directory of kerasrecipes"),
])
def test_next_refuses_what_is_not_a_complete_run_in_one_line(make, message, tmp_path, capsys):
    assert main(["next", str(make(tmp_path)), "--out", str(tmp_path / "new")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("kerasrecipes next: error:") and message in err
    assert not (tmp_path / "new").exists()


def test_next_refuses_an_unfinished_run_and_its_own_directory(parent, tmp_path, capsys):
    unfinished = tmp_path / "unfinished"
    unfinished.mkdir()
    for name in (runs.STATE_FILE, runs.HISTORY_FILE):
        _io.write_json(unfinished / name, {**_io.read_json(parent / name), "status": "running"}
                       if name == runs.STATE_FILE else _io.read_json(parent / name))
    assert main(["next", str(unfinished), "--out", str(tmp_path / "new")]) == 2
    assert "'running', not complete" in capsys.readouterr().err
    assert main(["next", str(parent), "--out", str(parent)]) == 2
    assert "not the run it follows" in capsys.readouterr().err
    assert main(["next", str(parent), "--out", str(tmp_path / "new"), "--minutes", "3"]) == 2
    assert "--minutes bounds the rounds" in capsys.readouterr().err
    assert not (tmp_path / "new").exists()


class _Scripted:
    """Proposals and validation accuracies set by the test, in place of real curves."""

    def __init__(self, monkeypatch, scores, healthy_after=None):
        self.trained, self.lr_finds = [], []
        recipe = presets.get("factory", **TINY)

        def proposal_of(run_dir, lr_find=None):
            self.lr_finds.append(lr_find)
            k = len(self.trained)
            changes = [] if healthy_after is not None and k >= healthy_after else ["x"]
            return _FakeProposal(dataclasses.replace(recipe, epochs=2 + k), changes)

        def next_run(run_dir, out, **kwargs):
            os.makedirs(out, exist_ok=True)
            self.trained.append(os.fspath(out))
            _io.write_json(os.path.join(out, "summary.json"), {"train_seconds": 60.0, "epochs_run": 2})
            return None, {"train_seconds": 60.0}

        monkeypatch.setattr(loop, "proposal_of", proposal_of)
        monkeypatch.setattr(loop, "next_run", next_run)
        monkeypatch.setattr(loop, "best_val_accuracy", lambda run_dir: scores[os.path.basename(run_dir)])


@dataclasses.dataclass
class _FakeProposal:
    recipe: Recipe
    changes: list

    def diff_lines(self):
        return [f"epochs -> {self.recipe.epochs}"]


@pytest.mark.parametrize("scores, healthy_after, minutes, trained, stopped", [
    ({"start": 0.5, "round1": 0.6, "round2": 0.7, "round3": 0.8}, None, None, 3, "all 3 round(s) done"),
    ({"start": 0.5, "round1": 0.6, "round2": 0.55, "round3": 0.9}, None, None, 2, "round 2 did not improve"),
    ({"start": 0.5, "round1": 0.6, "round2": 0.7, "round3": 0.8}, 1, None, 1, "look healthy"),
    ({"start": 0.5, "round1": 0.6, "round2": 0.7, "round3": 0.8}, None, 2.5, 2, "the budget"),
])
def test_rounds_stop_when_validation_accuracy_stops_improving_or_the_curves_are_healthy_or_time_is_up(
        parent, tmp_path, monkeypatch, scores, healthy_after, minutes, trained, stopped):
    script = _Scripted(monkeypatch, scores, healthy_after)
    result = loop.follow(parent, tmp_path / "chain", 3, minutes=minutes, log=lambda line: None)
    assert len(script.trained) == trained and stopped in result.stopped
    assert result.runs == [str(parent)] + script.trained
    best = max(range(len(result.runs)), key=lambda i: scores[os.path.basename(result.runs[i])])
    assert result.best == result.runs[best]
    assert json.loads((tmp_path / "chain" / loop.LOOP_FILE).read_text())["stopped"] == result.stopped


def test_the_lr_range_test_informs_the_first_round_only(parent, tmp_path, monkeypatch):
    script = _Scripted(monkeypatch, {"start": 0.5, "round1": 0.6, "round2": 0.7, "round3": 0.8})
    loop.follow(parent, tmp_path / "chain", 3, lr_find="runs/lr", log=lambda line: None)
    assert script.lr_finds == ["runs/lr", None, None]  # it measured the starting recipe, not the rounds' changes


def test_follow_refuses_bad_rounds_and_minutes_before_any_write(parent, tmp_path):
    for kwargs, match in (({"rounds": 0}, "rounds"), ({"rounds": 2, "minutes": -1}, "minutes")):
        with pytest.raises(ValueError, match=match):
            loop.follow(parent, tmp_path / "chain", **kwargs)
    assert not (tmp_path / "chain").exists()


def test_a_next_run_killed_in_an_epochs_backup_resumes_to_the_numbers_of_an_uninterrupted_one(data, tmp_path):
    """Real processes: `kerasrecipes next` SIGKILLed inside the write of epoch 2's backup, then run again."""
    import signal
    import subprocess
    import sys

    start = tmp_path / "start"
    runs.train(start, presets.get("factory", **{**TINY, "epochs": 3, "deterministic": True}), data, verbose=0,
               log=lambda line: None, recipe_name="factory")
    proposal = _set_proposal(start, base_lr=0.05)  # the change is set: the test knows what is trained
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}
    env.pop("KERASRECIPES_SMOKE", None)
    command = [sys.executable, "-m", "kerasrecipes", "next", str(start)]

    killed = subprocess.Popen(command + ["--out", str(tmp_path / "killed")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True,
                              env={**env, "KERASRECIPES_TEST_PAUSE": "backup-e00002"})
    for line in killed.stderr:
        if line.startswith("KERASRECIPES_TEST_PAUSE"):
            killed.send_signal(signal.SIGKILL)
            break
    assert killed.wait(timeout=600) == -signal.SIGKILL
    assert runs.read_state(tmp_path / "killed")["status"] == "running"
    for out in ("killed", "whole"):  # the same command again resumes; an uninterrupted run beside it
        done = subprocess.run(command + ["--out", str(tmp_path / out)], capture_output=True, text=True, env=env,
                              timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
    resumed, whole = (_io.read_json(tmp_path / out / runs.HISTORY_FILE) for out in ("killed", "whole"))
    assert resumed["epoch"] == [1, 2, 3] and resumed["loss"] == whole["loss"]  # every epoch once, same numbers
    state = runs.read_state(tmp_path / "killed")
    assert state["status"] == "complete" and state["parent"] == str(start)
    assert state["recipe"]["base_lr"] == proposal.recipe.base_lr == 0.05


def test_an_lr_find_directory_gives_an_lr_finding_its_suggestion_at_the_runs_batch_size(parent, tmp_path, capsys):
    import shutil

    run = tmp_path / "too_high"
    shutil.copytree(parent, run)
    os.remove(run / runs.PROPOSAL_FILE)
    _io.write_json(run / runs.HISTORY_FILE, {"loss": [2.3, 5.0, 12.0], "val_loss": [2.3, 5.0, 12.0],
                                             "accuracy": [0.1, 0.1, 0.1], "val_accuracy": [0.1, 0.1, 0.1]})
    recipe = Recipe.from_dict(runs.read_state(run)["recipe"])
    assert recipe.batch_size == 64
    lr_dir = tmp_path / "lr"
    tested = {**recipe.to_dict(), "batch_size": 32}
    _io.write_json(lr_dir / "lr_find.json", {"suggestion": 1e-4, "recipe": tested})
    assert loop.lr_find_suggestion(lr_dir, recipe) == pytest.approx(2e-4)  # measured at 32, carried to 64
    change = loop.proposal_of(run, lr_dir).changes[0]
    assert (change.field, change.finding) == ("base_lr", "lr_too_high") and "range test" in change.reason
    assert change.new == pytest.approx(float(f"{recipe.base_lr_for(2e-4):.3g}"))
    assert loop.proposal_of(run).changes[0].new == pytest.approx(float(f"{recipe.base_lr / 3:.3g}"))  # without
    for record, message in (({"suggestion": None, "recipe": tested}, "made no suggestion"),
                            ({"suggestion": 1e-4, "recipe": {**tested, "optimizer": "sgd"}}, "ran with optimizer")):
        _io.write_json(lr_dir / "lr_find.json", record)
        assert main(["next", str(run), "--out", str(tmp_path / "new"), "--lr-find", str(lr_dir)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err
    with pytest.raises(ValueError, match="directory written by kerasrecipes lr-find"):
        loop.proposal_of(run, tmp_path)
    assert not (tmp_path / "new").exists()
