"""Layer statistics and per-batch losses: vanishing gradients, dead ReLUs and noisy batches as numbers.

Keras's callbacks record epoch-level metrics only. cs231n's notes ask for more
things to look at: the per-layer activation variance (the initialization
figures), the fraction of dead ReLU units ("as much as 40% of your network can
be dead"), the gradient norm per layer (vanishing and exploding gradients), and
the per-batch loss curve whose "width" tells the batch size is too small.

`LayerStats` measures the first three at epoch ends on a fixed sample batch;
`BatchLossRecorder` is the one opt-in per-batch hook. `gradient_function` and
`loss_and_gradients` (from `kerasrecipes._gradients`, re-exported here) compute
gradients with the active backend (TensorFlow or JAX); `as_layer_stats` (from
`kerasrecipes._stats`) reads any form of the statistics.
"""

import warnings

import keras
import numpy as np
from keras import ops

from kerasrecipes import _io
from kerasrecipes._gradients import check_backend, gradient_function, loss_and_gradients  # noqa: F401 (public here)
from kerasrecipes._stats import as_layer_stats, check_positive_int, finite_or_none, moving_average  # noqa: F401

_RELU_NAMES = ("relu", "relu6")


# --------------------------------------------------------------------------- activations

def _is_relu(layer):
    activation = getattr(layer, "activation", None)
    if isinstance(layer, keras.layers.ReLU):
        return not layer.negative_slope and not layer.threshold
    if activation is None or not callable(activation):
        return False
    try:
        return keras.activations.serialize(activation) in _RELU_NAMES
    except (ValueError, TypeError):
        return False


def _probe_layers(model, layers=None):
    """(name, layer) pairs whose outputs are recorded, in model order."""
    chosen = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if layers is not None and layer.name not in layers:
            continue
        chosen.append(layer)
    return chosen


def _outputs_function(model, chosen):
    """A function `x -> [each chosen layer's output]` in inference mode, or `None` for a subclassed model.

    Built once per model: a Functional model gets one probe `keras.Model` over
    the chosen layers' outputs, a Sequential one is run layer by layer.
    """
    if isinstance(model, keras.Sequential):
        def run_sequential(x):
            outputs, h = {}, x
            for layer in model.layers:
                h = layer(h, training=False)
                outputs[layer.name] = h
            return [outputs[layer.name] for layer in chosen]

        return run_sequential
    try:
        probe = keras.Model(model.input, [layer.output for layer in chosen])
    except (AttributeError, ValueError, TypeError):
        return None

    def run_probe(x):
        result = probe(x, training=False)
        return result if isinstance(result, (list, tuple)) else [result]

    return run_probe


def _activation_stats(value, relu):
    a = np.asarray(ops.convert_to_numpy(value), dtype="float64")
    stats = {"mean": float(a.mean()), "std": float(a.std())}
    if relu:
        # A unit is a channel (conv) or a neuron (dense): dead when it outputs
        # zero for every example and position of the sample.
        per_unit = a.reshape(-1, a.shape[-1]).max(axis=0)
        stats["dead_fraction"] = float(np.mean(per_unit <= 0.0))
    else:
        stats["dead_fraction"] = None
    return stats


class _Snapshots:
    """`layer_statistics` with its probe model and gradient function built once, for repeated calls.

    `LayerStats` keeps one for a whole `fit`, so a recorded epoch costs one
    inference pass and one compiled forward/backward pass, not a model build.
    """

    def __init__(self, model, *, loss=None, layers=None, jit=False):
        self.model = model
        self.loss = loss
        self.jit = jit
        self.chosen = _probe_layers(model, layers)
        self.outputs = _outputs_function(model, self.chosen)
        self._gradients = None  # built at the first call with targets (it needs a loss)

    def __call__(self, x, y=None):
        activations = {}
        if self.outputs is not None:
            for layer, value in zip(self.chosen, self.outputs(x)):
                activations[layer.name] = _activation_stats(value, _is_relu(layer))
        gradients, value = {}, None
        if y is not None:
            if self._gradients is None:
                self._gradients = gradient_function(self.model, loss=self.loss, jit=self.jit)
            total, grads, _, _ = self._gradients([v.value for v in self.model.trainable_variables],
                                                 [v.value for v in self.model.non_trainable_variables], x, y)
            value = float(ops.convert_to_numpy(total))
            for variable, grad in zip(self.model.trainable_variables, grads):
                g = np.asarray(ops.convert_to_numpy(grad), dtype="float64") if grad is not None else np.zeros(1)
                gradients[variable.path] = float(np.sqrt(np.sum(g * g)))
        return {"activations": activations, "gradients": gradients, "loss": value}


