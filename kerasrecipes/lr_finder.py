"""The learning-rate range test (Smith 2017): raise the LR batch by batch and watch the loss."""

import math

import keras
import numpy as np

from kerasrecipes._models import check_built, check_compiled

LR_FIND_FILE = "lr_find.json"  # what `kerasrecipes lr-find --out DIR` writes: the result and the recipe it tested


class LRFinderResult:
    """What `lr_find` measured.

    Attributes:
        lrs: LR of each batch (numpy array).
        losses: Smoothed (bias-corrected exponential moving average) training
            loss after each batch.
        raw_losses: The batch losses before smoothing.
        suggestion: LR at the steepest descent of the smoothed loss against
            log10(LR), or None when too few points were recorded.
        diverged: Whether the test stopped because the loss exceeded
            `divergence` times its best.
    """

    def __init__(self, lrs, losses, raw_losses, suggestion, diverged):
        self.lrs = np.asarray(lrs, dtype="float64")
        self.losses = np.asarray(losses, dtype="float64")
        self.raw_losses = np.asarray(raw_losses, dtype="float64")
        self.suggestion = suggestion
        self.diverged = diverged

    def __repr__(self):
        sugg = "None" if self.suggestion is None else f"{self.suggestion:.3g}"
        span = f"{self.lrs[0]:.3g}..{self.lrs[-1]:.3g}" if len(self.lrs) else "-"
        best = f"{self.losses.min():.4g}" if len(self.losses) else "-"
        return (f"LRFinderResult(suggestion={sugg}, steps={len(self.lrs)}, lrs={span}, "
                f"min_loss={best}, diverged={self.diverged})")

    def to_dict(self) -> dict:
        """The result as plain JSON types (what `kerasrecipes lr-find` writes as `lr_find.json`)."""
        return {"suggestion": self.suggestion, "diverged": bool(self.diverged), "steps": len(self.lrs),
                "lrs": self.lrs.tolist(), "losses": self.losses.tolist(), "raw_losses": self.raw_losses.tolist()}

    def summary(self) -> str:
        """One readable line: the suggestion and what the test covered."""
        if not len(self.lrs):
            return "LR range test: no batch recorded"
        sugg = "no suggestion (too few points before the loss minimum)" if self.suggestion is None else (
            f"suggested learning rate {self.suggestion:.3g} (steepest descent of the smoothed loss)")
        end = "stopped when the loss diverged" if self.diverged else "no divergence"
        return (f"{sugg}; {len(self.lrs)} steps from {self.lrs[0]:.3g} to {self.lrs[-1]:.3g}, lowest smoothed "
                f"loss {self.losses.min():.4g}; {end}")

    def plot(self, **kwargs):
        """The smoothed loss against the LR (log x axis), the suggestion marked.

        A headless `matplotlib.figure.Figure` from `kerasrecipes.plots.lr_finder`
        (keyword arguments go there, e.g. `skip_start=10`).
        """
        from kerasrecipes import plots

        return plots.lr_finder(self, **kwargs)


