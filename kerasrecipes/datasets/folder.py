"""A user's own folder of images, one subfolder per class, as an `ImageData` of uint8 arrays.

What `load_folder` adds to `keras.utils.image_dataset_from_directory` (whose
folder layout, file types and decoding it follows):

- bad files are found before any training, each named: every file's header is
  checked first (`_headers.inspect`: magic bytes, the size it declares, its end
  marker), and the decode pass catches the rest; a bad file is a
  `ValueError` with its path, or with `on_bad_file="skip"` skipped and counted
  in one line (Keras fails mid-epoch with `InvalidArgumentError: Unknown image
  file format` and no file name);
- a held-out test split that never holds a training image and stays the same
  across runs, resumes and `report`: each file goes to test or training by a
  hash of its path inside the folder, the scheme of TensorFlow's image
  retraining example (retrain.py, `which_set`), so adding images never moves
  an old one between the splits; or a separate `test_dir`;
- images in a fixed mixed order (by the same hash), so a slice `x[:n]` holds
  every class, as the named datasets do;
- decoding once, into uint8 arrays held in memory, or, when they would not
  fit, in a `.npy` memory map in a cache folder that later loads of the same
  files reuse; in parallel in tf.data under Keras's TensorFlow backend, else
  with Pillow and numpy (`_decode`: no TensorFlow needed, e.g. on a JAX GPU
  machine), the two
  giving the same pixels (BMP, GIF, JPEG, PNG; the bilinear and nearest
  resizes bit for bit, the other methods within one level on a few pixels in
  a thousand), so a folder loads alike on every machine;
- when not given, the image size and colour mode come from the headers (the
  median size, at most 64 px on the longer side; grayscale when every image is).
"""

import hashlib
import os

import numpy as np

from kerasrecipes import _io
from kerasrecipes.datasets import _decode, _headers
from kerasrecipes.datasets.load import ImageData

COLOR_MODES = ("grayscale", "rgb", "rgba")
DECODERS = ("tensorflow", "pillow")
ON_BAD_FILE = ("raise", "skip")
AUTO_MAX_SIDE = 64  # px: the longest side picked when image_size is not given (minutes per run on a CPU)
_SPLIT_SCHEME = "sha1-of-relative-path-v1"


def _check_size(image_size):
    if image_size is None:
        return None
    if isinstance(image_size, int) and not isinstance(image_size, bool):
        image_size = (image_size, image_size)
    if (not isinstance(image_size, (tuple, list)) or len(image_size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in image_size)):
        raise ValueError(f"image_size must be two positive integers (height, width). Received image_size={image_size!r}")
    return int(image_size[0]), int(image_size[1])


