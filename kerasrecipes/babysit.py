"""Babysitting checks: the steps cs231n runs before any long training, in seconds.

cs231n's "babysitting the learning process": check the initial loss; add
regularization and see the loss go up; overfit a small sample to zero loss;
find a learning rate that makes the loss go down. `sanity_check` runs these on
the model as it is, plus one more check the others cannot make: that a short
training generalizes above chance at all (the labels carry signal). Each check
names the failure it catches, so a broken setup fails the right one.

The model is never changed: training runs on copies of the weights (`stateless_call` on shadow
variables that a fresh optimizer updates), and every
variable is compared with, and put back to, its value from before each step.
"""

import contextlib
import dataclasses
import html
import math

import keras
import numpy as np
from keras import ops

from kerasrecipes import memory, optimizers
from kerasrecipes._gradients import gradient_function

_CE_NAMES = ("sparse_categorical_crossentropy", "categorical_crossentropy")

CATCHES = {
    "initial_loss": "a wrong output layer (ReLU or linear outputs under a probability loss, "
                    "a missing softmax), an absurd initial weight scale, or labels that do not "
                    "match the number of outputs",
    "regularization": "regularization that never reaches the loss (a custom compute_loss that "
                      "drops model.losses) and all-zero weights (the symmetry problem)",
    "overfit_small": "a model that cannot fit even 50 examples: a broken output or loss "
                     "(e.g. a softmax output under from_logits=True caps the loss far above 0), "
                     "too little capacity, frozen weights, or a bug in the data/label pairing "
                     "within the batch",
    "lr_sweep": "no learning rate in the sweep lowers the loss: vanishing gradients, dead units, "
                "or a loss that is flat in the weights",
    "learns_signal": "labels that carry no signal the model can learn (shuffled or misaligned "
                     "with the inputs): held-out accuracy stays at chance",
}


@dataclasses.dataclass
class Check:
    """One babysitting check: `status` is "pass", "fail" or "skip"."""

    name: str
    status: str
    evidence: str
    catches: str
    values: dict = dataclasses.field(default_factory=dict)

    @property
    def passed(self):
        return self.status == "pass"


class Report:
    """What `sanity_check` found; prints as text, and as an HTML table in Jupyter.

    Attributes:
        checks: The `Check`s in the order they ran.
        suggested_lr: The largest swept learning rate that lowered the loss, or None.
    """

    def __init__(self, checks, suggested_lr=None):
        self.checks = list(checks)
        self.suggested_lr = suggested_lr

    @property
    def passed(self):
        """True when no check failed (skipped checks do not count)."""
        return not self.failed

    @property
    def failed(self):
        """Names of the failed checks."""
        return [c.name for c in self.checks if c.status == "fail"]

    def __getitem__(self, name):
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(f"no check {name!r}; checks: {[c.name for c in self.checks]}")

    def __iter__(self):
        return iter(self.checks)

    def to_dict(self):
        return {"passed": self.passed, "suggested_lr": self.suggested_lr,
                "checks": [dataclasses.asdict(c) for c in self.checks]}

    def __repr__(self):
        head = "all checks passed" if self.passed else f"FAILED: {', '.join(self.failed)}"
        lines = [f"Sanity check: {head}"]
        for c in self.checks:
            lines.append(f"  [{c.status:4}] {c.name}: {c.evidence}")
            if c.status == "fail":
                lines.append(f"         catches: {c.catches}")
        return "\n".join(lines)

    def _repr_html_(self):
        esc = html.escape
        colors = {"pass": "#2ca02c", "fail": "#d62728", "skip": "#7f7f7f"}
        rows = "".join(
            f'<tr><td style="color:{colors[c.status]}"><b>{c.status}</b></td><td>{esc(c.name)}</td>'
            f"<td>{esc(c.evidence)}</td><td>{esc(c.catches)}</td></tr>"
            for c in self.checks
        )
        return ('<table class="kr-sanity"><thead><tr><th>status</th><th>check</th><th>evidence</th>'
                f"<th>catches</th></tr></thead><tbody>{rows}</tbody></table>")


# --------------------------------------------------------------------------- helpers

def _snapshot(model):
    return [np.array(ops.convert_to_numpy(v.value)) for v in model.variables]


