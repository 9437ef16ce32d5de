"""Models, layers and their saved files work under KERAS_BACKEND=jax, not only TensorFlow."""

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent(
    """
    import numpy as np, keras
    assert keras.backend.backend() == "jax"
    import kerasrecipes as kr
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 12, 12, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0).astype("int32")
    model = kr.models.vgg((12, 12, 1), 2, filters=(8, 16), order="conv-bn-act-drop", dropout=0.1,
                          activation="rrelu", head="gap", dense_units=(16,), l2=1e-4)
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0], history.history
    model.save("{path}")
    loaded = keras.saving.load_model("{path}")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    m = kr.models.mlp((12, 12, 1), 2, hidden=(8,), activation="maxout")
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(x, y, epochs=1, verbose=0)
    # The data layers too, inside a model (augmentation on the accelerator), trained and saved.
    rgb = rng.random((32, 16, 16, 3)).astype("float32")
    inputs = keras.Input((16, 16, 3))
    white = kr.layers.Whitening(method="zca")
    fancy = kr.layers.FancyPCA(alpha_std=0.1)
    fancy.adapt(rgb)
    h = kr.layers.RandomResizedCrop(12, 12)(inputs)
    h = kr.layers.RandomHSV()(h)
    h = fancy(h)
    h = kr.data.augmentation("standard", (12, 12, 3))(h)
    h = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(h))
    aug = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(h))
    aug.compile("adam", "sparse_categorical_crossentropy")
    aug.fit(rgb, np.arange(32) % 2, epochs=1, verbose=0)
    aug.save("{path}.aug.keras")
    again = keras.saving.load_model("{path}.aug.keras")
    np.testing.assert_allclose(again.predict(rgb, verbose=0), aug.predict(rgb, verbose=0), rtol=1e-5, atol=1e-6)
    flat = rgb.reshape(32, -1)[:, :20]
    white.adapt(flat)
    whitened = keras.ops.convert_to_numpy(white(flat))
    assert np.allclose(np.cov(whitened, rowvar=False), np.eye(20), atol=0.2)
    # A recipe's own fit: augmentation and MixUp inside the compiled step, under JAX.
    images = rng.integers(0, 256, (64, 12, 12, 1), dtype=np.uint8)
    for augment, mixup in (("standard", 0.2), ("strong", None)):
        recipe = kr.presets.get("factory", input_shape=(12, 12, 1), num_classes=2, filters=(4,),
                                convs_per_stage=1, dense_units=(8,), epochs=1, batch_size=16,
                                augment=augment, mixup=mixup, seed=0)
        fitted = recipe.fit(images, np.arange(64) % 2, verbose=0)
        assert np.isfinite(fitted.history.history["loss"][0]), fitted.history.history
    print("JAX-OK")
    """
)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed (pip install '.[dev]')")
def test_factory_model_fits_and_round_trips_under_jax(tmp_path):
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    script = SCRIPT.replace("{path}", str(tmp_path / "jax.keras"))
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=480)
    assert result.returncode == 0 and "JAX-OK" in result.stdout, result.stderr[-3000:]
