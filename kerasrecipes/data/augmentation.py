"""Augmentation presets built from Keras's own preprocessing layers."""

import keras

from kerasrecipes.data._checks import check_choice, check_seed

PRESETS = ("none", "light", "standard", "strong", "natural")
_FLIPS = {True: "horizontal", False: None, "horizontal": "horizontal", "vertical": "vertical",
          "horizontal_and_vertical": "horizontal_and_vertical"}


def augmentation(preset="standard", input_shape=None, *, flip=True, pad=4, value_range=(0, 1), seed=None):
    """A `keras.Sequential` of augmentation layers for a named preset.

    - `"none"`: the identity.
    - `"light"`: horizontal flip + pad-and-crop translation by up to `pad` pixels
      (the CIFAR ResNet recipe).
    - `"standard"`: light + cutout (`RandomErasing` of up to a quarter of the
      image, zero-filled, on half of the images).
    - `"strong"`: standard + colour jitter (`RandomColorJitter`: brightness,
      contrast, saturation, hue) on RGB images, or brightness and contrast only on
      grayscale ones: no colour op ever sees a 1-channel image.
    - `"natural"`: for photos from about 64 px up: horizontal flip, the random
      crops and scales of Inception and the ResNet ImageNet recipe
      (`kerasrecipes.layers.RandomResizedCrop`, 35-100 % of the area, aspect
      3/4-4/3) and colour jitter (`kerasrecipes.layers.RandomHSV`) on RGB
      images, or brightness and contrast on grayscale ones; `pad` is unused
      (the crop already shifts).

    Everything here is a Keras layer (serializable, identity at inference, usable
    inside a model or a tf.data pipeline under any backend) that compiles with
    XLA, so it runs inside the training step (`models.Augmented`). Pad-and-crop
    is `kerasrecipes.layers.RandomShift`: every image gets its own whole-pixel
    shift, zero-padding by `pad` and cropping at a random offset (Keras's
    `RandomTranslation` does the same but refuses XLA, and `RandomCrop` after
    `ZeroPadding2D` would shift the whole batch by one offset).

    Args:
        preset: One of `"none"`, `"light"`, `"standard"`, `"strong"`.
            Defaults to `"standard"`.
        input_shape: `(H, W, C)` of the images; tells grayscale from RGB.
            Required for `"strong"` and `"natural"`.
        flip: `True` (horizontal), `False` (no flip: for digits, text, or
            anything whose label a mirror changes), or a `keras.layers.RandomFlip`
            mode string. Defaults to `True`.
        pad: Maximum shift in pixels for pad-and-crop. Defaults to `4`.
        value_range: `(low, high)` of the pixel values. Defaults to `(0, 1)`.
        seed: Optional integer seed; layer `i` gets `seed + i`.

    Returns:
        A `keras.Sequential` named `augmentation_<preset>`.

    Example:
    >>> augment = augmentation("standard", (28, 28, 1))
    >>> model = keras.Sequential([keras.Input((28, 28, 1)), augment, ...])
    """
    check_seed(seed)
    check_choice(preset, "preset", PRESETS)
    if flip not in _FLIPS:
        raise ValueError(f"flip must be True, False or one of {list(_FLIPS)[2:]}. Received flip={flip!r}")
    if isinstance(pad, bool) or not isinstance(pad, int) or pad < 0:
        raise ValueError(f"pad must be a non-negative integer of pixels. Received pad={pad!r}")
    if input_shape is not None:
        if (not isinstance(input_shape, (tuple, list)) or len(input_shape) != 3
                or not all(isinstance(d, int) and d > 0 for d in input_shape)):
            raise ValueError(f"input_shape must be (height, width, channels). Received input_shape={input_shape!r}")
    elif preset in ("strong", "natural"):
        raise ValueError(
            f"preset={preset!r} needs input_shape to tell RGB from grayscale. Received input_shape=None"
        )
    try:
        low, high = (float(v) for v in value_range)
    except (TypeError, ValueError):
        raise ValueError(f"value_range must be (low, high). Received value_range={value_range!r}") from None
    if not low < high:
        raise ValueError(f"value_range must have low < high. Received value_range={value_range!r}")
    value_range = (low, high)

    seeds = iter(range(seed, seed + 100) if seed is not None else [None] * 100)
    layers = []
    if preset == "natural":
        return _natural(input_shape, flip, value_range, seeds)
    if preset != "none":
        if _FLIPS[flip]:
            layers.append(keras.layers.RandomFlip(_FLIPS[flip], seed=next(seeds)))
        if pad:
            from kerasrecipes.layers import RandomShift

            layers.append(RandomShift(pad, fill_value=low, seed=next(seeds)))
    if preset in ("standard", "strong"):
        # Cutout: erase a box of 2-25 % of the image on half of the images, filled
        # with the darkest value (the background of Fashion-MNIST and MNIST).
        layers.append(keras.layers.RandomErasing(
            factor=(0.5, 0.5), scale=(0.02, 0.25), fill_value=low,
            value_range=value_range, seed=next(seeds)))
    if preset == "strong":
        if input_shape[-1] == 3:
            layers.append(keras.layers.RandomColorJitter(
                value_range=value_range, brightness_factor=0.2, contrast_factor=0.2,
                saturation_factor=(0.35, 0.65), hue_factor=(0.0, 0.05), seed=next(seeds)))
        else:
            layers.append(keras.layers.RandomBrightness(0.2, value_range=value_range, seed=next(seeds)))
            layers.append(keras.layers.RandomContrast(0.2, value_range=value_range, seed=next(seeds)))
    if not layers:
        layers.append(keras.layers.Identity())
    if input_shape is not None:
        layers.insert(0, keras.Input(tuple(input_shape)))
    return keras.Sequential(layers, name=f"augmentation_{preset}")


def _natural(input_shape, flip, value_range, seeds):
    """The `"natural"` preset: flip, random-resized crop, colour jitter (see `augmentation`)."""
    from kerasrecipes.layers import RandomHSV, RandomResizedCrop

    height, width, channels = input_shape
    layers = [keras.Input(tuple(input_shape))]
    if _FLIPS[flip]:
        layers.append(keras.layers.RandomFlip(_FLIPS[flip], seed=next(seeds)))
    # 35 % of the area at least (ImageNet's 8 % loses the object in a small image).
    layers.append(RandomResizedCrop(height, width, scale=(0.35, 1.0), seed=next(seeds)))
    if channels == 3:
        # Narrower than RandomHSV's defaults (the Deep Image ranges quoted in Wei's "Must Know
        # Tips/Tricks"), as colour is often part of a photo's class; not tuned here.
        layers.append(RandomHSV(power=(0.7, 1.4), scale=(0.8, 1.25), shift=(-0.05, 0.05),
                                hue_shift=(-0.03, 0.03), value_range=value_range, seed=next(seeds)))
    else:
        layers.append(keras.layers.RandomBrightness(0.2, value_range=value_range, seed=next(seeds)))
        layers.append(keras.layers.RandomContrast(0.2, value_range=value_range, seed=next(seeds)))
    return keras.Sequential(layers, name="augmentation_natural")
