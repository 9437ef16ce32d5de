import keras
import numpy as np
import pytest

from kerasrecipes.layers import Whitening


@pytest.fixture
def correlated():
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(8, 8)) * np.linspace(3.0, 0.2, 8)
    return (rng.normal(size=(4000, 8)) @ mixing + 5.0).astype("float32")


def _reference(x, method, eps):
    """The cs231n notes, line by line."""
    x = x.astype(np.float64)
    x = x - x.mean(axis=0)
    cov = x.T @ x / x.shape[0]
    u, s, _ = np.linalg.svd(cov)
    xrot = x @ u
    xwhite = xrot / np.sqrt(s + eps)
    return xwhite if method == "pca" else xwhite @ u.T


@pytest.mark.parametrize("method", ["pca", "zca"])
def test_whitened_covariance_is_identity_and_matches_numpy_svd(correlated, method):
    layer = Whitening(method, epsilon=1e-5)
    layer.adapt(correlated)
    out = np.asarray(layer(correlated), dtype=np.float64)
    np.testing.assert_allclose(np.cov(out.T, bias=True), np.eye(8), atol=1e-3)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-3)
    ref = _reference(correlated, method, 1e-5)
    if method == "pca":  # eigenvectors are defined up to sign
        ref = ref * np.sign((ref * out).sum(axis=0))
    np.testing.assert_allclose(out, ref, atol=2e-3)


def test_epsilon_damps_weak_directions(correlated):
    big = Whitening("pca", epsilon=1.0)
    big.adapt(correlated)
    variances = np.var(np.asarray(big(correlated)), axis=0)
    s = np.linalg.svd(np.cov(correlated.T, bias=True), compute_uv=False)
    np.testing.assert_allclose(variances, s / (s + 1.0), rtol=1e-3)
    assert variances[-1] < 0.5 < variances[0]


def test_zca_keeps_image_shape_and_pca_truncates():
    rng = np.random.default_rng(1)
    images = rng.uniform(size=(300, 4, 4, 2)).astype("float32")
    zca = Whitening("zca")
    zca.adapt(images)
    assert zca(images).shape == (300, 4, 4, 2)
    pca = Whitening("pca", n_components=5)
    pca.adapt(images)
    out = np.asarray(pca(images))
    assert out.shape == (300, 5)
    np.testing.assert_allclose(np.cov(out.T, bias=True), np.eye(5), atol=2e-3)


def test_patch_mode_whitens_patches_and_convolves_like_numpy(fashion_small):
    (x, _), _ = fashion_small
    images = x[:400]
    # adapt samples 3x3 patches around every pixel (zero-padded at the borders):
    # the same population, taken exhaustively, must come out white.
    padded = np.pad(images[:, :, :, 0], [(0, 0), (1, 1), (1, 1)])
    patches = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2)).reshape(-1, 9)
    pca = Whitening("pca", epsilon=1e-6, patch_size=3, patches_per_image=64)
    pca.adapt(images)
    white = (patches.astype(np.float64) - np.asarray(pca.mean)) @ np.asarray(pca.matrix)
    np.testing.assert_allclose(np.cov(white.T, bias=True), np.eye(9), atol=0.1)
    # The ZCA layer's convolution equals the patch formula at every pixel.
    zca = Whitening("zca", patch_size=3, epsilon=1e-3)
    zca.adapt(images)
    out = np.asarray(zca(images[:5]))
    expect = (patches[: 5 * 784].reshape(5, 28, 28, 9) - np.asarray(zca.mean)) @ np.asarray(zca.matrix)
    np.testing.assert_allclose(out, expect, atol=1e-4)


@pytest.mark.parametrize("method, kwargs", [("zca", {}), ("pca", {"n_components": 3}),
                                            ("zca", {"patch_size": 3})])
def test_round_trip_through_keras_file(tmp_path, method, kwargs):
    rng = np.random.default_rng(2)
    images = rng.uniform(size=(200, 5, 5, 1)).astype("float32")
    layer = Whitening(method, **kwargs)
    layer.adapt(images)
    model = keras.Sequential([keras.Input((5, 5, 1)), layer])
    path = str(tmp_path / "w.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, argument",
    [({"method": "svd"}, "method"), ({"epsilon": -1.0}, "epsilon"), ({"epsilon": float("nan")}, "epsilon"),
     ({"patch_size": 2}, "patch_size"), ({"method": "zca", "n_components": 2}, "n_components"),
     ({"method": "pca", "n_components": 0}, "n_components"), ({"patches_per_image": 0}, "patches_per_image")],
)
def test_bad_arguments(kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        Whitening(**kwargs)


def test_bad_data_and_unfitted_use():
    layer = Whitening()
    with pytest.raises(ValueError, match="adapt"):
        layer(np.zeros((2, 3), "float32"))
    with pytest.raises(ValueError, match="NaN or inf"):
        Whitening().adapt(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="numeric"):
        Whitening().adapt(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="non-empty"):
        Whitening().adapt(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="n_components"):
        Whitening("pca", n_components=9).adapt(np.zeros((10, 4)))