def layer_statistics(model, x, y=None, *, loss=None, layers=None):
    """One snapshot of per-layer activation statistics and per-weight gradient norms.

    What the initialization figures of cs231n's notes show: the mean and standard
    deviation of every layer's output (inference mode), the fraction of ReLU
    units that never fire on `x`, and, when `y` is given, the L2 norm of the
    gradient of the loss for every trainable weight.

    Args:
        model: A built Keras model (Sequential or Functional for activations;
            a subclassed model gets gradients only).
        x: A small sample batch of inputs (64-256 examples is plenty).
        y: Its targets; `None` skips the gradients.
        loss: Loss for the gradients. Defaults to the compiled loss.
        layers: Optional layer names to record. Defaults to all layers.

    Returns:
        A dict `{"activations": {layer: {"mean", "std", "dead_fraction"}},
        "gradients": {weight_path: norm}, "loss": float or None}`;
        `dead_fraction` is `None` for layers without a ReLU output.

    Example:
    >>> snap = layer_statistics(model, x[:128], y[:128])
    >>> snap["activations"]["dense"]["std"]
    """
    return _Snapshots(model, loss=loss, layers=layers)(x, y)


# --------------------------------------------------------------------------- callbacks

class LayerStats(keras.callbacks.Callback):
    """Record per-layer activation statistics, dead ReLUs and gradient norms at epoch ends.

    On a fixed sample batch, before training and after every `every` epochs, it
    records what `layer_statistics` measures, so vanishing and exploding
    gradients and dying ReLUs show up as numbers (`.stats`) and as figures
    (`kerasrecipes.plots.layer_stats`). It adds `dead_fraction` (over all ReLU
    units) and `grad_norm_ratio` (first kernel's gradient norm over the last
    one's: far below 1 means vanishing gradients) to the epoch logs, NaN on
    epochs it skips. Keras has no such callback (TensorBoard's histograms need
    TensorBoard and show weights, not dead units or gradient norms per layer).

    Cost: one inference pass and one forward/backward pass on the sample per
    recorded epoch, no per-batch work. Gradients use the active backend
    (TensorFlow or JAX); under another backend `on_train_begin` raises.

    Args:
        every: Record after every `every` epochs. Defaults to `1`.
        sample: `(x, y)` arrays the statistics are computed on; the first
            `sample_size` examples are copied and kept (a small array, so the
            callback stays cheap to deep-copy for keras-tuner).
        sample_size: Examples kept from `sample`. Defaults to `256` (a unit
            counts as dead only if it is silent on all of them, so a tiny
            sample overstates the dead fraction).
        at_start: Also record before the first epoch (the initialization
            figures). Defaults to `True`.
        layers: Optional layer names to record. Defaults to all layers.
        loss: Loss for the gradients. Defaults to the compiled loss.

    Attributes:
        stats: `{"epochs": [...], "activations": {...}, "gradients": {...},
            "loss": [...]}`; epoch 0 is before training, epoch k after the k-th.

    Example:
    >>> stats = LayerStats(sample=(x_val[:64], y_val[:64]))
    >>> model.fit(x, y, epochs=5, callbacks=[stats])
    >>> kerasrecipes.plots.layer_stats(stats)
    """

    def __init__(self, every=1, sample=None, sample_size=256, at_start=True, layers=None, loss=None):
        super().__init__()
        check_positive_int(every, "every")
        check_positive_int(sample_size, "sample_size")
        if layers is not None and (isinstance(layers, str) or not all(isinstance(n, str) for n in layers)):
            raise ValueError(f"layers must be a list of layer names or None. Received layers={layers!r}")
        if not isinstance(sample, (tuple, list)) or len(sample) != 2:
            raise ValueError(
                "sample must be an (x, y) pair of arrays, e.g. sample=(x_val[:64], y_val[:64]). "
                f"Received sample={sample!r:.80}"
            )
        x, y = np.asarray(sample[0]), np.asarray(sample[1])
        if len(x) != len(y) or len(x) == 0:
            raise ValueError(
                f"sample needs as many targets as inputs, at least one. Received {len(x)} inputs "
                f"and {len(y)} targets"
            )
        self.every = int(every)
        self.sample_size = int(sample_size)
        self.x = np.array(x[: self.sample_size])
        self.y = np.array(y[: self.sample_size])
        self.at_start = bool(at_start)
        self.layers = None if layers is None else list(layers)
        self.loss = loss
        self.stats = None
        self._snapshots = None

    def on_train_begin(self, logs=None):
        check_backend()
        self.stats = {"epochs": [], "activations": {}, "gradients": {}, "loss": []}
        self._epoch_offset = 0
        # Built once per fit (the model does not change within one); compiled
        # gradients, since the same-shaped sample is seen every recorded epoch.
        self._snapshots = _Snapshots(self.model, loss=self.loss, layers=self.layers, jit=True)
        if self.at_start:
            self._record(0)

    def _record(self, epoch):
        snap = self._snapshots(self.x, self.y)
        if not snap["activations"] and not self.stats["activations"]:
            warnings.warn(
                f"LayerStats: model {self.model.name!r} is subclassed, so only gradient norms "
                "are recorded (activations need a Sequential or Functional model)",
                stacklevel=2,
            )
        n_before = len(self.stats["epochs"])
        self.stats["epochs"].append(epoch)
        self.stats["loss"].append(finite_or_none(snap["loss"]))
        for name, s in snap["activations"].items():
            entry = self.stats["activations"].setdefault(
                name, {"mean": [None] * n_before, "std": [None] * n_before,
                       "dead_fraction": None if s["dead_fraction"] is None else [None] * n_before})
            entry["mean"].append(finite_or_none(s["mean"]))
            entry["std"].append(finite_or_none(s["std"]))
            if entry["dead_fraction"] is not None:
                entry["dead_fraction"].append(s["dead_fraction"])
        for name, norm in snap["gradients"].items():
            self.stats["gradients"].setdefault(name, [None] * n_before).append(finite_or_none(norm))
        return snap

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        if logs is None:
            return
        if done % self.every:
            logs["dead_fraction"] = float("nan")
            logs["grad_norm_ratio"] = float("nan")
            return
        snap = self._record(done)
        relu = [s["dead_fraction"] for s in snap["activations"].values() if s["dead_fraction"] is not None]
        logs["dead_fraction"] = float(np.mean(relu)) if relu else float("nan")
        kernels = [v for k, v in snap["gradients"].items() if k.split("/")[-1] == "kernel"]
        ratio = kernels[0] / kernels[-1] if len(kernels) >= 2 and kernels[-1] > 0 else float("nan")
        logs["grad_norm_ratio"] = float(ratio)

    def on_train_end(self, logs=None):
        self._snapshots = None  # holds the model and a traced function: not kept past the fit

    def save(self, path):
        """Write `.stats` as JSON atomically; `plots.layer_stats(path)` and `diagnose` read it."""
        if self.stats is None:
            raise ValueError("LayerStats has nothing to save: it has not been used in a fit yet")
        return _io.write_json(path, self.stats)


