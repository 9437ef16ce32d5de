"""A prefetching tf.data input pipeline with augmentation and MixUp / CutMix."""

import keras
import numpy as np

from kerasrecipes.data._checks import check_alpha, check_array, check_bool, check_labels, check_positive_int, check_seed
from kerasrecipes.data.augmentation import augmentation
from kerasrecipes.layers import RandomShift


def _keras_only(layer):
    """Whether every layer inside runs in tf.data under any backend: Keras's own, or a `RandomShift` (`_tf_data_step`)."""
    inner = getattr(layer, "layers", None)
    if inner is not None and isinstance(layer, keras.Sequential):
        return all(_keras_only(sub) for sub in inner)
    return type(layer).__module__.startswith("keras.") or isinstance(layer, RandomShift)


def _tf_data_step(step, height, width):
    """`step`, or under a backend other than TensorFlow, Keras's `RandomTranslation` in place of a `RandomShift`.

    `RandomShift` runs the backend's ops, which cannot take tf.data's graph
    tensors under JAX; Keras's own layers switch to TensorFlow there. Inside
    tf.data XLA does not matter, so `RandomTranslation` with constant fill and
    nearest interpolation does the same whole-pixel shift (its `±pad` ends
    come half as often, as its shift is a rounded uniform draw).
    """
    if not isinstance(step, RandomShift) or keras.backend.backend() == "tensorflow":
        return step
    return keras.layers.RandomTranslation(
        step.pad[0] / height, step.pad[1] / width, fill_mode="constant", fill_value=step.fill_value,
        interpolation="nearest", seed=step.seed)


def _steps(layer):
    """The leaf layers of `layer` in call order (a `keras.Sequential` flattened, nested ones too).

    Keras's preprocessing layers switch to TensorFlow ops inside tf.data whatever
    the backend, but a `Sequential` holding them does not: under JAX it would run
    them on symbolic `tf.Tensor`s through JAX. Calling the leaves one by one works
    under every backend.
    """
    if isinstance(layer, keras.Sequential):
        return [leaf for sub in layer.layers for leaf in _steps(sub)]
    return [layer]


