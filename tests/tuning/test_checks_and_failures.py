"""Bad data is refused before trial 1; a FAILED trial says its error in one line; all failed raises."""

import os

import keras
import keras_tuner as kt
import numpy as np
import pytest

from kerasrecipes.models import mlp
from kerasrecipes.tuning import LogUniform, Results, SearchError, SearchSpace, random_search


def _data(n=64):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 4, 4, 1)).astype("float32"), rng.integers(0, 3, n).astype("int32")


def _no_trial_ran(directory):
    return not any(name.startswith("trial_") for _, dirs, _ in os.walk(directory) for name in dirs)


def _build(hp):
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-1, sampling="log")),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _bad(kind):
    x, y = _data()
    xv, yv = x[:16].copy(), y[:16].copy()
    if kind == "nan_x":
        x = x.copy()
        x[5, 1, 2, 0] = np.nan
    elif kind == "inf_val":
        xv[3, 0, 0, 0] = np.inf
    elif kind == "val_label":
        yv[2] = 7
    elif kind == "val_length":
        yv = yv[:10]
    return x, y, (xv, yv)


@pytest.mark.parametrize("kind, message", [
    ("nan_x", r"x has 1 NaN or infinite values \(the first in example 5\)"),
    ("inf_val", r"validation_data\[0\] has 1 NaN or infinite values \(the first in example 3\)"),
    ("val_label", r"validation_data\[1\] has label 7 outside the model's classes 0..2"),
    ("val_length", r"validation_data\[0\] and validation_data\[1\] must have the same length"),
])
@pytest.mark.parametrize("model", ["space", "build_fn"])
def test_bad_data_raises_naming_the_argument_before_trial_one(kind, message, model, tmp_path):
    x, y, val = _bad(kind)
    target = SearchSpace(factory=mlp, lr=LogUniform(1e-3, 1e-1), hidden=(4,)) if model == "space" else _build
    with pytest.raises(ValueError, match=message):
        random_search(target, x, y, validation_data=val, max_trials=2, epochs=1, directory=tmp_path, verbose=0)
    assert _no_trial_ran(tmp_path)


def test_a_training_label_beyond_the_models_outputs_and_a_bad_seed_are_refused(tmp_path):
    x, y = _data()
    y = y.copy()
    y[0] = 5  # the build function's model has 3 outputs
    with pytest.raises(ValueError, match=r"y has label 5 outside the model's classes 0..2"):
        random_search(_build, x, y, validation_split=0.25, directory=tmp_path, verbose=0)
    with pytest.raises(ValueError, match=r"seed must be None or an integer >= 0. Received seed=-1"):
        random_search(_build, *_data(), validation_split=0.25, directory=tmp_path, seed=-1)
    assert _no_trial_ran(tmp_path)


class _FailsForWideLayers(kt.HyperModel):
    """Trains when units == 4, raises in fit otherwise (a trial's own error, not the set-up's)."""

    def build(self, hp):
        model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(hp.Choice("units", [4, 8, 16]), activation="relu"),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, *args, **kwargs):
        if hp.get("units") != self.works:
            raise RuntimeError(f"no room for {hp.get('units')} units\n  (a second line)")
        return model.fit(*args, **kwargs)


def test_a_failed_trial_shows_its_error_in_one_line_and_all_failed_raises_the_first(tmp_path, capsys):
    x, y = _data()
    hypermodel = _FailsForWideLayers()
    hypermodel.works = 4
    search = random_search(hypermodel, x, y, validation_split=0.25, max_trials=3, epochs=1, seed=0,
                           directory=tmp_path / "some", callbacks=[])
    results = search.results()
    failed = results.failed
    assert failed and len(failed) < 3 and all(r["status"] == "FAILED" for r in failed)
    for row in failed:
        assert row["error"] == f"RuntimeError: no room for {row['units']} units (a second line)"
    assert "error" in results.columns and "failed" in repr(results) and "RuntimeError: no room" in repr(search)
    assert "failed: RuntimeError: no room for" in capsys.readouterr().out  # the progress line says it too

    hypermodel.works = -1  # every trial fails
    with pytest.raises(SearchError, match=r"every trial of coarse failed \(2 of them\); the first: "
                                          r"RuntimeError: no room for \d+ units"):
        random_search(hypermodel, x, y, validation_split=0.25, max_trials=2, epochs=1, seed=0,
                      directory=tmp_path / "none", callbacks=[], verbose=0)


def test_to_dataframe_is_the_table_when_pandas_is_installed():
    rows = [{"stage": 0, "trial_id": "0", "score": 0.5, "epochs": 1, "best_epoch": 0, "seconds": 1.0,
             "status": "COMPLETED", "lr": 0.01},
            {"stage": 0, "trial_id": "1", "score": None, "epochs": None, "best_epoch": None, "seconds": 0.1,
             "status": "FAILED", "error": "ValueError: x", "lr": 0.1}]
    results = Results(rows, "val_accuracy", "max", ["lr"])
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            results.to_dataframe()
        pytest.skip("pandas is not installed (not a dependency): only the error was checked")
    frame = results.to_dataframe()
    assert list(frame.columns) == results.columns and len(frame) == 2
    assert frame["lr"].tolist() == [0.01, 0.1] and frame["error"].tolist()[1] == "ValueError: x"
