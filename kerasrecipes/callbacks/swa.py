"""Stochastic weight averaging, and recomputing BatchNorm statistics for averaged weights."""

import copy
import warnings

import keras
import numpy as np

from kerasrecipes._models import check_compiled
from kerasrecipes.callbacks._monitor import Resumable, check_count, check_number, print_msg
from kerasrecipes.callbacks.plateau import _settable_lr


def _batchnorm_layers(model):
    found = []
    for layer in getattr(model, "layers", []):
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        elif getattr(layer, "layers", None):  # nested model
            found.extend(_batchnorm_layers(layer))
    return found


def _batches(data, batch_size, steps):
    """Yields input batches from an array, a (x, y) tuple, or an iterable of batches."""
    if isinstance(data, tuple):
        data = data[0]
    if isinstance(data, np.ndarray):
        n = len(data)
        starts = range(0, n, batch_size)
        for i, start in enumerate(starts):
            if steps is not None and i >= steps:
                return
            yield data[start:start + batch_size]
        return
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            return
        yield batch[0] if isinstance(batch, (tuple, list)) else batch


def recalibrate_batchnorm(model, data, batch_size: int = 128, steps: int | None = None) -> int:
    """Recomputes every BatchNorm layer's moving mean and variance from `data`.

    Averaged weights (SWA, checkpoint averages) no longer match the moving
    statistics collected during training, so these are reset and recomputed
    as the *equal-weight* average of the per-batch statistics over one pass of
    `data` (PyTorch's `torch.optim.swa_utils.update_bn`): each layer's momentum
    is set to `i / (i + 1)` for the `i`-th batch and restored afterwards. The
    forward passes run in training mode (so Dropout is active, as in a training
    step); nothing else in the model changes.

    Args:
        model: A built Keras model.
        data: Training inputs: a numpy array, an `(x, y)` tuple, or an iterable
            of batches (e.g. a `tf.data.Dataset` of `(x, y)`).
        batch_size: Batch size for array input. Defaults to `128`.
        steps: Stop after this many batches; `None` for one full pass.
            Defaults to `None`.

    Returns:
        The number of batches used (0 when the model has no BatchNorm).

    Example:
    >>> recalibrate_batchnorm(model, x_train)
    """
    check_count("batch_size", batch_size, minimum=1)
    if steps is not None:
        check_count("steps", steps, minimum=1)
    layers = _batchnorm_layers(model)
    if not layers:
        return 0
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.moving_mean.assign(np.zeros(layer.moving_mean.shape, layer.moving_mean.dtype))
        layer.moving_variance.assign(np.ones(layer.moving_variance.shape, layer.moving_variance.dtype))
    used = 0
    try:
        for i, batch in enumerate(_batches(data, batch_size, steps)):
            for layer in layers:
                # moving = m * moving + (1 - m) * batch; with m = i / (i + 1) this
                # is the running equal-weight mean of the batches so far.
                layer.momentum = i / (i + 1.0)
            model(batch, training=True)
            used += 1
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    if used == 0:
        raise ValueError(f"data yielded no batch to recalibrate BatchNorm with. Received data={data!r}")
    return used


class SWA(Resumable):
    """Stochastic weight averaging (Izmailov et al. 2018).

    From `start_epoch` on, keeps a running uniform average of the weights taken
    at each epoch end; at the end of training the average replaces the
    model's weights and, given `data`, the BatchNorm statistics are recomputed
    for it (`recalibrate_batchnorm`). Keras has an exponential moving average
    (`optimizer(use_ema=True)`, `SwapEMAWeights`) but not SWA's equal-weight
    average over the tail of training. Costs one copy of the weights in memory.
    A `start_epoch` past the fit's last epoch (it would average nothing) is a
    `ValueError` at `on_train_begin`, before any training.

    Args:
        start_epoch: The first epoch (1-based, as Keras's progress bar counts)
            whose end-of-epoch weights enter the average.
        lr: Constant LR from `start_epoch` on (SWA's high constant LR); `None`
            leaves the LR alone. Needs a settable LR. Defaults to `None`.
        data: Training inputs to recompute BatchNorm statistics with at the end
            (array, `(x, y)` tuple or dataset); without it a model with
            BatchNorm keeps stale statistics, and a warning says so.
            Defaults to `None`.
        batch_size: Batch size for recalibrating on array `data`. Defaults to `128`.
        verbose: 0 or 1. Defaults to `0`.
        backup_dir: Directory for a resumable state (average and count). Defaults to `None`.

    Attributes:
        averaged: Number of epochs in the average after `fit`.

    Example:
    >>> model.fit(x, y, epochs=20, callbacks=[SWA(start_epoch=16, lr=0.01, data=x)])  # epochs 16-20
    """

    state_fields = ("averaged",)
    weight_fields = ("average",)

    def __init__(self, start_epoch, lr=None, data=None, batch_size=128, verbose=0, backup_dir=None):
        self.start_epoch = check_count("start_epoch", start_epoch, minimum=1)
        if lr is not None:
            check_number("lr", lr, low=0.0, low_open=True)
        self.batch_size = check_count("batch_size", batch_size, minimum=1)
        super().__init__(backup_dir=backup_dir, verbose=verbose)
        self.lr = lr
        self.data = data
        self.average = None
        self.averaged = 0

    def __deepcopy__(self, memo):
        # keras-tuner deep-copies callbacks per trial: share `data` (the
        # training set) instead of copying it.
        clone = copy.copy(self)
        for key, value in self.__dict__.items():
            if key != "data":
                setattr(clone, key, copy.deepcopy(value, memo))
        return clone

    def reset(self):
        epochs = (self.params or {}).get("epochs")
        if epochs is not None and self.start_epoch > epochs:
            raise ValueError(
                f"SWA would average nothing: start_epoch={self.start_epoch} is past the last epoch of "
                f"this fit (epochs={epochs}). Pass a start_epoch between 1 and {epochs}. "
                f"Received start_epoch={self.start_epoch}"
            )
        if self.lr is not None:
            check_compiled(self.model, "SWA(lr=...)", why=" (it sets the optimizer's learning rate)")
            _settable_lr(self.model.optimizer, "SWA(lr=...)")
        self.average = None
        self.averaged = 0

    def begin_epoch(self, epoch):
        if self.lr is not None and epoch + 1 >= self.start_epoch:
            self.model.optimizer.learning_rate = self.lr

    def end_epoch(self, epoch, logs):
        if epoch + 1 < self.start_epoch:
            return
        weights = self.model.get_weights()
        if self.average is None:
            self.average = weights
        else:
            n = self.averaged
            # A new list (not an in-place update), so the resumable state sees it changed;
            # integer state (e.g. counters) is not averaged.
            self.average = [avg + (w - avg) / (n + 1.0) if np.issubdtype(avg.dtype, np.floating) else w
                            for avg, w in zip(self.average, weights)]
        self.averaged += 1

    def end_training(self, logs):
        if self.average is None:
            return
        self.model.set_weights(self.average)
        has_bn = bool(_batchnorm_layers(self.model))
        if has_bn and self.data is not None:
            recalibrate_batchnorm(self.model, self.data, batch_size=self.batch_size)
        elif has_bn:
            warnings.warn(
                "SWA swapped in averaged weights, but the model has BatchNormalization "
                "and SWA got no data: its moving statistics belong to the last epoch's "
                "weights. Call kerasrecipes.callbacks.recalibrate_batchnorm(model, x_train) "
                "or pass SWA(..., data=x_train).",
                stacklevel=2,
            )
        if self.verbose > 0:
            print_msg(f"SWA: swapped in the average of {self.averaged} epochs.")
