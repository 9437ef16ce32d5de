import keras

from kerasrecipes.models import count_flops, mlp, vgg


def test_vgg16_matches_the_published_15_5_gmacs():
    model = vgg((224, 224, 3), 1000, arch="vgg16", order="conv-act", dense_units=(4096, 4096), dense_dropout=0)
    # VGG16 is 15.47 GMACs (e.g. Canziani et al. 2016; ptflops, fvcore): 30.94 GFLOPs.
    assert abs(count_flops(model) / 2e9 - 15.47) < 0.01


def test_hand_count_of_a_small_model():
    model = vgg((8, 8, 1), 3, filters=(4,), convs_per_stage=1, order="conv-act", dense_units=(5,), dense_dropout=0)
    conv = 2 * 8 * 8 * (3 * 3 * 1 * 4)
    fc1 = 2 * (4 * 4 * 4) * 5
    out = 2 * 5 * 3
    assert count_flops(model) == conv + fc1 + out


def test_nested_models_and_separable_convs_count():
    inner = mlp((6,), 2, hidden=(4,))
    x = keras.Input((6,))
    outer = keras.Model(x, inner(x))
    assert count_flops(outer) == count_flops(inner) == 2 * (6 * 4 + 4 * 2)
    y = keras.Input((5, 5, 3))
    sep = keras.Model(y, keras.layers.SeparableConv2D(8, 3, padding="same")(y))
    assert count_flops(sep) == 2 * 25 * (3 * 3 * 3 * 1 + 3 * 8)
