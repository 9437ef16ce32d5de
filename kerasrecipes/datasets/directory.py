"""A user's own images, one folder per class, as tf.data datasets."""

import os

_COLOR_MODES = ("grayscale", "rgb", "rgba")


def from_directory(
    directory,
    image_size=(224, 224),
    batch_size=32,
    validation_split=None,
    seed=None,
    color_mode="rgb",
    shuffle=True,
    **kwargs,
):
    """Read `directory/<class name>/*.jpg|png|...` with `keras.utils.image_dataset_from_directory`.

    What it adds to Keras's function: it checks the folder and arguments first
    (a missing folder or one without class subfolders is a `ValueError` that says
    so, not a TensorFlow error), fills in a seed for the training/validation split
    so both halves come from the same shuffle, and returns datasets that
    prefetch, with `class_names` kept on them.

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
        **kwargs: Passed on to `keras.utils.image_dataset_from_directory`
            (e.g. `interpolation`, `crop_to_aspect_ratio`, `label_mode`).

    Returns:
        One `tf.data.Dataset` of `(images, labels)` batches, or a
        `(train, validation)` pair when `validation_split` is given. Images are
        float32 in [0, 255]; `dataset.class_names` lists the classes.

    Example:
    >>> train, val = from_directory("photos/", image_size=(64, 64), validation_split=0.2)
    >>> train.class_names
    ['cats', 'dogs']
    """
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        raise ValueError(f"directory does not exist or is not a folder. Received directory={directory!r}")
    classes = sorted(d for d in os.listdir(directory) if os.path.isdir(os.path.join(directory, d)))
    if kwargs.get("labels", "inferred") == "inferred" and not classes:
        raise ValueError(
            "directory has no class subfolders; expected directory/<class name>/<images>. "
            f"Received directory={directory!r}"
        )
    if (
        not isinstance(image_size, (tuple, list)) or len(image_size) != 2
        or not all(isinstance(s, int) and s > 0 for s in image_size)
    ):
        raise ValueError(f"image_size must be two positive integers (height, width). Received image_size={image_size!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received batch_size={batch_size!r}")
    if validation_split is not None and not 0.0 < float(validation_split) < 1.0:
        raise ValueError(f"validation_split must lie in (0, 1). Received validation_split={validation_split!r}")
    if color_mode not in _COLOR_MODES:
        raise ValueError(f"color_mode must be one of {_COLOR_MODES}. Received color_mode={color_mode!r}")

    import keras
    import tensorflow as tf

    if validation_split is not None and seed is None:
        seed = 1337
    result = keras.utils.image_dataset_from_directory(
        directory,
        image_size=tuple(image_size),
        batch_size=batch_size,
        validation_split=validation_split,
        subset="both" if validation_split is not None else None,
        seed=seed,
        color_mode=color_mode,
        shuffle=shuffle,
        **kwargs,
    )
    datasets = result if isinstance(result, (list, tuple)) else [result]
    out = []
    for ds in datasets:
        names = getattr(ds, "class_names", None)
        ds = ds.prefetch(tf.data.AUTOTUNE)
        ds.class_names = names
        out.append(ds)
    return tuple(out) if validation_split is not None else out[0]