@contextlib.contextmanager
def _restored(model, snapshot):
    """Run a step, then put every model variable back to its snapshot value."""
    regularizers = [(v, v.regularizer) for v in model.trainable_variables]
    try:
        yield
    finally:
        for v, r in regularizers:
            v.regularizer = r
        for v, value in zip(model.variables, snapshot):
            if not np.array_equal(np.asarray(ops.convert_to_numpy(v.value)), value):
                v.assign(value)


def _resolve_loss(model, loss, y):
    if loss is not None:
        return loss
    compiled = getattr(model, "loss", None) if getattr(model, "compiled", False) else None
    if compiled is not None and not isinstance(compiled, (dict, list, tuple)):
        return compiled
    y = np.asarray(y)
    return "categorical_crossentropy" if y.ndim == 2 and y.shape[1] > 1 else "sparse_categorical_crossentropy"


def _loss_name(loss):
    if isinstance(loss, str):
        return loss
    name = getattr(loss, "name", None) or getattr(loss, "__name__", "")
    return str(name)


def _labels(y):
    y = np.asarray(y)
    return y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1).astype("int64")


def _predict(model, x, tv, ntv):
    outputs, _ = model.stateless_call(tv, ntv, x, training=False)
    return outputs


def _batchnorm_layers(layer):
    found = []
    for sub in getattr(layer, "layers", []):
        if isinstance(sub, keras.layers.BatchNormalization):
            found.append(sub)
        found.extend(_batchnorm_layers(sub))
    return found


def _calibrated(model, tv, ntv, x):
    """Non-trainable values with BatchNorm moving moments set to the statistics of `x`.

    A few dozen steps leave the moving averages (momentum 0.99) far from the
    data, and inference-mode predictions then look broken when the weights are
    fine. One training-mode pass at momentum 0 fixes the moments exactly.
    """
    layers = _batchnorm_layers(model)
    if not layers:
        return ntv
    saved = [layer.momentum for layer in layers]
    try:
        for layer in layers:
            layer.momentum = 0.0
        _, ntv = model.stateless_call(tv, ntv, x, training=True)
    finally:
        for layer, momentum in zip(layers, saved):
            layer.momentum = momentum
    return ntv


def _data_loss(loss_fn, y, y_pred):
    return float(ops.convert_to_numpy(ops.mean(loss_fn(y, y_pred))))


def _accuracy(y, y_pred):
    return float(np.mean(np.asarray(ops.convert_to_numpy(y_pred)).argmax(axis=1) == _labels(y)))


def _train(model, x, y, step_fn, optimizer, steps, batch_size=None, stop=None):
    """Train copies of the weights; returns the trained values and the loss of every step.

    Shadow copies of the weights take the optimizer's updates, so the model's own
    variables never move (TensorFlow has no `optimizer.stateless_apply`). The
    step is compiled (`tf.function` / `jax.jit`): eager steps cost ~50 ms each.
    `step_fn` is a jitted `gradient_function` of the model, shared by every
    check so it is traced once per batch shape. `stop(tv, ntv)` is called every
    10 steps and ends training early when true.
    """
    shadow = [keras.Variable(np.array(ops.convert_to_numpy(v.value)), dtype=v.dtype, trainable=True)
              for v in model.trainable_variables]
    optimizer.build(shadow)
    ntv = [ops.convert_to_tensor(np.array(ops.convert_to_numpy(v.value))) for v in model.non_trainable_variables]
    n = len(x)
    batch_size = min(batch_size or n, n)
    steps_per_epoch = n // batch_size  # drop the ragged tail: one batch shape, one trace
    rng = np.random.default_rng(0)
    order = np.arange(n)
    trace = []
    for step in range(steps):
        i = step % steps_per_epoch
        if i == 0 and batch_size < n:
            order = rng.permutation(n)
        idx = order[i * batch_size:(i + 1) * batch_size]
        # tensors, not variables: a tf.function retraces for every new variable object
        value, grads, _, ntv = step_fn([ops.convert_to_tensor(v.value) for v in shadow], ntv, x[idx], y[idx])
        value = float(ops.convert_to_numpy(value))
        trace.append(value)
        if not math.isfinite(value):
            break
        optimizer.apply(grads, shadow)
        if stop is not None and (step + 1) % 10 == 0 and stop([v.value for v in shadow], ntv):
            break
    return [v.value for v in shadow], ntv, trace


