"""sizing.for_data: recipes sized by rule to the data, and by a measured step time to a budget."""

import argparse

import numpy as np
import pytest

from kerasrecipes import sizing


@pytest.mark.parametrize("shape, images, filters, batch, augment, pad, epochs", [
    ((28, 28, 1), 60000, (32, 64, 128), 256, "light", 2, 12),  # fashion_mnist_fast's own choices
    ((32, 32, 3), 2000, (16, 32, 64), 64, "light", 2, 60),  # few images: narrower, smaller batches
    ((64, 64, 3), 10000, (32, 64, 128, 256), 128, "natural", 5, 35),
    ((224, 224, 3), 50000, (32, 64, 128, 256, 256), 64, "natural", 16, 5),
    ((16, 16, 1), 500, (16, 32), 16, "light", 1, 60),
])
def test_rules(shape, images, filters, batch, augment, pad, epochs):
    recipe = sizing.for_data(shape, 10, images, log=None)
    assert recipe.input_shape == shape and recipe.num_classes == 10
    assert tuple(recipe.filters) == filters and recipe.convs_per_stage == 2
    assert (recipe.batch_size, recipe.augment, recipe.pad, recipe.epochs) == (batch, augment, pad, epochs)
    assert recipe.ensemble_k == max(1, min(3, epochs // 4))  # 1 for the 5-epoch run


def test_presets_reexport():
    from kerasrecipes import presets

    assert presets.for_data is sizing.for_data


def test_overrides_win_and_are_checked():
    recipe = sizing.for_data((28, 28, 1), 10, 60000, log=None, epochs=2, flip=False)
    assert recipe.epochs == 2 and recipe.ensemble_k == 1 and recipe.flip is False
    with pytest.raises(ValueError, match="unknown Recipe fields"):
        sizing.for_data((28, 28, 1), 10, 60000, colour=True)
    with pytest.raises(ValueError, match="minutes sets the epochs; give one of the two. Received minutes=2"):
        sizing.for_data((28, 28, 1), 10, 60000, minutes=2, epochs=3)


@pytest.mark.parametrize("kwargs, argument", [
    ({"input_shape": (28, 28)}, "input_shape"), ({"num_classes": 1}, "num_classes"),
    ({"num_images": 0}, "num_images"), ({"minutes": 0}, "minutes"), ({"minutes": "5"}, "minutes"),
    ({"minutes": float("inf")}, "minutes"),
])
def test_bad_arguments(kwargs, argument):
    args = {"input_shape": (28, 28, 1), "num_classes": 10, "num_images": 100, **kwargs}
    with pytest.raises(ValueError, match=f"Received {argument}="):
        sizing.for_data(**args)


def _fake_clock(monkeypatch, per_width):
    """`measure` answering (seconds per step, start-up) from the first stage's width, and the calls."""
    calls = []

    def measure(recipe, steps=4):
        calls.append(recipe.filters[0])
        return per_width[recipe.filters[0]], 5.0

    monkeypatch.setattr(sizing, "measure", measure)
    return calls


def test_budget_sets_the_epochs(monkeypatch):
    calls = _fake_clock(monkeypatch, {32: 0.1})
    lines = []
    recipe = sizing.for_data((28, 28, 1), 10, 60000, minutes=5, log=lines.append)
    if getattr(recipe, "val_fraction", 0.0) == 0.1:
        # 60,000 images, 10 % validation: 211 steps at 0.1 s + 24 validation batches at a third:
        # 21.9 s an epoch; (300 s - 2 x 5 s start-up) // 21.9 s = 13 epochs.
        epochs, epoch_seconds = 13, 21.9
    else:  # a Recipe without val_fraction: 235 steps, 23.5 s an epoch
        epochs, epoch_seconds = 12, 23.5
    assert recipe.epochs == epochs and calls == [32] and recipe.ensemble_k == 3
    assert f"{epochs} epochs fit in 5 min" in lines[0] and "100 ms per step" in lines[0]
    assert 10 + epochs * epoch_seconds <= 300 < 10 + (epochs + 1) * epoch_seconds


def test_budget_too_short_narrows_then_refuses(monkeypatch):
    calls = _fake_clock(monkeypatch, {32: 2.0, 16: 0.5, 8: 0.2})
    recipe = sizing.for_data((28, 28, 1), 10, 60000, minutes=2, log=None)
    # 32 filters: 438 s an epoch; 16 predicted at 438 / 2 ** 1.35 = 171 s (0 epochs), 8 at 68 s: 8 is timed next.
    assert calls == [32, 8] and tuple(recipe.filters) == (8, 16, 32) and recipe.epochs == 2
    assert recipe.ensemble_k == 1
    with pytest.raises(ValueError, match=r"minutes=0.1 is shorter than one epoch .* s per epoch"):
        sizing.for_data((28, 28, 1), 10, 60000, minutes=0.1, log=None)


def test_a_long_budget_stops_at_the_cap(monkeypatch):
    _fake_clock(monkeypatch, {16: 0.001})
    assert sizing.for_data((16, 16, 1), 10, 500, minutes=10, log=None).epochs == sizing.MAX_EPOCHS


def test_real_measurement_and_a_natural_image_step():
    # A tiny 64x64 RGB recipe with the "natural" augmentation, timed for real on this machine.
    recipe = sizing.sized((64, 64, 3), 3, 64, width=4, batch_size=8)
    assert recipe.augment == "natural" and tuple(recipe.filters) == (4, 8, 16, 32)
    per_step, startup = sizing.measure(recipe, steps=2)
    assert 0 < per_step < 30 and startup >= 0


def test_minutes_flag():
    from kerasrecipes.cli import flags

    parser = argparse.ArgumentParser()
    flags.add_budget_flag(parser)
    assert parser.parse_args(["--minutes", "0.5"]).minutes == 0.5
    assert parser.parse_args([]).minutes is None
    for bad in ("0", "-1", "nan", "five"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--minutes", bad])


def test_minutes_flag_sizes_to_the_data(monkeypatch):
    from kerasrecipes.cli import flags, train
    from kerasrecipes.datasets import ImageData

    _fake_clock(monkeypatch, {16: 0.01})
    data = ImageData(np.zeros((800, 32, 32, 3), np.uint8), np.zeros(800, np.uint8),
                     np.zeros((10, 32, 32, 3), np.uint8), np.zeros(10, np.uint8), ["a", "b", "c"], "x")
    parser = flags.add_budget_flag(argparse.ArgumentParser())
    recipe = train.budget_recipe(parser.parse_args(["--minutes", "1"]), data, {"log": None})
    assert recipe.input_shape == (32, 32, 3) and recipe.num_classes == 3 and recipe.batch_size == 32


@pytest.mark.parametrize("shape, names", [
    ((32, 24, 3), ["random_flip", "random_resized_crop", "random_hsv"]),
    ((32, 24, 1), ["random_flip", "random_resized_crop", "random_brightness", "random_contrast"]),
])
def test_natural_augmentation(shape, names, tmp_path):
    import keras

    from kerasrecipes.data import augmentation

    layer = augmentation("natural", shape, seed=0)
    assert [type(l).__name__ for l in layer.layers] == [
        "".join(p.capitalize() for p in n.split("_")).replace("Hsv", "HSV") for n in names]
    x = np.random.default_rng(0).uniform(0, 1, (4,) + shape).astype("float32")
    np.testing.assert_array_equal(layer(x, training=False), x)  # identity at inference
    out = np.asarray(layer(x, training=True))
    assert out.shape == x.shape and np.abs(out - x).mean() > 0.01
    model = keras.Sequential([keras.Input(shape), layer])
    model.save(tmp_path / "aug.keras")
    keras.saving.load_model(tmp_path / "aug.keras")  # safe mode: registered layers only
    with pytest.raises(ValueError, match="needs input_shape"):
        augmentation("natural")
