import keras
import numpy as np
import pytest

from kerasrecipes.data import AUGMENTATION_PRESETS, augmentation

COLOUR = ("RandomColorJitter", "RandomHue", "RandomSaturation")


def _names(model):
    return [type(layer).__name__ for layer in model.layers]


@pytest.mark.parametrize("preset", AUGMENTATION_PRESETS)
@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_presets_build_run_and_are_identity_at_inference(tmp_path, preset, shape):
    model = augmentation(preset, shape, seed=0)
    x = np.random.default_rng(0).uniform(size=(4,) + shape).astype("float32")
    np.testing.assert_allclose(np.asarray(model(x, training=False)), x, atol=1e-6)
    out = np.asarray(model(x, training=True))
    assert out.shape == x.shape
    if preset != "none":
        assert not np.allclose(out, x)
    if shape[-1] == 1:
        assert not set(_names(model)) & set(COLOUR)  # no colour op on grayscale
    model.save(str(tmp_path / "a.keras"))
    assert _names(keras.saving.load_model(str(tmp_path / "a.keras"), safe_mode=True)) == _names(model)


def test_preset_contents():
    assert _names(augmentation("light", (32, 32, 3))) == ["RandomFlip", "RandomShift"]
    assert _names(augmentation("standard", (32, 32, 3)))[-1] == "RandomErasing"
    assert "RandomColorJitter" in _names(augmentation("strong", (32, 32, 3)))
    assert _names(augmentation("strong", (28, 28, 1)))[-2:] == ["RandomBrightness", "RandomContrast"]
    assert "RandomFlip" not in _names(augmentation("standard", (28, 28, 1), flip=False))
    assert _names(augmentation("none")) == ["Identity"]


def test_pad_and_crop_is_a_whole_pixel_zero_filled_shift_per_image():
    model = augmentation("light", (12, 12, 1), flip=False, pad=3, seed=1)
    x = np.random.default_rng(1).uniform(0.5, 1.0, size=(64, 12, 12, 1)).astype("float32")
    out = np.asarray(model(x, training=True))
    shifts = set()
    for src, dst in zip(x[..., 0], out[..., 0]):
        padded = np.pad(src, 3)
        found = [(dy, dx) for dy in range(-3, 4) for dx in range(-3, 4)
                 if np.allclose(padded[3 - dy: 15 - dy, 3 - dx: 15 - dx], dst)]
        assert found, "output is not a zero-filled integer shift of its input"
        shifts.add(found[0])
    assert len(shifts) > 10  # each image gets its own shift


@pytest.mark.parametrize(
    "kwargs, argument",
    [({"preset": "heavy"}, "preset"), ({"preset": "strong"}, "input_shape"),
     ({"input_shape": (28, 28)}, "input_shape"), ({"flip": "diagonal"}, "flip"), ({"pad": -1}, "pad"),
     ({"value_range": (1, 0)}, "value_range")],
)
def test_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        augmentation(**kwargs)
