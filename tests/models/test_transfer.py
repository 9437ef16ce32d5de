import keras
import numpy as np
import pytest

from kerasrecipes.models import blocks, fine_tune, vgg


@pytest.fixture
def base():
    model = vgg((16, 16, 1), 4, filters=(4, 8, 8), convs_per_stage=1, order="conv-bn-act",
                dense_units=(8,), name="base")
    return model


def _trainable_blocks(model):
    return sorted({w.path.split("/")[0].split("_")[0] for w in model.trainable_weights})


def test_blocks_follow_layer_names(base):
    assert [name for name, _ in blocks(base)] == ["block1", "block2", "block3", "fc1", "predictions"]


def test_linear_trains_only_the_new_head(base):
    model = fine_tune(base, 3, strategy="linear")
    assert _trainable_blocks(model) == ["head"]
    # Features come from the layer before the base's own classifier.
    assert model.get_layer("head_predictions").input.shape[-1] == 8
    x = np.random.default_rng(0).normal(size=(8, 16, 16, 1)).astype("float32")
    before = [w.numpy().copy() for w in base.weights]
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    model.fit(x, np.arange(8) % 3, epochs=1, verbose=0)
    for old, new in zip(before, base.weights):
        np.testing.assert_array_equal(old, new.numpy())  # BN statistics included


def test_top_unfreezes_the_top_blocks_but_never_batchnorm(base):
    model = fine_tune(base, 3, strategy="top", num_blocks=2, feature_layer="block3_pool")
    assert _trainable_blocks(model) == ["block2", "block3", "head"]
    assert not model.get_layer("block3_bn1").trainable


def test_deep_unfreezes_all_but_the_first_blocks(base):
    model = fine_tune(base, 3, strategy="deep", num_blocks=1, feature_layer="block3_pool")
    assert _trainable_blocks(model) == ["block2", "block3", "head"]
    model = fine_tune(base, 3, strategy="deep", num_blocks=0, feature_layer="block3_pool")
    assert _trainable_blocks(model) == ["block1", "block2", "block3", "head"]


def test_features_from_uses_an_earlier_layer(base):
    model = fine_tune(base, 3, strategy="features_from")
    assert _trainable_blocks(model) == ["head"]
    names = [l.name for l in model.layers]
    assert names[-3] == "block2_pool" and "block3_conv1" not in names  # cut after the middle block
    model = fine_tune(base, 3, strategy="features_from", feature_layer="block1_pool", head="flatten")
    assert model.get_layer("head_predictions").input.shape[-1] == 8 * 8 * 4


def test_works_on_keras_applications_and_round_trips(tmp_path):
    base = keras.applications.MobileNetV2((32, 32, 3), include_top=False, weights=None, alpha=0.35)
    model = fine_tune(base, 5, strategy="top", num_blocks=1, dense_units=(16,), dropout=0.2)
    trainable = {w.path.split("/")[0] for w in model.trainable_weights}
    assert trainable and all(n.startswith(("Conv_1", "head")) for n in trainable)
    x = np.random.default_rng(0).normal(size=(4, 32, 32, 3)).astype("float32")
    model.save(tmp_path / "ft.keras")
    loaded = keras.saving.load_model(tmp_path / "ft.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_bad_arguments(base):
    with pytest.raises(ValueError, match="strategy must be one of"):
        fine_tune(base, 3, strategy="all")
    with pytest.raises(ValueError, match="feature_layer 'nope'"):
        fine_tune(base, 3, feature_layer="nope")
    with pytest.raises(ValueError, match="base_model must be"):
        fine_tune(keras.layers.Dense(3), 3)
    flags = [layer.trainable for layer in base.layers]
    # 3 blocks up to block3_pool: 99 cannot be unfrozen (or kept frozen); nothing is touched.
    for strategy in ("top", "deep"):
        with pytest.raises(ValueError, match=r"larger than the 3 blocks .*block1, block2, block3.*Received num_blocks=99"):
            fine_tune(base, 3, strategy=strategy, num_blocks=99, feature_layer="block3_pool")
    assert [layer.trainable for layer in base.layers] == flags
    assert _trainable_blocks(fine_tune(base, 3, strategy="top", num_blocks=3, feature_layer="block3_pool")) == [
        "block1", "block2", "block3", "head"]
    with pytest.raises(ValueError, match="output_activation must be None .*Received output_activation='softmaxx'"):
        fine_tune(base, 3, output_activation="softmaxx")
    with pytest.raises(ValueError, match="num_blocks must be"):
        fine_tune(base, 3, strategy="top", num_blocks=True)
    with pytest.raises(ValueError, match="feature_layer must be a layer name"):
        fine_tune(base, 3, feature_layer=3)
