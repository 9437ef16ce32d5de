"""The command as a user runs it: a subprocess, its exit status, its output and its files."""

import dataclasses
import json
import os
import subprocess
import sys

import pytest

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg"}


def run(*args, timeout=600, env=None):
    return subprocess.run([sys.executable, "-m", "kerasrecipes", *args], capture_output=True, text=True,
                          env={**ENV, **(env or {})}, timeout=timeout)


BAD_FLAGS = [
    (["train", "--out", "x", "--epochs", "0"], "Received epochs=0"),
    (["train", "--out", "x", "--bogus", "1"], "kerasrecipes train: error: unrecognized arguments: --bogus"),
    (["train", "--out", "x", "--epoch", "2"], "unrecognized arguments: --epoch 2"),  # no prefix matching
    (["demo", "--epcohs", "2"], "kerasrecipes demo: error: unrecognized arguments: --epcohs 2"),
    (["train", "--out", "x", "--dataset", "imagenet"], "invalid choice: 'imagenet'"),
    (["train", "--out", "x", "--order", "conv-foo-act", "--epochs", "1"], "order has an unknown token 'foo'"),
    (["train", "--out", "x", "--order", "conv-relu-bn"], "Received order='conv-relu-bn'"),
    (["train", "--out", "x", "--config", "missing.json"], "cannot be read as JSON"),
    (["report", "missing-dir"], "is not a directory"),
    (["report", "."], "holds neither history.json"),
    (["train", "--out", "x", "--recipe", "fast"], "recipe must be one of factory, fashion_mnist_fast, "
     "fashion_mnist_94. Received recipe='fast'"),
    (["train", "--out", "x", "--arch", "vgg99"], "arch must be one of vgg11"),
    (["train", "--out", "x", "--flip", "maybe"], "--flip: expected true or false, got 'maybe'"),
    (["train", "--out", "x", "--precision", "half"], "Received precision='half'"),
    (["lr-find", "--min-lr", "1", "--max-lr", "0.1", "--out", "x"], "need 0 < --min-lr < --max-lr"),
    (["nonsense"], "invalid choice: 'nonsense'"),
    (["search", "--trials", "0"], "--trials: expected a positive integer, got '0'"),
]


def _fill(args, tmp_path):
    return [str(tmp_path / a) if a in ("x", "missing.json", "missing-dir") else
            (str(tmp_path) if a == "." else a) for a in args]


@pytest.mark.parametrize("args, needle", BAD_FLAGS)
def test_bad_flags_exit_2_with_one_line_and_write_nothing(args, needle, tmp_path, capsys):
    from kerasrecipes.cli import main

    try:
        status = main(_fill(args, tmp_path))
    except SystemExit as e:  # argparse's own errors
        status = e.code
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1 and needle in lines[0], err
    assert lines[0].startswith(f"kerasrecipes {args[0]}: error:") or args[0] == "nonsense", lines[0]
    assert not (tmp_path / "x").exists()  # a new directory stays absent


def test_flags_are_the_recipe_fields():
    from kerasrecipes import cli, presets
    from kerasrecipes.cli import flags, train
    from kerasrecipes.recipe import Recipe

    assert set(cli.RECIPE_NAMES) == set(presets.RECIPES)
    parser = cli.build_parser()
    args = parser.parse_args(["train", "--out", "o", "--recipe", "fashion_mnist_fast", "--filters", "8,16",
                              "--convs-per-stage", "1", "--dense-units", "", "--weight-decay", "none",
                              "--deterministic", "--flip", "false", "--jit-compile", "false", "--epochs", "3"])
    name, overrides = flags.recipe_from_args(args, train.TRAIN_RECIPE)
    recipe = presets.get(name, **overrides)
    assert name == "fashion_mnist_fast"
    assert (recipe.filters, recipe.convs_per_stage, recipe.dense_units, recipe.weight_decay) == ((8, 16), 1, (), None)
    assert (recipe.deterministic, recipe.flip, recipe.jit_compile, recipe.epochs) == (True, False, False, 3)
    assert recipe.schedule == "onecycle"  # the rest is the named recipe's
    help_text = parser.commands["train"].format_help()
    for field in dataclasses.fields(Recipe):
        flag = "--" + field.name.replace("_", "-")
        assert (flag in help_text) == field.metadata["cli"], flag
    assert "(default: factory)" in help_text and "(default: adam)" in help_text  # train starts from the factory


