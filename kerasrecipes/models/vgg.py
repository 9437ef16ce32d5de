"""VGG-style convolutional networks with selectable BatchNorm, Dropout and activation placement."""

import warnings

import keras

from kerasrecipes.models import _units

# Simonyan & Zisserman 2014, table 1: filters per stage and 3x3 convolutions per
# stage for configurations A (VGG11), B (VGG13), D (VGG16) and E (VGG19).
ARCHS = {
    "vgg11": {"filters": (64, 128, 256, 512, 512), "convs_per_stage": (1, 1, 2, 2, 2)},
    "vgg13": {"filters": (64, 128, 256, 512, 512), "convs_per_stage": (2, 2, 2, 2, 2)},
    "vgg16": {"filters": (64, 128, 256, 512, 512), "convs_per_stage": (2, 2, 3, 3, 3)},
    "vgg19": {"filters": (64, 128, 256, 512, 512), "convs_per_stage": (2, 2, 4, 4, 4)},
}
HEADS = ("flatten", "gap")
POOLINGS = ("max", "avg", "stride")
# The one default stage plan (models.vgg and Recipe.stage_plan): three stages for 28x28 to 32x32 images.
DEFAULT_FILTERS = (32, 64, 128)
DEFAULT_CONVS_PER_STAGE = 2


def _resolve_arch(arch, preset):
    """`arch`, or the deprecated `preset=` alias for it (kept until every call site says `arch`)."""
    if preset is None:
        return arch
    if arch is not None:
        raise ValueError(f"pass arch only (preset is its deprecated alias). Received arch={arch!r}, preset={preset!r}")
    warnings.warn("vgg(preset=...) is deprecated; use vgg(arch=...).", DeprecationWarning, stacklevel=3)
    return preset


def _stage_plan(arch, filters, convs_per_stage):
    """Filters and conv counts per stage, from an `ARCHS` table or the arguments."""
    if arch is not None:
        if arch not in ARCHS:
            raise ValueError(f"arch must be one of {', '.join(ARCHS)} or None. Received arch={arch!r}")
        table = ARCHS[arch]
        filters = table["filters"] if filters is None else filters
        convs_per_stage = table["convs_per_stage"] if convs_per_stage is None else convs_per_stage
    filters = _units.check_units(DEFAULT_FILTERS if filters is None else filters, "filters")
    if not filters:
        raise ValueError("filters must name at least one stage. Received filters=()")
    convs = DEFAULT_CONVS_PER_STAGE if convs_per_stage is None else convs_per_stage
    convs = _units.check_units(convs, "convs_per_stage")
    if len(convs) == 1:
        convs = convs * len(filters)
    if len(convs) != len(filters):
        raise ValueError(
            "convs_per_stage must be an int or give one count per stage of filters "
            f"({len(filters)} stages). Received convs_per_stage={convs_per_stage!r}, filters={filters!r}"
        )
    return filters, convs


