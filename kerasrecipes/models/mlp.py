"""Fully connected networks, the nets of Hung-yi Lee's "Tips for Training DNN"."""

import keras

from kerasrecipes.models import _units


def mlp(
    input_shape,
    num_classes,
    hidden=(256, 128),
    order="dense-bn-act-drop",
    activation="relu",
    kernel_initializer="auto",
    dropout=0.0,
    l2=None,
    l1=None,
    max_norm=None,
    output_activation="softmax",
    input_normalization=None,
    bn_momentum=0.9,
    name=None,
    weight_decay=None,
):
    """Build a multilayer perceptron with the same placement options as `vgg`.

    Args:
        input_shape: Shape of one example; anything of rank > 1 is flattened.
        num_classes: Number of output classes.
        hidden: Units of each hidden layer. Defaults to `(256, 128)`.
        order: Tokens `dense`, `bn`, `act`, `drop` joined by "-", built as written.
            Where there is no "drop" token, a positive `dropout` goes after the unit.
        activation, kernel_initializer, l2, l1, max_norm, weight_decay,
        output_activation, input_normalization, bn_momentum: as for `vgg`.
        dropout: Dropout rate of the hidden units; `0` builds no Dropout layer.
        name: Model name. Defaults to "mlp".

    Returns:
        An uncompiled `keras.Model` with layers `dense{i}`, `dense{i}_bn`,
        `dense{i}_act`, `dense{i}_drop`, `predictions`.

    Example:
    >>> model = mlp((28, 28, 1), 10, hidden=(512, 512), activation="maxout", dropout=0.5)
    """
    input_shape = _units.check_input_shape(input_shape)
    _units.check_num_classes(num_classes)
    hidden = _units.check_units(hidden, "hidden")
    tokens = _units.parse_order(order, "dense")
    if "drop" not in tokens:
        tokens = tokens + ["drop"]
    _units.check_activation(activation)
    _units.check_non_negative(dropout, "dropout", upper=1)
    _units.check_bn_momentum(bn_momentum)
    _units.check_input_normalization(input_normalization)
    _units.check_output_activation(output_activation)
    initializer = _units.resolve_initializer(kernel_initializer, activation)
    _units.refuse_weight_decay(weight_decay, "models.mlp")
    regularizer = _units.make_regularizer(l2, l1)
    constraint = _units.make_constraint(max_norm, axis=0)
    widen = _units.width_multiplier(activation)
    use_bias = _units.needs_bias(tokens)

    inputs, x = _units.input_layers(input_shape, input_normalization)
    if len(input_shape) > 1:
        x = keras.layers.Flatten(name="flatten")(x)
    x = _units.dense_stack(x, hidden, tokens, name="dense", widen=widen, use_bias=use_bias, initializer=initializer,
                           regularizer=regularizer, constraint=constraint, activation=activation, dropout=dropout,
                           bn_momentum=bn_momentum)
    outputs = _units.classifier(x, num_classes, output_activation, kernel_initializer, initializer, regularizer)
    return keras.Model(inputs, outputs, name=name or "mlp")
