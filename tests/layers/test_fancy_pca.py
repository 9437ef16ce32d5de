import keras
import numpy as np
import pytest

from kerasrecipes.layers import FancyPCA


@pytest.fixture
def colour_images():
    rng = np.random.default_rng(0)
    mix = np.array([[0.9, 0.3, 0.1], [0.0, 0.5, 0.2], [0.0, 0.0, 0.1]])
    return (rng.normal(size=(64, 6, 6, 3)) @ mix * 0.2 + 0.5).astype("float32")


def test_eigen_decomposition_matches_numpy(colour_images):
    layer = FancyPCA()
    layer.adapt(colour_images)
    values, vectors = np.linalg.eigh(np.cov(colour_images.reshape(-1, 3).T, bias=True))
    values, vectors = values[::-1], vectors[:, ::-1]
    np.testing.assert_allclose(np.asarray(layer.eigenvalues), values, rtol=1e-4)
    got = np.asarray(layer.eigenvectors)
    np.testing.assert_allclose(np.abs((got * vectors).sum(axis=0)), 1.0, atol=1e-4)  # same axes, up to sign


@pytest.mark.parametrize("eigen_scale", ["std", "variance"])
def test_one_shift_per_image_along_the_principal_axes(colour_images, eigen_scale):
    layer = FancyPCA(alpha_std=0.1, eigen_scale=eigen_scale, seed=3)
    layer.adapt(colour_images)
    batch = np.repeat(colour_images[:1], 4000, axis=0)
    shift = np.asarray(layer(batch, training=True)) - batch
    # The same colour vector is added to every pixel of an image ...
    np.testing.assert_allclose(shift, np.broadcast_to(shift[:, :1, :1, :], shift.shape), atol=1e-5)
    per_image = shift[:, 0, 0, :].astype(np.float64)
    # ... and its covariance is P diag((0.1 m)^2) P^T, m = sqrt(lambda) or lambda.
    values, vectors = np.asarray(layer.eigenvalues, np.float64), np.asarray(layer.eigenvectors, np.float64)
    spread = np.sqrt(values) if eigen_scale == "std" else values
    expected = vectors @ np.diag((0.1 * spread) ** 2) @ vectors.T
    np.testing.assert_allclose(np.cov(per_image.T, bias=True), expected, atol=0.08 * expected.max())


def test_identity_at_inference_and_fresh_draws_per_call(colour_images):
    layer = FancyPCA()
    layer.adapt(colour_images)
    np.testing.assert_array_equal(np.asarray(layer(colour_images)), colour_images)
    first = np.asarray(layer(colour_images, training=True))
    second = np.asarray(layer(colour_images, training=True))
    assert not np.allclose(first, second)


def test_round_trip_through_keras_file(tmp_path, colour_images):
    layer = FancyPCA(alpha_std=0.2, seed=1)
    layer.adapt(colour_images)
    model = keras.Sequential([keras.Input((6, 6, 3)), layer])
    path = str(tmp_path / "f.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    restored = loaded.layers[-1]
    np.testing.assert_array_equal(np.asarray(restored.eigenvectors), np.asarray(layer.eigenvectors))
    assert restored.get_config()["alpha_std"] == 0.2
    np.testing.assert_array_equal(loaded.predict(colour_images, verbose=0), colour_images)


@pytest.mark.parametrize("kwargs, argument", [({"alpha_std": -0.1}, "alpha_std"),
                                              ({"eigen_scale": "sd"}, "eigen_scale")])
def test_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        FancyPCA(**kwargs)


def test_must_adapt_first_and_rejects_nan():
    with pytest.raises(ValueError, match="adapt"):
        FancyPCA()(np.zeros((1, 2, 2, 3), "float32"), training=True)
    with pytest.raises(ValueError, match="NaN or inf"):
        FancyPCA().adapt(np.full((1, 2, 2, 3), np.inf))
