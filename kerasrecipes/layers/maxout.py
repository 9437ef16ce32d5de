"""Maxout: the maximum over groups of channels."""

import numbers

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kerasrecipes")
class Maxout(keras.layers.Layer):
    """Maxout unit (Goodfellow et al. 2013): the maximum over groups of `pieces` channels.

    Channels `[0, pieces)`, `[pieces, 2 * pieces)`, ... of `axis` form the groups,
    so the output has `channels // pieces` channels. The layer before a maxout
    therefore produces `pieces` times the channels wanted after it (the model
    factories do this for `activation="maxout"`). Keras has no maxout layer.

    Args:
        pieces: Number of linear pieces per output unit. Defaults to `2`.
        axis: The channel axis. Defaults to `-1`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:
    >>> Maxout(pieces=2)(keras.ops.convert_to_tensor([[1.0, 5.0, -2.0, -3.0]]))
    <... [[ 5., -2.]] ...>
    """

    def __init__(self, pieces=2, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(pieces, bool) or not isinstance(pieces, numbers.Integral) or pieces < 1:
            raise ValueError(f"Maxout needs a positive integer pieces. Received pieces={pieces!r}")
        if isinstance(axis, bool) or not isinstance(axis, numbers.Integral) or axis == 0:
            raise ValueError(f"axis must be a non-batch axis, an integer other than 0. Received axis={axis!r}")
        self.pieces = int(pieces)
        self.axis = int(axis)

    def _channel_axis(self, rank):
        axis = self.axis % rank
        if axis == 0:
            raise ValueError(f"Maxout cannot group over the batch axis. Received axis={self.axis!r} "
                             f"for inputs of rank {rank}")
        return axis

    def build(self, input_shape):
        axis = self._channel_axis(len(input_shape))
        channels = input_shape[axis]
        if channels is None or channels % self.pieces:
            raise ValueError(
                f"Maxout(pieces={self.pieces}) needs a known channel count on axis "
                f"{self.axis} divisible by pieces. Received input_shape={tuple(input_shape)}"
            )

    def call(self, inputs):
        rank = len(inputs.shape)
        axis = self._channel_axis(rank)
        dynamic = ops.shape(inputs)
        shape = [-1] + [
            inputs.shape[i] if inputs.shape[i] is not None else dynamic[i] for i in range(1, rank)
        ]
        grouped = shape[:axis] + [shape[axis] // self.pieces, self.pieces] + shape[axis + 1 :]
        return ops.max(ops.reshape(inputs, grouped), axis=axis + 1)

    def compute_output_shape(self, input_shape):
        axis = self._channel_axis(len(input_shape))
        shape = list(input_shape)
        shape[axis] = shape[axis] // self.pieces
        return tuple(shape)

    def get_config(self):
        config = super().get_config()
        config.update({"pieces": self.pieces, "axis": self.axis})
        return config
