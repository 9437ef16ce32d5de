"""Pad-and-crop translation by whole pixels, per image, that compiles with XLA."""

import keras
from keras import ops


def _pads(pad):
    pads = (pad, pad) if not isinstance(pad, (tuple, list)) else tuple(pad)
    if len(pads) != 2 or any(isinstance(p, bool) or not isinstance(p, int) or p < 0 for p in pads):
        raise ValueError(f"pad must be a non-negative integer or a pair of them (rows, columns). Received pad={pad!r}")
    return pads


@keras.saving.register_keras_serializable(package="kerasrecipes")
class RandomShift(keras.layers.Layer):
    """Zero-pad by `pad` pixels and crop back at a random offset: each image its own whole-pixel shift.

    The translation of the CIFAR ResNet recipe (pad 4, random 32x32 crop) and
    of cs231n's augmentation list, done for a whole batch at once as airbench
    does: each image is moved by `dy, dx` drawn uniformly from `[-pad, pad]`,
    pixels moved in from outside get `fill_value`. What it adds to Keras:
    `keras.layers.RandomTranslation` does the same shift but sets
    `supports_jit = False`, and one such layer turns XLA off for a whole
    training step under JAX; `RandomCrop` after `ZeroPadding2D` shifts the
    whole batch by one offset and resizes at inference. Here the shift is two
    batched products with one-hot shift matrices (`keras.ops.einsum`): exact
    for whole pixels, in any float dtype, on every backend, inside XLA.
    Identity at inference.

    Args:
        pad: Largest shift in pixels: an int, or `(rows, columns)`.
        fill_value: Value of the pixels shifted in. Defaults to `0.0` (the
            background of Fashion-MNIST and MNIST in [0, 1]).
        seed: Optional integer seed.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:
    >>> layer = RandomShift(2, seed=0)
    >>> layer(keras.ops.ones((4, 28, 28, 1)), training=True).shape
    (4, 28, 28, 1)
    """

    def __init__(self, pad, fill_value=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.pad = _pads(pad)
        if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float)):
            raise ValueError(f"fill_value must be a number. Received fill_value={fill_value!r}")
        self.fill_value = float(fill_value)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.built = True

    def _shift_matrices(self, size, pad, batch):
        """`(one-hot (batch, size_out, size_in), valid (batch, size_out))` of a shift per image in [-pad, pad]."""
        shift = keras.random.randint((batch,), -pad, pad + 1, seed=self.seed_generator)
        positions = ops.arange(size, dtype="int32")
        source = positions[None, :] + ops.cast(shift, "int32")[:, None]  # output pixel i reads input i + shift
        one_hot = ops.cast(ops.equal(source[:, :, None], positions[None, None, :]), self.compute_dtype)
        return one_hot, (source >= 0) & (source < size)

    def call(self, inputs, training=True):
        if not training or self.pad == (0, 0):
            return inputs
        batch = ops.shape(inputs)[0]
        height, width = inputs.shape[1], inputs.shape[2]
        rows, rows_valid = self._shift_matrices(height, self.pad[0], batch)
        cols, cols_valid = self._shift_matrices(width, self.pad[1], batch)
        out = ops.einsum("bij,bjwc->biwc", rows, inputs)
        out = ops.einsum("bkw,biwc->bikc", cols, out)
        if self.fill_value:
            inside = ops.cast(rows_valid[:, :, None, None] & cols_valid[:, None, :, None], out.dtype)
            out = out + self.fill_value * (1.0 - inside)
        return out

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "pad": list(self.pad), "fill_value": self.fill_value, "seed": self.seed}
