"""The fit core: batches shuffled per (seed, epoch), augmentation and mixing inside the step, the execution plan."""

import json

import keras
import numpy as np
import pytest

import kerasrecipes as kr
from kerasrecipes import execution, presets
from kerasrecipes.data import ArrayBatches
from kerasrecipes.models import Augmented
from kerasrecipes.runs import compile_estimate
from kerasrecipes.tuning import parallel


def _identity(shape):
    inputs = keras.Input(shape)
    return keras.Model(inputs, keras.layers.Identity()(inputs))


class _Recording(ArrayBatches):
    def __getitem__(self, index):
        x, y = super().__getitem__(index)
        self.seen.setdefault(self.epoch, []).append(np.asarray(y).argmax(-1).tolist())
        return x, y


def _fit_orders(epochs, initial_epoch=0):
    x = np.arange(40, dtype="float32").reshape(40, 1)
    y = keras.utils.to_categorical(np.arange(40) % 10, 10)
    batches = _Recording(x, y, 8, seed=3)
    batches.seen = {}
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(10, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    model.fit(batches, epochs=epochs, initial_epoch=initial_epoch, shuffle=False, verbose=0,
              callbacks=[batches.epoch_callback()])
    return batches.seen


def test_batches_follow_fits_epoch_so_a_resumed_fit_sees_the_same_orders():
    whole, resumed = _fit_orders(3), _fit_orders(3, initial_epoch=1)
    for epoch in (1, 2):
        assert whole[epoch][-5:] == resumed[epoch][-5:]  # the last 5 batches: a whole epoch of 40 / 8
    assert whole[1][-5:] != whole[2][-5:]  # a new order every epoch
    flat = sorted(i for batch in whole[2][-5:] for i in batch)
    assert flat == sorted(list(np.arange(40) % 10))  # every sample once


def test_batches_check_their_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        ArrayBatches(np.zeros((4, 1)), np.zeros(4), batch_size=0)
    with pytest.raises(ValueError, match="one label per sample"):
        ArrayBatches(np.zeros((4, 1)), np.zeros(3), batch_size=2)
    assert len(ArrayBatches(np.zeros((10, 1)), None, 4)) == 3
    assert len(ArrayBatches(np.zeros((10, 1)), None, 4, drop_remainder=True)) == 2


def test_uint8_batches_are_scaled_in_the_step():
    model = Augmented(_identity((2, 2, 1)))
    x = np.array([[[[0], [255]], [[51], [102]]]], dtype="uint8")
    out = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(out[0, :, :, 0], [[0, 1], [0.2, 0.4]], rtol=1e-6)


def test_mixup_mixes_images_and_labels_with_one_weight():
    model = Augmented(_identity((4, 4, 1)), mixup=0.4, seed=0)
    rng = np.random.default_rng(0)
    x = rng.random((6, 4, 4, 1)).astype("float32")
    mixed = keras.ops.convert_to_numpy(model(x, training=True))
    lam = float(keras.ops.convert_to_numpy(model.mix_weight))
    assert 0 < lam < 1
    np.testing.assert_allclose(mixed, lam * x + (1 - lam) * x[::-1], rtol=1e-5, atol=1e-6)
    model.compile(loss=keras.losses.MeanSquaredError())
    y = keras.utils.to_categorical([0, 1, 2, 3, 4, 5], 6).reshape(6, 1, 1, 6)
    y = np.broadcast_to(y[..., :1], (6, 4, 4, 1)).astype("float32")
    loss = float(keras.ops.convert_to_numpy(model.compute_loss(x, y, mixed, training=True)))
    expected = np.mean((mixed - (lam * y + (1 - lam) * y[::-1])) ** 2)
    assert loss == pytest.approx(expected, rel=1e-5)
    assert float(keras.ops.convert_to_numpy(model.compute_loss(x, y, mixed, training=False))) == pytest.approx(
        np.mean((mixed - y) ** 2), rel=1e-5)  # evaluation: the labels as given


def test_cutmix_pastes_one_box_and_weighs_labels_by_its_area():
    model = Augmented(_identity((16, 16, 1)), cutmix=1.0, seed=2)
    x = np.stack([np.full((16, 16, 1), i, "float32") for i in range(4)])
    for _ in range(5):
        mixed = keras.ops.convert_to_numpy(model(x, training=True))
        lam = float(keras.ops.convert_to_numpy(model.mix_weight))
        pasted = mixed[0, :, :, 0] == 3  # image 0's partner is the last image
        assert np.all((mixed[0] == 0) | (mixed[0] == 3))
        assert pasted.mean() == pytest.approx(1 - lam, abs=1e-6)
        rows, cols = np.nonzero(pasted)
        if len(rows):  # one rectangle
            assert pasted[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()


def test_augmented_round_trips_through_keras_files(tmp_path):
    net = kr.models.vgg((8, 8, 1), 3, filters=(4,), convs_per_stage=1)
    model = Augmented(net, kr.data.augmentation("light", (8, 8, 1), seed=0), mixup=0.2, cutmix=1.0, seed=1)
    path = str(tmp_path / "training.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)  # safe mode
    assert isinstance(loaded, Augmented) and loaded.mixup == 0.2 and loaded.cutmix == 1.0
    x = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 1), dtype=np.uint8)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), keras.ops.convert_to_numpy(model(x)),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="mixup"):
        Augmented(net, mixup=-1)
    with pytest.raises(ValueError, match="net"):
        Augmented("vgg")


