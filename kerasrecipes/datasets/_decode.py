"""Image files to uint8 arrays with Pillow and numpy: TensorFlow's pixels, without TensorFlow.

`read(path, channels)` decodes a BMP, GIF, JPEG or PNG file as
`tf.io.decode_image(..., channels, expand_animations=False)` does, and
`resize(image, size, method)` resizes as `tf.image.resize` (antialias off,
Keras's setting) does, for every method it has. Checked against TensorFlow in
`tests/datasets/test_decode.py`:

- PNG, BMP, GIF: the same pixels (lossless formats; TensorFlow's RGB to gray
  weights, 9797/19234/3737 of 32768, truncated as libpng does; a GIF's
  transparent pixels black, as TensorFlow leaves them; 16-bit PNGs cut to their
  high byte, as libpng's `strip_16`), except where TensorFlow's own
  `decode_image` errs and the loader's TensorFlow path corrects it as well
  (`folder._tf_read`): an opaque 1-, 2- or 4-bit PNG read as RGBA gets alpha
  255, not 1, 3 or 15; a 16-bit colour PNG is cut to 8 bits before it is
  grayed, not after (one level apart at most);
- JPEG: libjpeg's accurate integer IDCT (TensorFlow's
  `dct_method="INTEGER_ACCURATE"`), the same pixels as that; TensorFlow's default
  is the fast IDCT, a few levels away on noisy images (a level or two on photos);
  gray from a colour JPEG is libjpeg's own luma, as TensorFlow's;
- resize: bilinear (Keras's default) the same float32 arithmetic as
  TensorFlow's kernel, bit for bit; the other methods TensorFlow's weights
  (positions in float32, as its kernels place them) applied in float64, so a
  rounded pixel can differ by one level where TensorFlow's float32 sum falls
  on the other side of a half.

What TensorFlow refuses, this reads: a GIF or BMP as grayscale (through the
same RGB to gray weights), a JPEG as RGBA (opaque). A 32-bit BMP's fourth byte
is ignored (the format says it is unused; TensorFlow reads it as alpha).

Pillow releases the GIL while it decodes, so `decode_files` runs a thread pool.
"""

import math
import os

import numpy as np

# TensorFlow's png_io asks libpng for rgb_to_gray(0.299, 0.587), which libpng turns
# into these 15-bit weights (by truncation) and applies without rounding.
_GRAY = (9797, 19234, 3737)
METHODS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5", "gaussian", "mitchellcubic")


def _rgb_to_gray(rgb):
    r, g, b = (rgb[..., i].astype(np.uint32) for i in range(3))
    return ((_GRAY[0] * r + _GRAY[1] * g + _GRAY[2] * b) >> 15).astype(np.uint8)


def read(path, channels):
    """The first frame of the image file `path` as uint8 `(H, W, channels)`; channels 1, 3 or 4.

    Raises `OSError` (Pillow's `UnidentifiedImageError` among them) or
    `ValueError` for a file that does not decode.
    """
    from PIL import Image

    with Image.open(path) as image:
        fmt = image.format
        if fmt == "JPEG" and channels == 1 and image.mode not in ("L", "1"):
            image.draft("L", image.size)  # libjpeg's own gray (its Y), as TensorFlow asks libjpeg
        image.seek(0)
        image.load()
        transparent = None
        if fmt == "GIF":  # RGB, as TensorFlow's GIF decoder gives it: a transparent pixel is black, not clear
            if isinstance(image.info.get("transparency"), int) and image.mode in ("P", "L"):
                transparent = np.asarray(image) == image.info["transparency"]
            pixels = np.asarray(image.convert("RGB"))
        else:
            pixels = _as_array(image)
    if transparent is not None:
        pixels = pixels.copy()
        pixels[transparent] = 0
    return _to_channels(pixels, channels)


def _as_array(image):
    """Pixels as uint8 (H, W, C), C = 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA)."""
    mode = image.mode
    if mode.startswith("I;16") or mode == "I":  # 16-bit gray PNG: its high byte, as libpng's strip_16
        array = np.asarray(image).astype(np.uint32)
        return (np.clip(array, 0, 65535) >> 8).astype(np.uint8)[..., None]
    if mode in ("1", "L"):
        return np.asarray(image.convert("L"))[..., None]
    if mode in ("LA", "La"):
        return np.asarray(image.convert("LA"))
    if mode == "P":
        return np.asarray(image.convert("RGBA" if "transparency" in image.info else "RGB"))
    if mode in ("RGBA", "RGBa", "PA"):
        return np.asarray(image.convert("RGBA"))
    return np.asarray(image.convert("RGB"))


def _to_channels(pixels, channels):
    have = pixels.shape[-1]
    if have == channels:
        return np.ascontiguousarray(pixels)
    if channels == 1:
        return pixels[..., :1] if have <= 2 else _rgb_to_gray(pixels)[..., None]
    color = np.repeat(pixels[..., :1], 3, axis=-1) if have <= 2 else pixels[..., :3]
    if channels == 3:
        return np.ascontiguousarray(color)
    alpha = pixels[..., -1:] if have in (2, 4) else np.full(pixels.shape[:2] + (1,), 255, np.uint8)
    return np.concatenate([color, alpha], axis=-1)


