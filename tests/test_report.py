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
