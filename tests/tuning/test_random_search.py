import csv
import json
import math
import os

import keras
import keras_tuner as kt
import numpy as np
import pytest
from matplotlib.figure import Figure

from kerasrecipes.models import mlp
from kerasrecipes.tuning import Choice, LogUniform, Results, SearchSpace, Uniform, random_search


def _small(images):
    """28x28 -> 7x7 by 4x4 average pooling: real Fashion-MNIST that a tiny MLP learns in a second."""
    n = len(images)
    return images.reshape(n, 7, 4, 7, 4, 1).mean(axis=(2, 4)).astype("float32")


@pytest.fixture(scope="module")
def data(fashion_small):
    (x, y), (xt, yt) = fashion_small
    return (_small(x[:1500]), y[:1500]), (_small(xt[:500]), yt[:500])


SPACE = dict(factory=mlp, lr=LogUniform(1e-3, 3e-2), dropout=Uniform(0.0, 0.3), width=Choice(16, 32),
             depth=1, batch_size=64)


@pytest.fixture(scope="module")
def searched(data, tmp_path_factory):
    """A 3-trial coarse stage and a 2-trial refine stage, shared by the tests that read it."""
    (x, y), val = data
    directory = tmp_path_factory.mktemp("search")
    events = []
    keras.utils.set_random_seed(0)
    search = random_search(SearchSpace(**SPACE), x, y, validation_data=val, max_trials=3, epochs=2,
                           directory=directory, seed=0, verbose=0, progress=events.append)
    search.refine(top_k=2, max_trials=2)
    return search, events, directory


def test_three_trials_and_a_refine_stage_run_end_to_end(searched):
    search, events, _ = searched
    rows = search.results().rows
    assert [(r["stage"], r["trial_id"]) for r in rows] == [(0, "0"), (0, "1"), (0, "2"), (1, "0"), (1, "1")]
    assert all(r["status"] == "COMPLETED" for r in rows)
    # far above the 0.1 of chance: the trials really trained (lr 1e-3 for 2 epochs is the slowest)
    assert all(r["score"] > 0.3 for r in rows), [(r["lr"], r["score"]) for r in rows]
    assert [r["epochs"] for r in rows] == [2, 2, 2, 4, 4]  # refine trains twice as long by default
    assert all(r["seconds"] > 0 for r in rows)
    assert all(1e-3 <= r["lr"] <= 3e-2 and r["width"] in (16, 32) for r in rows)
    # scores are keras-tuner's own: the best epoch's val_accuracy
    for r in rows:
        trial = search.stages[r["stage"]].tuner.oracle.get_trial(r["trial_id"])
        assert r["score"] == trial.score and r["best_epoch"] == trial.best_step
    # one progress event per trial, trial n of N, best so far never decreasing
    assert [(e["stage"], e["trial"], e["max_trials"]) for e in events] == [
        ("coarse", 1, 3), ("coarse", 2, 3), ("coarse", 3, 3), ("stage 1", 1, 2), ("stage 1", 2, 2)]
    assert events[2]["best"] == max(r["score"] for r in rows[:3])
    assert "stage 1: 2/2 trials x 4 epochs" in repr(search)


def test_refine_stage_samples_inside_ranges_shrunk_around_the_winners(searched):
    search, _, directory = searched
    coarse = search.results(stage=0).best(2)
    refined = search.stages[1].space
    lr, dropout, width = refined.params["lr"], refined.params["dropout"], refined.params["width"]
    assert 1e-3 <= lr.low <= min(r["lr"] for r in coarse) and max(r["lr"] for r in coarse) <= lr.high <= 3e-2
    assert 0.0 <= dropout.low and dropout.high <= 0.3
    assert math.log(lr.high / lr.low) < math.log(3e-2 / 1e-3)  # strictly narrower than the coarse range
    assert set(width.values) == {r["width"] for r in coarse}
    for r in search.results(stage=1):
        assert lr.low <= r["lr"] <= lr.high and dropout.low <= r["dropout"] <= dropout.high
        assert r["width"] in width.values
    # each stage is its own keras-tuner project in the same directory, with its ranges saved
    assert os.path.exists(directory / "search" / "oracle.json")
    assert os.path.exists(directory / "search_refine1" / "oracle.json")
    saved = json.loads((directory / "search_refine1" / "kerasrecipes_space.json").read_text())
    assert saved["space"]["lr"] == {"type": "LogUniform", "low": lr.low, "high": lr.high}