# -- resizing: TensorFlow's kernels as (out, in) weight matrices -------------------------------------------------

_f32 = np.float32


def _bilinear_axis(n_in, n_out):
    """TensorFlow's (lower, upper, lerp) per output position, in its float32 arithmetic (half-pixel centres)."""
    scale = _f32(n_in) / _f32(n_out)
    x = (np.arange(n_out, dtype=_f32) + _f32(0.5)) * scale - _f32(0.5)
    floor = np.floor(x)
    lower = np.clip(floor.astype(np.int64), 0, n_in - 1)
    upper = np.clip(np.ceil(x).astype(np.int64), 0, n_in - 1)
    return lower, upper, (x - floor).astype(_f32)


def _bilinear_resize(images, size):
    """ResizeBilinear's own sums in float32 on `(..., H, W, C)`: rows lerped along x, then along y."""
    y0, y1, ty = _bilinear_axis(images.shape[-3], size[0])
    x0, x1, tx = _bilinear_axis(images.shape[-2], size[1])
    v = images.astype(_f32)
    tx, ty = tx[:, None], ty[:, None, None]
    top, bottom = np.take(v, y0, axis=-3), np.take(v, y1, axis=-3)  # np.take: ~10x fancy indexing's speed here
    left, right = np.take(top, x0, axis=-2), np.take(top, x1, axis=-2)
    top = left + (right - left) * tx
    left, right = np.take(bottom, x0, axis=-2), np.take(bottom, x1, axis=-2)
    bottom = left + (right - left) * tx
    return top + (bottom - top) * ty


def _bilinear(n_in, n_out):
    lower, upper, lerp = _bilinear_axis(n_in, n_out)
    weights = np.zeros((n_out, n_in))
    np.add.at(weights, (np.arange(n_out), lower), 1.0 - lerp.astype(np.float64))
    np.add.at(weights, (np.arange(n_out), upper), lerp.astype(np.float64))
    return weights


def _nearest(n_in, n_out):
    scale = n_in / n_out
    weights = np.zeros((n_out, n_in))
    for o in range(n_out):
        weights[o, min(max(math.floor((o + 0.5) * scale), 0), n_in - 1)] = 1.0
    return weights


_CUBIC_TABLE = 1024  # TensorFlow's resize_bicubic looks its weights up in a table of this many steps


def _keys_cubic(x, a=-0.5):
    x = abs(x)
    if x <= 1:
        return ((a + 2) * x - (a + 3)) * x * x + 1
    if x < 2:
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return 0.0


def _bicubic(n_in, n_out):
    scale = n_in / n_out
    weights = np.zeros((n_out, n_in))
    for o in range(n_out):
        x = (o + 0.5) * scale - 0.5
        base = math.floor(x)
        step = round((x - base) * _CUBIC_TABLE) / _CUBIC_TABLE  # the table's quantized offset (lrintf)
        taps = [(base - 1, _keys_cubic(step + 1)), (base, _keys_cubic(step)),
                (base + 1, _keys_cubic(1 - step)), (base + 2, _keys_cubic(2 - step))]
        taps = [(i, w) for i, w in taps if 0 <= i < n_in]  # outside the image: dropped, the rest renormalized
        total = sum(w for _, w in taps)
        for i, w in taps:
            weights[o, i] += w / total
    return weights


def _area(n_in, n_out):
    scale = n_in / n_out
    weights = np.zeros((n_out, n_in))
    for o in range(n_out):
        start, end = o * scale, (o + 1) * scale
        for i in range(math.floor(start), math.ceil(end)):
            overlap = min(i + 1, end) - max(i, start)
            weights[o, min(i, n_in - 1)] += overlap / scale
    return weights


def _lanczos(radius):
    def kernel(x):
        x = abs(x)
        if x > radius:
            return 0.0
        if x <= 1e-3:
            return 1.0
        return radius * math.sin(math.pi * x) * math.sin(math.pi * x / radius) / (math.pi * x) ** 2
    return kernel, radius


def _gaussian():
    radius = 1.5  # TensorFlow's: sigma 0.5 (Turkowski), cut at 3 sigma
    sigma = radius / 3.0
    return (lambda x: math.exp(-x * x / (2 * sigma * sigma)) if abs(x) < radius else 0.0), radius


def _mitchell():
    def kernel(x):
        x = abs(x)
        if x >= 2:
            return 0.0
        if x >= 1:
            return (((-7.0 / 18.0) * x + 2.0) * x - 10.0 / 3.0) * x + 16.0 / 9.0
        return ((7.0 / 6.0) * x - 2.0) * x * x + 8.0 / 9.0
    return kernel, 2.0


