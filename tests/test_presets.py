import dataclasses
import json

import keras
import numpy as np
import pytest

from kerasrecipes import presets, schedules
from kerasrecipes.callbacks import CheckpointEnsemble

# A tiny variant of the preset: same pieces, a few seconds on 2 CPU cores.
TINY = dict(filters=(4, 8), convs_per_stage=1, epochs=2, batch_size=64, seed=0)


def test_preset_defaults_are_the_documented_recipe():
    recipe = presets.fashion_mnist_fast()
    assert recipe.filters == (32, 64, 128) and recipe.head == "gap" and recipe.schedule == "onecycle"
    # Linear scaling rule: the peak LR follows the batch size.
    assert recipe.learning_rate == pytest.approx(recipe.base_lr)
    assert dataclasses.replace(recipe, batch_size=512).learning_rate == pytest.approx(2 * recipe.base_lr)
    json.dumps(recipe.to_dict())  # the run record is JSON


def test_model_matches_the_factory_parameter_count():
    model = presets.fashion_mnist_fast().build_model()
    assert model.count_params() == 289_066  # models.vgg((28,28,1),10,filters=(32,64,128),head="gap")
    assert model.output_shape == (None, 10)
    bns = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(bns) == 6 and all(l.momentum == pytest.approx(0.9) for l in bns)


def test_compile_uses_onecycle_nesterov_and_label_smoothing():
    recipe = presets.fashion_mnist_fast(**TINY)
    model = recipe.compile(recipe.build_model(), steps_per_epoch=10)
    opt = model.optimizer
    assert isinstance(opt, keras.optimizers.SGD) and opt.nesterov
    assert isinstance(opt.learning_rate, schedules.OneCycle) or isinstance(
        getattr(opt, "_learning_rate", None), schedules.OneCycle)
    assert model.loss.get_config()["label_smoothing"] == pytest.approx(0.1)


def test_fit_one_step_ensemble_and_tta(fashion_small, tmp_path):
    (x, y), (x_test, y_test) = fashion_small
    x, y, x_test, y_test = x[:256], y[:256], x_test[:64], y_test[:64]
    recipe = presets.fashion_mnist_fast(**TINY, ensemble_k=2)
    result = recipe.fit(x, y, verbose=0)
    assert len(result.history.history["loss"]) == 2
    assert isinstance(result.ensemble_callback, CheckpointEnsemble)
    assert [m.epoch for m in result.ensemble_callback.members] == [0, 1]

    plain = recipe.predict(result.model, x_test, tta=False)
    tta = recipe.predict(result.model, x_test)
    mirrored = recipe.predict(result.model, x_test[:, :, ::-1], tta=False)
    np.testing.assert_allclose(tta, (plain + mirrored) / 2, atol=1e-5)
    np.testing.assert_allclose(tta.sum(-1), 1.0, atol=1e-5)
    # uint8 input is scaled the same way as in training
    uint8 = np.round(x_test * 255).astype("uint8")
    np.testing.assert_allclose(recipe.predict(result.model, uint8, tta=False),
                               result.model.predict(uint8.astype("float32") / 255, verbose=0), atol=1e-5)

    ensemble = result.ensemble()
    path = tmp_path / "ensemble.keras"
    ensemble.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x_test, verbose=0), ensemble.predict(x_test, verbose=0), atol=1e-6)


def test_trained_model_round_trips(fashion_small, tmp_path):
    (x, y), (x_test, _) = fashion_small
    recipe = presets.fashion_mnist_fast(**dict(TINY, epochs=1), ensemble=None)
    result = recipe.fit(x[:128], y[:128], verbose=0)
    assert result.ensemble_callback is None
    path = tmp_path / "model.keras"
    result.model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(x_test[:32], verbose=0),
                               result.model.predict(x_test[:32], verbose=0), atol=1e-6)
    with pytest.raises(ValueError, match="no ensemble"):
        result.ensemble()


def test_mixed_precision_keeps_float32_probabilities_and_restores_policy(fashion_small):
    (x, y), _ = fashion_small
    recipe = presets.fashion_mnist_fast(**dict(TINY, epochs=1), mixed_precision=True, ensemble=None)
    model = recipe.build_model()
    assert keras.config.dtype_policy().name == "float32"
    assert model.get_layer("block1_conv1").compute_dtype == "bfloat16"
    assert model.output.dtype == "float32"
    result = recipe.fit(x[:128], y[:128], verbose=0)
    assert np.isfinite(result.history.history["loss"]).all()


@pytest.mark.parametrize("bad, match", [
    (dict(epochs=0), "epochs"),
    (dict(optimizer="rmsprop"), "optimizer"),
    (dict(schedule="cosine"), "schedule"),
    (dict(label_smoothing=1.0), "label_smoothing"),
    (dict(base_lr=0), "base_lr"),
    (dict(bn_momentum=1.0), "bn_momentum"),
    (dict(ensemble="top_k"), "ensemble"),
    (dict(epoch=3), "unknown Recipe fields"),
])
def test_bad_arguments_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        presets.fashion_mnist_fast(**bad)