def _make_optimizer(optimizer, lr):
    """A callable `lr -> optimizer`, or a name built by the package's one builder (`optimizers.build`).

    "sgd" is cs231n's choice for the sweep: SGD with (plain) momentum 0.9.
    """
    if callable(optimizer) and not isinstance(optimizer, str):
        return optimizer(lr)
    return optimizers.build(optimizer, lr)


def _check_optimizer(optimizer, argument):
    if callable(optimizer) and not isinstance(optimizer, str):
        return
    if optimizer not in optimizers.NAMES:
        raise ValueError(f"{argument} must be one of {', '.join(optimizers.NAMES)} or a callable lr -> optimizer. "
                         f"Received {argument}={optimizer!r}")


# --------------------------------------------------------------------------- the checks

def _check_initial_loss(model, x, y, loss, num_classes, tolerance):
    loss_fn = keras.losses.get(loss)
    if _loss_name(loss) not in _CE_NAMES and not isinstance(
            loss_fn, (keras.losses.SparseCategoricalCrossentropy, keras.losses.CategoricalCrossentropy)):
        return Check("initial_loss", "skip", f"loss {_loss_name(loss)!r} is not a categorical "
                     "cross-entropy, so there is no ln(C) reference", CATCHES["initial_loss"])
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    value = _data_loss(loss_fn, y, _predict(model, x, tv, ntv))
    expected = math.log(num_classes)
    values = {"loss": value, "expected": expected}
    if math.isfinite(value) and abs(value - expected) <= tolerance * expected:
        return Check("initial_loss", "pass", f"initial loss {value:.3f}, close to ln({num_classes}) = "
                     f"{expected:.3f} (a uniform guess over {num_classes} classes)",
                     CATCHES["initial_loss"], values)
    ratio = value / expected if math.isfinite(value) else float("inf")
    return Check("initial_loss", "fail", f"initial loss {value:.3g} is {ratio:.2g} times ln({num_classes}) = "
                 f"{expected:.3f}, off by more than {tolerance:.0%}: check the output activation "
                 "(softmax for a probability loss) and the initial weight scale",
                 CATCHES["initial_loss"], values)


def _check_regularization(model, x, y, loss, strength):
    loss_fn = keras.losses.get(loss)
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]

    def total():
        y_pred, _, losses = model.stateless_call(tv, ntv, x, training=False, return_losses=True)
        reg = sum(float(ops.convert_to_numpy(ops.sum(l))) for l in losses)
        return _data_loss(loss_fn, y, y_pred) + reg

    before = total()
    kernels = [v for v in model.trainable_variables if len(v.shape) >= 2 and v.regularizer is None]
    for v in kernels:
        v.regularizer = keras.regularizers.L2(strength)
    after = total()
    expected = strength * sum(float(np.sum(np.square(ops.convert_to_numpy(v.value)))) for v in kernels)
    values = {"loss": before, "loss_regularized": after, "expected_rise": expected}
    if not kernels:
        return Check("regularization", "skip", "every kernel already has a regularizer; nothing to add",
                     CATCHES["regularization"], values)
    if after > before * (1 + 1e-6):
        return Check("regularization", "pass", f"L2({strength:g}) on {len(kernels)} kernels raised the loss "
                     f"from {before:.4g} to {after:.4g} (+{after - before:.3g}, expected +{expected:.3g})",
                     CATCHES["regularization"], values)
    why = "every kernel is zero" if expected == 0 else "the penalty does not reach the loss"
    return Check("regularization", "fail", f"L2({strength:g}) on {len(kernels)} kernels left the loss at "
                 f"{after:.4g} (was {before:.4g}): {why}", CATCHES["regularization"], values)