def pipeline(x, y=None, batch_size=128, augment=None, mixup=None, cutmix=None, shuffle=True,
             seed=None, num_classes=None, rescale="auto", flip=True, drop_remainder=False):
    """Build a shuffled, batched, augmented, prefetching `tf.data.Dataset` for `model.fit`.

    Images stay uint8 in memory and are cast, rescaled and augmented per batch in
    parallel `map` calls, then prefetched, so the accelerator does not wait on
    them. With `mixup` and/or `cutmix`, labels become one-hot and are mixed in
    the same proportion as the images (Keras's `MixUp` and `CutMix` layers);
    given both, each batch uses one of them at random (timm's switch, p = 0.5).
    Train with `categorical_crossentropy` then; otherwise labels stay integer
    (`sparse_categorical_crossentropy`).

    Args:
        x: Images `(N, H, W, C)` (or samples `(N, D)` without augmentation).
        y: Integer labels `(N,)`, or `None` for an image-only dataset.
        batch_size: Samples per batch. Defaults to `128`.
        augment: `None`, a preset name for `augmentation()` (`"light"`, ...), or
            any Keras layer / `keras.Sequential` called with `training=True`.
        mixup: `None`, the Beta alpha of MixUp (e.g. `0.2`), or a
            `keras.layers.MixUp` (pass your own to keep a handle on its random
            state, as `runs.train` does to resume it).
        cutmix: `None`, the Beta alpha of CutMix (e.g. `1.0`), or a
            `keras.layers.CutMix`.
        shuffle: Reshuffle every epoch. Defaults to `True`.
        seed: Optional integer seed for shuffling and the preset's layers.
        num_classes: Classes for one-hot labels; defaults to `max(y) + 1`.
        rescale: Factor the pixels are multiplied by. `"auto"`: `1/255` for
            integer images (so presets see [0, 1]), `1` for float ones.
        flip: Passed to `augmentation()` for a preset; `False` for digits.
            Defaults to `True`.
        drop_remainder: Drop the last incomplete batch. Defaults to `False`.

    Returns:
        A `tf.data.Dataset` of `(images, labels)` (or images) batches.

    Example:
    >>> ds = pipeline(x_train, y_train, 128, augment="standard", mixup=0.2)
    >>> model.compile(loss="categorical_crossentropy", ...)
    >>> model.fit(ds, epochs=10)
    """
    x = check_array(x, "x", ranks=(2, 3, 4))
    batch_size = check_positive_int(batch_size, "batch_size")
    if not isinstance(mixup, keras.layers.MixUp):
        mixup = check_alpha(mixup, "mixup")
    if not isinstance(cutmix, keras.layers.CutMix):
        cutmix = check_alpha(cutmix, "cutmix")
    mixing = mixup is not None or cutmix is not None
    if y is None:
        if mixing:
            raise ValueError("mixup and cutmix mix labels, so they need y. Received y=None")
    else:
        y = check_labels(y, "y", length=len(x), num_classes=num_classes)
        num_classes = num_classes or int(y.max()) + 1
    check_bool(shuffle, "shuffle")
    check_bool(drop_remainder, "drop_remainder")
    check_seed(seed)
    if rescale == "auto":
        rescale = 1.0 / 255.0 if x.dtype.kind in "iu" else 1.0
    elif isinstance(rescale, bool) or not isinstance(rescale, (int, float)) or not np.isfinite(rescale):
        raise ValueError(f"rescale must be 'auto' or a finite number. Received rescale={rescale!r}")
    if isinstance(augment, str):
        augment = None if augment == "none" else augmentation(
            augment, tuple(x.shape[1:]) if x.ndim == 4 else None, flip=flip, seed=seed)
    elif augment is not None and not isinstance(augment, keras.layers.Layer):
        raise ValueError(f"augment must be None, a preset name or a Keras layer. Received augment={augment!r}")
    if (augment is not None or cutmix is not None) and x.ndim != 4:
        raise ValueError(f"augment and cutmix need images (N, H, W, C). Received x of shape {x.shape}")
    if augment is not None and keras.backend.backend() != "tensorflow" and not _keras_only(augment):
        raise ValueError(
            "augment holds layers that are not Keras's own; under the "
            f"{keras.backend.backend()!r} backend they cannot run inside tf.data. Put them "
            "at the start of the model instead (they are identities at inference)."
        )

    import tensorflow as tf

    data = (x,) if y is None else (x, y.astype(np.int32))
    ds = tf.data.Dataset.from_tensor_slices(data)
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    mixers = []
    if mixup is not None:
        mixers.append(mixup if isinstance(mixup, keras.layers.Layer) else keras.layers.MixUp(alpha=mixup, seed=seed))
    if cutmix is not None:
        mixers.append(cutmix if isinstance(cutmix, keras.layers.Layer)
                      else keras.layers.CutMix(factor=(cutmix, cutmix), seed=seed))

    steps = [] if augment is None else [_tf_data_step(step, x.shape[1], x.shape[2]) for step in _steps(augment)]

    def prepare(images, labels=None):
        images = tf.cast(images, tf.float32) * rescale
        for step in steps:
            images = step(images, training=True)
        if labels is None:
            return images
        if not mixers:
            return images, labels
        labels = tf.one_hot(labels, num_classes, dtype=tf.float32)

        def mix(layer):
            return lambda: layer({"images": images, "labels": labels}, training=True)

        if len(mixers) == 1:
            out = mixers[0]({"images": images, "labels": labels}, training=True)
        else:
            out = tf.cond(tf.random.uniform(()) < 0.5, mix(mixers[0]), mix(mixers[1]))
        return out["images"], out["labels"]

    ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
