"""The pieces every factory shares: argument checks, name resolution and the unit builder.

A unit is one weight layer (a convolution or a dense layer) followed by whatever
the `order` string says, e.g. "conv-bn-act-drop". The order is parsed once and
the unit builder follows it token by token, so every placement that cs231n
and Wei's "Must Know Tips/Tricks" discuss is one string away.
"""

import math

import keras
import numpy as np

from kerasrecipes.layers import Maxout, RReLU

RELU_FAMILY = ("relu", "leaky_relu", "prelu", "rrelu", "elu", "gelu", "swish", "maxout")
SQUASHING = ("tanh", "sigmoid")
ACTIVATIONS = RELU_FAMILY + SQUASHING + ("selu",)

# cs231n's leaky ReLU slope ("a small negative slope, of 0.01 or so").
LEAKY_RELU_SLOPE = 0.01
MAXOUT_PIECES = 2

INITIALIZER_ALIASES = {
    "zeros": "zeros",
    # cs231n's "small random numbers": W = 0.01 * randn(...).
    "small_random": {"class_name": "RandomNormal", "config": {"mean": 0.0, "stddev": 0.01}},
    "glorot": "glorot_uniform",
    "xavier": "glorot_uniform",
    "he": "he_normal",
    "lecun": "lecun_normal",
}


def parse_order(order, weight_token):
    """Split an order string into tokens, checking each is known and appears once.

    `weight_token` ("conv" or "dense") and "act" are required; "bn" and "drop"
    are optional.
    """
    valid = (weight_token, "bn", "act", "drop")
    if not isinstance(order, str) or not order:
        raise ValueError(f"order must be a string such as '{weight_token}-bn-act'. Received order={order!r}")
    tokens = order.lower().split("-")
    for token in tokens:
        if token not in valid:
            raise ValueError(
                f"order has an unknown token {token!r}; valid tokens: {', '.join(valid)}. "
                f"Received order={order!r}"
            )
        if tokens.count(token) > 1:
            raise ValueError(
                f"order repeats the token {token!r}; each of {', '.join(valid)} may appear once. "
                f"Received order={order!r}"
            )
    for token in (weight_token, "act"):
        if token not in tokens:
            raise ValueError(
                f"order is missing the token {token!r}; valid tokens: {', '.join(valid)}. "
                f"Received order={order!r}"
            )
    return tokens


def needs_bias(tokens):
    """A BatchNorm right after the weight layer subtracts the mean, so a bias there is wasted."""
    weight_at = [i for i, t in enumerate(tokens) if t in ("conv", "dense")][0]
    return not (weight_at + 1 < len(tokens) and tokens[weight_at + 1] == "bn")


def activation_name(activation):
    """The lower-case name of a string activation, or None for a callable or layer."""
    return activation.lower() if isinstance(activation, str) else None


def check_activation(activation, argument="activation"):
    if isinstance(activation, str):
        if activation.lower() not in ACTIVATIONS:
            raise ValueError(
                f"{argument} must be one of {', '.join(ACTIVATIONS)}, a callable or a layer. "
                f"Received {argument}={activation!r}"
            )
    elif not (callable(activation) or isinstance(activation, keras.layers.Layer)):
        raise ValueError(f"{argument} must be a name, a callable or a layer. Received {argument}={activation!r}")


def make_activation(activation, name, channel_axes_shared=None):
    """A fresh activation layer for one unit.

    A layer instance is cloned from its config so that units never share weights
    (a PReLU's slopes, for example). `channel_axes_shared` are the spatial axes a
    PReLU shares its slope over, giving one slope per channel as He et al. 2015 do.
    """
    if isinstance(activation, keras.layers.Layer):
        config = activation.get_config()
        config["name"] = name
        return activation.__class__.from_config(config)
    if not isinstance(activation, str):
        return keras.layers.Activation(activation, name=name)
    key = activation.lower()
    if key == "leaky_relu":
        return keras.layers.LeakyReLU(negative_slope=LEAKY_RELU_SLOPE, name=name)
    if key == "prelu":
        return keras.layers.PReLU(shared_axes=channel_axes_shared, name=name)
    if key == "rrelu":
        return RReLU(name=name)
    if key == "elu":
        return keras.layers.ELU(name=name)
    if key == "maxout":
        return Maxout(pieces=MAXOUT_PIECES, name=name)
    return keras.layers.Activation(key, name=name)


def width_multiplier(activation):
    """Maxout takes the max over pieces, so the layer before it needs pieces times the width."""
    if activation_name(activation) == "maxout" or isinstance(activation, Maxout):
        return activation.pieces if isinstance(activation, Maxout) else MAXOUT_PIECES
    return 1


