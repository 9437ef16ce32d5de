"""report: one self-contained HTML page that names the findings and embeds every figure."""

import base64
import json
import re

import keras
import numpy as np
import pytest

from kerasrecipes import diagnose
from kerasrecipes.report import report


def _overfit_history():
    t = np.arange(15.0)
    return {"loss": list(0.05 + np.exp(-t / 3)), "val_loss": list(0.5 + 0.6 * np.exp(-t / 3) + 0.02 * t),
            "accuracy": list(0.99 - 0.4 * np.exp(-t / 3)), "val_accuracy": [0.8] * 15,
            "lr": [1e-3] * 8 + [5e-4] * 7}


def _images(page):
    return re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)


def test_report_from_a_run_directory(tmp_path):
    run = tmp_path / "run1"
    diagnose.save_history(_overfit_history(), run / "history.json")
    (run / "lr_find.json").write_text(json.dumps({"lrs": [1e-4, 1e-3, 1e-2], "losses": [2.3, 1.5, 4.0],
                                                  "suggestion": 1e-3}))
    stats = {"epochs": [0], "activations": {"a": {"mean": [0.1], "std": [1.0], "dead_fraction": [0.6]}},
             "gradients": {"m/d/kernel": [0.1]}, "loss": [2.3]}
    (run / "layer_stats.json").write_text(json.dumps(stats))
    path = report(run)
    assert path == str(run / "report.html")
    page = open(path).read()
    for name in ("overfitting", "dead_relus"):
        assert name in page
    for section in ("Learning curves", "Diagnosis", "LR range test", "Layer statistics", "run1"):
        assert section in page
    images = _images(page)
    assert len(images) == 3
    assert all(base64.b64decode(i)[:4] == b"\x89PNG" for i in images)
    # self-contained: nothing fetched from elsewhere
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert not list(run.glob(".tmp-*"))  # the atomic write left no temp file


def test_report_from_a_history_with_model(tmp_path, fashion_small):
    (x, y), (xv, yv) = fashion_small
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x[:300], y[:300], validation_data=(xv[:100], yv[:100]), epochs=2, verbose=0)
    path = report(history, tmp_path / "r.html", model=model, x=xv[:100], y=yv[:100], title="tiny <run>")
    page = open(path).read()
    assert "tiny &lt;run&gt;" in page
    assert "Confusion matrix" in page and "Top losses" in page
    assert len(_images(page)) == 3
    findings = diagnose.diagnose(history).names
    assert all(name in page for name in findings)
    with pytest.raises(ValueError, match="go together"):
        report(history, tmp_path / "x.html", model=model)


def test_results_settings_one_lr_row_consistent_digits_and_integer_epochs(tmp_path):
    from kerasrecipes import plots
    from kerasrecipes.report import _integer_epochs

    history = {"loss": [1.23456, 0.9, 0.8], "val_loss": [1.3, 1.0, 0.95], "lr": [0.1, 0.1, 0.05],
               "learning_rate": [0.1, 0.1, 0.05]}
    path = report(history, tmp_path / "r.html", results={"single": 0.91234, "every ensemble of 3": 0.9201},
                  settings={"optimizer": "nesterov", "base_lr": 0.2, "filters": [32, 64]},
                  facts={"best epoch": 3})
    page = open(path).read()
    assert "<td>single</td><td>91.23%</td>" in page and "<td>every ensemble of 3</td><td>92.01%</td>" in page
    assert "<th>base_lr</th><td>0.2</td>" in page and "<th>filters</th><td>32, 64</td>" in page
    assert ">learning_rate<" in page and ">lr<" not in page  # one learning-rate row
    assert "<td>1.235 (epoch 1)</td>" not in page and "<td>0.8</td><td>0.8 (epoch 3)</td>" in page
    fig = _integer_epochs(plots.history(history))
    for ax in fig.axes:
        if ax.get_xlabel() == "epoch":
            ticks = [t for t in ax.get_xticks() if ax.get_xlim()[0] <= t <= ax.get_xlim()[1]]
            assert ticks and all(float(t).is_integer() for t in ticks)