def test_bad_flag_as_a_user_sees_it(tmp_path):
    """In a real process, TensorFlow's native start-up lines must not bury the one line."""
    result = run("train", "--out", str(tmp_path / "x"), "--order", "conv-foo-act")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "order has an unknown token 'foo'" in lines[0], result.stderr
    assert not (tmp_path / "x").exists()


def test_help_lists_examples(capsys):
    from kerasrecipes.cli import main

    for command in ([], ["demo"], ["train"], ["report"], ["lr-find"], ["search"]):
        with pytest.raises(SystemExit) as exit_:
            main([*command, "--help"])
        assert exit_.value.code == 0 and "Example" in capsys.readouterr().out


def test_demo_smoke_says_what_it_trains_and_lists_what_it_wrote(tmp_path):
    out = tmp_path / "demo"
    result = run("demo", "--out", str(out), "--seed", "1", "--jit-compile", "false",
                 env={"KERASRECIPES_SMOKE": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    head = result.stdout.splitlines()[:5]
    assert any(line.startswith("training fashion_mnist_fast: 289,066 parameters") for line in head), head
    assert any("461 training, 51 validation, 256 test images" in line for line in head), head
    from kerasrecipes import precision

    policy = precision.choose()[0]  # the box decides: mixed_bfloat16 on a CPU with AVX512_BF16, else float32
    assert any(f"in {policy}" in line and f"files go to {out}" in line and "seed 1" in line
               and "input host" in line for line in head), head
    assert "single + TTA flips" in result.stdout and "every ensemble of 1" in result.stdout
    listed = result.stdout.strip().splitlines()[-1]
    for name in ("model.keras", "history.json", "summary.json", "diagnosis.txt", "ensemble.keras",
                 "report.html", "run.json"):
        assert (out / name).exists() and name in listed, name
    assert not (out / "backup").exists()  # complete: nothing left to resume
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs_run"] == 1 and summary["test_images"] == 256 and summary["best_epoch"] == 1
    state = json.loads((out / "run.json").read_text())
    assert state["status"] == "complete" and state["recipe"]["seed"] == 1 and state["recipe_name"] == "fashion_mnist_fast"
    assert state["data"]["class_names"][0] == "T-shirt/top"
    html = (out / "report.html").read_text()
    for section in ("Test accuracy", "every ensemble of 1", "Recipe settings", "base_lr", "Confusion matrix",
                    "model.keras: the single model", "on 256 held-out test images"):
        assert section in html, section
    # `report DIR` again, from the directory alone: the run's own 256 test images, not the dataset's all
    from kerasrecipes.cli import main

    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    assert "on 256 held-out test images" in (out / "report.html").read_text()


def test_lr_find_writes_json_and_report_renders_it(tmp_path, capsys, monkeypatch):
    from kerasrecipes.cli import main

    monkeypatch.setenv("KERASRECIPES_SMOKE", "1")
    out = tmp_path / "lr"
    assert main(["lr-find", "--out", str(out), "--filters", "4,8"]) == 0
    printed = capsys.readouterr().out
    assert "suggested learning rate" in printed or "no suggestion" in printed
    assert "{" not in printed  # a sentence, not raw JSON
    found = json.loads((out / "lr_find.json").read_text())
    assert found["steps"] == len(found["lrs"]) <= 30 and found["dataset"] == "sample"
    assert (out / "lr_find.png").read_bytes()[:4] == b"\x89PNG"
    assert main(["report", str(out)]) == 0
    page = (out / "report.html").read_text()
    assert "LR range test" in page and "data:image/png;base64" in page
    umask = os.umask(0)
    os.umask(umask)
    for name in ("lr_find.json", "lr_find.png", "report.html"):
        assert (out / name).stat().st_mode & 0o777 == 0o666 & ~umask, name
    # The suggestion, as the recipe's base_lr, in a recipe file that `train --config` reads.
    written = json.loads((out / "recipe.json").read_text())
    assert written["recipe"] == "factory" and written["filters"] == [4, 8]
    assert written["base_lr"] == pytest.approx(found["suggestion"] * 128 / 128)  # factory: batch 128 at base 128
    assert f"kerasrecipes train --config {out / 'recipe.json'} --dataset sample" in printed
    trained = run("train", "--config", str(out / "recipe.json"), "--dataset", "sample", "--out",
                  str(tmp_path / "found"), env={"KERASRECIPES_SMOKE": "1"})
    assert trained.returncode == 0, trained.stderr[-3000:]
    state = json.loads((tmp_path / "found" / "run.json").read_text())
    assert state["recipe"]["base_lr"] == pytest.approx(written["base_lr"]) and state["recipe"]["filters"] == [4, 8]


def test_config_file_then_flags_override_it(tmp_path):
    from kerasrecipes import cli
    from kerasrecipes.cli import flags, train

    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"recipe": "fashion_mnist_fast", "filters": [16, 32], "epochs": 3}))
    args = cli.build_parser().parse_args(["train", "--out", "o", "--config", str(config), "--epochs", "2"])
    assert flags.recipe_from_args(args, train.TRAIN_RECIPE) == ("fashion_mnist_fast", {"filters": (16, 32), "epochs": 2})
    config.write_text(json.dumps({"epoch": 3}))
    with pytest.raises(ValueError, match="unknown Recipe field\\(s\\) epoch in config file"):
        flags.recipe_from_args(args, train.TRAIN_RECIPE)


