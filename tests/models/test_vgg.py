import keras
import numpy as np
import pytest

from kerasrecipes import layers as krl
from kerasrecipes.models import VGG_ARCHS, vgg

TINY = dict(input_shape=(8, 8, 1), num_classes=3, filters=(4, 8), dense_units=(8,))


@pytest.mark.parametrize("arch, application", [("vgg16", "VGG16"), ("vgg19", "VGG19")])
def test_arch_matches_keras_applications_parameter_count(arch, application):
    model = vgg((224, 224, 3), 1000, arch=arch, order="conv-act", head="flatten",
                dense_units=(4096, 4096), dense_dropout=0)
    reference = getattr(keras.applications, application)(weights=None)
    assert model.count_params() == reference.count_params()
    assert model.count_params() == {"vgg16": 138_357_544, "vgg19": 143_667_240}[arch]
    # Same conv layout and names as keras.applications.
    ours = [l.name for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    theirs = [l.name for l in reference.layers if isinstance(l, keras.layers.Conv2D)]
    assert ours == theirs


@pytest.mark.parametrize("arch", sorted(VGG_ARCHS))
def test_every_arch_has_its_conv_count(arch):
    model = vgg((32, 32, 3), 10, arch=arch, filters=(4, 4, 8, 8, 8), head="gap")
    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    assert len(convs) == sum(VGG_ARCHS[arch]["convs_per_stage"])
    assert len(convs) == int(arch[3:]) - 3  # VGG-n has n - 3 conv layers and 3 dense


ORDERS = {
    "conv-bn-act": ["Conv2D", "BatchNormalization", "Activation", "Conv2D", "BatchNormalization", "Activation"],
    "conv-act-bn": ["Conv2D", "Activation", "BatchNormalization", "Conv2D", "Activation", "BatchNormalization"],
    "conv-act": ["Conv2D", "Activation", "Conv2D", "Activation"],
    "conv-drop-act": ["Conv2D", "Dropout", "Activation", "Conv2D", "Dropout", "Activation"],
    "conv-bn-act-drop": ["Conv2D", "BatchNormalization", "Activation", "Dropout"] * 2,
}


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_order_builds_its_layers_in_that_order(order):
    model = vgg((8, 8, 1), 3, filters=(4,), convs_per_stage=2, order=order, dropout=0.3,
                head="gap", dense_units=())
    block = [type(l).__name__ for l in model.layers if l.name.startswith("block1_") and l.name[-1].isdigit()]
    assert block == ORDERS[order]


def test_dropout_without_drop_token_goes_after_each_pooling():
    model = vgg(**TINY, order="conv-bn-act", dropout=0.25, dense_dropout=0.5)
    names = [l.name for l in model.layers]
    for stage in (1, 2):
        assert names.index(f"block{stage}_drop") == names.index(f"block{stage}_pool") + 1
    assert model.get_layer("block1_drop").rate == 0.25
    assert model.get_layer("fc1_drop").rate == 0.5


def test_bias_is_dropped_only_right_before_batchnorm():
    assert not vgg(**TINY, order="conv-bn-act").get_layer("block1_conv1").use_bias
    assert vgg(**TINY, order="conv-act-bn").get_layer("block1_conv1").use_bias


def test_bad_arguments_name_the_argument():
    for kwargs, match in [
            (dict(order="conv-foo-act"), "unknown token 'foo'.*valid tokens: conv, bn, act, drop"),
            (dict(order="conv-bn"), "missing the token 'act'"),
            (dict(order="conv-act-act"), "repeats the token 'act'"),
            (dict(activation="swishy"), "activation must be one of"),
            (dict(arch="vgg17"), "arch must be one of"),
            (dict(head="avg"), "head must be one of"),
            (dict(pooling="min"), "pooling must be one of"),
            (dict(dropout=1.0), "dropout must be a number in"),
            (dict(l2=-1e-4), "l2 must be"),
            (dict(weight_decay=1e-4), "L2 penalty is l2=.*Received weight_decay=0.0001"),
            (dict(max_norm=0), "max_norm must be a positive"),
            (dict(kernel_initializer="nonsense"), "kernel_initializer must be"),
            (dict(filters=(4, 8), convs_per_stage=(1, 2, 3)), "one count per stage"),
            (dict(filters=(4, 8, 8, 8)), "too small for 4 pooling stages"),
            (dict(input_shape=(8, 0, 1)), "input_shape must be"),
            (dict(num_classes=0), "num_classes must be"),
            (dict(input_normalization=3.0), "input_normalization must be a"),
            (dict(input_normalization=(0.5, -1.0)), r"variance > 0.*Received input_normalization=\(0.5, -1.0\)"),
            (dict(input_normalization=(0.5, 0.0)), "variance > 0"),
            (dict(input_normalization=(float("nan"), 1.0)), "finite"),
            (dict(output_activation="softmaxx"), "output_activation must be None .*Received output_activation='softmaxx'"),
            (dict(output_activation=3), "output_activation must be a name or None"),
        ]:
        args = {**TINY, **kwargs}
        with pytest.raises(ValueError, match=match):
            vgg(**args)


def test_bad_head_and_normalization_are_caught_before_any_layer_is_built():
    for kwargs in [dict(input_normalization=(0.5, -1.0)), dict(output_activation="softmaxx")]:
        before = keras.backend.get_uid("conv2d")
        with pytest.raises(ValueError):
            vgg(**TINY, **kwargs)
        assert keras.backend.get_uid("conv2d") == before + 1  # the probe uid only: no Conv2D was built


def test_too_small_input_is_caught_before_any_layer_is_built():
    before = keras.backend.get_uid("conv2d")
    with pytest.raises(ValueError, match="too small"):
        vgg((28, 28, 1), 10, arch="vgg16")
    assert keras.backend.get_uid("conv2d") == before + 1  # the probe uid only: nothing was built


def test_regularization_and_max_norm_reach_every_kernel():
    model = vgg(**TINY, l2=1e-4, l1=1e-5, max_norm=3.0)
    kernels = [l for l in model.layers if isinstance(l, (keras.layers.Conv2D, keras.layers.Dense))]
    for layer in kernels:
        config = keras.regularizers.serialize(layer.kernel_regularizer)["config"]
        assert config == {"l1": 1e-5, "l2": 1e-4}
    assert model.get_layer("block1_conv1").kernel_constraint.axis == [0, 1, 2]
    assert model.get_layer("fc1").kernel_constraint.axis == 0
    # The penalties reach the loss.
    assert len(model.losses) == len(kernels)


def test_max_norm_bounds_each_filter_after_training():
    model = vgg(**TINY, max_norm=0.5, order="conv-act", dense_dropout=0)
    model.compile(keras.optimizers.SGD(1.0), "sparse_categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(32, 8, 8, 1)).astype("float32")
    y = np.arange(32) % 3
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    kernel = model.get_layer("block2_conv1").kernel.numpy()
    norms = np.sqrt((kernel**2).sum(axis=(0, 1, 2)))
    assert norms.max() <= 0.5 + 1e-5


def test_auto_initializer_follows_the_activation():
    def init_of(activation):
        cfg = vgg(**TINY, activation=activation).get_layer("block1_conv1").kernel_initializer.get_config()
        return type(vgg(**TINY, activation=activation).get_layer("block1_conv1").kernel_initializer).__name__, cfg

    assert init_of("relu")[0] == "HeNormal"
    assert init_of("prelu")[0] == "HeNormal"
    assert init_of("tanh")[0] == "GlorotUniform"
    assert init_of("selu")[0] == "LecunNormal"
    small = vgg(**TINY, kernel_initializer="small_random").get_layer("block1_conv1").kernel_initializer
    assert type(small).__name__ == "RandomNormal" and small.stddev == 0.01


def test_activation_layer_instance_is_cloned_per_unit():
    model = vgg(**{**TINY, "dense_units": ()}, activation=keras.layers.PReLU(), head="gap")
    prelus = [l for l in model.layers if isinstance(l, keras.layers.PReLU)]
    assert len(prelus) == 4 and len({id(l) for l in prelus}) == 4


def test_prelu_has_one_slope_per_channel():
    model = vgg(**TINY, activation="prelu")
    assert model.get_layer("block2_act1").alpha.shape == (1, 1, 8)


def test_stride_pooling_replaces_pooling_with_a_strided_conv():
    model = vgg((9, 9, 1), 3, filters=(4, 8), pooling="stride", head="gap", dense_units=())
    assert not any(isinstance(l, keras.layers.MaxPooling2D) for l in model.layers)
    assert model.get_layer("block1_conv2").strides == (2, 2)
    assert model.get_layer("block2_conv2").output.shape[1:3] == (3, 3)  # ceil(9/2)=5, ceil(5/2)=3


def test_logits_output_and_input_normalization():
    model = vgg(**TINY, output_activation=None, input_normalization=(100.0, 400.0))
    assert model.get_layer("predictions").activation.__name__ == "linear"
    norm = model.get_layer("input_normalization")
    out = norm(np.full((1, 8, 8, 1), 120.0, "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), 1.0, rtol=1e-5)


ACTIVATIONS = ["relu", "leaky_relu", "prelu", "rrelu", "elu", "selu", "gelu", "swish", "tanh", "sigmoid", "maxout"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_trains_a_step_and_round_trips(activation, tmp_path):
    model = vgg(**TINY, activation=activation, order="conv-bn-act", dropout=0.1)
    model.compile(keras.optimizers.SGD(0.05), "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 8, 8, 1)).astype("float32")
    y = np.arange(16) % 3
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    path = tmp_path / f"{activation}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe mode: no Lambda, no pickle
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_maxout_doubles_the_conv_width_and_keeps_the_stated_width_after():
    model = vgg(**TINY, activation="maxout")
    assert model.get_layer("block1_conv1").filters == 8
    assert isinstance(model.get_layer("block1_act1"), krl.Maxout)
    assert model.get_layer("block1_act1").output.shape[-1] == 4


def test_short_fit_on_real_fashion_mnist_is_far_above_chance(fashion_small):
    (x, y), (x_test, y_test) = fashion_small
    model = vgg((28, 28, 1), 10, filters=(16, 32), convs_per_stage=1, order="conv-bn-act",
                dense_units=(64,), dense_dropout=0.0, dropout=0.1)
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    assert accuracy > 0.7  # chance is 0.1; measured 0.81 with this seed


def test_bn_momentum_reaches_every_batchnorm_and_is_checked():
    model = vgg(**TINY, order="conv-bn-act", bn_momentum=0.8)
    bns = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(bns) == 5 and all(l.momentum == 0.8 for l in bns)  # 4 conv units + fc1
    assert vgg(**TINY).get_layer("block1_bn1").momentum == 0.9
    with pytest.raises(ValueError, match="bn_momentum must be"):
        vgg(**TINY, bn_momentum=1.0)


def test_mixed_precision_keeps_the_softmax_in_float32():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = vgg(**TINY)
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.get_layer("block1_conv1").compute_dtype == "bfloat16"
    assert model.get_layer("predictions").compute_dtype == "float32"
    assert model.output.dtype == "float32"


def test_preset_is_a_deprecated_alias_of_arch():
    with pytest.warns(DeprecationWarning, match="use vgg\\(arch=...\\)"):
        old = vgg((32, 32, 3), 10, preset="vgg11", filters=(4, 4, 8, 8, 8), head="gap")
    new = vgg((32, 32, 3), 10, arch="vgg11", filters=(4, 4, 8, 8, 8), head="gap")
    assert old.count_params() == new.count_params() and old.name == new.name == "vgg11"
    with pytest.raises(ValueError, match="Received arch='vgg11', preset='vgg13'"):
        vgg((32, 32, 3), 10, arch="vgg11", preset="vgg13")
