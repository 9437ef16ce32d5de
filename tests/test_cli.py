"""The command as a user runs it: a subprocess, its exit status, its output and its files."""

import json
import os
import subprocess
import sys

import pytest

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}


def run(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "kerasrecipes", *args], capture_output=True, text=True,
                          env=ENV, timeout=timeout)


BAD_FLAGS = [
    (["train", "--out", "x", "--epochs", "0"], "--epochs: expected a positive integer, got '0'"),
    (["train", "--out", "x", "--bogus", "1"], "unrecognized arguments: --bogus"),
    (["demo", "--dataset", "imagenet"], "invalid choice: 'imagenet'"),
    (["train", "--out", "x", "--dataset", "imagenet"], "dataset must be one of"),
    (["train", "--out", "x", "--order", "conv-foo-act", "--epochs", "1"], "order has an unknown token 'foo'"),
    (["train", "--out", "x", "--config", "missing.json"], "cannot be read as JSON"),
    (["report", "missing-dir"], "is not a directory"),
    (["train", "--out", "x", "--recipe", "fast"], "recipe must be one of fashion_mnist_fast, fashion_mnist_94 or None"),
    (["train", "--out", "x", "--recipe", "fashion_mnist_fast", "--filters", "8,16", "--lr", "0.1"],
     "so filters, lr cannot be set with it"),
    (["demo", "--recipe", "fast", "--out", "x"], "Received recipe='fast'"),
    (["nonsense"], "invalid choice: 'nonsense'"),
    (["search", "--trials", "0"], "--trials: expected a positive integer, got '0'"),
    (["search", "--dataset", "sample", "--train-size", "7000", "--val-size", "2000", "--dir", "x"],
     "--train-size + --val-size must be at most"),
]


def _fill(args, tmp_path):
    return [str(tmp_path / a) if a in ("x", "missing.json", "missing-dir") else a for a in args]


@pytest.mark.parametrize("args, needle", BAD_FLAGS)
def test_bad_flags_exit_2_with_one_line(args, needle, tmp_path, capsys):
    from kerasrecipes.cli import main

    try:
        status = main(_fill(args, tmp_path))
    except SystemExit as e:  # argparse's own errors
        status = e.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1 and needle in lines[0], err


@pytest.mark.parametrize("args, needle", [BAD_FLAGS[0], BAD_FLAGS[4]])
def test_bad_flags_as_a_user_sees_them(args, needle, tmp_path):
    """In a real process, TensorFlow's native start-up lines must not bury the one line."""
    result = run(*_fill(args, tmp_path))
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_help_lists_examples(capsys):
    from kerasrecipes.cli import main

    for command in ([], ["demo"], ["train"], ["report"], ["lr-find"], ["search"]):
        with pytest.raises(SystemExit) as exit_:
            main([*command, "--help"])
        assert exit_.value.code == 0 and "Example" in capsys.readouterr().out


def test_demo_runs_offline_and_writes_its_files(tmp_path):
    out = tmp_path / "demo"
    result = run("demo", "--epochs", "1", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "single + TTA flips" in result.stdout and "ensemble of 1" in result.stdout
    for name in ("model.keras", "history.json", "summary.json", "diagnosis.txt", "ensemble.keras",
                 "report.html", "run.json"):
        assert (out / name).exists(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs_run"] == 1 and summary["test_images"] == 2000
    assert summary["test_accuracy"]["single"] > 0.3  # chance is 0.1
    assert json.loads((out / "run.json").read_text())["state"] == "complete"


def test_train_with_the_named_recipe_builds_and_trains_the_preset(tmp_path):
    from kerasrecipes import runs

    out = tmp_path / "recipe"
    summary = runs.train(str(out), {"recipe": "fashion_mnist_fast", "epochs": 2, "k": 2, "train_limit": 640},
                         verbose=0, log=lambda line: None)
    assert summary["epochs_run"] == 2 and summary["train_images"] == 576
    assert set(summary["test_accuracy"]) == {"single", "single + TTA flips", "every ensemble of 2"}
    import keras

    model = keras.saving.load_model(out / "model.keras")
    assert model.count_params() == 289_066  # the preset's VGG, not the factory defaults
    assert len(json.loads((out / "history.json").read_text())["val_loss"]) == 2
    assert json.loads((out / "run.json").read_text())["config"]["recipe"] == "fashion_mnist_fast"


def test_train_from_config_then_report(tmp_path):
    config = tmp_path / "run.json"
    config.write_text(json.dumps({"filters": [8, 16], "dense_units": [16], "epochs": 2, "train_limit": 1000,
                                  "ensemble": "every", "k": 2, "order": "conv-act-bn", "activation": "elu"}))
    out = tmp_path / "run"
    result = run("train", "--config", str(config), "--augment", "none", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert abs(summary["train_images"] - 900) <= 5 and summary["epochs_run"] == 2
    history = json.loads((out / "history.json").read_text())
    assert len(history["lr"]) == 2 and len(history["val_loss"]) == 2
    os.remove(out / "report.html")
    result = run("report", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    html = (out / "report.html").read_text()
    assert "<img" in html and "data:image/png;base64" in html