@pytest.mark.skipif(os.path.exists(os.path.expanduser("~/.keras/datasets/mnist.npz")), reason="mnist is cached here")
def test_a_dataset_that_needs_a_download_fails_offline_in_one_line(tmp_path, capsys):
    from kerasrecipes.cli import main

    assert main(["train", "--out", str(tmp_path / "x"), "--dataset", "mnist"]) == 2
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("kerasrecipes train: error: dataset='mnist' is not on this machine")
    assert not (tmp_path / "x").exists()


def test_a_changed_or_mistyped_command_into_a_complete_run_is_refused(tmp_path):
    out = tmp_path / "done"
    common = ["train", "--recipe", "factory", "--dataset", "sample", "--filters", "4,8", "--seed", "0", "--out",
              str(out)]
    first = run(*common, env={"KERASRECIPES_SMOKE": "1"})
    assert first.returncode == 0, first.stderr[-3000:]
    summary = (out / "summary.json").read_text()
    same = run(*common, env={"KERASRECIPES_SMOKE": "1"})
    assert same.returncode == 0 and "nothing to do" in same.stdout
    changed = run(*common, "--order", "conv-act-bn", env={"KERASRECIPES_SMOKE": "1"})
    assert changed.returncode == 2 and "order: 'conv-bn-act' -> 'conv-act-bn'" in changed.stderr
    assert "--overwrite" in changed.stderr and "another --out" in changed.stderr
    assert len(changed.stderr.strip().splitlines()) == 1, changed.stderr
    mistyped = run(*common, "--order", "conv-relu-bn", env={"KERASRECIPES_SMOKE": "1"})
    assert mistyped.returncode == 2 and "order has an unknown token 'relu'" in mistyped.stderr
    assert (out / "summary.json").read_text() == summary  # the finished run untouched
