"""A reader for the IDX files that MNIST-style datasets ship in."""

import gzip
import os

import numpy as np

# IDX magic: two zero bytes, a type code, then the number of dimensions.
_IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path, expected_ndim=None, expected_shape=None):
    """Read a gzipped or plain IDX file into a numpy array, checking its header.

    Args:
        path: The file. Gzip is detected from its first two bytes, not its name.
        expected_ndim: If given, the number of dimensions the header must declare.
        expected_shape: If given, a tuple the declared shape must match; `None`
            entries match any size (e.g. `(None, 28, 28)` for 28x28 images).

    Returns:
        A numpy array with the shape the header declares.

    Raises:
        ValueError: naming the file, when the magic number, the dimensions or
            the amount of data do not agree (a truncated or corrupt file).

    Example:
    >>> images = read_idx("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(f"IDX file {path!r} does not exist or is not a file")
    if expected_shape is not None:
        expected_ndim = len(expected_shape)
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:
        raise ValueError(f"IDX file {path!r} cannot be read: {e}") from e
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"IDX file {path!r} has a bad magic number {raw[:4].hex() or 'empty'}")
    ndim = raw[3]
    if expected_ndim is not None and ndim != expected_ndim:
        raise ValueError(f"IDX file {path!r} declares {ndim} dimensions, expected {expected_ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"IDX file {path!r} is truncated inside its header")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    if expected_shape is not None and any(
        want is not None and want != got for want, got in zip(expected_shape, shape)
    ):
        wanted = tuple("any" if w is None else w for w in expected_shape)
        raise ValueError(f"IDX file {path!r} declares shape {shape}, expected {wanted}")
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    found = len(raw) - header
    if found != expected:
        raise ValueError(
            f"IDX file {path!r} declares shape {shape} ({expected} bytes of data) "
            f"but holds {found} bytes: truncated or corrupt"
        )
    return np.frombuffer(raw, dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))