def index(directory, class_names=None):
    """`(class_names, relative_paths, labels)` of the images under `directory/<class>/...`.

    Classes are the sorted subfolders, and images every file with one of
    Keras's extensions in a class folder or below it, in sorted order (as
    `keras.utils.image_dataset_from_directory` indexes them). With
    `class_names`, the folder's classes must be among them (a test folder
    labelled like its training folder).
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"directory does not exist or is not a folder. Received directory={directory!r}")
    found = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
    if not found:
        raise ValueError("directory has no class subfolders; expected directory/<class name>/<images>. "
                         f"Received directory={directory!r}")
    if class_names is not None:
        extra = [c for c in found if c not in class_names]
        if extra:
            raise ValueError(f"{directory!r} has classes the training folder lacks: {', '.join(extra)} "
                             f"(training classes: {', '.join(class_names)})")
    names = list(class_names) if class_names is not None else found
    paths, labels = [], []
    for label, name in enumerate(names):
        root = os.path.join(directory, name)
        if not os.path.isdir(root):
            continue
        for folder, subfolders, files in os.walk(root, followlinks=True):
            subfolders.sort()
            inside = os.path.join(name, folder[len(root) + 1:]) if folder != root else name
            for file in sorted(files):
                if file.lower().endswith(_headers.EXTENSIONS):
                    paths.append(os.path.join(inside, file))  # relative to directory (posixpath.relpath: 10x slower)
                    labels.append(label)
    if class_names is None:
        empty = [n for i, n in enumerate(names) if i not in set(labels)]
        if empty:
            raise ValueError(f"class folder(s) {', '.join(empty)} in {directory!r} hold no images "
                             f"({', '.join(_headers.EXTENSIONS)})")
    return names, paths, np.asarray(labels, dtype=np.int64)


def _key(relative_path):
    """A SHA-1 of the path with `/` separators, as a number in [0, 1): the same on every machine and run."""
    key = relative_path.replace(os.sep, "/").encode("utf-8")
    return int.from_bytes(hashlib.sha1(key).digest()[:8], "big") / 2.0 ** 64


def is_test(relative_path, fraction):
    """Whether `relative_path` (inside its folder) belongs to the held-out split of `fraction`,
    whatever other files the folder holds."""
    return _key(relative_path) < fraction


def default_decoder():
    """`"tensorflow"` under Keras's TensorFlow backend, else `"pillow"`; the one place that decides.

    Both give the same pixels (`_decode`; the bilinear and nearest resizes bit
    for bit). Under the TensorFlow backend TensorFlow is loaded anyway and its
    tf.data pass decodes on every core; under JAX or PyTorch, Pillow spares
    importing TensorFlow (seconds and hundreds of MB) or needs none at all. On 2
    CPU cores the two run at 0.7x to 2.4x each other's speed (BENCHMARKS.md,
    "Folder decoding without TensorFlow").
    """
    import keras

    if keras.backend.backend() == "tensorflow":
        return "tensorflow"
    return "pillow"


def _check_decoder(decoder):
    if decoder is None:
        return default_decoder()
    if decoder not in DECODERS:
        raise ValueError(f"decoder must be 'tensorflow', 'pillow' or None. Received decoder={decoder!r}")
    return decoder


def check_files(directory, paths, decoder=None):
    """Header-check `directory/path` for each path: `(headers, bad)`, where bad maps path -> reason.

    A file whose header cannot vouch for it (no end marker: truncated, or
    bytes after the marker) is decoded on its own to decide.
    """
    headers, bad = {}, {}
    for path in paths:
        try:
            header = _headers.inspect(os.path.join(directory, path))
        except _headers.BadImage as e:
            bad[path] = str(e)
            continue
        except OSError as e:
            bad[path] = f"cannot be read ({e.strerror or e})"
            continue
        reason = _decode_reason(os.path.join(directory, path), 3, decoder) if header.needs_decode else None
        if reason is None:
            headers[path] = header
        else:
            bad[path] = ("truncated or corrupt (no end marker), " if header.needs_decode else "") + reason
    return headers, bad


def _decode_reason(path, channels, decoder=None):
    """Why `path` does not decode (one line, without the path), or None when it does."""
    if _check_decoder(decoder) == "pillow":
        try:
            _decode.read(path, channels)
        except Exception as e:  # Pillow's UnidentifiedImageError, OSError("image file is truncated"), zlib's
            text = str(e).splitlines()[0] if str(e) else type(e).__name__
            text = text.replace(f" {path!r}", "").replace(f" '{os.fspath(path)}'", "")  # named by the caller
            return "cannot be decoded: " + text.rstrip(".")[:200]
        return None
    import tensorflow as tf

    try:
        _tf_read(channels)(tf.io.read_file(path))
    except Exception as e:  # TensorFlow's InvalidArgumentError and its kin
        lines = [line for line in str(e).splitlines() if line.strip()]
        text = lines[-1] if lines else type(e).__name__
        text = text.split("}}")[-1].split(" [Op:")[0].strip()
        return "cannot be decoded: " + text.rstrip(".")[:200]
    return None


def _tf_read(channels):
    """A function of a file's bytes: its pixels as uint8 `(H, W, channels)`, as `_decode.read` gives them.

    TensorFlow's own decoders, told to agree with Pillow's: JPEG with libjpeg's
    accurate integer IDCT (`tf.io.decode_image` uses the fast one, a few levels
    off; Pillow has only the accurate one) and libjpeg's own gray; PNG, BMP and
    GIF decoded to their own channels (BMP and GIF: RGB) and converted here, as
    `_decode` converts them (TensorFlow has no gray BMP or GIF, gives a
    low-bit-depth PNG an alpha of 1 or 15 instead of 255, and grays a 16-bit PNG
    before cutting it to 8 bits).
    """
    import tensorflow as tf

    def read(raw):
        def jpeg():
            image = tf.io.decode_jpeg(raw, channels=1 if channels == 1 else 3, dct_method="INTEGER_ACCURATE")
            return _tf_channels(tf, image, 3, 4) if channels == 4 else image

        def png():
            image = tf.io.decode_png(raw, channels=0)  # its own: 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA
            return tf.switch_case(tf.shape(image)[-1] - 1,
                                  [lambda have=have: _tf_channels(tf, image, have, channels) for have in (1, 2, 3, 4)])

        def other():  # BMP, GIF (first frame), or not an image: decode_image says which
            return _tf_channels(tf, tf.io.decode_image(raw, channels=3, expand_animations=False), 3, channels)

        is_png = tf.equal(tf.strings.substr(raw, 0, 8), _headers._PNG_SIGNATURE)
        image = tf.case([(tf.io.is_jpeg(raw), jpeg), (is_png, png)], default=other)
        image.set_shape((None, None, channels))
        return image

    return read


def _tf_channels(tf, image, have, channels):
    """`_decode._to_channels` in TensorFlow ops: `have` channels (1-4) to `channels` (1, 3, 4)."""
    if have == channels:
        return image
    if channels == 1:
        if have <= 2:
            return image[..., :1]
        r, g, b = tf.unstack(tf.cast(image[..., :3], tf.int32), num=3, axis=-1)
        y = tf.bitwise.right_shift(_decode._GRAY[0] * r + _decode._GRAY[1] * g + _decode._GRAY[2] * b, 15)
        return tf.cast(y, tf.uint8)[..., None]
    color = tf.tile(image[..., :1], [1, 1, 3]) if have <= 2 else image[..., :3]
    if channels == 3:
        return color
    alpha = image[..., -1:] if have in (2, 4) else tf.fill(tf.concat([tf.shape(image)[:2], [1]], 0),
                                                            tf.constant(255, tf.uint8))
    return tf.concat([color, alpha], axis=-1)


def decode(paths, image_size, channels, *, interpolation="bilinear", out=None, batch_size=256, decoder=None):
    """Decode and resize image files into uint8 `(N, H, W, C)`: in tf.data, or with Pillow and numpy.

    As `keras.utils.image_dataset_from_directory` reads a file (its first
    frame, then `tf.image.resize`), rounded to uint8; `decoder` picks
    TensorFlow (in parallel in tf.data) or Pillow (`_decode.decode_files`),
    the same pixels either way (see `_decode`). Files that fail to decode do
    not stop the pass.

    Args:
        paths: File paths.
        image_size: `(height, width)`.
        channels: 1, 3 or 4.
        interpolation: A `tf.image.resize` method. Defaults to `"bilinear"`.
        out: Optional array (e.g. a memory map) of shape `(N, H, W, C)` to fill.
        batch_size: Images per transfer out of tf.data.
        decoder: `"tensorflow"`, `"pillow"` or `None` (`default_decoder()`).

    Returns:
        `(images, failed)`: the array, and the indices of the files that did
        not decode (their rows are zeros).
    """
    if _check_decoder(decoder) == "pillow":
        return _decode.decode_files(list(paths), tuple(image_size), channels, interpolation=interpolation, out=out)
    import tensorflow as tf

    n = len(paths)
    height, width = image_size
    images = out if out is not None else np.zeros((n, height, width, channels), np.uint8)
    read = _tf_read(channels)

    def load(path, i):
        image = tf.image.resize(read(tf.io.read_file(path)), (height, width), method=interpolation)
        image = tf.cast(tf.clip_by_value(tf.round(tf.cast(image, tf.float32)), 0.0, 255.0), tf.uint8)
        image.set_shape((height, width, channels))
        return image, i

    ds = tf.data.Dataset.from_tensor_slices((list(paths), np.arange(n, dtype=np.int64)))
    # Out of order is fine (each image carries its index) and spares a slow file blocking the rest.
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False).ignore_errors()
    ds = ds.batch(batch_size).prefetch(2)
    done = np.zeros(n, bool)
    for batch, where in ds.as_numpy_iterator():
        images[where] = batch
        done[where] = True
    return images, np.flatnonzero(~done)


def _fits_in_memory(nbytes, memory_limit):
    if memory_limit is None:
        try:  # half of the memory free now, so training keeps room
            memory_limit = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
        except (ValueError, OSError, AttributeError):
            memory_limit = 4 << 30
    return nbytes <= memory_limit


def _cache_dir(cache_dir):
    if cache_dir is not None:
        return os.fspath(cache_dir)
    root = os.environ.get("KERASRECIPES_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "kerasrecipes")
    return os.path.join(root, "images")


def _read_split(directory, paths, labels, bad, image_size, channels, interpolation, on_bad_file, *,
                memory_limit, cache_dir, log, what, decoder):
    """Decoded uint8 images and labels for `paths` (relative to `directory`), `bad` the header check's finds."""
    absolute = [os.path.join(directory, p) for p in paths]
    bad = dict(bad)
    keep = [i for i, p in enumerate(paths) if p not in bad]
    nbytes = len(keep) * image_size[0] * image_size[1] * channels
    out = cache_file = None
    if not _fits_in_memory(nbytes, memory_limit):
        cache_file = _cache_path(_cache_dir(cache_dir), [absolute[i] for i in keep], image_size, channels,
                                 interpolation, decoder)
        if os.path.exists(cache_file):
            cached = np.load(cache_file, mmap_mode="r")
            failed = np.load(cache_file[:-4] + ".failed.npy")
            return _finish(directory, paths, labels, keep, cached, failed, bad, channels, on_bad_file, log, what,
                           absolute, decoder)
        os.makedirs(os.path.dirname(cache_file), exist_ok=True)
        tmp = f"{cache_file}.{os.getpid()}.tmp.npy"
        out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8,
                                        shape=(len(keep),) + tuple(image_size) + (channels,))
        log(f"{what}: {len(keep)} images need {nbytes / 2**30:.1f} GiB, more than fits in memory: "
            f"decoding into {cache_file}")
    if cache_file is None:
        images, failed = decode([absolute[i] for i in keep], image_size, channels, interpolation=interpolation,
                                decoder=decoder)
    else:
        with _io.renamed_into(cache_file, tmp):  # a kill mid-decode leaves no cache that looks complete
            images, failed = decode([absolute[i] for i in keep], image_size, channels, interpolation=interpolation,
                                    out=out, decoder=decoder)
            images.flush()
            _io.atomic_write(cache_file[:-4] + ".failed.npy", lambda f: np.save(f, failed), mode="wb")
        images = np.load(cache_file, mmap_mode="r")
    return _finish(directory, paths, labels, keep, images, failed, bad, channels, on_bad_file, log, what, absolute,
                   decoder)