_KERNELS = {"lanczos3": lambda: _lanczos(3.0), "lanczos5": lambda: _lanczos(5.0), "gaussian": _gaussian,
            "mitchellcubic": _mitchell}


def _scale_and_translate(method):
    """TensorFlow's ScaleAndTranslate spans (no antialiasing: the kernel is not widened when shrinking)."""
    def weights_for(n_in, n_out):
        kernel, radius = _KERNELS[method]()
        # Positions in float32 as TensorFlow computes them: a tap at the kernel's edge falls on the same side.
        inv_scale = _f32(1.0 / float(_f32(n_out) / _f32(n_in)))
        weights = np.zeros((n_out, n_in))
        for o in range(n_out):
            x = (_f32(o) + _f32(0.5)) * inv_scale
            start = min(max(math.ceil(x - _f32(radius) - _f32(0.5)), 0), n_in - 1)
            end = min(max(math.floor(x + _f32(radius) - _f32(0.5)), 0), n_in - 1) + 1
            taps = [(i, kernel(float((_f32(i) + _f32(0.5)) - x))) for i in range(start, end)]
            total = sum(w for _, w in taps)
            normalize = abs(total) >= 1000.0 * np.finfo(np.float32).tiny  # TensorFlow's guard, kept
            for i, w in taps:
                weights[o, i] = w / total if normalize else w
        return weights
    return weights_for


_WEIGHTS = {"bilinear": _bilinear, "nearest": _nearest, "bicubic": _bicubic, "area": _area,
            **{m: _scale_and_translate(m) for m in _KERNELS}}
_cache = {}


def weights(method, n_in, n_out):
    """The `(n_out, n_in)` matrix that resizes one axis as `tf.image.resize(method=...)` does."""
    key = (method, n_in, n_out)
    if key not in _cache:
        if len(_cache) > 512:
            _cache.clear()
        _cache[key] = _WEIGHTS[method](n_in, n_out)
    return _cache[key]


# Methods whose resize to the same size is the identity in TensorFlow (the others blur: gaussian, mitchellcubic).
_SAME_SIZE_IS_COPY = ("bilinear", "nearest", "area", "bicubic")


def resize(images, size, method="bilinear"):
    """`images` `(..., H, W, C)` resized to `size` as `tf.image.resize` does, rounded and clipped to uint8."""
    if method not in _WEIGHTS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}. Received method={method!r}")
    if tuple(images.shape[-3:-1]) == tuple(size) and method in _SAME_SIZE_IS_COPY:
        return images.astype(np.uint8, copy=False)
    if method == "bilinear":
        out = _bilinear_resize(images, size)
    else:
        rows, cols = weights(method, images.shape[-3], size[0]), weights(method, images.shape[-2], size[1])
        planes = np.moveaxis(images, -1, -3).astype(np.float64)  # (..., C, H, W): two BLAS matmuls
        out = np.moveaxis(rows @ planes @ cols.T, -3, -1)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


_PENDING_BYTES = 64 << 20  # decoded images held before a batched resize: bounded for folders of large photos
_THREADED_PIXELS = 256 * 256  # from this size on a decode is long enough (the GIL released) for threads to pay


def decode_files(paths, image_size, channels, *, interpolation="bilinear", out=None, threads=None):
    """Decode and resize image files into uint8 `(N, H, W, C)`: what `folder.decode` does, without TensorFlow.

    Images of one size are resized together (one vectorized pass per batch).
    Small images decode in this thread (Pillow's per-file Python work holds
    the GIL, so threads only contend); from 256x256 px on, a thread pool
    decodes, Pillow releasing the GIL while it does.

    Returns:
        `(images, failed)`: the array, and the indices of the files that did
        not decode (their rows are zeros).
    """
    n = len(paths)
    images = out if out is not None else np.zeros((n, *image_size, channels), np.uint8)
    failed, pending, held = [], {}, [0]

    def one(path):
        try:
            return read(path, channels)
        except Exception:  # noqa: BLE001  any failure to decode is a bad file, named by the caller
            return None

    def flush():
        for where, group in pending.values():
            images[np.asarray(where)] = resize(np.stack(group), image_size, interpolation)
        pending.clear()
        held[0] = 0

    def take(i, image):
        if image is None:
            failed.append(i)
            return
        where, group = pending.setdefault(image.shape, ([], []))
        where.append(i)
        group.append(image)
        held[0] += image.nbytes
        if held[0] > _PENDING_BYTES:
            flush()

    first = one(paths[0]) if n else None
    large = first is not None and first.shape[0] * first.shape[1] >= _THREADED_PIXELS
    if n:
        take(0, first)
    if large and (threads or os.cpu_count() or 1) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads or os.cpu_count()) as pool:
            for i, image in enumerate(pool.map(one, paths[1:]), start=1):
                take(i, image)
    else:
        for i in range(1, n):
            take(i, one(paths[i]))
    flush()
    return images, np.asarray(failed, dtype=np.int64)
