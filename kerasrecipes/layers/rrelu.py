"""Randomized leaky ReLU (RReLU)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerasrecipes")
class RReLU(keras.layers.Layer):
    """Randomized leaky ReLU, as used by the Kaggle NDSB winner (Xu et al. 2015).

    In training, every negative input is divided by its own `a ~ U(lower, upper)`,
    drawn afresh per element and per call. At inference the negative part is
    divided by the fixed `(lower + upper) / 2`, i.e. a leaky ReLU of slope
    `2 / (lower + upper)` (2/11 with the defaults). Keras has LeakyReLU and PReLU
    but no randomized variant; this layer adds it.

    Args:
        lower: Lower bound of the divisor `a`. Defaults to `3.0`.
        upper: Upper bound of the divisor `a`. Defaults to `8.0`.
        seed: Optional integer seed for the random divisors.
        **kwargs: Base layer keyword arguments, such as `name` and `dtype`.

    Example:
    >>> layer = RReLU()
    >>> layer(keras.ops.convert_to_tensor([[-11.0, 2.0]]))  # inference: slope 2/11
    <... [[-2.,  2.]] ...>
    """

    def __init__(self, lower=3.0, upper=8.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 < float(lower) <= float(upper):
            raise ValueError(
                "RReLU needs 0 < lower <= upper (the negative part is divided "
                f"by a ~ U(lower, upper)). Received lower={lower}, upper={upper}"
            )
        self.lower = float(lower)
        self.upper = float(upper)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training:
            divisor = keras.random.uniform(
                ops.shape(inputs),
                minval=self.lower,
                maxval=self.upper,
                dtype=inputs.dtype,
                seed=self.seed_generator,
            )
        else:
            divisor = (self.lower + self.upper) / 2.0
        return ops.where(inputs >= 0, inputs, inputs / divisor)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"lower": self.lower, "upper": self.upper, "seed": self.seed})
        return config
