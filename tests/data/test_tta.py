import keras
import numpy as np
import pytest

from kerasrecipes.data import pipeline, tta_predict
from kerasrecipes.data.tta import views


def _flip_invariant_model(shape, classes=4):
    # Global average pooling forgets where things are, so mirrors change nothing.
    return keras.Sequential([keras.Input(shape), keras.layers.Conv2D(6, 3, padding="same", activation="relu"),
                             keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(classes, activation="softmax")])


def test_tta_equals_plain_prediction_on_a_flip_invariant_model():
    model = _flip_invariant_model((10, 10, 3))
    x = np.random.default_rng(0).uniform(size=(20, 10, 10, 3)).astype("float32")
    # Symmetric 3x3 kernels make the conv commute with mirroring too.
    kernel, bias = model.layers[0].get_weights()
    model.layers[0].set_weights([(kernel + kernel[:, ::-1]) / 2, bias])
    plain = model.predict(x, verbose=0)
    np.testing.assert_allclose(tta_predict(model, x, flips=True), plain, atol=1e-6)


def test_five_and_ten_crop_views_match_numpy_slicing():
    x = np.random.default_rng(0).uniform(size=(2, 12, 12, 1)).astype("float32")
    five = views(x, flips=False, crops="five", crop_size=(8, 8))
    expected = [x[:, :8, :8], x[:, :8, 4:], x[:, 4:, :8], x[:, 4:, 4:], x[:, 2:10, 2:10]]
    for got, want in zip(five, expected):
        np.testing.assert_array_equal(got, want)
    ten = views(x, flips=False, crops="ten", crop_size=(8, 8))
    assert len(ten) == 10
    np.testing.assert_array_equal(ten[7], expected[2][:, :, ::-1])
    # Same-size crops: corners of the zero-padded image, i.e. +-pad shifts; centre = image.
    same = views(x, flips=False, crops="five", pad=2)
    np.testing.assert_array_equal(same[4], x)
    np.testing.assert_array_equal(same[0][:, 2:, 2:], x[:, :10, :10])
    assert (same[0][:, :2] == 0).all()


def test_tta_on_real_data_does_not_hurt(fashion_small):
    (x, y), (x_test, y_test) = fashion_small
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)), keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.MaxPooling2D(),
        keras.layers.Conv2D(32, 3, activation="relu"), keras.layers.MaxPooling2D(), keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(pipeline(x, y, 64, augment="light", seed=0), epochs=3, verbose=0)
    plain = (model.predict(x_test, verbose=0).argmax(1) == y_test).mean()
    flipped = (tta_predict(model, x_test).argmax(1) == y_test).mean()
    ten = (tta_predict(model, x_test, crops="ten", pad=2).argmax(1) == y_test).mean()
    print(f"plain {plain:.3f}, flip TTA {flipped:.3f}, ten-crop TTA {ten:.3f}")
    assert plain > 0.65
    assert flipped >= plain - 0.01 and ten >= plain - 0.015


@pytest.mark.parametrize(
    "kwargs, argument",
    [({"crops": "four"}, "crops"), ({"batch_size": 0}, "batch_size"), ({"pad": -2}, "pad"),
     ({"crop_size": (30, 30), "pad": 0, "crops": "five"}, "crop_size")],
)
def test_bad_arguments(kwargs, argument):
    model = _flip_invariant_model((None, None, 1))
    with pytest.raises(ValueError, match=argument):
        tta_predict(model, np.zeros((2, 8, 8, 1), "float32"), **kwargs)
