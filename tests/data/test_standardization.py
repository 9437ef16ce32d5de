import keras
import numpy as np
import pytest

from kerasrecipes.data import standardization


@pytest.fixture
def images():
    rng = np.random.default_rng(0)
    return (rng.normal(size=(200, 5, 6, 3)) * [1.0, 3.0, 0.5] + [10.0, -2.0, 0.3]).astype("float32")


def test_per_channel_matches_numpy(images):
    layer = standardization(images, per="channel")
    assert isinstance(layer, keras.layers.Normalization)
    out = np.asarray(layer(images))
    ref = (images - images.mean((0, 1, 2))) / images.std((0, 1, 2))
    np.testing.assert_allclose(out, ref, atol=1e-4)


def test_per_pixel_is_the_mean_image(images):
    out = np.asarray(standardization(images, per="pixel")(images))
    np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-4)
    np.testing.assert_allclose(out.std(0), 1.0, atol=1e-3)


def test_centring_only_keeps_the_spread(images):
    for per, axes in (("channel", (0, 1, 2)), ("pixel", 0), ("global", None)):
        out = np.asarray(standardization(images, per=per, scale=False)(images))
        np.testing.assert_allclose(out.mean(axes), 0.0, atol=1e-4)
        np.testing.assert_allclose(out, images - images.mean(axes), atol=1e-4)


def test_saved_inside_a_model(tmp_path, images):
    model = keras.Sequential([keras.Input((5, 6, 3)), standardization(images, per="pixel", scale=False)])
    model.save(str(tmp_path / "s.keras"))
    loaded = keras.saving.load_model(str(tmp_path / "s.keras"), safe_mode=True)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)


def test_bad_arguments(images):
    with pytest.raises(ValueError, match="per"):
        standardization(images, per="row")
    with pytest.raises(ValueError, match="x must have rank 4"):
        standardization(images[:, 0, 0], per="pixel")
