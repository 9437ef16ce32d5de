import colorsys

import keras
import numpy as np
import pytest

from kerasrecipes.layers import RandomHSV


def test_matches_colorsys_for_a_fixed_draw():
    rgb = np.random.default_rng(0).uniform(size=(1, 4, 4, 3)).astype("float32")
    # Degenerate ranges fix the draw: S and V squared, times 0.8, plus 0.05; hue + 0.1.
    layer = RandomHSV(power=(2.0, 2.0), scale=(0.8, 0.8), shift=(0.05, 0.05), hue_shift=(0.1, 0.1))
    out = np.asarray(layer(rgb, training=True))
    expected = np.empty_like(rgb)
    for i in range(4):
        for j in range(4):
            h, s, v = colorsys.rgb_to_hsv(*rgb[0, i, j])
            s, v = (min(max(c**2 * 0.8 + 0.05, 0.0), 1.0) for c in (s, v))
            expected[0, i, j] = colorsys.hsv_to_rgb((h + 0.1) % 1.0, s, v)
    np.testing.assert_allclose(out, expected, atol=2e-3)


def test_value_range_255_identity_at_inference_and_per_image_draws():
    rgb = np.random.default_rng(1).uniform(0, 255, size=(8, 5, 5, 3)).astype("float32")
    layer = RandomHSV(value_range=(0, 255), seed=0)
    np.testing.assert_array_equal(np.asarray(layer(rgb)), rgb)
    same = np.repeat(rgb[:1], 8, axis=0)
    out = np.asarray(layer(same, training=True))
    assert out.min() >= -1e-3 and out.max() <= 255 + 1e-3
    assert len({round(float(m), 3) for m in out.mean(axis=(1, 2, 3))}) == 8


def test_round_trip_and_rejects_grayscale(tmp_path):
    model = keras.Sequential([keras.Input((4, 4, 3)), RandomHSV(power=(0.5, 2.0), seed=1)])
    model.save(str(tmp_path / "h.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "h.keras"), safe_mode=True)
    assert loaded.layers[-1].get_config()["power"] == [0.5, 2.0]
    with pytest.raises(ValueError, match="3 channels"):
        RandomHSV()(np.zeros((1, 4, 4, 1), "float32"), training=True)


@pytest.mark.parametrize("kwargs, argument", [({"power": (0.0, 2.0)}, "power"), ({"scale": (2, 1)}, "scale"),
                                              ({"hue_shift": 0.1}, "hue_shift"),
                                              ({"value_range": (1, 1)}, "value_range")])
def test_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        RandomHSV(**kwargs)
