import gzip
import struct

import numpy as np
import pytest

from kerasrecipes.datasets import read_idx


def _idx(array, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + array.tobytes()


@pytest.fixture
def images():
    return np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)


@pytest.mark.parametrize("gzipped", [False, True])
def test_roundtrip_plain_and_gzip(tmp_path, images, gzipped):
    path = tmp_path / "x-idx3-ubyte"
    payload = _idx(images)
    path.write_bytes(gzip.compress(payload) if gzipped else payload)
    np.testing.assert_array_equal(read_idx(path), images)
    np.testing.assert_array_equal(read_idx(path, expected_shape=(None, 3, 4)), images)


def test_big_endian_types_are_decoded(tmp_path):
    values = np.array([1, -2, 300000], dtype=np.int32)
    path = tmp_path / "ints"
    path.write_bytes(_idx(values.astype(">i4"), code=0x0C))
    out = read_idx(path)
    np.testing.assert_array_equal(out, values)
    assert out.dtype.isnative


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: b[:-5], "truncated or corrupt"),
        (lambda b: b + b"\x00", "truncated or corrupt"),
        (lambda b: b"\x08\x03" + b[2:], "bad magic number"),
        (lambda b: b[:2] + b"\x42" + b[3:], "bad magic number"),
        (lambda b: b[:6], "truncated inside its header"),
        (lambda b: b"", "bad magic number"),
    ],
    ids=["short", "long", "magic", "typecode", "header", "empty"],
)
def test_corrupt_files_are_value_errors_naming_the_file(tmp_path, images, mutate, message):
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(mutate(_idx(images)))
    with pytest.raises(ValueError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_truncated_gzip_stream_is_a_value_error(tmp_path, images):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(_idx(images))[:-12])
    with pytest.raises(ValueError, match="cut.gz"):
        read_idx(path)


def test_declared_shape_is_checked(tmp_path, images):
    path = tmp_path / "x"
    path.write_bytes(_idx(images))
    with pytest.raises(ValueError, match=r"declares shape \(2, 3, 4\), expected \('any', 28, 28\)"):
        read_idx(path, expected_shape=(None, 28, 28))
    with pytest.raises(ValueError, match="declares 3 dimensions, expected 1"):
        read_idx(path, expected_ndim=1)


def test_missing_file(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        read_idx(tmp_path / "nope")
