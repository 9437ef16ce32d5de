"""Fine-tuning a pretrained network: cs231n's transfer-learning table of four cases as one function."""

import keras

from kerasrecipes.models import _units

STRATEGIES = ("linear", "top", "deep", "features_from")


def blocks(model):
    """Group a model's weighted layers into blocks, in order, by their name prefix.

    keras.applications and the kerasrecipes factories name layers by block
    (`block5_conv1`, `conv4_block2_1_conv`, `fc1`), so the part before the first
    "_" names the block: VGG16 has block1 … block5, fc1, fc2, predictions;
    ResNet50 has conv1 … conv5 and predictions.

    Returns:
        A list of `(block_name, [layers])`, input side first.
    """
    grouped = []
    for layer in model.layers:
        if not layer.weights:
            continue
        key = layer.name.split("_")[0]
        if grouped and grouped[-1][0] == key:
            grouped[-1][1].append(layer)
        else:
            grouped.append((key, [layer]))
    return grouped


def _default_feature_layer(base_model, strategy, grouped):
    if strategy == "features_from":
        # "Train the classifier on activations from somewhere earlier in the network":
        # default to the end of the middle block.
        middle = grouped[max(0, len(grouped) // 2 - 1)][0]
        return [layer.name for layer in base_model.layers if layer.name.split("_")[0] == middle][-1]
    last = base_model.layers[-1]
    # A classifier base ends in its own "predictions" layer; the features are just before it.
    if last.name == "predictions" and len(base_model.layers) > 1:
        return base_model.layers[-2].name
    return last.name


def fine_tune(
    base_model,
    num_classes,
    strategy="linear",
    *,
    num_blocks=1,
    feature_layer=None,
    head="gap",
    dense_units=(),
    dropout=0.0,
    output_activation="softmax",
    name=None,
):
    """A new classifier on a pretrained network, frozen as cs231n's transfer-learning table says.

    | | similar data | different data |
    |---|---|---|
    | little data | "linear": freeze the base, train a new head | "features_from": a head on an earlier layer's features |
    | a lot of data | "top": also unfreeze the top `num_blocks` blocks | "deep": unfreeze all but the first `num_blocks` blocks |

    Blocks come from layer names (see `blocks`). BatchNorm layers stay frozen
    (inference mode) in every strategy, as Keras's transfer-learning guide
    advises, so small fine-tuning batches do not wreck their statistics. The
    new model shares the base's layers (and sets their `trainable` flags); it
    is not a copy. Compile it with a small learning rate for "top" and "deep"
    (about 10x below the from-scratch rate, e.g. Adam 1e-4); "linear" and
    "features_from" train only the head and take an ordinary one (1e-3).

    Args:
        base_model: Any functional Keras model, keras.applications included.
        num_classes: Classes of the new task.
        strategy: "linear", "top", "deep" or "features_from". Defaults to "linear".
        num_blocks: Blocks unfrozen ("top") or kept frozen ("deep"). Defaults to 1.
        feature_layer: Name of the layer whose output feeds the new head. Defaults
            to the base's output (the layer before a final "predictions"
            layer), or, for "features_from", the end of the middle block.
        head: "gap" or "flatten", used when the features are a feature map.
        dense_units: Hidden dense layers of the new head. Defaults to `()`.
        dropout: Dropout rate before each dense layer of the head.
        output_activation: "softmax" or `None` for logits.
        name: Model name. Defaults to "<base name>_<strategy>".

    Returns:
        An uncompiled `keras.Model` from the base's inputs to the new head.

    Example:
    >>> base = keras.applications.MobileNetV2((96, 96, 3), include_top=False, weights=None)
    >>> model = fine_tune(base, 5, strategy="top", num_blocks=2)
    """
    if not isinstance(base_model, keras.Model) or not getattr(base_model, "inputs", None):
        raise ValueError(f"base_model must be a built functional keras.Model. Received base_model={base_model!r}")
    _units.check_num_classes(num_classes)
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}. Received strategy={strategy!r}")
    if not isinstance(num_blocks, int) or isinstance(num_blocks, bool) or num_blocks < 0:
        raise ValueError(f"num_blocks must be a non-negative integer. Received num_blocks={num_blocks!r}")
    if head not in ("gap", "flatten"):
        raise ValueError(f"head must be 'gap' or 'flatten'. Received head={head!r}")
    dense_units = _units.check_units(dense_units, "dense_units")
    _units.check_non_negative(dropout, "dropout", upper=1)
    _units.check_output_activation(output_activation)
    if name is not None and not isinstance(name, str):
        raise ValueError(f"name must be a string or None. Received name={name!r}")
    grouped = blocks(base_model)
    if feature_layer is None:
        feature_layer = _default_feature_layer(base_model, strategy, grouped)
    elif not isinstance(feature_layer, str):
        raise ValueError(f"feature_layer must be a layer name or None. Received feature_layer={feature_layer!r}")
    try:
        features = base_model.get_layer(feature_layer).output
    except ValueError as e:
        raise ValueError(f"feature_layer {feature_layer!r} is not a layer of {base_model.name!r}. "
                         f"Received feature_layer={feature_layer!r}") from e

    # Count blocks only up to the features: "top" means the top of what the new model uses.
    used = blocks(keras.Model(base_model.inputs, features))
    if strategy in ("top", "deep") and num_blocks > len(used):
        names = ", ".join(block for block, _ in used)
        raise ValueError(
            f"num_blocks is larger than the {len(used)} blocks up to {feature_layer!r} ({names}), so "
            f"strategy={strategy!r} cannot {'unfreeze' if strategy == 'top' else 'keep frozen'} that many. "
            f"Received num_blocks={num_blocks!r}"
        )
    if strategy == "top":
        unfrozen = {block for block, _ in used[-num_blocks:]} if num_blocks else set()
    elif strategy == "deep":
        unfrozen = {block for block, _ in used[num_blocks:]}
    else:
        unfrozen = set()
    for layer in base_model.layers:
        trainable = layer.name.split("_")[0] in unfrozen
        layer.trainable = trainable and not isinstance(layer, keras.layers.BatchNormalization)

    x = features
    if len(x.shape) == 4:
        pool = keras.layers.GlobalAveragePooling2D if head == "gap" else keras.layers.Flatten
        x = pool(name=f"head_{head}")(x)
    elif len(x.shape) > 2:
        x = keras.layers.Flatten(name="head_flatten")(x)
    for j, units in enumerate(dense_units, start=1):
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"head_drop{j}")(x)
        x = keras.layers.Dense(units, activation="relu", kernel_initializer="he_normal", name=f"head_fc{j}")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_drop")(x)
    outputs = keras.layers.Dense(num_classes, activation=output_activation, name="head_predictions")(x)
    return keras.Model(base_model.inputs, outputs, name=name or f"{base_model.name}_{strategy}")
