import keras
import numpy as np
import pytest

from kerasrecipes.layers import RandomResizedCrop


def _coordinate_images(n, size):
    rows, cols = np.meshgrid(np.arange(size), np.arange(size), indexing="ij")
    return np.broadcast_to(np.stack([rows, cols], -1), (n, size, size, 2)).astype("float32")


def test_boxes_cover_the_stated_scale_and_ratio_ranges():
    layer = RandomResizedCrop(24, 24, scale=(0.2, 0.9), ratio=(0.5, 2.0), seed=0)
    top, left, h, w = (np.asarray(t) for t in layer._sample_boxes(5000, 32, 32))
    area = h * w / (32 * 32)
    assert area.min() >= 0.2 - 1e-5 and area.max() <= 0.9 + 1e-5
    # The draws span the range, not just a corner of it.
    assert area.min() < 0.22 and area.max() > 0.88
    ratio = w / h
    assert ratio.min() >= 0.5 - 1e-5 and ratio.max() <= 2.0 + 1e-5
    assert (top >= 0).all() and (left >= 0).all()
    assert (top + h <= 32 + 1e-4).all() and (left + w <= 32 + 1e-4).all()


def test_fallback_is_a_centred_box_inside_the_ratio():
    # A 1:4 strip cannot hold a square-ish box of 90-100 % of its area.
    layer = RandomResizedCrop(8, 8, scale=(0.9, 1.0), ratio=(1.0, 1.0), seed=0)
    top, left, h, w = (np.asarray(t) for t in layer._sample_boxes(50, 8, 32))
    np.testing.assert_allclose(h, 8)
    np.testing.assert_allclose(w, 8)
    np.testing.assert_allclose(left, 12)


def test_output_pixels_come_from_the_sampled_box():
    images = _coordinate_images(200, 32)
    layer = RandomResizedCrop(16, 20, scale=(0.25, 0.6), seed=1)
    out = np.asarray(layer(images, training=True))
    assert out.shape == (200, 16, 20, 2)
    # Channel 0 holds the source row, channel 1 the source column: their extents
    # are the box, whose area fraction must lie in the scale range.
    height = out[:, -1, :, 0].mean(1) - out[:, 0, :, 0].mean(1)
    width = out[:, :, -1, 1].mean(1) - out[:, :, 0, 1].mean(1)
    box_area = (height * 16 / 15) * (width * 20 / 19) / 32**2  # centre-to-centre -> full extent
    assert box_area.min() > 0.25 * 0.9 and box_area.max() < 0.6 * 1.1
    assert out.min() >= 0 and out.max() <= 31


def test_full_box_is_the_identity_and_inference_resizes():
    images = np.random.default_rng(0).uniform(size=(4, 12, 12, 3)).astype("float32")
    same = RandomResizedCrop(12, 12, scale=(1.0, 1.0), ratio=(1.0, 1.0))
    np.testing.assert_allclose(np.asarray(same(images, training=True)), images, atol=1e-6)
    np.testing.assert_array_equal(np.asarray(same(images)), images)
    smaller = RandomResizedCrop(6, 6)
    expected = keras.ops.image.resize(images, (6, 6))
    np.testing.assert_allclose(np.asarray(smaller(images)), np.asarray(expected), atol=1e-6)


def test_upsampling_crop_and_unbatched_input():
    layer = RandomResizedCrop(40, 40, scale=(0.5, 1.0))
    image = np.random.default_rng(0).uniform(size=(20, 20, 1)).astype("float32")
    out = np.asarray(layer(image, training=True))
    assert out.shape == (40, 40, 1)
    assert out.min() >= image.min() - 1e-6 and out.max() <= image.max() + 1e-6


def _bilinear(image, ys, xs):
    """numpy reference: bilinear samples of `image` (H, W, C) at rows `ys` and columns `xs`, edges repeated."""
    h, w = image.shape[:2]
    ys, xs = np.clip(ys, 0, h - 1), np.clip(xs, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    top = image[y0][:, x0] * (1 - fx) + image[y0][:, x1] * fx
    bottom = image[y1][:, x0] * (1 - fx) + image[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def test_matches_numpy_bilinear_for_a_fixed_box(monkeypatch):
    images = np.random.default_rng(3).uniform(size=(2, 10, 12, 3)).astype("float32")
    layer = RandomResizedCrop(8, 6)
    boxes = [np.array(v, "float32") for v in ([1.3, 0.0], [0.5, 2.2], [7.0, 10.0], [9.0, 8.0])]
    monkeypatch.setattr(layer, "_sample_boxes", lambda *args: boxes)  # top, left, box_h, box_w
    out = np.asarray(layer(images, training=True))
    for b in range(2):
        top, left, box_h, box_w = (float(v[b]) for v in boxes)
        ys = top + (np.arange(8) + 0.5) * box_h / 8 - 0.5
        xs = left + (np.arange(6) + 0.5) * box_w / 6 - 0.5
        np.testing.assert_allclose(out[b], _bilinear(images[b], ys, xs), atol=1e-5)


def test_fits_with_xla():
    # jit_compile=True is honoured and compiles (affine_transform, which it replaced, has no XLA kernel on TF).
    model = keras.Sequential([keras.Input((10, 10, 1)), RandomResizedCrop(12, 12, scale=(0.5, 1.0), seed=0),
                              RandomResizedCrop(8, 8, interpolation="nearest", seed=1), keras.layers.Flatten(),
                              keras.layers.Dense(2)])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True), jit_compile=True)
    assert model.jit_compile is True
    x = np.random.default_rng(4).uniform(size=(6, 10, 10, 1)).astype("float32")
    assert np.isfinite(model.fit(x, np.arange(6) % 2, batch_size=4, epochs=1, verbose=0).history["loss"][0])


def test_round_trip_through_keras_file(tmp_path):
    model = keras.Sequential([keras.Input((12, 12, 3)), RandomResizedCrop(8, 8, scale=(0.3, 1.0), seed=2)])
    path = str(tmp_path / "c.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = np.random.default_rng(0).uniform(size=(3, 12, 12, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.layers[-1].get_config()["scale"] == [0.3, 1.0]


@pytest.mark.parametrize(
    "kwargs, argument",
    [({"height": 0}, "height"), ({"width": 2.5}, "width"), ({"scale": (0.5, 0.2)}, "scale"),
     ({"scale": (0.0, 1.0)}, "scale"), ({"scale": (0.5, 1.5)}, "scale"), ({"ratio": (2.0, 1.0)}, "ratio"),
     ({"ratio": "wide"}, "ratio"), ({"interpolation": "cubic"}, "interpolation")],
)
def test_bad_arguments(kwargs, argument):
    args = {"height": 8, "width": 8, **kwargs}
    with pytest.raises(ValueError, match=argument):
        RandomResizedCrop(**args)
