import json
import math

import keras_tuner as kt
import numpy as np
import pytest

from kerasrecipes.models import mlp
from kerasrecipes.tuning import LogUniform, MedianStoppingRule, SearchSpace, median_stopping_threshold, oracles, \
    random_search


def _oracle(tmp_path, objective="val_accuracy", direction="max", rule=None):
    hp = kt.HyperParameters()
    hp.Float("x", 0.0, 1.0)
    oracle = oracles.RandomSearchOracle(objective=kt.Objective(objective, direction), max_trials=50,
                                        hyperparameters=hp, seed=1, pruning=rule)
    oracle._set_project_dir(str(tmp_path), "synthetic")
    oracle.verbose = 0
    return oracle


def _completed(oracle, curve, name="val_accuracy"):
    trial = oracle.create_trial("tuner0")
    for epoch, value in enumerate(curve):
        oracle.update_trial(trial.trial_id, {name: value}, step=epoch)
    trial.status = "COMPLETED"
    oracle.end_trial(trial)
    return trial


def _judge(oracle, curve, name="val_accuracy", **kwargs):
    """Reports a trial's synthetic curve epoch by epoch, as the tuner's on_epoch_end does, until the
    oracle answers STOPPED; returns (epochs run, the rule, the trial)."""
    oracle.pruning = MedianStoppingRule(**kwargs)
    trial = oracle.create_trial("tuner0")
    for epoch, value in enumerate(curve):
        reply = oracle.update_trial(trial.trial_id, {name: value if name == "val_accuracy" else 1 - value},
                                    step=epoch)
        if reply.status == "STOPPED":
            assert oracle.get_trial(trial.trial_id).status == "RUNNING"  # the tuner ends it, not the oracle
            return epoch + 1, oracle.pruning, trial
    return len(curve), oracle.pruning, trial


def test_threshold_is_the_percentile_of_running_averages_like_numpy():
    curves = [[0.2, 0.4, 0.6], [0.1, 0.1], [0.5, 0.7, 0.9], [0.3, 0.3, 0.3]]
    threshold, n = median_stopping_threshold(curves, epoch=2)
    averages = [np.mean(c) for c in (curves[0], curves[2], curves[3])]  # [0.1, 0.1] never reached epoch 2
    assert n == 3 and threshold == pytest.approx(np.median(averages))
    assert median_stopping_threshold(curves, 2, percentile=75)[0] == pytest.approx(np.percentile(averages, 75))
    # for a loss, the bad end is the high end: percentile 75 of "min" is numpy's 25th
    assert median_stopping_threshold(curves, 2, 75, "min")[0] == pytest.approx(np.percentile(averages, 25))
    assert median_stopping_threshold(curves, 5) == (None, 0)


def test_the_oracle_stops_a_trial_below_the_median_of_completed_trials_at_the_same_epoch(tmp_path):
    oracle = _oracle(tmp_path)
    for curve in ([0.5, 0.6, 0.7, 0.8], [0.4, 0.5, 0.6, 0.7], [0.6, 0.7, 0.8, 0.9]):
        _completed(oracle, curve)
    # running averages at epoch 3 (index 2): 0.6, 0.5, 0.7 -> median 0.6
    epochs, _, trial = _judge(oracle, [0.3, 0.45, 0.55, 0.95], warmup_epochs=2, min_trials=3)
    assert epochs == 3
    # its curve went through the oracle, epoch by epoch, under the objective's name
    history = oracle.get_trial(trial.trial_id).metrics.get_history("val_accuracy")
    assert [(o.step, o.mean()) for o in history] == [(0, 0.3), (1, 0.45), (2, 0.55)]

    # running trials do not count: index 2 against 0.6 (0.6 is not worse), index 3 against 0.65 (0.65, 0.55, 0.75)
    assert _judge(oracle, [0.3, 0.45, 0.6, 0.65])[0] == 4
    assert _judge(oracle, [0.3, 0.45, 0.6, 0.64])[0] == 4 and oracle.get_trial(
        oracle.start_order[-1]).metrics.get_history("val_accuracy")[-1].step == 3  # stopped after epoch 4


def test_warmup_and_min_trials_hold_the_rule_back(tmp_path):
    oracle = _oracle(tmp_path)
    _completed(oracle, [0.5, 0.6, 0.7])
    _completed(oracle, [0.5, 0.6, 0.7])
    bad = [0.1, 0.1, 0.1]
    assert _judge(oracle, bad, warmup_epochs=0, min_trials=3)[0] == 3  # only two completed trials
    assert _judge(oracle, bad, warmup_epochs=0, min_trials=2)[0] == 1
    assert _judge(oracle, bad, warmup_epochs=2, min_trials=2)[0] == 3  # epochs 1-2 are warm-up
    # pruned and unfinished trials count only up to the epochs they reached
    assert median_stopping_threshold([[0.5, 0.6, 0.7]] * 2 + [[0.9]], 1) == (pytest.approx(0.55), 2)