def _check_overfit(model, x, y, loss, step_fn, num_classes, samples, steps, lr, optimizer, target_accuracy,
                   target_loss):
    x, y = x[:samples], y[:samples]
    loss_fn = keras.losses.get(loss)
    limit = target_loss * math.log(num_classes)

    def done(tv, ntv):
        y_pred = _predict(model, x, tv, _calibrated(model, tv, ntv, x))
        return _accuracy(y, y_pred) >= target_accuracy and _data_loss(loss_fn, y, y_pred) <= limit

    tv, ntv, trace = _train(model, x, y, step_fn, _make_optimizer(optimizer, lr), steps, stop=done)
    y_pred = _predict(model, x, tv, _calibrated(model, tv, ntv, x))
    acc, final = _accuracy(y, y_pred), _data_loss(loss_fn, y, y_pred)
    values = {"accuracy": acc, "loss": final, "steps": len(trace), "samples": len(x)}
    if acc >= target_accuracy and final <= limit:
        return Check("overfit_small", "pass", f"{len(x)} examples fitted to accuracy {acc:.2f}, loss "
                     f"{final:.3g} in {len(trace)} steps", CATCHES["overfit_small"], values)
    return Check("overfit_small", "fail", f"after {len(trace)} steps on {len(x)} examples: accuracy "
                 f"{acc:.2f} (want >= {target_accuracy:g}), loss {final:.3g} (want <= {limit:.3g})",
                 CATCHES["overfit_small"], values)


def _check_lr_sweep(model, x, y, step_fn, lrs, steps, optimizer, min_drop):
    results = {}
    for lr in lrs:
        _, _, trace = _train(model, x, y, step_fn, _make_optimizer(optimizer, lr), steps)
        end = float(np.mean(trace[-3:])) if all(map(math.isfinite, trace)) else float("nan")
        results[lr] = {"initial": trace[0], "final": end}
    good = [lr for lr, r in results.items() if math.isfinite(r["final"]) and r["final"] < (1 - min_drop) * r["initial"]]
    table = ", ".join(f"{lr:g}: {r['initial']:.3g}->{r['final']:.3g}" for lr, r in results.items())
    values = {"results": {str(k): v for k, v in results.items()}, "suggested_lr": max(good) if good else None}
    if good:
        return Check("lr_sweep", "pass", f"largest LR that lowers the loss by {min_drop:.0%} in {steps} "
                     f"steps: {max(good):g} ({table})", CATCHES["lr_sweep"], values), max(good)
    return Check("lr_sweep", "fail", f"no LR lowered the loss by {min_drop:.0%} in {steps} steps ({table})",
                 CATCHES["lr_sweep"], values), None


