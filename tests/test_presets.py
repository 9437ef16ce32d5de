import dataclasses
import json

import keras
import numpy as np
import pytest

import kerasrecipes.recipe
from kerasrecipes import presets, schedules
from kerasrecipes.callbacks import CheckpointEnsemble

# A tiny variant of the preset: same pieces, a few seconds on 2 CPU cores.
TINY = dict(filters=(4, 8), convs_per_stage=1, epochs=2, batch_size=64, seed=0, jit_compile=False)


def test_preset_defaults_are_the_documented_recipe():
    recipe = presets.fashion_mnist_fast()
    assert presets.Recipe is kerasrecipes.recipe.Recipe  # one run configuration, re-exported
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
    assert [m.epoch for m in result.ensemble_callback.members] == [1, 2]  # EnsembleMember.epoch is 1-based (callbacks/)

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
    recipe = presets.fashion_mnist_fast(**dict(TINY, epochs=1), precision="mixed_bfloat16", ensemble=None)
    assert recipe.policy()[0] == "mixed_bfloat16"
    assert presets.fashion_mnist_fast(precision="auto").resolved(seed=1).precision in ("float32", "mixed_bfloat16")
    model = recipe.build_model()
    assert keras.config.dtype_policy().name == "float32"
    assert model.get_layer("block1_conv1").compute_dtype == "bfloat16"
    assert model.output.dtype == "float32"
    result = recipe.fit(x[:128], y[:128], verbose=0)
    assert np.isfinite(result.history.history["loss"]).all()


@pytest.mark.parametrize("bad, match", [
    (dict(epochs=0), "epochs"),
    (dict(optimizer="lamb"), "optimizer"),
    (dict(precision="half"), "precision"),
    (dict(arch="vgg99"), "arch"),
    (dict(val_fraction=1.0), "val_fraction"),
    (dict(deterministic="yes"), "deterministic"),
    (dict(schedule="cosine"), "schedule"),
    (dict(label_smoothing=1.0), "label_smoothing"),
    (dict(base_lr=0), "base_lr"),
    (dict(bn_momentum=1.0), "bn_momentum"),
    (dict(ensemble="best"), "ensemble"),
    (dict(epoch=3), "unknown Recipe field"),
])
def test_bad_arguments_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        presets.fashion_mnist_fast(**bad)


def test_get_applies_overrides_and_names_the_valid_recipes():
    recipe = presets.get("fashion_mnist_fast", epochs=3, seed=1)
    assert recipe == presets.fashion_mnist_fast(epochs=3, seed=1)
    assert set(presets.RECIPES) == {"factory", "fashion_mnist_fast", "fashion_mnist_94"}
    best = presets.get("fashion_mnist_94", seed=2)  # the measured 15-epoch bfloat16 variant
    assert best == presets.fashion_mnist_fast(precision="mixed_bfloat16", epochs=15, seed=2)
    assert presets.fashion_mnist_94(precision="float32").precision == "float32"
    with pytest.raises(ValueError, match="recipe must be one of factory, fashion_mnist_fast.*Received recipe='fast'"):
        presets.get("fast")


def test_factory_is_the_old_factory_run_and_arch_fills_the_stage_plan():
    factory = presets.get("factory")
    assert (factory.optimizer, factory.schedule, factory.ensemble, factory.early_stopping) == (
        "adam", "halving", "top_k", True)
    assert factory.learning_rate == pytest.approx(1e-3) and factory.batch_size == 128
    model = factory.build_model(normalization=(0.3, 0.1))
    old = kerasrecipes.models.vgg((28, 28, 1), 10, filters=(32, 64), convs_per_stage=2, dropout=0.25,
                                  dense_units=(128,), input_normalization=(0.3, 0.1))  # the old runs.DEFAULTS call
    assert model.count_params() == old.count_params() == 468_778
    vgg11 = presets.get("factory", arch="vgg11")
    assert vgg11.stage_plan() == ((64, 128, 256, 512, 512), (1, 1, 2, 2, 2))  # Simonyan & Zisserman's table A
    assert presets.get("factory", arch="vgg11", filters=(8,) * 5).stage_plan() == ((8,) * 5, (1, 1, 2, 2, 2))
    resolved = presets.get("fashion_mnist_fast").resolved(seed=7)
    assert resolved.seed == 7 and resolved.filters == (32, 64, 128) and resolved.precision != "auto"
    assert kerasrecipes.recipe.Recipe.from_dict(resolved.to_dict()) == resolved  # run.json round-trips


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        if epoch == 0:
            raise KeyboardInterrupt


def test_callbacks_with_backup_dir_resume_schedule_and_ensemble(fashion_small, tmp_path):
    (x, y), _ = fashion_small
    x, y = x[:192], y[:192]
    recipe = presets.fashion_mnist_fast(**dict(TINY, epochs=3), ensemble_k=3)
    steps = 3  # 192 images / batch 64

    def run(extra):
        keras.backend.clear_session()
        training = recipe.prepare(x, y)
        callbacks = recipe.callbacks(directory=tmp_path / "members", backup_dir=tmp_path / "backup")
        assert isinstance(callbacks[-1], keras.callbacks.BackupAndRestore)
        history = training.fit(epochs=recipe.epochs, callbacks=callbacks + extra, verbose=0)
        return training.model, history, callbacks[0]

    with pytest.raises(KeyboardInterrupt):
        run([_Interrupt()])  # killed after the first epoch
    model, history, ensemble = run([])
    assert history.epoch == [1, 2]  # resumed: the first epoch is not trained again
    assert int(model.optimizer.iterations.numpy()) == 3 * steps  # one-cycle continued from where it was
    assert [m.epoch for m in ensemble.members] == [1, 2, 3]  # the member saved before the kill is kept
    assert sorted(p.name for p in (tmp_path / "members").glob("member-*")) == [
        f"member-e0000{i}.weights.h5" for i in range(1, 4)]  # written to disk, one file per member (1-based)