def _check_fits(input_shape, stages, pooling):
    """Every stage halves the feature map; the last one must still be at least 1x1."""
    height, width = input_shape[:2]
    for _ in range(stages):
        if pooling == "stride":  # a 'same'-padded stride-2 conv rounds up
            height, width = -(-height // 2), -(-width // 2)
        else:  # a 2x2 'valid' pooling rounds down
            height, width = height // 2, width // 2
        if height < 1 or width < 1:
            raise ValueError(
                f"input_shape={tuple(input_shape)} is too small for {stages} pooling stages: "
                "each halves the height and width. Use a larger input or fewer stages (filters)."
            )


def vgg(
    input_shape,
    num_classes,
    *,
    arch=None,
    filters=None,
    convs_per_stage=None,
    order="conv-bn-act",
    activation="relu",
    kernel_initializer="auto",
    dropout=0.0,
    dense_units=None,
    dense_dropout=0.5,
    head="flatten",
    pooling="max",
    l2=None,
    l1=None,
    max_norm=None,
    output_activation="softmax",
    input_normalization=None,
    bn_momentum=0.9,
    name=None,
    weight_decay=None,
    preset=None,
):
    """Build a VGG-style CNN: stages of 3x3 convolution units, each stage ending in a 2x down-sampling.

    Args:
        input_shape: `(height, width, channels)`, channels last.
        num_classes: Number of output classes.
        arch: "vgg11", "vgg13", "vgg16" or "vgg19" for Simonyan & Zisserman's
            stage layout (the table `ARCHS`); `filters` or `convs_per_stage`,
            when also given, override the table's. Defaults to `None`
            (`filters=DEFAULT_FILTERS`, (32, 64, 128), 2 convs per stage).
        filters: Filters per stage.
        convs_per_stage: 3x3 convolutions per stage, an int or one per stage.
        order: The unit after each convolution, tokens `conv`, `bn`, `act`, `drop`
            joined by "-", built exactly as written: "conv-bn-act" (BatchNorm
            before the nonlinearity, as Ioffe & Szegedy), "conv-act-bn",
            "conv-act", "conv-drop-act", "conv-bn-act-drop". The head's dense
            units follow the same order.
        activation: "relu", "leaky_relu" (slope 0.01), "prelu" (one slope per
            channel), "rrelu", "elu", "selu", "gelu", "swish", "tanh", "sigmoid",
            "maxout" (2 pieces: the conv before it gets twice the filters), a
            callable, or a layer (cloned for every unit).
        kernel_initializer: "auto" pairs He normal with the ReLU family, Glorot
            with tanh/sigmoid and LeCun normal with SELU; or "zeros",
            "small_random" (N(0, 0.01)), "glorot", "he", "lecun", or any Keras
            initializer.
        dropout: Dropout rate of the conv units. Where `order` has a "drop"
            token it goes there; otherwise after each stage's pooling. `0` builds
            no Dropout layer.
        dense_units: Hidden dense layers of the head. Defaults to `(512,)` for
            `head="flatten"` and `()` for `head="gap"`.
        dense_dropout: Dropout rate of the head's dense units ("drop" token
            position, else after the activation). Defaults to `0.5` (Hinton et al.).
        head: "flatten" (the classic Flatten + dense layers) or "gap" (global
            average pooling).
        pooling: "max" or "avg" (2x2, stride 2), or "stride" (the last conv of
            each stage gets stride 2, as in the all-convolutional net).
        l2: L2 penalty coefficient on every kernel (`keras.regularizers.L2`, a loss term;
            the optimizer's decoupled decay is `weight_decay` of `optimizers.build`).
        l1: L1 coefficient on every kernel; with `l2`, elastic net.
        weight_decay: Refused with a `ValueError` naming `l2` (the old spelling of
            the L2 penalty; `weight_decay` is the optimizer's decay everywhere).
        max_norm: Max-norm constraint on every unit's incoming weights ("c of 3 or 4").
        output_activation: "softmax", another activation name, or `None` for logits.
        input_normalization: Optional `(mean, variance)` for a
            `keras.layers.Normalization` in front of the network.
        bn_momentum: Momentum of the BatchNorm moving statistics. Defaults to
            `0.9` (PyTorch's): Keras's 0.99 averages over ~100 steps and lags
            far behind the weights in short runs (measured on a Fashion-MNIST
            subset after 5 epochs: 87.5% validation accuracy with 0.9, 67.1% with 0.99).
        name: Model name. Defaults to the arch or "vgg".
        preset: Deprecated alias of `arch` (a `DeprecationWarning`); kept
            only until the call sites in runs/CLI say `arch`.

    Returns:
        An uncompiled `keras.Model`; layers are named `block{s}_conv{i}`,
        `block{s}_bn{i}`, `block{s}_act{i}`, `block{s}_pool`, `fc{j}`, `fc{j}_bn`,
        `fc{j}_act`, `fc{j}_drop`, `predictions`.

    Example:
    >>> model = vgg((28, 28, 1), 10, filters=(16, 32), order="conv-act-bn",
    ...             activation="elu", head="gap")
    >>> model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    """
    input_shape = _units.check_input_shape(input_shape, rank=3)
    _units.check_num_classes(num_classes)
    arch = _resolve_arch(arch, preset)
    filters, convs = _stage_plan(arch, filters, convs_per_stage)
    tokens = _units.parse_order(order, "conv")
    _units.check_activation(activation)
    _units.check_non_negative(dropout, "dropout", upper=1)
    _units.check_non_negative(dense_dropout, "dense_dropout", upper=1)
    _units.check_bn_momentum(bn_momentum)
    _units.check_input_normalization(input_normalization)
    _units.check_output_activation(output_activation)
    if head not in HEADS:
        raise ValueError(f"head must be one of {', '.join(HEADS)}. Received head={head!r}")
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}. Received pooling={pooling!r}")
    if dense_units is None:
        dense_units = (512,) if head == "flatten" else ()
    dense_units = _units.check_units(dense_units, "dense_units")
    _check_fits(input_shape, len(filters), pooling)
    initializer = _units.resolve_initializer(kernel_initializer, activation)
    _units.refuse_weight_decay(weight_decay, "models.vgg")
    regularizer = _units.make_regularizer(l2, l1)
    conv_constraint = _units.make_constraint(max_norm, axis=[0, 1, 2])
    dense_constraint = _units.make_constraint(max_norm, axis=0)
    widen = _units.width_multiplier(activation)
    stage_dropout_in_unit = "drop" in tokens
    use_bias = _units.needs_bias(tokens)

    inputs, x = _units.input_layers(input_shape, input_normalization)
    for stage, (width, count) in enumerate(zip(filters, convs), start=1):
        for i in range(1, count + 1):
            strided = pooling == "stride" and i == count
            conv = keras.layers.Conv2D(
                width * widen,
                3,
                strides=2 if strided else 1,
                padding="same",
                use_bias=use_bias,
                kernel_initializer=_units.fresh_initializer(initializer),
                kernel_regularizer=regularizer,
                kernel_constraint=conv_constraint,
                name=f"block{stage}_conv{i}",
            )
            x = _units.apply_unit(x, tokens, conv, activation=activation, dropout=dropout,
                                  prefix=f"block{stage}_", index=i, spatial=True, bn_momentum=bn_momentum)
        if pooling == "max":
            x = keras.layers.MaxPooling2D(2, name=f"block{stage}_pool")(x)
        elif pooling == "avg":
            x = keras.layers.AveragePooling2D(2, name=f"block{stage}_pool")(x)
        if dropout and not stage_dropout_in_unit:
            x = keras.layers.Dropout(dropout, name=f"block{stage}_drop")(x)

    if head == "flatten":
        x = keras.layers.Flatten(name="flatten")(x)
    else:
        x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    dense_tokens = ["dense" if t == "conv" else t for t in tokens]
    if "drop" not in dense_tokens:
        dense_tokens.append("drop")
    x = _units.dense_stack(x, dense_units, dense_tokens, name="fc", widen=widen, use_bias=use_bias,
                           initializer=initializer, regularizer=regularizer, constraint=dense_constraint,
                           activation=activation, dropout=dense_dropout, bn_momentum=bn_momentum)
    outputs = _units.classifier(x, num_classes, output_activation, kernel_initializer, initializer, regularizer)
    return keras.Model(inputs, outputs, name=name or arch or "vgg")