def test_rule_follows_a_loss_objective_downwards(tmp_path):
    oracle = _oracle(tmp_path, "val_loss", "min")
    for curve in ([0.5, 0.4], [0.6, 0.5], [0.7, 0.6]):
        _completed(oracle, curve, "val_loss")
    # the judged curves are reported as val_loss = 1 - value; the median running average at epoch 2 is 0.55
    assert _judge(oracle, [0.2, 0.55], "val_loss", warmup_epochs=1, min_trials=3)[0] == 2  # 0.45 < 0.55: kept
    epochs, rule, _ = _judge(oracle, [0.2, 0.3, 0.9], "val_loss", warmup_epochs=1, min_trials=3)
    assert epochs == 2  # 0.7 > 0.55: stopped at epoch 2


@pytest.mark.parametrize("kwargs, message", [
    ({"percentile": 100}, "percentile must be a number in \\(0, 100\\). Received percentile=100"),
    ({"warmup_epochs": -1}, "warmup_epochs must be an integer >= 0. Received warmup_epochs=-1"),
    ({"min_trials": 0}, "min_trials must be an integer >= 1. Received min_trials=0"),
    ({"objective": ""}, "objective must be a metric name or None"),
])
def test_bad_arguments_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MedianStoppingRule(**kwargs)


def test_the_rule_is_json_settings_and_leaves_the_trial_callbacks(tmp_path):
    rule = MedianStoppingRule(objective="val_loss", percentile=75, warmup_epochs=1, min_trials=2)
    config = rule.get_config()
    assert json.loads(json.dumps(config)) == config  # what a chief or worker process receives
    assert MedianStoppingRule.from_config(config).get_config() == config
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4, 4, 1)).astype("float32")
    y = rng.integers(0, 2, 64).astype("int32")
    search = random_search(SearchSpace(factory=mlp, lr=LogUniform(1e-3, 1e-1), hidden=(4,)), x, y,
                           validation_split=0.25, max_trials=1, epochs=1, directory=tmp_path, verbose=0,
                           callbacks=[rule])
    assert search.pruning is rule and search._job.callbacks == []  # handed to the oracle, not to fit
    assert search.stages[0].tuner.oracle.pruning.get_config() == config


def test_a_real_search_prunes_losing_trials_and_reports_them(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(320, 8, 8, 1)).astype("float32")
    y = np.argmax(x.reshape(320, -1) @ rng.normal(size=(64, 4)), axis=1).astype("int32")
    # lr over four decades: the tiny ones barely learn in 4 epochs and trail the median
    space = SearchSpace(factory=mlp, lr=LogUniform(1e-5, 3e-2), hidden=(16,), batch_size=64)
    warmup, epochs = 1, 4
    search = random_search(space, x[:256], y[:256], validation_data=(x[256:], y[256:]), max_trials=7,
                           epochs=epochs, directory=tmp_path, seed=1, verbose=0,
                           callbacks=[MedianStoppingRule(warmup_epochs=warmup, min_trials=2)])
    results = search.results()
    assert "pruned_at" in results.columns and results.pruned >= 1
    assert f"{results.pruned} pruned" in repr(results) and f"{results.pruned} pruned" in repr(search)
    oracle = search.stages[0].tuner.oracle
    curves = {}
    for row in results:  # trials ran one after another: the completed ones are those with lower ids
        trial = oracle.get_trial(row["trial_id"])
        curve = [o.mean() for o in trial.metrics.get_history("val_accuracy")]
        earlier = [curves[t] for t in sorted(curves)]
        assert row["status"] == "COMPLETED" and row["score"] == pytest.approx(max(curve))
        stopped_at = None
        for epoch in range(warmup, len(curve)):
            threshold, n = median_stopping_threshold(earlier, epoch)
            if n >= 2 and max(curve[: epoch + 1]) < threshold:
                stopped_at = epoch + 1
                break
        assert row["pruned_at"] == stopped_at, (row, curve, earlier)
        assert row["epochs"] == (stopped_at or epochs) == len(curve)
        curves[row["trial_id"]] = curve
    assert all(not math.isnan(r["score"]) for r in results)
