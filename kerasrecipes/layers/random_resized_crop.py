"""Random-resized crop (Inception / ResNet "random crops and scales")."""

import math

import keras
from keras import ops


def _pair(name, value, low=0.0, high=None):
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (min, max) of numbers. Received {name}={value!r}") from None
    if not (low < lo <= hi) or (high is not None and hi > high):
        bound = f"{low} < min <= max" + (f" <= {high}" if high is not None else "")
        raise ValueError(f"{name} must satisfy {bound}. Received {name}={value!r}")
    return lo, hi


@keras.saving.register_keras_serializable(package="kerasrecipes")
class RandomResizedCrop(keras.layers.Layer):
    """Crop a random box of random area and aspect ratio, resized to a fixed size.

    The "random crops and scales" augmentation of the CNN recipes, as in Inception
    and torchvision's `RandomResizedCrop`: for each image, draw a target area
    fraction `s ~ U(scale)` and an aspect ratio `r` log-uniform in `ratio`, cut
    the box of `s * H * W` pixels with `width / height = r` at a uniform random
    position (10 tries per image; a box that never fits falls back to the largest
    centred box inside `ratio`), and resize it bilinearly to `(height, width)`.
    Every image of a batch gets its own box (Keras's `RandomCrop` cuts one box per
    batch and `RandomZoom` keeps the aspect ratio and pads instead of cropping;
    Keras has no random-resized crop, which this layer adds). At inference the
    whole image is resized to `(height, width)`: the identity when sizes agree.
    The resampling is two matrix products per image with interpolation weights
    (`keras.ops` only), so XLA compiles the layer under every backend.

    Args:
        height: Output height in pixels.
        width: Output width in pixels.
        scale: `(min, max)` fraction of the image area the box covers, in (0, 1].
            Defaults to `(0.08, 1.0)` (ImageNet's; use e.g. `(0.35, 1.0)` for
            28x28 or 32x32 images).
        ratio: `(min, max)` aspect ratio `width / height` of the box. Defaults to
            `(3/4, 4/3)`.
        interpolation: `"bilinear"` or `"nearest"`. Defaults to `"bilinear"`.
        seed: Optional integer seed.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:
    >>> layer = RandomResizedCrop(24, 24, scale=(0.5, 1.0))
    >>> layer(keras.ops.ones((2, 32, 32, 3)), training=True).shape
    (2, 24, 24, 3)
    """

    _ATTEMPTS = 10  # torchvision's number of tries before the centred fallback

    def __init__(self, height, width, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0),
                 interpolation="bilinear", seed=None, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("height", height), ("width", width)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive integer. Received {name}={value!r}")
        if interpolation not in ("bilinear", "nearest"):
            raise ValueError(
                f"interpolation must be 'bilinear' or 'nearest'. Received interpolation={interpolation!r}"
            )
        self.height = height
        self.width = width
        self.scale = _pair("scale", scale, 0.0, 1.0)
        self.ratio = _pair("ratio", ratio)
        self.interpolation = interpolation
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def _sample_boxes(self, batch_size, image_height, image_width):
        """Per-image boxes `(top, left, box_height, box_width)` in pixels, as float32."""
        shape = (batch_size, self._ATTEMPTS)
        area = float(image_height * image_width)
        target = area * keras.random.uniform(shape, *self.scale, seed=self.seed_generator)
        log_ratio = keras.random.uniform(
            shape, math.log(self.ratio[0]), math.log(self.ratio[1]), seed=self.seed_generator
        )
        aspect = ops.exp(log_ratio)
        box_w = ops.sqrt(target * aspect)
        box_h = ops.sqrt(target / aspect)
        fits = ops.logical_and(box_w <= image_width, box_h <= image_height)
        # First fitting try per image; argmax of a boolean row picks its first True.
        first = ops.argmax(ops.cast(fits, "int32"), axis=1)
        pick = ops.one_hot(first, self._ATTEMPTS, dtype="float32")
        any_fit = ops.any(fits, axis=1)
        box_w = ops.sum(box_w * pick, axis=1)
        box_h = ops.sum(box_h * pick, axis=1)
        # Fallback: the whole image, narrowed to the nearest allowed aspect ratio.
        in_ratio = image_width / image_height
        fb_w, fb_h = float(image_width), float(image_height)
        if in_ratio < self.ratio[0]:
            fb_h = image_width / self.ratio[0]
        elif in_ratio > self.ratio[1]:
            fb_w = image_height * self.ratio[1]
        box_w = ops.where(any_fit, box_w, fb_w)
        box_h = ops.where(any_fit, box_h, fb_h)
        u = keras.random.uniform((batch_size, 2), seed=self.seed_generator)
        top = ops.where(any_fit, u[:, 0] * (image_height - box_h), (image_height - box_h) / 2.0)
        left = ops.where(any_fit, u[:, 1] * (image_width - box_w), (image_width - box_w) / 2.0)
        return top, left, box_h, box_w

    def _taps(self, start, step, out_size, in_size):
        """`(B, out_size, in_size)` interpolation weights: output pixel `o` of image `b` from the input pixels.

        Output pixel `o` samples the input at `start + (o + 0.5) * step - 0.5`:
        pixel centres of the box map onto pixel centres of the output. The
        position is clamped to the image (taps past the edge repeat it), then
        bilinear weights are the tent `max(0, 1 - |position - pixel|)` and
        nearest is a one-hot. A matrix product with these resamples a batch
        with a box per image and XLA compiles it under every backend
        (`ops.image.affine_transform` is a TensorFlow op XLA cannot compile).
        """
        out = ops.arange(out_size, dtype="float32")
        position = start[:, None] + (out[None, :] + 0.5) * step[:, None] - 0.5
        position = ops.clip(position, 0.0, float(in_size - 1))[:, :, None]
        pixels = ops.arange(in_size, dtype="float32")[None, None, :]
        if self.interpolation == "nearest":
            weights = ops.cast(ops.equal(ops.floor(position + 0.5), pixels), "float32")
        else:
            weights = ops.relu(1.0 - ops.abs(position - pixels))
        return ops.cast(weights, self.compute_dtype)

    def call(self, inputs, training=False):
        unbatched = len(inputs.shape) == 3
        images = inputs[None] if unbatched else inputs
        images = ops.cast(images, self.compute_dtype)
        image_height, image_width = images.shape[1], images.shape[2]
        if image_height is None or image_width is None:
            raise ValueError(
                f"RandomResizedCrop needs a known image height and width. Received input shape {inputs.shape}"
            )
        if training:
            batch_size = ops.shape(images)[0]
            top, left, box_h, box_w = self._sample_boxes(batch_size, image_height, image_width)
            rows = self._taps(top, box_h / self.height, self.height, image_height)
            cols = self._taps(left, box_w / self.width, self.width, image_width)
            outputs = ops.einsum("boh,bhwc->bowc", rows, images)
            outputs = ops.einsum("bpw,bowc->bopc", cols, outputs)
        elif (image_height, image_width) == (self.height, self.width):
            outputs = images
        else:
            outputs = ops.image.resize(images, (self.height, self.width), interpolation=self.interpolation)
        return outputs[0] if unbatched else outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update({
            "height": self.height, "width": self.width, "scale": list(self.scale),
            "ratio": list(self.ratio), "interpolation": self.interpolation, "seed": self.seed,
        })
        return config
