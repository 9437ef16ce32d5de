"""Counting a model's floating-point operations from its layers."""

import math

import keras

from kerasrecipes._models import check_built


def _conv_flops(layer):
    out = layer.output.shape
    kernel = layer.kernel.shape  # (kh, kw, in / groups, out)
    spatial = math.prod(d for d in out[1:-1])
    return 2 * spatial * math.prod(kernel)


def _dense_flops(layer):
    positions = math.prod(d for d in layer.output.shape[1:-1]) if len(layer.output.shape) > 2 else 1
    return 2 * positions * math.prod(layer.kernel.shape)


def count_flops(model):
    """Forward-pass FLOPs per example: 2 x multiply-accumulates of every Conv and Dense layer.

    Counts `Conv1D/2D/3D`, `DepthwiseConv2D`, `SeparableConv2D` (both parts) and
    `Dense` layers, nested models included; BatchNorm, activations and pooling
    (a few FLOPs per element, under 2 % for a VGG) are left out, as is usual
    when comparing with a machine's matrix-multiply peak. A training step costs
    about 3 times the forward pass (forward, and two matmuls backward).

    Args:
        model: A built Keras model with known (non-None) non-batch shapes.

    Returns:
        An int: FLOPs per example for one forward pass.

    Example:
    >>> count_flops(kerasrecipes.models.vgg((28, 28, 1), 10, filters=(16, 32)))
    """
    check_built(model, "count_flops", inputs=True)
    return _count(model)


def _count(model):
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += _count(layer)
        elif isinstance(layer, keras.layers.SeparableConv2D):
            spatial = math.prod(layer.output.shape[1:-1])
            total += 2 * spatial * (math.prod(layer.depthwise_kernel.shape) + math.prod(layer.pointwise_kernel.shape))
        elif isinstance(layer, keras.layers.DepthwiseConv2D):
            total += 2 * math.prod(layer.output.shape[1:-1]) * math.prod(layer.kernel.shape)
        elif isinstance(layer, (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)):
            total += _conv_flops(layer)
        elif isinstance(layer, keras.layers.Dense):
            total += _dense_flops(layer)
    return int(total)