def _check_signal(model, x, y, step_fn, lr, optimizer, epochs, batch_size, min_examples):
    n = len(x)
    if n < min_examples:
        return Check("learns_signal", "skip", f"needs at least {min_examples} examples to hold some out; "
                     f"got {n}", CATCHES["learns_signal"])
    n_val = min(n // 4, 500)
    n_train = min(n - n_val, 1000)
    xt, yt, xv, yv = x[:n_train], y[:n_train], x[n - n_val:], y[n - n_val:]
    steps = epochs * math.ceil(n_train / batch_size)
    tv, ntv, _ = _train(model, xt, yt, step_fn, _make_optimizer(optimizer, lr), steps, batch_size=batch_size)
    acc = _accuracy(yv, _predict(model, xv, tv, _calibrated(model, tv, ntv, xt[:500])))
    counts = np.bincount(_labels(yv))
    chance = float(counts.max() / counts.sum())  # the best constant guess
    # three standard errors of a chance-level accuracy on n_val examples, at least 5 points
    margin = max(0.05, 3 * math.sqrt(chance * (1 - chance) / n_val))
    values = {"accuracy": acc, "chance": chance, "margin": margin, "train": n_train, "held_out": n_val}
    if acc >= chance + margin:
        return Check("learns_signal", "pass", f"after {epochs} epochs on {n_train} examples, held-out "
                     f"accuracy {acc:.3f} beats chance {chance:.3f} by {acc - chance:.3f}",
                     CATCHES["learns_signal"], values)
    return Check("learns_signal", "fail", f"after {epochs} epochs on {n_train} examples, held-out accuracy "
                 f"{acc:.3f} is within {margin:.3f} of chance {chance:.3f}: the labels look unrelated "
                 "to the inputs", CATCHES["learns_signal"], values)


def sanity_check(
    model,
    x,
    y,
    num_classes=None,
    *,
    loss=None,
    tolerance=0.5,
    regularization=1e-2,
    overfit_samples=50,
    overfit_steps=300,
    overfit_lr=1e-3,
    overfit_accuracy=1.0,
    overfit_loss=0.1,
    lrs=(1e-1, 1e-2, 1e-3, 1e-4),
    sweep_samples=256,
    sweep_steps=20,
    sweep_optimizer="sgd",
    min_drop=0.1,
    signal_epochs=3,
    signal_min_examples=200,
    batch_size=32,
    checks=None,
):
    """Run cs231n's babysitting steps on a classifier in seconds, leaving it unchanged.

    Checks, in order, and the failure each one catches:
    1. "initial_loss": with no training, the cross-entropy is about ln(C)
       (within `tolerance`, relative): catches a wrong output layer (ReLU or
       linear outputs under a probability loss) or an absurd initial scale.
    2. "regularization": adding L2(`regularization`) to every kernel raises the
       loss: catches regularization that never reaches the loss, and all-zero
       weights.
    3. "overfit_small": `overfit_samples` examples are fitted to
       `overfit_accuracy` with a loss below `overfit_loss` x ln(C), within
       `overfit_steps` full-batch Adam steps: catches a model or loss that
       cannot fit at all (e.g. a softmax output under `from_logits=True`).
    4. "lr_sweep": of `lrs`, which lower the loss on `sweep_samples` examples by
       at least `min_drop` in `sweep_steps` steps of `sweep_optimizer`; the
       largest is `report.suggested_lr`: catches a loss no LR can move.
    5. "learns_signal": a short training on part of the data beats chance on
       the held-out rest by three standard errors: catches shuffled or
       misaligned labels. (Overfitting a small sample cannot: a big enough net
       memorizes shuffled labels too.) Needs `signal_min_examples`.

    Training runs on copies of the weights (stateless), with regularization
    off as cs231n asks; after every check all model variables are verified to
    hold their values from before (and put back if not). The model's compiled
    optimizer is never touched.

    Args:
        model: A built Keras classifier (compiled or not).
        x: Inputs; a few hundred examples are enough (the first ones are used).
        y: Integer labels or one-hot rows.
        num_classes: Number of classes. Defaults to the model's last output dimension.
        loss: The loss. Defaults to the compiled loss, else (sparse) categorical
            cross-entropy from the shape of `y`.
        tolerance: Relative distance from ln(C) allowed for the initial loss.
            Defaults to `0.5` (a He-initialized deep net starts a little above).
        regularization: L2 strength added in check 2. Defaults to `1e-2`.
        overfit_samples: Examples to overfit. Defaults to `50`.
        overfit_steps: Maximum full-batch steps for it. Defaults to `300`.
        overfit_lr: Adam learning rate for checks 3 and 5. Defaults to `1e-3`.
        overfit_accuracy: Training accuracy to reach. Defaults to `1.0`.
        overfit_loss: Loss to reach, as a fraction of ln(C). Defaults to `0.1`.
        lrs: Learning rates of the sweep. Defaults to `(1e-1, 1e-2, 1e-3, 1e-4)`.
        sweep_samples: Examples for the sweep (one full batch). Defaults to `256`.
        sweep_steps: Steps per learning rate. Defaults to `20`.
        sweep_optimizer: A name for `kerasrecipes.optimizers.build` ("sgd":
            momentum 0.9, "adam", "nesterov", ...) or a callable
            `lr -> optimizer`. Defaults to "sgd".
        min_drop: Relative fall of the loss that counts as "going down".
            Defaults to `0.1`.
        signal_epochs: Epochs of the signal check. Defaults to `3`.
        signal_min_examples: Fewest examples for the signal check to run.
            Defaults to `200`.
        batch_size: Mini-batch size of the signal check. Defaults to `32`.
        checks: Optional subset of check names to run. Defaults to all.

    Returns:
        A `Report`.

    Example:
    >>> report = sanity_check(model, x_train[:1000], y_train[:1000])
    >>> report.passed, report.suggested_lr
    """
    all_checks = ("initial_loss", "regularization", "overfit_small", "lr_sweep", "learns_signal")
    chosen = all_checks if checks is None else tuple(checks)
    unknown = [c for c in chosen if c not in all_checks]
    if unknown:
        raise ValueError(f"checks has unknown names {unknown}; valid: {', '.join(all_checks)}. "
                         f"Received checks={checks!r}")
    if not getattr(model, "built", False) or not model.trainable_variables:
        raise ValueError(f"model must be a built Keras model with trainable weights. Received {model!r:.80}")
    from kerasrecipes.data._checks import check_array

    x, y = check_array(x, "x"), np.asarray(y)  # numeric, non-empty, finite
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y need the same, non-zero number of examples. Received {len(x)} and {len(y)}")
    if num_classes is None:
        num_classes = int(model.output_shape[-1])
    if int(num_classes) != num_classes or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2. Received num_classes={num_classes!r}")
    labels = _labels(y)
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(f"labels must lie in [0, {num_classes}). Received labels from {labels.min()} "
                         f"to {labels.max()}")
    for name, value in (("tolerance", tolerance), ("regularization", regularization),
                        ("overfit_lr", overfit_lr), ("min_drop", min_drop)):
        if not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{name} must be a positive number. Received {name}={value!r}")
    try:
        bad_lrs = not lrs or any(isinstance(lr, bool) or not lr > 0 for lr in lrs)
    except TypeError:
        bad_lrs = True
    if bad_lrs:
        raise ValueError(f"lrs must be positive learning rates. Received lrs={lrs!r}")
    _check_optimizer(sweep_optimizer, "sweep_optimizer")
    for name, value, minimum in (("overfit_samples", overfit_samples, 1), ("overfit_steps", overfit_steps, 1),
                                 ("sweep_samples", sweep_samples, 1), ("sweep_steps", sweep_steps, 1),
                                 ("signal_epochs", signal_epochs, 1), ("signal_min_examples", signal_min_examples, 2),
                                 ("batch_size", batch_size, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}. Received {name}={value!r}")
    if not isinstance(overfit_accuracy, (int, float)) or not 0 < overfit_accuracy <= 1:
        raise ValueError(f"overfit_accuracy must be a number in (0, 1]. Received overfit_accuracy={overfit_accuracy!r}")
    if not isinstance(overfit_loss, (int, float)) or not overfit_loss > 0:
        raise ValueError(f"overfit_loss must be a positive number. Received overfit_loss={overfit_loss!r}")
    loss = _resolve_loss(model, loss, y)
    keras.losses.get(loss)  # fail early on an unknown loss name
    x = x.astype(keras.backend.floatx()) if x.dtype.kind in "iuf" else x

    # The checks trace a compiled step and build fresh optimizers: `memory.released()` frees what
    # they register (TensorFlow's traced gradients) on the way out, leaving the caller's model alone.
    with memory.released():
        return _run_checks(model, x, y, chosen, loss, num_classes, tolerance, regularization, overfit_samples,
                           overfit_steps, overfit_lr, overfit_accuracy, overfit_loss, lrs, sweep_samples,
                           sweep_steps, sweep_optimizer, min_drop, signal_epochs, signal_min_examples, batch_size)


def _run_checks(model, x, y, chosen, loss, num_classes, tolerance, regularization, overfit_samples, overfit_steps,
                overfit_lr, overfit_accuracy, overfit_loss, lrs, sweep_samples, sweep_steps, sweep_optimizer,
                min_drop, signal_epochs, signal_min_examples, batch_size):
    snapshot = _snapshot(model)
    step_fn = gradient_function(model, loss=loss, regularization=False, jit=True)
    results, suggested = [], None
    small = x[:sweep_samples], y[:sweep_samples]
    for name in chosen:
        with _restored(model, snapshot):
            if name == "initial_loss":
                results.append(_check_initial_loss(model, *small, loss, num_classes, tolerance))
            elif name == "regularization":
                results.append(_check_regularization(model, *small, loss, regularization))
            elif name == "overfit_small":
                results.append(_check_overfit(model, x, y, loss, step_fn, num_classes, overfit_samples,
                                              overfit_steps, overfit_lr, "adam", overfit_accuracy,
                                              overfit_loss))
            elif name == "lr_sweep":
                check, suggested = _check_lr_sweep(model, *small, step_fn, lrs, sweep_steps,
                                                   sweep_optimizer, min_drop)
                results.append(check)
            else:
                results.append(_check_signal(model, x, y, step_fn, overfit_lr, "adam", signal_epochs,
                                             batch_size, signal_min_examples))
    return Report(results, suggested)
