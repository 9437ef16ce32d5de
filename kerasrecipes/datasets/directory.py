"""A user's own images, one folder per class, as batches for `fit`: Keras's interface on `load_folder`'s checks."""

import math
import os

import numpy as np

from kerasrecipes.datasets import folder

_COLOR_MODES = ("grayscale", "rgb", "rgba")
_LABEL_MODES = ("int", "categorical", "binary", None)
# keras.utils.image_dataset_from_directory's arguments that this function does not take (see the docstring).
_KERAS_ONLY = ("labels", "subset", "crop_to_aspect_ratio", "pad_to_aspect_ratio", "data_format", "format",
               "follow_links")


def from_directory(
    directory,
    image_size=(224, 224),
    batch_size=32,
    validation_split=None,
    seed=None,
    color_mode="rgb",
    shuffle=True,
    *,
    label_mode="int",
    class_names=None,
    interpolation="bilinear",
    on_bad_file="raise",
    verbose=True,
    log=None,
    decoder=None,
    memory_limit=None,
    cache_dir=None,
    **kwargs,
):
    """Read `directory/<class name>/*.jpg|png|...` as `keras.utils.image_dataset_from_directory` does, checked first.

    A thin layer over `load_folder`'s machinery (`datasets.folder`): the same
    folder index, the same header check of every file before anything is
    decoded, the same decoders and memory-map cache. What it adds to Keras's
    function:

    - bad files are found first and named: a zero-byte `zero.jpg`, a text file
      named `fake.png` or a truncated image is a `ValueError` listing each path
      and why (Keras fails mid-epoch inside TensorFlow, naming no file), or with
      `on_bad_file="skip"` is left out and counted in one line;
    - it needs no TensorFlow: under Keras's TensorFlow backend it returns a
      `tf.data.Dataset`, as Keras does; under another backend (a JAX machine
      without TensorFlow) a `keras.utils.PyDataset`, which `fit` takes on
      every backend; the pixels are the same either way;
    - the folder and arguments are checked before any work (a missing folder,
      no class subfolders, a bad size: a `ValueError` echoing the value), and a
      seed is filled in for the split so both halves come from one shuffle.

    The split is Keras's (the files shuffled with `seed`, the last
    `validation_split` of them held out), the batches float32 in [0, 255] as
    Keras's, reshuffled every epoch when `shuffle`. Images are decoded once,
    into uint8 arrays in memory (or a memory map when they do not fit), not
    streamed from disk. `labels`, `subset`, `crop_to_aspect_ratio`,
    `pad_to_aspect_ratio`, `data_format`, `format` and `follow_links` are not
    taken: use `keras.utils.image_dataset_from_directory` for those (without
    these checks).

    Args:
        directory: Folder holding one subfolder of images per class.
        image_size: `(height, width)` every image is resized to.
            Defaults to `(224, 224)`.
        batch_size: Images per batch. Defaults to `32`.
        validation_split: Optional fraction in (0, 1) held out for validation.
        seed: Seed for shuffling and the split; defaults to `1337` when a split
            is asked for, so the two halves never overlap.
        color_mode: `"grayscale"`, `"rgb"` or `"rgba"`. Defaults to `"rgb"`.
        shuffle: Whether to shuffle. Defaults to `True`.
        label_mode: `"int"`, `"categorical"`, `"binary"` or `None` (images
            only), as Keras's. Defaults to `"int"`.
        class_names: Optional list of the class folder names, in label order.
        interpolation: A `tf.image.resize` method. Defaults to `"bilinear"`.
        on_bad_file: `"raise"` or `"skip"`, as `load_folder`'s. Defaults to `"raise"`.
        verbose: Print how many files and classes were found, as Keras does.
            Defaults to `True`.
        log: Where one-line messages go. Defaults to `print`.
        decoder: `"tensorflow"`, `"pillow"` or `None` (TensorFlow under
            Keras's TensorFlow backend), as `load_folder`'s.
        memory_limit, cache_dir: As `load_folder`'s.

    Returns:
        One dataset of `(images, labels)` batches, or a `(train, validation)`
        pair when `validation_split` is given; each has `class_names`,
        `file_paths` (the files it holds, in their unshuffled order) and
        `skipped` (the bad files left out).

    Example:
    >>> train, val = from_directory("photos/", image_size=(64, 64), validation_split=0.2)
    >>> train.class_names
    ['cats', 'dogs']
    """
    log = log or print
    directory = os.fspath(directory)
    unknown = sorted(kwargs)
    if unknown:
        keras_only = [k for k in unknown if k in _KERAS_ONLY]
        raise ValueError(
            f"from_directory does not take {', '.join(unknown)}"
            + (" (keras.utils.image_dataset_from_directory does, without the file checks)" if keras_only else "")
            + f". Received {', '.join(f'{k}={kwargs[k]!r}' for k in unknown)}")
    if not os.path.isdir(directory):
        raise ValueError(f"directory does not exist or is not a folder. Received directory={directory!r}")
    if (
        not isinstance(image_size, (tuple, list)) or len(image_size) != 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in image_size)
    ):
        raise ValueError(f"image_size must be two positive integers (height, width). Received image_size={image_size!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received batch_size={batch_size!r}")
    if validation_split is not None and not 0.0 < float(validation_split) < 1.0:
        raise ValueError(f"validation_split must lie in (0, 1). Received validation_split={validation_split!r}")
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"color_mode must be one of {_COLOR_MODES}. Received color_mode={color_mode!r}")
    if label_mode not in _LABEL_MODES:
        raise ValueError(f"label_mode must be one of {_LABEL_MODES}. Received label_mode={label_mode!r}")
    if interpolation not in folder._decode.METHODS:
        raise ValueError(f"interpolation must be a tf.image.resize method. Received interpolation={interpolation!r}")
    if on_bad_file not in folder.ON_BAD_FILE:
        raise ValueError(f"on_bad_file must be 'raise' or 'skip'. Received on_bad_file={on_bad_file!r}")
    decoder = folder._check_decoder(decoder)

    names, paths, labels = folder.index(directory, class_names)
    if label_mode == "binary" and len(names) != 2:
        raise ValueError(f"label_mode='binary' needs exactly 2 classes; {directory!r} has {len(names)}: "
                         f"{', '.join(names)}. Received label_mode='binary'")
    if verbose:
        log(f"Found {len(paths)} files belonging to {len(names)} classes.")
    # Keras's order and split: the files shuffled once with the seed, the last fraction held out.
    if validation_split is not None and seed is None:
        seed = 1337
    if shuffle and seed is None:
        seed = int(np.random.randint(1e6))
    if shuffle:
        order = np.random.RandomState(seed).permutation(len(paths))
        paths, labels = [paths[i] for i in order], labels[order]
    subsets = {"training": (paths, labels)}
    if validation_split is not None:
        held = int(validation_split * len(paths))
        if held == 0 or held == len(paths):
            raise ValueError(f"validation_split={validation_split!r} of {len(paths)} files leaves {held} for "
                             "validation; both parts need one")
        subsets = {"training": (paths[:-held], labels[:-held]), "validation": (paths[-held:], labels[-held:])}

    # Every header first, the bad files named before the (far costlier) decode pass, as load_folder does.
    _, bad = folder.check_files(directory, paths, decoder)
    if bad and on_bad_file == "raise":
        raise folder._bad_error(directory, {os.path.join(directory, p): reason for p, reason in bad.items()})
    channels = {"grayscale": 1, "rgb": 3, "rgba": 4}[color_mode]
    out, skipped = [], {}
    for what, (subset_paths, subset_labels) in subsets.items():
        x, y, kept, subset_bad = folder._read_split(
            directory, subset_paths, subset_labels, {p: r for p, r in bad.items() if p in set(subset_paths)},
            tuple(image_size), channels, interpolation, on_bad_file, memory_limit=memory_limit,
            cache_dir=cache_dir, log=log, what=what, decoder=decoder)
        skipped.update({os.path.join(directory, p): reason for p, reason in subset_bad.items()})
        if validation_split is not None and verbose:
            log(f"Using {len(kept)} files for {what}.")
        out.append((x, y, [os.path.join(directory, p) for p in kept]))
    if skipped:
        first = sorted(skipped)[0]
        log(f"skipped {len(skipped)} bad file(s) of {len(paths)} under {directory} (first: {first}: {skipped[first]})")
    datasets = [_dataset(_Batches(x, y, batch_size, shuffle, seed, label_mode, len(names)), names, files,
                         sorted(skipped)) for x, y, files in out]
    return tuple(datasets) if validation_split is not None else datasets[0]


