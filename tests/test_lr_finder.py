import keras
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import kerasrecipes  # noqa: E402
from kerasrecipes.lr_finder import LRFinderResult  # noqa: E402


def small_model(optimizer):
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy")
    return model


def test_leaves_weights_and_optimizer_state_bit_identical(fashion_small):
    (x, y), _ = fashion_small
    model = small_model(keras.optimizers.Adam(1e-3))
    model.fit(x[:256], y[:256], batch_size=64, epochs=1, verbose=0)  # non-trivial Adam moments
    weights = [w.copy() for w in model.get_weights()]
    opt = [np.array(v.numpy()) for v in model.optimizer.variables]
    result = kerasrecipes.lr_find(model, x, y, steps=30, batch_size=64)
    assert len(result.lrs) > 5
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    assert len(model.optimizer.variables) == len(opt)
    for v, b in zip(model.optimizer.variables, opt):
        np.testing.assert_array_equal(v.numpy(), b)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_finds_a_sensible_lr_and_stops_on_divergence(fashion_small):
    (x, y), _ = fashion_small
    model = small_model(keras.optimizers.SGD(0.01))
    result = kerasrecipes.lr_find(model, x, y, min_lr=1e-4, max_lr=100.0, steps=80, batch_size=32)
    # exponential spacing: constant ratio between consecutive LRs
    ratios = result.lrs[1:] / result.lrs[:-1]
    np.testing.assert_allclose(ratios, (100.0 / 1e-4) ** (1 / 79), rtol=1e-6)
    assert result.diverged and len(result.lrs) < 80
    assert result.losses[-1] > 4 * result.losses.min() or not np.isfinite(result.raw_losses[-1])
    # SGD on this MLP learns well around 0.01..1 and blows up above ~10
    assert 1e-3 < result.suggestion < 5.0
    assert result.losses.min() < result.losses[0]
    assert "suggestion=" in repr(result)


def test_batch_losses_are_the_per_batch_losses():
    # At an LR of ~1e-12 the weights do not move, so each recovered batch loss is
    # the initial model's loss on that batch; one epoch of equal batches then
    # averages to the mean loss over the whole set (the batches are shuffled).
    keras.utils.set_random_seed(3)
    x = np.random.default_rng(0).random((64, 28, 28, 1), dtype=np.float32)
    y = np.arange(64) % 10
    model = small_model(keras.optimizers.SGD(0.01))
    result = kerasrecipes.lr_find(model, x, y, min_lr=1e-12, max_lr=1e-11, steps=4, batch_size=16,
                                  smoothing=0.0)
    per_example = keras.losses.sparse_categorical_crossentropy(y, model.predict(x, verbose=0)).numpy()
    assert np.mean(result.raw_losses) == pytest.approx(per_example.mean(), rel=1e-4)


def test_plot_is_a_log_axis_figure():
    result = LRFinderResult(np.geomspace(1e-5, 1, 50), np.linspace(2, 1, 50) ** 2, np.ones(50), 1e-2, False)
    fig = result.plot()
    assert isinstance(fig, matplotlib.figure.Figure)
    assert fig.axes[0].get_xscale() == "log"


def test_bad_arguments(fashion_small):
    (x, y), _ = fashion_small
    model = small_model(keras.optimizers.SGD(keras.optimizers.schedules.CosineDecay(0.1, 10)))
    with pytest.raises(ValueError, match="schedule"):
        kerasrecipes.lr_find(model, x, y)
    model = small_model(keras.optimizers.SGD(0.1))
    with pytest.raises(ValueError, match="min_lr"):
        kerasrecipes.lr_find(model, x, y, min_lr=1.0, max_lr=0.1)
    with pytest.raises(ValueError, match="steps"):
        kerasrecipes.lr_find(model, x, y, steps=1)
