"""Your own images from the command line: real PNG/JPEG folders, end to end, as a user runs them."""

import json
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "datasets"))
from test_folder import CLASSES, add_bad_files, write_folder  # noqa: E402

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg", "KERASRECIPES_SMOKE": "1"}


def run(*args, env=None, timeout=600):
    return subprocess.run([sys.executable, "-m", "kerasrecipes", *args], capture_output=True, text=True,
                          env={**ENV, **(env or {})}, timeout=timeout)


def _wired():
    from kerasrecipes.cli import build_parser

    try:
        build_parser().parse_known_args(["train", "--out", "x", "--data", "d"])
    except SystemExit:
        return False
    return True


pytestmark = pytest.mark.skipif(not _wired(), reason="kerasrecipes train has no --data yet (CLI wiring, issue 14)")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    root = write_folder(str(tmp_path_factory.mktemp("photos")), per_class=12)
    return root, add_bad_files(root)


def _main(args, capsys):
    """`kerasrecipes ARGS` in this process (no TensorFlow start-up): exit status, stdout, stderr lines."""
    from kerasrecipes.cli import main

    try:
        status = main(list(args))
    except SystemExit as e:  # argparse's own errors
        status = e.code
    captured = capsys.readouterr()
    return status, captured.out, [line for line in captured.err.splitlines() if line.strip()]


def test_bad_files_stop_before_training_with_their_names(broken, tmp_path, capsys, monkeypatch):
    root, bad = broken
    monkeypatch.setenv("KERASRECIPES_SMOKE", "1")
    status, out, err = _main(["train", "--data", root, "--image-size", "32,32", "--out", str(tmp_path / "run")],
                             capsys)
    assert status == 2 and len(err) == 1, err
    assert err[0].startswith("kerasrecipes train: error: 4 file(s) under")
    for path in bad:
        assert os.path.join(root, path) in err[0]
    assert "Epoch" not in out and not (tmp_path / "run" / "model.keras").exists()


def test_train_on_a_folder_skipping_bad_files(broken, tmp_path):
    root, bad = broken
    out = tmp_path / "run"
    result = run("train", "--data", root, "--image-size", "32,32", "--skip-bad-files", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    skipped = [line for line in result.stdout.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 1 and skipped[0].startswith("skipped 4 bad file(s) of 40 under"), result.stdout
    state = json.loads((out / "run.json").read_text())
    assert state["data"]["class_names"] == sorted(CLASSES)
    assert state["data"]["input_shape"] == [32, 32, 3]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_accuracy"] and (out / "report.html").exists() and (out / "model.keras").exists()
    # `kerasrecipes report DIR` later loads the folder's test split again from run.json's data_source
    assert state["data_source"]["test_files"]
    from kerasrecipes import runs

    (out / "report.html").unlink()
    runs.write_report(str(out))
    page = (out / "report.html").read_text()
    assert "The confusion matrix and the top losses come from model.keras" in page


def test_exclusive_and_folder_only_flags(broken, tmp_path, capsys):
    root, _ = broken
    status, _, err = _main(["train", "--dataset", "sample", "--data", root, "--out", str(tmp_path / "x")], capsys)
    assert status == 2 and "not allowed with argument" in err[-1]
    status, _, err = _main(["train", "--image-size", "32,32", "--out", str(tmp_path / "x")], capsys)
    assert status == 2 and err == ["kerasrecipes train: error: --image-size applies only with --data DIR"]
    assert not (tmp_path / "x").exists()


def test_offline_download_is_one_line(tmp_path):
    # No cached copy, and a proxy that refuses: what a machine without network sees.
    env = {"KERAS_HOME": str(tmp_path / "keras"), "HTTPS_PROXY": "http://127.0.0.1:9",
           "HTTP_PROXY": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"}
    result = run("train", "--dataset", "mnist", "--out", str(tmp_path / "run"), env=env, timeout=300)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "dataset='mnist' is not on this machine" in lines[0] and "Traceback" not in result.stderr
    assert "Downloading" not in result.stdout


def test_minutes_sizes_the_recipe_and_refuses_a_named_one(broken, tmp_path, capsys, monkeypatch):
    from kerasrecipes import runs, sizing

    root, _ = broken
    status, _, err = _main(["train", "--data", root, "--skip-bad-files", "--recipe", "fashion_mnist_fast",
                            "--minutes", "2", "--out", str(tmp_path / "x")], capsys)
    assert status == 2 and len(err) == 1 and "--minutes sizes its own recipe" in err[0], err
    assert not (tmp_path / "x").exists()

    trained = {}
    monkeypatch.setattr(runs, "train", lambda out, recipe, data, **kw: trained.update(recipe=recipe, **kw) or {})
    monkeypatch.setattr(runs, "format_summary", lambda summary, out=None: "")
    monkeypatch.setattr(runs, "files_written", lambda out: [])
    monkeypatch.setenv("KERASRECIPES_SMOKE", "1")
    status, out, err = _main(["train", "--data", root, "--skip-bad-files", "--image-size", "32,32",
                              "--minutes", "0.5", "--batch-size", "8", "--out", str(tmp_path / "y")], capsys)
    assert status == 0, err
    expected = sizing.for_data((32, 32, 3), len(CLASSES), 28, epochs=1, batch_size=8)  # smoke: rules, not timing
    assert trained["recipe"] == expected and trained["recipe_name"] == "for_data"