def test_recipe_fit_trains_the_net_with_its_mixing_and_returns_the_net(fashion_small):
    (x, y), _ = fashion_small
    images = (x[:256] * 255).astype("uint8")
    recipe = presets.fashion_mnist_fast(filters=(4, 8), epochs=2, batch_size=64, mixup=0.2, cutmix=1.0, seed=0,
                                        precision="float32")
    result = recipe.fit(images, y[:256], verbose=0)
    assert not isinstance(result.model, Augmented)  # the net, as saved and evaluated
    assert len(result.history.history["loss"]) == 2 and np.isfinite(result.history.history["loss"]).all()
    assert [m.epoch for m in result.ensemble_callback.members] == [1, 2]
    assert result.ensemble().predict(images[:4], verbose=0).shape == (4, 10)


def test_compile_estimate_is_the_first_epoch_less_the_steady_median():
    assert compile_estimate([]) == {}
    assert compile_estimate([12.0]) == {"first_epoch_seconds": 12.0}
    assert compile_estimate([12.0, 2.0, 2.2, 1.8]) == {"first_epoch_seconds": 12.0, "steady_epoch_seconds": 2.0,
                                                       "compile_seconds": 10.0}


def test_execution_plan_on_this_cpu_box():
    plan = execution.plan(presets.fashion_mnist_fast(precision="float32"))
    assert plan.input == "host" and plan.precision == "float32" and not plan.data_parallel
    assert plan.backend == keras.backend.backend() and "input host" in plan.line()
    assert execution.input_path("host") == ("host", "asked for")
    with pytest.raises(ValueError, match="input must be one of auto, host, device. Received input='tf'"):
        execution.input_path("tf")
    with pytest.raises(ValueError, match="input must be one of"):
        presets.fashion_mnist_fast(input="gpu")
    if keras.backend.backend() != "jax":
        with pytest.raises(ValueError, match="JAX path"):
            execution.input_path("device")


def test_search_workers_share_a_gpu_by_memory_fraction():
    shared = parallel.Parallel(workers=4, gpus=[0], port=1)
    env = parallel.child_env(shared, "tuner1", 1)
    assert env["CUDA_VISIBLE_DEVICES"] == "0" and env["XLA_PYTHON_CLIENT_MEM_FRACTION"] == "0.225"
    own = parallel.Parallel(workers=2, gpus=[0, 1], port=1)
    assert parallel.child_env(own, "tuner1", 1)["CUDA_VISIBLE_DEVICES"] == "1"
    assert "XLA_PYTHON_CLIENT_MEM_FRACTION" not in parallel.child_env(own, "tuner1", 1)


@pytest.mark.parametrize("damage", [b"", b"{\"epoch\": [1, 2", b"\x00\xff garbage"])
def test_a_damaged_history_or_epoch_seconds_starts_those_logs_afresh(tmp_path, damage):
    from kerasrecipes.runs import EpochLog

    (tmp_path / "backup").mkdir()
    (tmp_path / "history.json").write_bytes(damage)
    (tmp_path / "backup" / "epoch_seconds.json").write_bytes(damage)
    log = EpochLog(tmp_path / "history.json")
    log.on_train_begin()
    assert log.rows == [] and log.seconds == []
    log.on_epoch_begin(0)
    log.on_epoch_end(0, {"loss": 1.5})
    assert json.loads((tmp_path / "history.json").read_text())["epoch"] == [1]


def test_recipe_fit_checks_its_data_before_any_work():
    recipe = presets.fashion_mnist_fast(filters=(4,), convs_per_stage=1, input_shape=(8, 8, 1), num_classes=2)
    x = np.random.default_rng(0).random((16, 8, 8, 1)).astype("float32")
    y = np.arange(16) % 2
    nan = x.copy()
    nan[0, 0, 0, 0] = np.nan
    for args, message in (((x, y + 5), "y has labels outside 0..1"), ((nan, y), "x contains 1 non-finite"),
                          ((x[..., 0], y), "x must have rank 4"), ((x[:0], y[:0]), "x is empty"),
                          ((x, y[:5]), "y has 5 labels but x has 16"), (("images", y), "x must hold"),
                          ((np.zeros((16, 9, 9, 1)), y), r"input_shape \(8, 8, 1\)")):
        with pytest.raises(ValueError, match=message):
            recipe.fit(*args)
