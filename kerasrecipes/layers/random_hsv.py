"""HSV power / scale / shift jitter, as Wei's "Must Know Tips/Tricks" quotes it."""

import math

import keras
from keras import ops


def _range(name, value, positive=False):
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (min, max) of numbers. Received {name}={value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi or (positive and lo <= 0):
        need = "0 < min <= max" if positive else "min <= max"
        raise ValueError(f"{name} must satisfy {need}. Received {name}={value!r}")
    return lo, hi


@keras.saving.register_keras_serializable(package="kerasrecipes")
class RandomHSV(keras.layers.Layer):
    """Random HSV jitter: power, scale and shift of S and V, shift of H.

    The colour augmentation of Wu et al.'s "Deep Image", quoted in Wei's "Must Know
    Tips/Tricks": per image, raise saturation and value (the S and V of HSV) to a power
    in [0.25, 4], multiply them by a factor in [0.7, 1.4], add a value in
    [-0.1, 0.1], and add a value in [-0.1, 0.1] to the hue (wrapping around).
    S and V draw their own power, factor and shift; the power is drawn
    log-uniformly, so 1 is its median. Keras's `RandomColorJitter`,
    `RandomSaturation` and `RandomBrightness` scale or shift but cannot apply a
    power (a gamma curve on S and V); this layer adds that recipe and otherwise
    follows Keras's colour layers (`value_range`, identity at inference).

    Args:
        power: `(min, max)` exponent for S and V, positive. Defaults to `(0.25, 4.0)`.
        scale: `(min, max)` factor for S and V. Defaults to `(0.7, 1.4)`.
        shift: `(min, max)` offset for S and V (HSV units, [0, 1]).
            Defaults to `(-0.1, 0.1)`.
        hue_shift: `(min, max)` offset for H, in turns. Defaults to `(-0.1, 0.1)`.
        value_range: `(low, high)` of the RGB inputs. Defaults to `(0, 1)`.
        seed: Optional integer seed.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:
    >>> layer = RandomHSV(value_range=(0, 255))
    >>> layer(keras.ops.ones((2, 8, 8, 3)) * 128, training=True).shape
    (2, 8, 8, 3)
    """

    def __init__(self, power=(0.25, 4.0), scale=(0.7, 1.4), shift=(-0.1, 0.1),
                 hue_shift=(-0.1, 0.1), value_range=(0, 1), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.power = _range("power", power, positive=True)
        self.scale = _range("scale", scale)
        self.shift = _range("shift", shift)
        self.hue_shift = _range("hue_shift", hue_shift)
        self.value_range = _range("value_range", value_range)
        if self.value_range[0] == self.value_range[1]:
            raise ValueError(f"value_range must have low < high. Received value_range={value_range!r}")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if input_shape[-1] != 3:
            raise ValueError(
                f"RandomHSV needs RGB images with 3 channels (channels last). Received shape {input_shape}"
            )

    def _uniform(self, shape, bounds):
        return keras.random.uniform(shape, bounds[0], bounds[1], seed=self.seed_generator)

    def call(self, inputs, training=False):
        if not training:
            return inputs
        x = ops.cast(inputs, self.compute_dtype)
        unbatched = len(x.shape) == 3
        if unbatched:
            x = x[None]
        low, high = self.value_range
        rgb = ops.clip((x - low) / (high - low), 0.0, 1.0)
        hsv = ops.image.rgb_to_hsv(rgb)
        shape = (ops.shape(x)[0], 1, 1, 2)
        log_lo, log_hi = math.log(self.power[0]), math.log(self.power[1])
        power = ops.exp(self._uniform(shape, (log_lo, log_hi)))
        sv = ops.power(hsv[..., 1:], power) * self._uniform(shape, self.scale) + self._uniform(shape, self.shift)
        sv = ops.clip(sv, 0.0, 1.0)
        hue = hsv[..., :1] + self._uniform((shape[0], 1, 1, 1), self.hue_shift)
        hue = hue - ops.floor(hue)  # wrap around the colour circle
        out = ops.image.hsv_to_rgb(ops.concatenate([hue, sv], axis=-1)) * (high - low) + low
        return out[0] if unbatched else out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "power": list(self.power), "scale": list(self.scale), "shift": list(self.shift),
            "hue_shift": list(self.hue_shift), "value_range": list(self.value_range), "seed": self.seed,
        })
        return config
