import keras
import numpy as np
import pytest
from PIL import Image

from kerasrecipes import datasets


@pytest.fixture
def image_folder(tmp_path):
    rng = np.random.default_rng(0)
    for name, value in (("cats", 40), ("dogs", 200)):
        (tmp_path / name).mkdir()
        for i in range(5):
            pixels = np.full((12, 10, 3), value, np.uint8) + rng.integers(0, 5, (12, 10, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(tmp_path / name / f"{i}.png")
    return tmp_path


def test_reads_classes_and_splits_without_overlap(image_folder):
    train, val = datasets.from_directory(image_folder, image_size=(8, 8), batch_size=4,
                                         validation_split=0.2)
    assert train.class_names == ["cats", "dogs"] and val.class_names == ["cats", "dogs"]
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in train.concatenate(val)])
    x, y = np.concatenate(xs), np.concatenate(ys)
    assert x.shape == (10, 8, 8, 3) and sorted(y.tolist()) == [0] * 5 + [1] * 5
    # Labels follow the folder: cats are dark (~40), dogs bright (~200).
    np.testing.assert_array_less(x[y == 0].mean(axis=(1, 2, 3)), 50)
    assert (x[y == 1].mean(axis=(1, 2, 3)) > 190).all()
    assert sum(len(b[1]) for b in val) == 2


def test_grayscale_single_dataset(image_folder):
    ds = datasets.from_directory(image_folder, image_size=(6, 6), color_mode="grayscale", shuffle=False)
    x, y = next(iter(ds))
    assert x.shape[1:] == (6, 6, 1)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"image_size": (0, 8)}, "image_size"),
        ({"image_size": 8}, "image_size"),
        ({"batch_size": 0}, "batch_size"),
        ({"validation_split": 1.5}, "validation_split"),
        ({"color_mode": "cmyk"}, "color_mode"),
    ],
)
def test_bad_arguments(image_folder, kwargs, argument):
    with pytest.raises(ValueError, match=argument):
        datasets.from_directory(image_folder, **kwargs)


def test_missing_or_flat_folder(tmp_path):
    with pytest.raises(ValueError, match="directory does not exist"):
        datasets.from_directory(tmp_path / "nope")
    with pytest.raises(ValueError, match="no class subfolders"):
        datasets.from_directory(tmp_path)


def test_a_zero_byte_jpg_and_a_text_png_are_named_before_anything_is_decoded(image_folder):
    # Keras's own image_dataset_from_directory lets both through and fails inside TensorFlow, naming no file.
    (image_folder / "cats" / "zero.jpg").write_bytes(b"")
    (image_folder / "dogs" / "fake.png").write_text("not a picture\n")
    with pytest.raises(ValueError, match=r"2 file\(s\) under .*cats/zero.jpg: empty file \(0 bytes\); "
                                         r".*dogs/fake.png: not a BMP, GIF, JPEG or PNG image"):
        datasets.from_directory(image_folder, image_size=(8, 8), verbose=False)
    lines = []
    train = datasets.from_directory(image_folder, image_size=(8, 8), batch_size=4, on_bad_file="skip",
                                    log=lines.append)
    assert lines[0] == "Found 12 files belonging to 2 classes." and lines[1].startswith("skipped 2 bad file(s)")
    assert len(train.file_paths) == 10 and train.skipped == sorted(
        [str(image_folder / "cats" / "zero.jpg"), str(image_folder / "dogs" / "fake.png")])
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Rescaling(1 / 255), keras.layers.Flatten(),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(train, epochs=2, verbose=0, shuffle=False)  # the dataset shuffles itself
    assert len(history.history["loss"]) == 2


def test_label_modes_class_names_and_epoch_order(image_folder):
    kwargs = dict(image_size=(6, 6), batch_size=10, verbose=False)
    _, y = next(iter(datasets.from_directory(image_folder, label_mode="categorical", shuffle=False, **kwargs)))
    assert y.shape == (10, 2) and y.numpy().sum(axis=0).tolist() == [5, 5]
    _, y = next(iter(datasets.from_directory(image_folder, label_mode="binary", shuffle=False, **kwargs)))
    assert y.shape == (10, 1) and y.dtype == "float32"
    x = next(iter(datasets.from_directory(image_folder, label_mode=None, shuffle=False, **kwargs)))
    assert x.shape == (10, 6, 6, 3)
    swapped = datasets.from_directory(image_folder, class_names=["dogs", "cats"], shuffle=False, **kwargs)
    x, y = (t.numpy() for t in next(iter(swapped)))
    assert swapped.class_names == ["dogs", "cats"] and sorted(y.tolist()) == [0] * 5 + [1] * 5
    assert (x[y == 0].mean(axis=(1, 2, 3)) > 190).all()  # label 0 is now the bright dogs
    shuffled = datasets.from_directory(image_folder, seed=3, **kwargs)
    first, second = [[y.numpy().tolist() for _, y in shuffled] for _ in range(2)]
    assert sorted(first[0]) == sorted(second[0]) and first != second  # a new order each epoch


def test_keras_only_arguments_are_refused_by_name(image_folder):
    with pytest.raises(ValueError, match=r"does not take crop_to_aspect_ratio \(keras.utils."
                                         r"image_dataset_from_directory does.*Received crop_to_aspect_ratio=True"):
        datasets.from_directory(image_folder, crop_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="label_mode='binary' needs exactly 2 classes"):
        (image_folder / "birds").mkdir()
        Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(image_folder / "birds" / "0.png")
        datasets.from_directory(image_folder, label_mode="binary")
