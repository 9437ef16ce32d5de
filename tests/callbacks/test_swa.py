import keras
import numpy as np
import pytest

from _cb_helpers import tiny_data, tiny_model
from kerasrecipes.callbacks import SWA, recalibrate_batchnorm


class Recorder(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights, self.lrs = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())
        self.lrs.append(float(self.model.optimizer.learning_rate))


def test_swa_swaps_in_the_uniform_average_from_start_epoch():
    x, y = tiny_data(64)
    model = tiny_model(lr=0.3)
    rec, swa = Recorder(), SWA(start_epoch=3, lr=0.05)  # 1-based: epochs 3, 4, 5
    model.fit(x, y, batch_size=16, epochs=5, verbose=0, callbacks=[rec, swa])
    assert swa.averaged == 3
    expected = [np.mean([w[i] for w in rec.weights[2:]], axis=0) for i in range(len(rec.weights[0]))]
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(rec.lrs, [0.3, 0.3, 0.05, 0.05, 0.05], rtol=1e-6)


def bn_input_reference(model, x, batch_size):
    """Per-batch mean/var of the BatchNorm input, averaged over batches, in numpy."""
    kernel, bias = model.layers[0].get_weights()[:2]
    h = np.maximum(x @ kernel + bias, 0.0)
    batches = [h[i:i + batch_size] for i in range(0, len(h), batch_size)]
    return np.mean([b.mean(0) for b in batches], axis=0), np.mean([b.var(0) for b in batches], axis=0)


def test_recalibrate_batchnorm_is_the_equal_weight_batch_average():
    x, _ = tiny_data(100)
    model = tiny_model(bn=True)
    bn = model.layers[1]
    bn.moving_mean.assign(np.full(bn.moving_mean.shape, 7.0, "float32"))
    used = recalibrate_batchnorm(model, x, batch_size=32)
    assert used == 4 and bn.momentum == 0.99  # momentum put back
    mean, var = bn_input_reference(model, x, 32)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), var, rtol=1e-3, atol=1e-5)
    assert recalibrate_batchnorm(tiny_model(), x) == 0


def test_swa_recalibrates_batchnorm_with_data_and_warns_without():
    x, y = tiny_data(64)
    model = tiny_model(lr=0.1, bn=True)
    model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=[SWA(start_epoch=2, data=(x, y), batch_size=32)])
    mean, _ = bn_input_reference(model, x, 32)
    np.testing.assert_allclose(model.layers[1].moving_mean.numpy(), mean, rtol=1e-4, atol=1e-6)
    with pytest.warns(UserWarning, match="recalibrate_batchnorm"):
        tiny_model(bn=True).fit(x, y, epochs=2, verbose=0, callbacks=[SWA(start_epoch=1)])


def test_swa_deepcopy_shares_data():
    import copy

    x = np.zeros((1000, 5), "float32")
    clone = copy.deepcopy(SWA(3, data=x))
    assert clone.data is x and clone.start_epoch == 3


def test_bad_arguments():
    for kwargs, match in [
        (dict(start_epoch=0), "start_epoch must be an integer >= 1. Received start_epoch=0"),
        (dict(start_epoch=2.0), "start_epoch"), (dict(start_epoch=1, lr=0), "lr"),
        (dict(start_epoch=1, batch_size=0), "batch_size"), (dict(start_epoch=1, verbose="yes"), "verbose")]:
        with pytest.raises(ValueError, match=match):
            SWA(**kwargs)


def test_start_epoch_past_the_fit_is_refused_before_training():
    x, y = tiny_data(32)
    model = tiny_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match="average nothing: start_epoch=10 .*epochs=2"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[SWA(start_epoch=10)])
    assert all(np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    with pytest.raises(ValueError, match="steps"):
        recalibrate_batchnorm(model, x, steps=0)


def test_verbose_message(capsys):
    x, y = tiny_data(32)
    tiny_model().fit(x, y, epochs=2, verbose=0, callbacks=[SWA(start_epoch=1, verbose=1)])
    assert "average of 2 epochs" in capsys.readouterr().out
