"""RandomShift: pad-and-crop by whole pixels per image, against numpy's pad and slice."""

import keras
import numpy as np
import pytest

from kerasrecipes.layers import RandomShift


def _crops(image, pad, fill):
    """Every crop of `image` zero-padded (with `fill`) by `pad`: what a shift may give."""
    padded = np.pad(image, ((pad, pad), (pad, pad), (0, 0)), constant_values=fill)
    h, w = image.shape[:2]
    return {(dy, dx): padded[dy:dy + h, dx:dx + w] for dy in range(2 * pad + 1) for dx in range(2 * pad + 1)}


@pytest.mark.parametrize("fill", [0.0, 0.5])
def test_each_image_is_the_padded_image_cropped_at_its_own_offset(fill):
    rng = np.random.default_rng(0)
    x = rng.random((32, 7, 9, 2)).astype("float32")
    out = keras.ops.convert_to_numpy(RandomShift(2, fill_value=fill, seed=1)(x, training=True))
    offsets = []
    for image, shifted in zip(x, out):
        hits = [k for k, crop in _crops(image, 2, fill).items() if np.array_equal(crop, shifted)]
        assert len(hits) == 1, "not a crop of the padded image"
        offsets.append(hits[0])
    assert len(set(offsets)) > 8  # own offset per image, spread over the 25


def test_identity_at_inference_and_with_pad_zero():
    x = np.random.default_rng(1).random((3, 5, 5, 1)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(RandomShift(2)(x, training=False)), x)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(RandomShift(0)(x, training=True)), x)


def test_seeded_draws_repeat_and_the_state_advances():
    x = np.random.default_rng(2).random((16, 6, 6, 1)).astype("float32")
    a, b = RandomShift(1, seed=5), RandomShift(1, seed=5)
    first = keras.ops.convert_to_numpy(a(x, training=True))
    np.testing.assert_array_equal(first, keras.ops.convert_to_numpy(b(x, training=True)))
    assert not np.array_equal(first, keras.ops.convert_to_numpy(a(x, training=True)))
    assert a.seed_generator.state.path.endswith("seed_generator_state")  # what the run backup keeps


def test_pairs_bfloat16_and_round_trip(tmp_path):
    x = np.random.default_rng(3).random((4, 6, 8, 1)).astype("float32")
    layer = RandomShift((0, 3), fill_value=0.25, seed=0, dtype="mixed_bfloat16")
    out = keras.ops.convert_to_numpy(keras.ops.cast(layer(x, training=True), "float32"))
    rows_kept = [np.array_equal(o[:, :, 0] != 0.25, o[:, :, 0] != 0.25) for o in out]
    assert all(rows_kept) and out.shape == x.shape
    bf = keras.ops.convert_to_numpy(keras.ops.cast(keras.ops.cast(x, "bfloat16"), "float32"))
    for image, shifted in zip(bf, out):  # exact in bfloat16: every row is the image's own row, shifted
        assert any(np.array_equal(crop, shifted) for crop in _crops_cols(image, 3, 0.25))
    model = keras.Sequential([keras.Input((6, 8, 1)), RandomShift((1, 2), fill_value=0.5, seed=3)])
    model.save(tmp_path / "shift.keras")
    loaded = keras.saving.load_model(tmp_path / "shift.keras")
    assert loaded.layers[0].get_config()["pad"] == [1, 2] and loaded.layers[0].fill_value == 0.5
    with pytest.raises(ValueError, match="pad must be"):
        RandomShift(-1)


def _crops_cols(image, pad, fill):
    padded = np.pad(image, ((0, 0), (pad, pad), (0, 0)), constant_values=fill)
    return [padded[:, dx:dx + image.shape[1]] for dx in range(2 * pad + 1)]