def _finish(directory, paths, labels, keep, images, failed, bad, channels, on_bad_file, log, what, absolute,
            decoder):
    for i in failed:
        path = paths[keep[i]]
        bad[path] = _decode_reason(absolute[keep[i]], channels, decoder) or "cannot be decoded"
    if bad and on_bad_file == "raise":
        raise _bad_error(directory, {os.path.join(directory, p): r for p, r in bad.items()})
    if len(failed):
        good = np.setdiff1d(np.arange(len(keep)), failed)
        images, keep = images[good], [keep[i] for i in good]
    if not keep:
        raise ValueError(f"no readable {what} images left in {directory!r} after skipping {len(bad)} bad file(s)")
    return images, labels[keep], [paths[i] for i in keep], bad


def _bad_error(directory, bad):
    """One ValueError for `bad` (path -> reason): the first five named, the rest counted."""
    shown = sorted(bad)[:5]
    more = f" and {len(bad) - len(shown)} more" if len(bad) > len(shown) else ""
    listing = "; ".join(f"{p}: {bad[p]}" for p in shown)
    return ValueError(f"{len(bad)} file(s) under {directory!r} are not readable images: {listing}{more}. "
                      "Remove them, or pass on_bad_file='skip' (--skip-bad-files) to leave them out")


def _cache_path(root, files, image_size, channels, interpolation, decoder):
    digest = hashlib.sha1(repr((tuple(image_size), channels, interpolation, decoder)).encode())
    for file in files:
        stat = os.stat(file)
        digest.update(f"{os.path.abspath(file)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return os.path.join(root, digest.hexdigest()[:20] + ".npy")


def _auto_size(headers):
    heights = [h.height for h in headers]
    widths = [h.width for h in headers]
    height, width = int(np.median(heights)), int(np.median(widths))
    scale = min(1.0, AUTO_MAX_SIDE / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def load_folder(directory, image_size=None, color_mode=None, *, test_dir=None, test_fraction=0.2,
                on_bad_file="raise", interpolation="bilinear", memory_limit=None, cache_dir=None,
                log=None, decoder=None) -> ImageData:
    """Load `directory/<class name>/<images>` as an `ImageData` of uint8 arrays.

    Args:
        directory: Folder with one subfolder of images per class (BMP, GIF,
            JPEG, PNG; subfolders inside a class folder are read too).
        image_size: `(height, width)` every image is resized to, or one int
            for a square. Defaults to `None`: the median size of the images,
            shrunk to at most 64 px on its longer side.
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"`. Defaults to `None`:
            grayscale when every image is, else RGB.
        test_dir: Optional folder of held-out images laid out the same way
            (its classes must be among the training folder's). Without it, a
            `test_fraction` of `directory` is held out, chosen by a hash of
            each file's path so the split is the same on every load.
        test_fraction: Fraction held out of `directory` when there is no
            `test_dir`, in (0, 1). Defaults to `0.2`.
        on_bad_file: `"raise"` (a `ValueError` naming the files that are not
            readable images) or `"skip"` (leave them out and say how many in
            one line). Defaults to `"raise"`.
        interpolation: `tf.image.resize` method. Defaults to `"bilinear"`
            (Keras's).
        memory_limit: Bytes the decoded images may take in memory; beyond,
            they go to a `.npy` memory map in `cache_dir`. Defaults to half
            of the memory free now.
        cache_dir: Folder of the memory maps. Defaults to
            `$KERASRECIPES_CACHE/images` or `~/.cache/kerasrecipes/images`.
        log: Where one-line messages go. Defaults to `print`.
        decoder: `"tensorflow"` (tf.data) or `"pillow"` (Pillow and numpy,
            no TensorFlow needed); the same pixels either way. Defaults to
            `None`: TensorFlow under Keras's TensorFlow backend, else Pillow
            (`default_decoder`).

    Returns:
        An `ImageData` named after the folder (its absolute path), with the
        class names of the subfolders, and `source` recording everything
        needed to load the same split again (`from_source`), including the
        test files and the skipped ones.

    Raises:
        ValueError: for a bad argument, a missing folder, a folder without
            classes or images, or (with `on_bad_file="raise"`) unreadable files,
            each named with the reason.

    Example:
    >>> data = load_folder("photos/", image_size=(64, 64))
    >>> data.class_names, data.x_train.shape
    (['cats', 'dogs'], (1600, 64, 64, 3))
    """
    log = log or print
    image_size = _check_size(image_size)
    if color_mode is not None and color_mode not in COLOR_MODES:
        raise ValueError(f"color_mode must be one of {', '.join(COLOR_MODES)}. Received color_mode={color_mode!r}")
    if on_bad_file not in ON_BAD_FILE:
        raise ValueError(f"on_bad_file must be 'raise' or 'skip'. Received on_bad_file={on_bad_file!r}")
    if test_dir is None:
        if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) \
                or not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must lie in (0, 1). Received test_fraction={test_fraction!r}")
    elif not os.path.isdir(os.fspath(test_dir)):
        raise ValueError(f"test_dir does not exist or is not a folder. Received test_dir={os.fspath(test_dir)!r}")
    if interpolation not in _decode.METHODS:
        raise ValueError(f"interpolation must be a tf.image.resize method. Received interpolation={interpolation!r}")
    decoder = _check_decoder(decoder)
    directory = os.path.abspath(os.fspath(directory))
    class_names, paths, labels = index(directory)
    if test_dir is not None:
        test_dir = os.path.abspath(os.fspath(test_dir))
        _, test_paths, test_labels = index(test_dir, class_names)
        if not test_paths:
            raise ValueError(f"test_dir holds no images. Received test_dir={test_dir!r}")
        splits = {"train": (directory, paths, labels), "test": (test_dir, test_paths, test_labels)}
    else:
        held = np.array([is_test(p, test_fraction) for p in paths], bool)
        if held.all() or not held.any():
            raise ValueError(f"{directory!r} has too few images ({len(paths)}) for a test split of "
                             f"test_fraction={test_fraction!r}; add images or pass test_dir")
        pick = lambda mask: ([p for p, m in zip(paths, mask) if m], labels[mask])  # noqa: E731
        splits = {"train": (directory,) + pick(~held), "test": (directory,) + pick(held)}

    # Classes mixed, in a fixed order (by the path's hash, as the split): a slice x[:n] of the
    # result is a sample of every class, as with the named datasets, not the first classes only.
    for split, (folder, split_paths, split_labels) in list(splits.items()):
        order = sorted(range(len(split_paths)), key=lambda i: (_key(split_paths[i]), split_paths[i]))
        splits[split] = (folder, [split_paths[i] for i in order], split_labels[order])
    # Headers first, once: every bad file is named before the (far costlier) decode pass starts.
    checked = {split: check_files(folder, split_paths, decoder) for split, (folder, split_paths, _) in splits.items()}
    if on_bad_file == "raise" and any(bad for _, bad in checked.values()):
        raise _bad_error(directory, {os.path.join(splits[split][0], p): reason
                                     for split, (_, bad) in checked.items() for p, reason in bad.items()})
    headers = [h for found, _ in checked.values() for h in found.values()]
    if not headers:
        raise ValueError(f"no readable images in {directory!r}: every file failed the header check")
    if image_size is None:
        image_size = _auto_size(headers)
        log(f"image_size not given: using {image_size[0]},{image_size[1]} (the median image size, at most "
            f"{AUTO_MAX_SIDE} px); pass image_size / --image-size H,W to choose")
    if color_mode is None:
        color_mode = "grayscale" if all(h.channels in (1, 2) for h in headers) else "rgb"
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[color_mode]

    arrays, kept, skipped = {}, {}, {}
    for split, (folder, split_paths, split_labels) in splits.items():
        x, y, kept[split], bad = _read_split(
            folder, split_paths, split_labels, checked[split][1], image_size, channels, interpolation,
            on_bad_file, memory_limit=memory_limit, cache_dir=cache_dir, log=log, what=split, decoder=decoder)
        arrays[split] = (x, y.astype(np.uint8 if len(class_names) <= 256 else np.int32))
        skipped.update({os.path.join(folder, p): reason for p, reason in bad.items()})
    if skipped:
        first = sorted(skipped)[0]
        total = sum(len(split_paths) for _, split_paths, _ in splits.values())
        log(f"skipped {len(skipped)} bad file(s) of {total} under {directory} (first: {first}: {skipped[first]})")
    skipped = sorted(skipped)
    source = {
        "data": directory, "test_dir": test_dir, "image_size": list(image_size), "color_mode": color_mode,
        "test_fraction": None if test_dir else test_fraction, "split": None if test_dir else _SPLIT_SCHEME,
        "interpolation": interpolation, "test_files": kept["test"], "skipped": skipped,
        "on_bad_file": on_bad_file, "decoder": decoder,
    }
    (x_train, y_train), (x_test, y_test) = arrays["train"], arrays["test"]
    return ImageData(x_train, y_train, x_test, y_test, class_names, directory, source)


def from_source(source, *, log=None) -> ImageData:
    """The `ImageData` an earlier `load_folder` recorded in `ImageData.source` (e.g. from a run's files).

    Loads the folder again with the recorded settings and checks that every
    recorded test file still present is in the test split again, so a resumed
    run or a report never evaluates on an image that was trained on.
    """
    keys = ("test_dir", "image_size", "color_mode", "interpolation", "on_bad_file")
    try:
        kwargs = {k: source[k] for k in keys}
        directory = source["data"]
    except (KeyError, TypeError):
        raise ValueError(f"source must be an ImageData.source record of load_folder. Received source={source!r}") \
            from None
    if source.get("test_fraction") is not None:
        kwargs["test_fraction"] = source["test_fraction"]
    data = load_folder(directory, tuple(kwargs.pop("image_size")), log=log, **kwargs)
    now = set(data.source["test_files"])
    base = source["test_dir"] or directory
    moved = [p for p in source.get("test_files", ()) if p not in now and os.path.exists(os.path.join(base, p))]
    if moved:
        raise ValueError(f"{len(moved)} recorded test file(s) of {base!r} are no longer in the test split "
                         f"(first: {moved[0]}); the split scheme changed. Received source['split']="
                         f"{source.get('split')!r}")
    return data