def resolve_initializer(kernel_initializer, activation):
    """Serialized initializer for hidden layers, following cs231n's pairing for "auto".

    ReLU family → He normal (He et al. 2015), tanh/sigmoid → Glorot (Glorot &
    Bengio 2010), SELU → LeCun normal (Klambauer et al. 2017). A callable or layer
    activation gets Keras's default, Glorot uniform.
    """
    if isinstance(kernel_initializer, str) and kernel_initializer.lower() == "auto":
        name = activation_name(activation)
        if name in RELU_FAMILY or isinstance(activation, (RReLU, Maxout, keras.layers.PReLU,
                                                           keras.layers.LeakyReLU, keras.layers.ReLU)):
            return "he_normal"
        if name == "selu":
            return "lecun_normal"
        return "glorot_uniform"
    if isinstance(kernel_initializer, str):
        key = kernel_initializer.lower()
        if key in INITIALIZER_ALIASES:
            return INITIALIZER_ALIASES[key]
    try:
        initializer = keras.initializers.get(kernel_initializer)
    except (ValueError, TypeError) as e:
        raise ValueError(
            "kernel_initializer must be 'auto', one of "
            f"{', '.join(INITIALIZER_ALIASES)}, or a Keras initializer. "
            f"Received kernel_initializer={kernel_initializer!r}"
        ) from e
    return keras.initializers.serialize(initializer)


def fresh_initializer(spec):
    """A new initializer instance per layer, so no two layers share one object."""
    return keras.initializers.get(spec if isinstance(spec, str) else dict(spec))


def check_non_negative(value, argument, upper=None):
    if value is None:
        return
    if not isinstance(value, (int, float)) or math.isnan(value) or value < 0 or (upper is not None and value >= upper):
        bound = f"in [0, {upper})" if upper is not None else "non-negative"
        raise ValueError(f"{argument} must be a number {bound}. Received {argument}={value!r}")


def refuse_weight_decay(weight_decay, factory):
    """`weight_decay` means the optimizer's decoupled decay everywhere in the package; a factory's L2 is `l2`."""
    if weight_decay is not None:
        raise ValueError(f"{factory}'s L2 penalty is l2=...; weight_decay means the optimizer's decoupled weight "
                         "decay everywhere in kerasrecipes (Recipe.weight_decay, optimizers.build). "
                         f"Received weight_decay={weight_decay!r}")


def make_regularizer(l2, l1):
    """L2 (`l2`), L1, or both (elastic net) as one Keras regularizer."""
    check_non_negative(l2, "l2")
    check_non_negative(l1, "l1")
    if l2 and l1:
        return keras.regularizers.L1L2(l1=l1, l2=l2)
    if l2:
        return keras.regularizers.L2(l2)
    if l1:
        return keras.regularizers.L1(l1)
    return None


def make_constraint(max_norm, axis):
    """MaxNorm on each unit's incoming weights (axis 0 for dense, [0, 1, 2] for conv)."""
    if max_norm is None:
        return None
    if not isinstance(max_norm, (int, float)) or max_norm <= 0:
        raise ValueError(f"max_norm must be a positive number (cs231n: typical values are 3 or 4). Received max_norm={max_norm!r}")
    return keras.constraints.MaxNorm(max_value=max_norm, axis=axis)


def check_bn_momentum(bn_momentum):
    if not isinstance(bn_momentum, (int, float)) or not 0.0 <= bn_momentum < 1.0:
        raise ValueError(f"bn_momentum must be a number in [0, 1). Received bn_momentum={bn_momentum!r}")


def check_input_shape(input_shape, rank=None):
    try:
        shape = tuple(int(d) for d in input_shape)
    except (TypeError, ValueError) as e:
        raise ValueError(f"input_shape must be a tuple of positive integers. Received input_shape={input_shape!r}") from e
    if not shape or any(d <= 0 for d in shape) or (rank is not None and len(shape) != rank):
        what = f"{rank} positive integers (height, width, channels)" if rank else "positive integers"
        raise ValueError(f"input_shape must be {what}. Received input_shape={input_shape!r}")
    return shape


def check_num_classes(num_classes):
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive integer. Received num_classes={num_classes!r}")


def check_units(values, argument):
    """A tuple of positive integers from an int or a sequence."""
    if isinstance(values, int) and not isinstance(values, bool):
        values = (values,)
    try:
        values = tuple(values)
    except TypeError as e:
        raise ValueError(f"{argument} must be a sequence of positive integers. Received {argument}={values!r}") from e
    if any(not isinstance(v, int) or isinstance(v, bool) or v <= 0 for v in values):
        raise ValueError(f"{argument} must hold positive integers only. Received {argument}={values!r}")
    return values


