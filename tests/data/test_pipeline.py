import keras
import numpy as np
import pytest

from kerasrecipes.data import pipeline


@pytest.fixture
def class_coded():
    """Images whose every pixel equals their class index: a mixed image's mean pixel
    must equal the expected class under its mixed label."""
    y = np.arange(64) % 4
    x = np.broadcast_to(y[:, None, None, None], (64, 8, 8, 1)).astype("float32")
    return x, y


def _collect(ds):
    xs, ys = zip(*[(a.numpy(), b.numpy()) for a, b in ds])
    return np.concatenate(xs), np.concatenate(ys)


def test_plain_epoch_is_a_shuffled_permutation_rescaled_from_uint8():
    x = np.arange(50, dtype=np.uint8)[:, None, None, None] * np.ones((1, 4, 4, 1), np.uint8)
    y = np.arange(50) % 10
    ds = pipeline(x, y, batch_size=16, seed=0)
    images, labels = _collect(ds)
    assert images.dtype == np.float32 and labels.dtype == np.int32
    ids = np.rint(images[:, 0, 0, 0] * 255).astype(int)
    assert sorted(ids.tolist()) == list(range(50)) and ids.tolist() != list(range(50))
    np.testing.assert_array_equal(labels, ids % 10)  # labels stay with their images
    second = np.rint(_collect(ds)[0][:, 0, 0, 0] * 255).astype(int)
    assert second.tolist() != ids.tolist()  # reshuffled every epoch
    assert [b[0].shape[0] for b in ds] == [16, 16, 16, 2]
    assert [b[0].shape[0] for b in pipeline(x, y, 16, drop_remainder=True)] == [16, 16, 16]


def test_unshuffled_image_only_dataset_for_predict():
    x = np.random.default_rng(0).uniform(size=(10, 4, 4, 3)).astype("float32")
    out = np.concatenate([b.numpy() for b in pipeline(x, batch_size=4, shuffle=False)])
    np.testing.assert_array_equal(out, x)


@pytest.mark.parametrize("mix", [{"mixup": 0.4}, {"cutmix": 1.0}, {"mixup": 0.4, "cutmix": 1.0}])
def test_mixed_labels_match_mixed_images(class_coded, mix):
    x, y = class_coded
    images, labels = _collect(pipeline(x, y, batch_size=32, seed=1, **mix))
    assert labels.shape == (64, 4)
    np.testing.assert_allclose(labels.sum(1), 1.0, atol=1e-5)
    expected = labels @ np.arange(4)
    # MixUp is exact; CutMix's box edges cost at most a row and a column of 8x8.
    tolerance = 1e-4 if "cutmix" not in mix else 0.8
    np.testing.assert_allclose(images.mean(axis=(1, 2, 3)), expected, atol=tolerance)
    assert (labels.max(1) < 0.999).sum() > 16  # most samples really are mixed


def test_augment_preset_changes_images_and_fits_a_model():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, size=(64, 12, 12, 1), dtype=np.uint8)
    y = rng.integers(0, 3, size=64)
    ds = pipeline(x, y, batch_size=16, augment="standard", mixup=0.2, seed=0)
    images, labels = next(iter(ds))
    assert images.shape == (16, 12, 12, 1) and labels.shape == (16, 3)
    assert 0.0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 1.0
    model = keras.Sequential([keras.Input((12, 12, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "categorical_crossentropy")
    history = model.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_custom_layer_as_augment():
    from kerasrecipes.layers import RandomResizedCrop

    x = np.random.default_rng(0).uniform(size=(8, 10, 10, 3)).astype("float32")
    ds = pipeline(x, np.zeros(8, int), 4, augment=RandomResizedCrop(6, 6, scale=(0.5, 1.0)))
    assert next(iter(ds))[0].shape == (4, 6, 6, 3)


def test_random_shift_stand_in_for_tf_data_under_other_backends(monkeypatch):
    from kerasrecipes.data.pipeline import _tf_data_step
    from kerasrecipes.layers import RandomShift

    shift = RandomShift((2, 1), fill_value=-1.0, seed=3)
    assert _tf_data_step(shift, 8, 10) is shift  # TensorFlow runs the layer itself
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    stand_in = _tf_data_step(shift, 8, 10)
    assert isinstance(stand_in, keras.layers.RandomTranslation)
    assert (stand_in.height_factor, stand_in.width_factor) == (0.25, 0.1)  # pixels over the size
    x = np.random.default_rng(0).uniform(0.5, 1.0, size=(32, 8, 10, 1)).astype("float32")
    out = np.asarray(stand_in(x, training=True))
    for src, dst in zip(x, out):  # a whole-pixel shift within (2, 1), filled with -1
        padded = np.pad(src, ((2, 2), (1, 1), (0, 0)), constant_values=-1.0)
        assert any(np.array_equal(padded[oy: oy + 8, ox: ox + 10], dst) for oy in range(5) for ox in range(3))


@pytest.mark.parametrize(
    "kwargs, argument",
    [({"batch_size": 0}, "batch_size"), ({"mixup": 0.0}, "mixup"), ({"cutmix": -1}, "cutmix"),
     ({"augment": 3}, "augment"), ({"augment": "heavy"}, "preset"), ({"rescale": "x"}, "rescale"),
     ({"num_classes": 2}, "num_classes=2"), ({"y": None, "mixup": 0.2}, "need y")],
)
def test_bad_arguments(kwargs, argument):
    args = {"x": np.zeros((4, 6, 6, 1), "float32"), "y": np.array([0, 1, 2, 0]), **kwargs}
    with pytest.raises(ValueError, match=argument):
        pipeline(**args)