class _Batches:
    """Batches of decoded images: float32 in [0, 255] with labels as `label_mode` says, a new order each epoch."""

    def __init__(self, x, y, batch_size, shuffle, seed, label_mode, num_classes):
        self.x, self.y, self.batch_size, self.shuffle = x, np.asarray(y), batch_size, shuffle
        self.seed, self.label_mode, self.num_classes = seed, label_mode, num_classes

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def order(self, epoch):
        if not self.shuffle:
            return np.arange(len(self.x))
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.x))

    def batch(self, order, i):
        where = order[i * self.batch_size:(i + 1) * self.batch_size]
        # A memory map reads fastest in file order; the batch's own order does not matter to training.
        images = np.asarray(self.x[np.sort(where)] if isinstance(self.x, np.memmap) else self.x[where], np.float32)
        if self.label_mode is None:
            return images
        labels = self.y[np.sort(where)] if isinstance(self.x, np.memmap) else self.y[where]
        if self.label_mode == "int":
            labels = labels.astype(np.int32)
        elif self.label_mode == "binary":
            labels = labels.astype(np.float32)[:, None]
        else:
            labels = np.eye(self.num_classes, dtype=np.float32)[labels]
        return images, labels


def _dataset(batches, class_names, file_paths, skipped):
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        dataset = _tf_dataset(tf, batches)
    else:  # no TensorFlow needed: a PyDataset, which fit takes on every backend
        dataset = _py_dataset_class()(batches)
    dataset.class_names, dataset.file_paths, dataset.skipped = class_names, file_paths, skipped
    return dataset


def _tf_dataset(tf, batches):
    epochs = [0]

    def generate():
        order = batches.order(epochs[0])  # a new order each time fit opens the dataset
        epochs[0] += 1
        for i in range(len(batches)):
            yield batches.batch(order, i)

    image = tf.TensorSpec((None, *batches.x.shape[1:]), tf.float32)
    label = {"int": tf.TensorSpec((None,), tf.int32), "binary": tf.TensorSpec((None, 1), tf.float32),
             "categorical": tf.TensorSpec((None, batches.num_classes), tf.float32), None: None}[batches.label_mode]
    signature = image if label is None else (image, label)
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(tf.data.AUTOTUNE)


def _py_dataset_class():
    import keras

    class FolderDataset(keras.utils.PyDataset):
        """The batches as a `keras.utils.PyDataset` (no TensorFlow needed), reshuffled at each epoch's end."""

        def __init__(self, batches):
            super().__init__()
            self.batches, self.epoch = batches, 0
            self._order = batches.order(0)

        def __len__(self):
            return len(self.batches)

        def __getitem__(self, i):
            if i >= len(self.batches):
                raise IndexError(i)
            return self.batches.batch(self._order, i)

        def on_epoch_end(self):
            self.epoch += 1
            self._order = self.batches.order(self.epoch)

    return FolderDataset