class BatchLossRecorder(keras.callbacks.Callback):
    """Record the training loss of every batch: the curve whose "width" tells the batch size.

    Keras logs the running mean of the loss over the epoch at each batch; this
    callback recovers each batch's own loss from the loss tracker's running sum
    and count (exact, whatever the batch sizes), so `plots.history` can draw the
    per-batch curve with its moving average and `diagnose` can judge its width
    ("noisy_batches"). At each epoch end it adds `batch_loss_width` to the logs:
    the spread of that epoch's batch losses around their moving average,
    relative to its level.

    Cost: this is the package's only per-batch hook, so it is opt-in. Overriding
    `on_train_batch_end` turns off Keras's asynchronous dispatch for every
    callback of the fit, and each batch waits for its loss to reach the host.
    On a small CNN on 2 CPU cores that cost a few percent of epoch time (see
    BENCHMARKS.md); on a fast accelerator with tiny batches it can be more.

    Args:
        window: Moving-average window, in batches, for `batch_loss_width`.
            Defaults to `20`.

    Attributes:
        losses: Loss of every batch, across epochs.
        epochs: The epoch index of every batch.

    Example:
    >>> recorder = BatchLossRecorder()
    >>> history = model.fit(x, y, epochs=3, callbacks=[recorder])
    >>> kerasrecipes.plots.history(history, batch_losses=recorder)
    """

    def __init__(self, window=20):
        super().__init__()
        check_positive_int(window, "window")
        self.window = int(window)
        self.losses = []
        self.epochs = []

    def on_train_begin(self, logs=None):
        self.losses = []
        self.epochs = []
        self._epoch = 0
        self._tracker = next(
            (m for m in self.model.metrics
             if m.name == "loss" and hasattr(m, "total") and hasattr(m, "count")), None)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._seen = 0  # batches this epoch
        self._total, self._count = 0.0, 0.0
        self._mean = 0.0

    def on_train_batch_end(self, batch, logs=None):
        if self._tracker is not None:
            total = float(ops.convert_to_numpy(self._tracker.total))
            count = float(ops.convert_to_numpy(self._tracker.count))
            new = count - self._count
            loss = (total - self._total) / new if new > 0 else float("nan")
            self._total, self._count = total, count
        else:
            # No tracker (a custom train_step): de-average the logged running mean,
            # assuming equal batch sizes.
            mean = float((logs or {}).get("loss", float("nan")))
            self._seen += 1
            loss = self._seen * mean - (self._seen - 1) * self._mean
            self._mean = mean
        self.losses.append(loss)
        self.epochs.append(self._epoch)

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        this = np.asarray([l for l, e in zip(self.losses, self.epochs) if e == epoch], dtype="float64")
        if len(this) >= 2:
            trend = moving_average(this, self.window)
            level = np.nanmean(trend)
            logs["batch_loss_width"] = float(np.nanstd(this - trend) / abs(level)) if level else float("nan")
        else:
            logs["batch_loss_width"] = float("nan")

    def to_dict(self):
        """`{"loss": [...], "epoch": [...]}`, JSON-ready."""
        return {"loss": [finite_or_none(float(v)) for v in self.losses], "epoch": list(map(int, self.epochs))}

    def save(self, path):
        """Write the per-batch losses as JSON atomically (`plots.history` and `diagnose` read it)."""
        return _io.write_json(path, self.to_dict())
