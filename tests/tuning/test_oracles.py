"""Our keras-tuner oracles: atomic state, a cut oracle.json rebuilt, kills between two writes, seed 0."""

import json
import os

import keras_tuner as kt
import pytest

from kerasrecipes.tuning import LogUniform, SearchSpace, oracles
from kerasrecipes.tuning.stage import derive_seed


def _space():
    return SearchSpace.ranges(lr=LogUniform(1e-4, 1e-1), wd=LogUniform(1e-6, 1e-2)).to_hyperparameters()


def _oracle(tmp_path, seed=derive_seed(0, 0), max_trials=6):
    oracle = oracles.RandomSearchOracle(objective=kt.Objective("val_accuracy", "max"), max_trials=max_trials,
                                        hyperparameters=_space(), seed=seed)
    oracle._set_project_dir(str(tmp_path), "p")
    oracle.verbose = 0
    return oracle


def _run(oracle, score, tuner_id="tuner0", status="COMPLETED"):
    trial = oracle.create_trial(tuner_id)
    oracle.update_trial(trial.trial_id, {"val_accuracy": score}, step=0)
    trial.status = status
    oracle.end_trial(trial)
    return trial


def test_seed_zero_seeds_and_the_same_seed_draws_the_same_trials_in_the_same_order(tmp_path):
    draws = []
    for run in ("a", "b"):
        oracle = _oracle(tmp_path / run, seed=derive_seed(0, 0))
        assert oracle.seed == 1  # keras-tuner reads `seed or random...`: 0 is never passed on
        draws.append([oracle.create_trial(f"tuner{i}").hyperparameters.values for i in range(4)])
    assert draws[0] == draws[1] and len({json.dumps(v, sort_keys=True) for v in draws[0]}) == 4
    other = _oracle(tmp_path / "c", seed=derive_seed(1, 0))
    assert [other.create_trial(f"tuner{i}").hyperparameters.values for i in range(4)] != draws[0]
    assert len({derive_seed(s, i) for s in range(3) for i in range(3)}) == 9 and derive_seed(None, 2) is None


def test_state_files_are_written_atomically(tmp_path, monkeypatch):
    oracle = _oracle(tmp_path)
    _run(oracle, 0.5)
    fname = os.path.join(tmp_path, "p", "oracle.json")
    before = open(fname).read()

    def cut(obj):  # a process killed in the middle of writing: the new content never lands
        raise KeyboardInterrupt

    monkeypatch.setattr(oracles.json, "dumps", lambda obj: cut(obj))
    with pytest.raises(KeyboardInterrupt):
        oracle.save()
    with pytest.raises(KeyboardInterrupt):
        oracle._save_trial(oracle.get_trial("0"))
    assert open(fname).read() == before and json.loads(open(tmp_path / "p" / "trial_0" / "trial.json").read())
    assert sorted(os.listdir(tmp_path / "p")) == ["oracle.json", "trial_0"]  # no temp file left behind


@pytest.mark.parametrize("damage", ["empty", "cut"])
def test_an_empty_or_cut_oracle_json_is_rebuilt_from_the_trial_files(tmp_path, capsys, damage):
    oracle = _oracle(tmp_path)
    done = [_run(oracle, s).hyperparameters.values for s in (0.3, 0.7, 0.5)]
    running = oracle.create_trial("tuner1")  # the trial in flight when the process died
    fname = tmp_path / "p" / "oracle.json"
    fname.write_text("" if damage == "empty" else fname.read_text()[:40])

    again = _oracle(tmp_path)
    again.reload()
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "oracle.json was unreadable" in err and "rebuilt the oracle's state from 4" in err
    assert again.end_order == ["0", "1", "2"] and [t.score for t in again.get_best_trials(2)] == [0.7, 0.5]
    assert again._retry_queue == [running.trial_id]  # run again under its id, nothing else
    nxt = again.create_trial("tuner0")
    assert nxt.trial_id == running.trial_id and nxt.hyperparameters.values == running.hyperparameters.values
    new = again.create_trial("tuner1")
    assert new.trial_id == "4" and new.hyperparameters.values not in done  # fresh values, not a repeat


def test_a_kill_between_the_trial_file_and_oracle_json_neither_loses_nor_repeats_a_trial(tmp_path):
    oracle = _oracle(tmp_path)
    _run(oracle, 0.4)
    stale = (tmp_path / "p" / "oracle.json").read_text()  # oracle.json as of trial 0
    _run(oracle, 0.6)  # trial 1 ended: its file says COMPLETED ...
    handed = oracle.create_trial("tuner0")  # ... and trial 2 was handed out
    (tmp_path / "p" / "oracle.json").write_text(stale)  # ... but oracle.json never got either
    again = _oracle(tmp_path)
    again.reload()
    assert again.end_order == ["0", "1"]  # trial 1 is kept as ended, never run again
    assert again._retry_queue == [handed.trial_id]  # trial 2 runs again, under its id
    assert again.create_trial("tuner0").trial_id == handed.trial_id


def test_a_trial_handed_out_again_starts_with_an_empty_history(tmp_path):
    oracle = _oracle(tmp_path)
    trial = oracle.create_trial("tuner0")
    for epoch, value in enumerate([0.9, 0.95]):  # the killed run's epochs
        oracle.update_trial(trial.trial_id, {"val_accuracy": value}, step=epoch)
    again = oracle.create_trial("tuner0")  # a restarted worker under the same tuner id
    assert again.trial_id == trial.trial_id and not again.metrics.exists("val_accuracy")
    oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5}, step=0)
    again.status = "COMPLETED"
    oracle.end_trial(again)
    assert oracle.get_trial(trial.trial_id).score == 0.5  # not 0.95 from the killed run, nor an average
