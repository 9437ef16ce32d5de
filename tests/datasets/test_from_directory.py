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