def check_input_normalization(input_normalization):
    """None, or a (mean, variance) pair of finite numbers (or per-channel arrays) with variance > 0.

    A zero or negative variance would make the Normalization layer divide by
    `sqrt(max(variance, epsilon))`-sized noise or clip everything to one value
    (a negative variance gives a model that outputs the same probabilities for
    every input), so it is refused here, before any layer is built.
    """
    if input_normalization is None:
        return None
    message = ("input_normalization must be a (mean, variance) pair of finite numbers or per-channel arrays "
               "with variance > 0, e.g. (72.9, 8000.0) for Fashion-MNIST pixels. "
               f"Received input_normalization={input_normalization!r}")
    try:
        mean, variance = input_normalization
        mean_array = np.asarray(mean, dtype="float64")
        variance_array = np.asarray(variance, dtype="float64")
    except (TypeError, ValueError) as e:
        raise ValueError(message) from e
    if not (np.isfinite(mean_array).all() and np.isfinite(variance_array).all() and (variance_array > 0).all()):
        raise ValueError(message)
    return mean, variance


def check_output_activation(output_activation):
    """None (logits) or an activation name Keras knows, checked before any layer is built."""
    if output_activation is None:
        return
    if not isinstance(output_activation, str):
        raise ValueError(f"output_activation must be a name or None. Received output_activation={output_activation!r}")
    try:
        keras.activations.get(output_activation)
    except ValueError as e:
        raise ValueError(
            "output_activation must be None (logits) or a Keras activation name such as 'softmax' or "
            f"'sigmoid'. Received output_activation={output_activation!r}"
        ) from e


def input_layers(input_shape, input_normalization):
    """The model input, and a Normalization layer in front when (mean, variance) is given."""
    normalization = check_input_normalization(input_normalization)
    inputs = keras.Input(shape=input_shape, name="input")
    if normalization is None:
        return inputs, inputs
    mean, variance = normalization
    layer = keras.layers.Normalization(mean=mean, variance=variance, name="input_normalization")
    return inputs, layer(inputs)


def output_layer(x, num_classes, output_activation, kernel_initializer, regularizer):
    """The classifier: Dense(num_classes) with softmax, or logits when output_activation is None.

    Kept in float32 so that a mixed-precision policy never computes the softmax in float16.
    """
    check_output_activation(output_activation)
    return keras.layers.Dense(
        num_classes,
        activation=output_activation,
        kernel_initializer=kernel_initializer,
        kernel_regularizer=regularizer,
        dtype="float32" if keras.config.dtype_policy().compute_dtype in ("float16", "bfloat16") else None,
        name="predictions",
    )(x)


def dense_stack(x, units, tokens, *, name, widen, use_bias, initializer, regularizer, constraint,
                activation, dropout, bn_momentum):
    """Hidden dense units in a row, each following `tokens` ("dense", "bn", "act", "drop").

    The j-th weight layer is named `f"{name}{j}"` and its BN/act/drop `f"{name}{j}_bn"` etc.
    """
    for j, width in enumerate(units, start=1):
        dense = keras.layers.Dense(
            width * widen,
            use_bias=use_bias,
            kernel_initializer=fresh_initializer(initializer),
            kernel_regularizer=regularizer,
            kernel_constraint=constraint,
            name=f"{name}{j}",
        )
        x = apply_unit(x, tokens, dense, activation=activation, dropout=dropout, prefix=f"{name}{j}_", index="",
                       spatial=False, bn_momentum=bn_momentum)
    return x


def classifier(x, num_classes, output_activation, kernel_initializer, initializer, regularizer):
    """The output layer; "auto" initialization gives it Glorot, whatever the hidden layers get."""
    output_initializer = "glorot_uniform" if kernel_initializer == "auto" else fresh_initializer(initializer)
    return output_layer(x, num_classes, output_activation, output_initializer, regularizer)


def apply_unit(x, tokens, weight_layer, *, activation, dropout, prefix, index, spatial, bn_momentum=0.9):
    """Follow the order tokens: weight layer, BatchNorm, activation, Dropout.

    Layers are named as keras.applications names them: with prefix "block1_",
    `block1_bn1`, `block1_act1`, `block1_drop1` (the weight layer is named by
    the caller). A "drop"
    token with `dropout=0` builds no layer.
    """
    for token in tokens:
        if token in ("conv", "dense"):
            x = weight_layer(x)
        elif token == "bn":
            x = keras.layers.BatchNormalization(momentum=bn_momentum, name=f"{prefix}bn{index}")(x)
        elif token == "act":
            x = make_activation(activation, f"{prefix}act{index}", [1, 2] if spatial else None)(x)
        elif token == "drop" and dropout:
            x = keras.layers.Dropout(dropout, name=f"{prefix}drop{index}")(x)
    return x
