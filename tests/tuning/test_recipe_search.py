"""A search over Recipe fields: every trial is a recipe, and the winner retrains with one command."""

import json
import os
import subprocess
import sys

import pytest

from kerasrecipes import datasets, precision, presets
from kerasrecipes.tuning import random_search
from kerasrecipes.tuning.space import Choice, LogUniform, default_recipe_space, recipe_space

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "MPLBACKEND": "Agg", "KERASRECIPES_SMOKE": "1"}


def test_a_recipe_space_names_recipe_fields_only():
    base = presets.fashion_mnist_fast(filters=(4, 8))
    with pytest.raises(ValueError, match="unknown Recipe field.*lr.*Received lr"):
        recipe_space(base, lr=LogUniform(1e-3, 1e-1))
    with pytest.raises(ValueError, match="'width' sets the recipe's 'filters'"):
        recipe_space(base, width=Choice(8, 16), filters=Choice((8, 16)))
    with pytest.raises(ValueError, match="must be a kerasrecipes.recipe.Recipe"):
        recipe_space({"base_lr": 0.1})
    space = default_recipe_space(base)
    assert space.params["base_lr"].low == pytest.approx(0.02) and space.params["base_lr"].high == pytest.approx(0.6)
    recipe = space.recipe({"width": 16, "base_lr": 0.1, "order": "conv-act-bn"})
    assert recipe.filters == (16, 32) and recipe.base_lr == 0.1 and recipe.order == "conv-act-bn"
    assert recipe.label_smoothing == base.label_smoothing  # the rest is the base recipe's


def test_best_recipe_is_what_the_trial_trained(tmp_path):
    data = datasets.load("sample")
    x, y, x_val, y_val = data.x_train[:256], data.y_train[:256], data.x_train[-128:], data.y_train[-128:]
    base = presets.fashion_mnist_fast(filters=(4, 8), batch_size=64, seed=0, precision="float32")
    space = recipe_space(base, base_lr=LogUniform(0.05, 0.5), augment=Choice("none", "light"))
    search = random_search(space, x, y, validation_data=(x_val, y_val), max_trials=2, epochs=1,
                           directory=tmp_path, seed=3, verbose=0)
    best = search.best_recipe()
    row = search.results().best(1)[0]
    assert best.base_lr == pytest.approx(row["base_lr"]) and best.augment == row["augment"]
    assert best.epochs == 1 and best.filters == (4, 8) and best.optimizer == base.optimizer
    assert [r.base_lr for r in search.best_recipes(2)] == pytest.approx([r["base_lr"] for r in search.results().best(2)])
    assert search.best_models(1)[0].output_shape == (None, 10)  # the net, not the training wrapper


def test_search_writes_best_recipe_json_that_train_reproduces_field_for_field(tmp_path):
    search = subprocess.run([sys.executable, "-m", "kerasrecipes", "search", "--dataset", "sample", "--trials", "2",
                             "--epochs", "1", "--filters", "4,8", "--dir", str(tmp_path / "search"), "--seed", "1"],
                            capture_output=True, text=True, env=ENV, timeout=600)
    assert search.returncode == 0, search.stderr[-3000:]
    path = tmp_path / "search" / "best_recipe.json"
    best = json.loads(path.read_text())
    assert best["recipe"] == "factory" and best["filters"] == [4, 8]
    line = next(l.strip() for l in search.stderr.splitlines() if l.strip().startswith("kerasrecipes train"))
    assert line == f"kerasrecipes train --config {path} --dataset sample --out {tmp_path / 'search' / 'best'}"
    train = subprocess.run([sys.executable, "-m", "kerasrecipes", *line.split()[1:]],
                           capture_output=True, text=True, env=ENV, timeout=600)
    assert train.returncode == 0, train.stderr[-3000:]
    trained = json.loads((tmp_path / "search" / "best" / "run.json").read_text())["recipe"]
    for field, value in best.items():
        if field == "recipe":
            continue
        expected = {"precision": precision.choose(value)[0] if value == "auto" else value}.get(field, value)
        if field == "seed" and value is None:
            continue  # a run draws its seed and records it
        assert trained[field] == expected, field