def test_results_sort_and_write_csv_and_json_atomically(searched, tmp_path):
    search, _, _ = searched
    results = search.results().sort("score")
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True)
    assert [r["lr"] for r in results.sort("lr")] == sorted(r["lr"] for r in results)
    assert [r["seconds"] for r in results.sort("seconds", descending=True)] == sorted(
        (r["seconds"] for r in results), reverse=True)
    with pytest.raises(ValueError, match="by must be one of"):
        results.sort("nope")
    results.to_csv(tmp_path / "r.csv")
    results.to_json(tmp_path / "r.json")
    with open(tmp_path / "r.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [float(row["score"]) for row in table] == scores
    assert list(table[0]) == ["stage", "trial_id", "score", "epochs", "best_epoch", "seconds", "status",
                              "lr", "dropout", "width"]
    loaded = json.loads((tmp_path / "r.json").read_text())
    assert loaded["objective"] == "val_accuracy" and loaded["rows"] == json.loads(json.dumps(results.rows))
    assert sorted(os.listdir(tmp_path)) == ["r.csv", "r.json"]  # no temp file left behind
    assert "trials, objective=val_accuracy" in repr(results) and "<table>" in results._repr_html_()


def test_best_hyperparameters_and_models_match_the_best_trials(searched, data):
    search, _, _ = searched
    _, (xv, yv) = data
    best = search.results().best(2)
    hps = search.best_hyperparameters(2)
    assert [h["lr"] for h in hps] == [r["lr"] for r in best]
    assert hps[0]["depth"] == 1 and hps[0]["batch_size"] == 64  # fixed values included
    models = search.best_models(2)
    for model, row in zip(models, best):
        # the weights of the best epoch: evaluating reproduces the trial's score
        _, accuracy = model.evaluate(xv, yv, verbose=0)
        assert accuracy == pytest.approx(row["score"], abs=1e-6)
    rebuilt = mlp((7, 7, 1), 10, hidden=(hps[0]["width"],), dropout=hps[0]["dropout"])
    assert rebuilt.count_params() == models[0].count_params()


def test_ensemble_averages_the_top_models(searched, data):
    search, _, _ = searched
    _, (xv, yv) = data
    ensemble = search.ensemble(2)
    members = search.best_models(2)
    expected = np.mean([m.predict(xv, verbose=0) for m in members], axis=0)
    np.testing.assert_allclose(ensemble.predict(xv, verbose=0), expected, atol=1e-6)
    _, accuracy = ensemble.evaluate(xv, yv, verbose=0)
    assert accuracy == pytest.approx(np.mean(np.argmax(expected, axis=1) == yv), abs=1e-6)


def test_plots_are_figures_with_a_log_axis_for_log_parameters(searched, tmp_path):
    search, _, _ = searched
    figures = search.plot()
    assert list(figures) == ["lr", "dropout", "width", "best_so_far"]
    assert all(isinstance(f, Figure) for f in figures.values())
    assert figures["lr"].axes[0].get_xscale() == "log"
    assert figures["dropout"].axes[0].get_xscale() == "linear"
    assert [t.get_text() for t in figures["width"].axes[0].get_xticklabels()] == sorted(
        {str(r["width"]) for r in search.results()}, key=lambda s: [r["width"] for r in search.results()].index(int(s)))
    best_line = figures["best_so_far"].axes[0].lines[0]
    best = np.maximum.accumulate([r["score"] for r in search.results()])
    np.testing.assert_allclose(best_line.get_ydata(), best)
    paths = search.save(tmp_path)
    assert {os.path.basename(p) for p in paths} >= {"results.csv", "results.json", "lr.png", "best_so_far.png"}
    assert (tmp_path / "plots" / "lr.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_calling_again_resumes_and_runs_only_the_missing_trials(searched, data):
    search, _, directory = searched
    (x, y), val = data
    events = []
    again = random_search(SearchSpace(**SPACE), x, y, validation_data=val, max_trials=3, epochs=2,
                          directory=directory, seed=0, verbose=0, progress=events.append)
    assert events == []  # nothing left to run
    assert again.results().rows == search.results(stage=0).rows
    more = random_search(SearchSpace(**SPACE), x, y, validation_data=val, max_trials=4, epochs=2,
                         directory=directory, project_name="search", seed=0, verbose=0, progress=events.append)
    assert [e["trial"] for e in events] == [4]
    assert [r["trial_id"] for r in more.results()] == ["0", "1", "2", "3"]


def test_build_function_search_refines_its_declared_ranges(data, tmp_path):
    (x, y), val = data

    def build(hp):
        model = keras.Sequential([
            keras.Input((7, 7, 1)), keras.layers.Flatten(),
            keras.layers.Dense(hp.Choice("units", [8, 16]), activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    search = random_search(build, x, y, validation_data=val, max_trials=2, epochs=1, directory=tmp_path,
                           seed=1, verbose=0, callbacks=[])
    search.refine(top_k=1, max_trials=1, epochs=1)
    best_coarse = search.results(stage=0).best(1)[0]
    row = search.results(stage=1)[0]
    assert row["units"] == best_coarse["units"]  # the choice narrowed to the winner
    # one winner, margin 0.1 of 2 decades: within 0.2 decade of it
    assert abs(math.log10(row["lr"]) - math.log10(best_coarse["lr"])) <= 0.2 + 1e-9
    assert search.results().names == ["units", "lr"]


def test_hyperband_option_runs_keras_tuner_hyperband(data, tmp_path):
    (x, y), val = data
    space = SearchSpace(factory=mlp, lr=LogUniform(1e-3, 3e-2), width=Choice(8, 16), depth=1)
    # max_epochs 2 with factor 3 is Hyperband's smallest budget: one bracket of full-length trials
    search = random_search(space, x[:600], y[:600], validation_data=val, epochs=2, algorithm="hyperband",
                           hyperband_factor=3, directory=tmp_path, seed=0, verbose=0)
    tuner = search.stages[0].tuner
    assert isinstance(tuner, kt.Hyperband)
    assert tuner.oracle.max_epochs == 2 and tuner.oracle.factor == 3
    rows = search.results().rows
    assert rows and all(r["status"] == "COMPLETED" and r["epochs"] == 2 for r in rows)
    assert not any(k.startswith("tuner/") for r in rows for k in r)  # Hyperband's bookkeeping stays out of the table


# ---------------------------------------------------------------- bad input, before any trial
def _no_trial_ran(directory):
    return not any(name.startswith("trial_") for _, dirs, _ in os.walk(directory) for name in dirs)


def test_objective_the_model_does_not_report_raises_before_any_trial(data, tmp_path):
    (x, y), val = data
    with pytest.raises(ValueError, match=r"objective 'val_auc' is not reported by the model; it reports "
                                         r"accuracy, loss, val_accuracy, val_loss"):
        random_search(SearchSpace(**SPACE), x, y, validation_data=val, objective="val_auc", directory=tmp_path)

    def build(hp):
        model = keras.Sequential([keras.Input((7, 7, 1)), keras.layers.Flatten(), keras.layers.Dense(10)])
        model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return model

    with pytest.raises(ValueError, match="objective 'val_accuracy' is not reported by the model; it reports "
                                         "loss, val_loss"):
        random_search(build, x, y, validation_data=val, directory=tmp_path)

    def build_broken(hp):
        model = build(hp)
        model.compile("adam", "mse", metrics=["mae"])  # (2,) labels against (2, 10) outputs
        return model

    with pytest.raises(ValueError, match="cannot be evaluated on the first two examples"):
        random_search(build_broken, x, y, validation_data=val, directory=tmp_path)
    assert _no_trial_ran(tmp_path)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(validation_data=None), "objective 'val_accuracy' is a validation metric but no validation_data"),
        (dict(max_trials=0), "max_trials must be a positive integer. Received max_trials=0"),
        (dict(epochs=1.5), "epochs must be a positive integer. Received epochs=1.5"),
        (dict(algorithm="grid"), "algorithm must be one of random, hyperband. Received algorithm='grid'"),
        (dict(validation_data=([1],)), "validation_data must be a tuple"),
        (dict(objective=3), "objective must be a metric name"),
        (dict(callbacks=keras.callbacks.History()), "callbacks must be a list"),
    ],
)
def test_bad_arguments_raise_before_any_trial(data, tmp_path, kwargs, match):
    (x, y), val = data
    arguments = dict(validation_data=val, directory=tmp_path, max_trials=2, epochs=1)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=match):
        random_search(SearchSpace(**SPACE), x, y, **arguments)
    assert _no_trial_ran(tmp_path)


def test_mismatched_lengths_and_bad_labels_raise(data, tmp_path):
    (x, y), val = data
    with pytest.raises(ValueError, match="x and y must have the same length. Received len"):
        random_search(SearchSpace(**SPACE), x, y[:10], validation_data=val, directory=tmp_path)
    with pytest.raises(ValueError, match="y must hold integer class labels"):
        random_search(SearchSpace(**SPACE), x, y + 0.5, validation_data=val, directory=tmp_path)
    with pytest.raises(ValueError, match="space searches nothing"):
        random_search(SearchSpace(factory=mlp, depth=1, width=8), x, y, validation_data=val, directory=tmp_path)


def test_refine_rejects_bad_arguments(searched):
    search, _, _ = searched
    for kwargs, match in [(dict(top_k=0), "top_k must be a positive int"),
                          (dict(epochs=-1), "epochs must be a positive int"),
                          (dict(margin=1.5), r"margin must be a number in \[0, 1\)")]:
        with pytest.raises(ValueError, match=match):
            search.refine(**kwargs)
    assert len(search.stages) == 2


def test_results_of_an_empty_table():
    results = Results([], "val_loss", "min", [])
    assert results.best(3) == [] and len(results.sort("score")) == 0


def test_trials_train_with_the_recipe_callbacks_by_default(searched):
    import copy

    from kerasrecipes.callbacks import EarlyStopping, HalveLROnPlateau

    search, _, _ = searched
    callbacks = search._trial_callbacks()
    assert [type(c) for c in callbacks] == [HalveLROnPlateau, EarlyStopping]
    assert all(c.monitor == "val_accuracy" for c in callbacks)
    assert callbacks[0].patience == 2 and callbacks[1].patience == 5
    copies = copy.deepcopy(callbacks)  # keras-tuner deep-copies them for every trial
    assert [type(c) for c in copies] == [HalveLROnPlateau, EarlyStopping]