def _steepest_descent(lrs, losses):
    """LR where d(loss)/d(log10 lr) is most negative, before the loss minimum."""
    end = int(np.argmin(losses)) + 1
    if end < 3:
        return None
    # The first few points are dominated by the smoothing's warm-up; skip them
    # as fastai does, but keep at least three points.
    start = min(max(1, end // 10), end - 3)
    grad = np.gradient(losses[start:end], np.log10(lrs[start:end]))
    return float(lrs[start + int(np.argmin(grad))])


class _RangeTest(keras.callbacks.Callback):
    """Sets the LR before every batch and records the batch's loss after it.

    A batch hook is what this feature needs; it lives only inside lr_find's fit.
    """

    def __init__(self, lrs, smoothing, divergence):
        super().__init__()
        self.schedule = lrs
        self.smoothing = smoothing
        self.divergence = divergence
        self.lrs, self.raw, self.smoothed = [], [], []
        self.step = 0
        self.avg = 0.0
        self.best = math.inf
        self.prev_mean = 0.0
        self.diverged = False

    def on_epoch_begin(self, epoch, logs=None):
        self.prev_mean = 0.0
        self.batch_in_epoch = 0

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = float(self.schedule[self.step])

    def on_train_batch_end(self, batch, logs=None):
        # Keras 3 logs the running mean of the loss over the epoch; recover the
        # batch's own loss from consecutive means (equal batch sizes).
        mean = float(logs["loss"])
        b = self.batch_in_epoch
        loss = mean * (b + 1) - self.prev_mean * b
        self.prev_mean, self.batch_in_epoch = mean, b + 1
        self.lrs.append(float(self.schedule[self.step]))
        self.raw.append(loss)
        self.step += 1
        if not math.isfinite(loss):
            self.diverged = True
            self.lrs.pop(), self.raw.pop()
            self.model.stop_training = True
            return
        self.avg = self.smoothing * self.avg + (1.0 - self.smoothing) * loss
        smoothed = self.avg / (1.0 - self.smoothing ** self.step)
        self.smoothed.append(smoothed)
        self.best = min(self.best, smoothed)
        if smoothed > self.divergence * self.best:
            self.diverged = True
            self.model.stop_training = True
        elif self.step >= len(self.schedule):
            self.model.stop_training = True


def lr_find(model, x, y=None, min_lr=1e-7, max_lr=10.0, steps=100, batch_size=32,
            smoothing=0.98, divergence=4.0, verbose=0) -> LRFinderResult:
    """The LR range test: train `steps` batches with the LR rising exponentially from `min_lr` to `max_lr`.

    Records the smoothed training loss, stops early when it exceeds
    `divergence` times its best, then puts back the model's weights and the
    optimizer's state (iterations, LR, moments) exactly as they were, so the
    test leaves no trace. Keras has no range test; this runs on `model.fit`
    (so any backend, any compiled loss) with one batch-level callback, and
    frees what that `fit` traced (`kerasrecipes.memory.released`) without
    touching the caller's Keras state.

    Args:
        model: A compiled, built Keras model whose optimizer has a float
            (settable) learning rate.
        x: Inputs (array) or a dataset of `(x, y)` batches.
        y: Targets for array `x`. Defaults to `None`.
        min_lr: First LR. Defaults to `1e-7`.
        max_lr: Last LR. Defaults to `10.0`.
        steps: Number of batches (the data is cycled if it has fewer).
            Defaults to `100`.
        batch_size: Batch size for array input; a last partial batch is
            dropped. Defaults to `32`.
        smoothing: Weight of the exponential moving average of the loss.
            Defaults to `0.98`.
        divergence: Stop when the smoothed loss exceeds this times its best.
            Defaults to `4.0`.
        verbose: Passed to `fit`. Defaults to `0`.

    Returns:
        An `LRFinderResult` with `lrs`, `losses`, `suggestion` and `.plot()`.

    Example:
    >>> result = kerasrecipes.lr_find(model, x_train, y_train, steps=100)
    >>> result.suggestion          # e.g. 0.03
    >>> result.plot()              # loss against LR, log x axis
    """
    check_compiled(model, "lr_find", why=" (it raises the optimizer's learning rate batch by batch)")
    check_built(model, "lr_find")
    if not isinstance(model.optimizer.learning_rate, keras.Variable):
        raise ValueError(
            "lr_find sets the LR batch by batch, so the optimizer needs a float "
            "learning rate, not a schedule. Received optimizer learning_rate="
            f"{model.optimizer.get_config().get('learning_rate')!r}"
        )
    if not (0 < min_lr < max_lr):
        raise ValueError(f"Need 0 < min_lr < max_lr. Received min_lr={min_lr!r}, max_lr={max_lr!r}")
    if not isinstance(steps, int) or steps < 2:
        raise ValueError(f"steps must be an integer >= 2. Received steps={steps!r}")
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1). Received smoothing={smoothing!r}")
    if divergence <= 1.0:
        raise ValueError(f"divergence must be > 1. Received divergence={divergence!r}")

    fit_kwargs = {}
    if isinstance(x, np.ndarray):
        if y is None:
            raise ValueError("y is required when x is an array.")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer. Received batch_size={batch_size!r}")
        full = (len(x) // batch_size) * batch_size
        if full == 0:
            raise ValueError(f"x has fewer samples ({len(x)}) than one batch (batch_size={batch_size}).")
        x, y = x[:full], np.asarray(y)[:full]
        epochs = math.ceil(steps / (full // batch_size))
        fit_kwargs.update(y=y, batch_size=batch_size, shuffle=True)
    else:
        epochs = steps  # a dataset: stop_training ends the run after `steps` batches

    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    saved_weights = [np.array(w, copy=True) for w in model.get_weights()]
    saved_optimizer = [np.array(keras.ops.convert_to_numpy(v), copy=True) for v in optimizer.variables]

    lrs = min_lr * (max_lr / min_lr) ** (np.arange(steps) / (steps - 1))
    probe = _RangeTest(lrs, smoothing, divergence)
    from kerasrecipes.memory import released

    try:
        with released():
            model.fit(x, epochs=epochs, callbacks=[probe], verbose=verbose, **fit_kwargs)
    finally:
        model.set_weights(saved_weights)
        for variable, value in zip(optimizer.variables, saved_optimizer):
            variable.assign(value)

    n = len(probe.smoothed)
    lrs_seen = np.asarray(probe.lrs[:n])
    losses = np.asarray(probe.smoothed)
    return LRFinderResult(lrs_seen, losses, probe.raw[:n], _steepest_descent(lrs_seen, losses), probe.diverged)
