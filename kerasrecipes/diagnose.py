"""Read a training History and say what is wrong, with the evidence and the remedy its sources give.

cs231n's "babysitting the learning process", Wei's "Must Know Tips/Tricks" and Hung-yi Lee's
tips teach by looking at curves: "a huge train/val gap means overfitting";
"no gap at low accuracy means underfitting"; "a loss curve that looks too linear
means the learning rate is low"; "if you got NaN your network exploded and the
learning rate is high"; "accuracy still going up: train longer"; "stopped making
progress on the validation set: divide the LR by 2"; "the width of the curve is
related to the batch size". `diagnose` turns each sentence into a test on the
numbers of a History, so a notebook user gets the reading without the squinting.

Also here: `load_history` / `save_history` (a History, a dict of lists, a JSON or
CSVLogger file, or a run directory). The checks that train (`sanity_check`)
live in `kerasrecipes.babysit`; this module only reads.
"""

import csv
import dataclasses
import html
import json
import math
import os

import numpy as np

from kerasrecipes import _io
from kerasrecipes._stats import as_layer_stats, check_positive_int, moving_average

# Metric names Keras writes for classification accuracy, in order of preference.
_ACCURACY_KEYS = ("accuracy", "acc", "sparse_categorical_accuracy", "categorical_accuracy",
                  "binary_accuracy")
_HISTORY_FILES = ("history.json", "history.csv")

REMEDIES = {
    "lr_too_high": "Lower the learning rate (divide by 3 to 10) and rerun; "
                   "find a good one with kerasrecipes.lr_find.",
    "lr_too_low": "Raise the learning rate (try 3 to 10 times larger); "
                  "find a good one with kerasrecipes.lr_find.",
    "overfitting": "Increase regularization (dropout, weight decay, data augmentation), "
                   "get more data, or stop earlier (EarlyStopping with restore_best_weights).",
    "underfitting": "Use a bigger model (more filters or layers), train longer, "
                    "or lower the regularization.",
    "still_improving": "Train longer: the monitored loss was still falling at the end.",
    "plateau": "Divide the learning rate by 2 (or 5) and keep going "
               "(kerasrecipes.callbacks.HalveLROnPlateau), or stop here.",
    "noisy_batches": "Increase the batch size (and scale the learning rate with it): "
                     "the batch-to-batch variance of the loss is large.",
    "dead_relus": "Lower the learning rate, use He initialization, or a leaky "
                  "ReLU / PReLU / ELU so units cannot die.",
    "vanishing_gradients": "Use ReLU-family activations, He/Glorot initialization, "
                           "BatchNormalization, or a shallower net.",
    "exploding_gradients": "Lower the learning rate, add BatchNormalization, "
                           "clip gradients (optimizer clipnorm) or fix the initial scale.",
}


# --------------------------------------------------------------------------- loading

def _as_float_list(values, key):
    try:
        return [float("nan") if v is None else float(v) for v in values]
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"history[{key!r}] must be a list of numbers. Received {str(values)[:80]}"
        ) from e


def _read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"history file {path!r} has no rows")
    columns = {k: [row[k] for row in rows] for k in rows[0] if k != "epoch"}
    return {k: [float(v) if v not in ("", None) else float("nan") for v in vals]
            for k, vals in columns.items()}


def load_history(history):
    """Normalize any form of training history to a dict of float lists.

    Args:
        history: A `keras.callbacks.History` (what `model.fit` returns), a dict
            of lists (`history.history`, or `{"history": {...}}` as some tools
            write it), a path to a JSON file holding such a dict, a path to a
            `keras.callbacks.CSVLogger` file, or a run directory holding
            `history.json` or `history.csv`.

    Returns:
        A dict mapping each metric name to a list of floats, one per epoch
        (`None` becomes NaN). CSVLogger's "epoch" column is dropped.

    Raises:
        ValueError: naming the argument when the history is empty, of an
            unknown type, or its columns have different lengths.

    Example:
    >>> load_history({"loss": [1.0, 0.5]})
    {'loss': [1.0, 0.5]}
    """
    source = history
    if hasattr(history, "history") and isinstance(history.history, dict):
        history = history.history
    elif isinstance(history, (str, os.PathLike)):
        path = os.fspath(history)
        if os.path.isdir(path):
            found = [os.path.join(path, n) for n in _HISTORY_FILES
                     if os.path.isfile(os.path.join(path, n))]
            if not found:
                raise ValueError(
                    f"history directory {path!r} holds neither {' nor '.join(_HISTORY_FILES)}"
                )
            path = found[0]
        if not os.path.isfile(path):
            raise ValueError(f"history must be a History, a dict or a file; no file at {path!r}")
        if path.endswith(".csv"):
            history = _read_csv(path)
        else:
            with open(path) as f:
                try:
                    history = json.load(f)
                except json.JSONDecodeError as e:
                    raise ValueError(f"history file {path!r} is not valid JSON: {e}") from e
    if isinstance(history, dict) and isinstance(history.get("history"), dict):
        history = history["history"]
    if not isinstance(history, dict):
        raise ValueError(
            "history must be a keras History, a dict of lists, or a path to a JSON/CSV "
            f"file or run directory. Received history={source!r:.80}"
        )
    out = {}
    for key, values in history.items():
        if key == "epoch":
            continue
        if np.isscalar(values):
            values = [values]
        out[str(key)] = _as_float_list(values, key)
    if not out or not any(out.values()):
        raise ValueError(f"history has no recorded epochs. Received history={source!r:.80}")
    lengths = {len(v) for v in out.values()}
    if len(lengths) > 1:
        raise ValueError(
            "history columns have different lengths "
            f"{ {k: len(v) for k, v in out.items()} }; every metric needs one value per epoch"
        )
    return out


def save_history(history, path):
    """Write a history as JSON atomically (temp file, then rename).

    NaN and infinity become `null`, so the file is strict JSON; `load_history`
    reads them back as NaN.

    Args:
        history: Anything `load_history` accepts.
        path: The `.json` file to write; a directory gets `history.json` inside.

    Returns:
        The path written.

    Example:
    >>> save_history(model.fit(x, y, epochs=2), "run/history.json")
    """
    data = load_history(history)
    path = os.fspath(path)
    if os.path.isdir(path):
        path = os.path.join(path, "history.json")
    clean = {k: [v if math.isfinite(v) else None for v in vals] for k, vals in data.items()}
    return _io.write_text(path, json.dumps(clean, indent=1))


def load_batch_losses(batch_losses):
    """Normalize per-batch losses to `(losses, epochs)` float and int arrays.

    Args:
        batch_losses: A `kerasrecipes.callbacks.BatchLossRecorder`, a dict with
            "loss" (and optionally "epoch", the epoch of each batch), a 1-D
            sequence of losses, or a path to a JSON file holding such a dict.

    Returns:
        `(losses, epochs)`, or `None` when `batch_losses` is None.

    Example:
    >>> load_batch_losses({"loss": [2.3, 2.1], "epoch": [0, 0]})[0]
    array([2.3, 2.1])
    """
    if batch_losses is None:
        return None
    if isinstance(batch_losses, (str, os.PathLike)):
        with open(os.fspath(batch_losses)) as f:
            batch_losses = json.load(f)
    if hasattr(batch_losses, "to_dict"):
        batch_losses = batch_losses.to_dict()
    if isinstance(batch_losses, dict):
        losses = batch_losses.get("loss")
        epochs = batch_losses.get("epoch")
    else:
        losses, epochs = batch_losses, None
    try:
        losses = np.asarray([np.nan if v is None else v for v in losses], dtype="float64")
    except (TypeError, ValueError) as e:
        raise ValueError(
            "batch_losses must be a BatchLossRecorder, a dict with a 'loss' list, or a "
            f"list of numbers. Received batch_losses={batch_losses!r:.80}"
        ) from e
    if losses.ndim != 1:
        raise ValueError(f"batch_losses must be one-dimensional. Received shape {losses.shape}")
    epochs = np.zeros(len(losses), "int64") if epochs is None else np.asarray(epochs, "int64")
    if epochs.shape != losses.shape:
        raise ValueError(
            f"batch_losses has {len(losses)} losses but {len(epochs)} epoch indices"
        )
    return losses, epochs


# --------------------------------------------------------------------------- helpers

def accuracy_key(history):
    """The training-accuracy column of a history dict, or None (e.g. "accuracy", "acc")."""
    for key in _ACCURACY_KEYS:
        if key in history:
            return key
    for key in history:
        if "acc" in key and not key.startswith("val_"):
            return key
    return None


def monitor_key(history):
    """"val_loss" when the history has validation, else "loss"."""
    return "val_loss" if "val_loss" in history else "loss"


def _fmt(value):
    return f"{value:.3g}" if isinstance(value, (float, np.floating)) else str(value)


# --------------------------------------------------------------------------- results

@dataclasses.dataclass
class Finding:
    """One thing `diagnose` found.

    Attributes:
        name: A stable identifier, e.g. "overfitting", "lr_too_high".
        evidence: The numbers from the history that triggered it, as a sentence.
        remedy: What cs231n, Wei's tips or Hung-yi Lee's tips recommend doing about it.
        values: The same numbers as a dict, for programs.
    """

    name: str
    evidence: str
    remedy: str
    values: dict = dataclasses.field(default_factory=dict)

    def to_dict(self):
        return dataclasses.asdict(self)


class Diagnosis:
    """The findings of `diagnose`, printable as text and as an HTML table in Jupyter.

    Behaves like a read-only list of `Finding`s; `"overfitting" in diagnosis`
    asks by name, `diagnosis["overfitting"]` returns that finding, and an empty
    diagnosis is falsy.

    Attributes:
        findings: The `Finding`s, most urgent first.
        summary: Headline numbers of the run (epochs, best epoch, final metrics).
    """

    def __init__(self, findings, summary=None):
        self.findings = list(findings)
        self.summary = dict(summary or {})

    @property
    def names(self):
        """The finding names, in order."""
        return [f.name for f in self.findings]

    def __iter__(self):
        return iter(self.findings)

    def __len__(self):
        return len(self.findings)

    def __bool__(self):
        return bool(self.findings)

    def __contains__(self, name):
        return name in self.names

    def __getitem__(self, key):
        if isinstance(key, str):
            for f in self.findings:
                if f.name == key:
                    return f
            raise KeyError(f"no finding {key!r}; findings: {self.names}")
        return self.findings[key]

    def to_dict(self):
        return {"summary": self.summary, "findings": [f.to_dict() for f in self.findings]}

    def _summary_line(self):
        return ", ".join(f"{k}={_fmt(v)}" for k, v in self.summary.items())

    def __repr__(self):
        lines = [f"Diagnosis ({self._summary_line()})"]
        if not self.findings:
            lines.append("  No problems found: the curves look healthy.")
        for f in self.findings:
            lines.append(f"- {f.name}: {f.evidence}")
            lines.append(f"    remedy: {f.remedy}")
        return "\n".join(lines)

    def _repr_html_(self):
        esc = html.escape
        rows = "".join(
            f"<tr><td><b>{esc(f.name)}</b></td><td>{esc(f.evidence)}</td><td>{esc(f.remedy)}</td></tr>"
            for f in self.findings
        ) or '<tr><td colspan="3">No problems found: the curves look healthy.</td></tr>'
        return (
            f"<div><p>Diagnosis: {esc(self._summary_line())}</p>"
            '<table class="kr-diagnosis"><thead><tr><th>finding</th><th>evidence</th>'
            f"<th>remedy</th></tr></thead><tbody>{rows}</tbody></table></div>"
        )


# --------------------------------------------------------------------------- checks

def _linear_r2(values):
    t = np.arange(len(values), dtype="float64")
    slope, intercept = np.polyfit(t, values, 1)
    residual = values - (slope * t + intercept)
    total = np.sum((values - values.mean()) ** 2)
    return 1.0 - np.sum(residual ** 2) / total if total > 0 else 1.0


def _check_lr_too_high(loss, explode, oscillation):
    bad = ~np.isfinite(loss)
    if bad.any():
        epoch = int(np.argmax(bad))
        return Finding("lr_too_high", f"the training loss became {loss[epoch]} at epoch {epoch + 1}: "
                       "the network exploded", REMEDIES["lr_too_high"],
                       {"nan_epoch": epoch + 1})
    if len(loss) >= 2 and loss.max() > explode * loss[0]:
        epoch = int(np.argmax(loss))
        return Finding("lr_too_high", f"the training loss grew from {_fmt(loss[0])} (epoch 1) to "
                       f"{_fmt(loss[epoch])} (epoch {epoch + 1}), more than {explode:g} times",
                       REMEDIES["lr_too_high"], {"first": loss[0], "max": loss[epoch]})
    if len(loss) >= 4:
        # Epoch-averaged training loss falls almost monotonically at a sane LR;
        # rises of more than 1% in many epochs mean the steps overshoot.
        steps = np.diff(loss)
        rises = steps > 0.01 * np.abs(loss[:-1])
        fraction = rises.mean()
        if fraction >= oscillation:
            return Finding("lr_too_high", f"the training loss went up in {int(rises.sum())} of "
                           f"{len(steps)} epochs ({fraction:.0%} >= {oscillation:.0%}): it oscillates",
                           REMEDIES["lr_too_high"], {"rising_fraction": float(fraction)})
    return None


def _check_lr_too_low(loss, flat, linear_r2, min_epochs=5):
    if len(loss) < 3:
        return None
    drop = (loss[0] - loss[-1]) / abs(loss[0]) if loss[0] else 0.0
    if abs(drop) < flat:
        return Finding("lr_too_low", f"the training loss barely changed: {_fmt(loss[0])} to "
                       f"{_fmt(loss[-1])} ({drop:.1%}) over {len(loss)} epochs",
                       REMEDIES["lr_too_low"], {"relative_drop": float(drop)})
    if len(loss) < min_epochs or drop <= 0:
        return None
    half = len(loss) // 2
    first, second = loss[0] - loss[half], loss[half] - loss[-1]
    r2 = _linear_r2(loss)
    # A healthy curve is convex: most of the fall happens early. A straight
    # line (second half falls as much as the first) says the steps are too small.
    if r2 >= linear_r2 and first > 0 and second / first >= 0.6:
        return Finding("lr_too_low", f"the training loss fell almost linearly (R^2={r2:.3f}): "
                       f"{_fmt(first)} in the first half, {_fmt(second)} in the second",
                       REMEDIES["lr_too_low"], {"r2": float(r2), "half_ratio": float(second / first)})
    return None


def _check_overfitting(h, loss, monitor, gap, loss_rise, acc_key):
    findings = []
    val_acc_key = "val_" + acc_key if acc_key else None
    if acc_key and val_acc_key in h:
        acc, val_acc = np.asarray(h[acc_key]), np.asarray(h[val_acc_key])
        diff = acc[-1] - val_acc[-1]
        if np.isfinite(diff) and diff > gap:
            findings.append(f"{acc_key} {acc[-1]:.3f} against {val_acc_key} {val_acc[-1]:.3f} "
                            f"at the last epoch: a gap of {diff:.3f} > {gap:g}")
    values = {}
    if monitor == "val_loss":
        val = np.asarray(h["val_loss"])
        best = int(np.nanargmin(val))
        rise = (val[-1] - val[best]) / abs(val[best]) if val[best] else 0.0
        if best < len(val) - 1 and rise > loss_rise and loss[-1] < loss[best]:
            findings.append(f"val_loss rose from {_fmt(val[best])} (epoch {best + 1}) to "
                            f"{_fmt(val[-1])} (+{rise:.0%}) while loss fell from "
                            f"{_fmt(loss[best])} to {_fmt(loss[-1])}")
            values.update(best_epoch=best + 1, val_loss_rise=float(rise))
    if findings:
        return Finding("overfitting", "; ".join(findings), REMEDIES["overfitting"], values)
    return None


def _check_underfitting(h, acc_key, underfit_accuracy, gap):
    if not acc_key:
        return None
    acc = float(h[acc_key][-1])
    val_key = "val_" + acc_key
    diff = acc - float(h[val_key][-1]) if val_key in h else 0.0
    if acc < underfit_accuracy and diff <= gap / 2:
        where = f" and {val_key} {h[val_key][-1]:.3f} (no gap)" if val_key in h else ""
        return Finding("underfitting", f"{acc_key} only {acc:.3f} < {underfit_accuracy:g} at the "
                       f"last epoch{where}", REMEDIES["underfitting"], {"accuracy": acc})
    return None


def _improvement_split(values, window):
    best_before = np.nanmin(values[:-window])
    best_after = np.nanmin(values[-window:])
    total = values[0] - min(best_before, best_after)
    return best_before - best_after, total


def _check_still_improving(values, key, improving):
    n = len(values)
    if n < 2:
        return None
    window = max(1 if n < 4 else 2, n // 4)  # 2 or 3 epochs: the last one against those before it
    recent, total = _improvement_split(values, window)
    if total > 0 and recent / total > improving and int(np.nanargmin(values)) >= n - 2:
        return Finding("still_improving", f"{key} fell by {_fmt(recent)} in the last {window} epochs, "
                       f"{recent / total:.0%} of its total fall: still going down at the end",
                       REMEDIES["still_improving"], {"recent_fraction": float(recent / total)})
    return None


def _check_plateau(values, key, patience, min_delta, loss_rise):
    n = len(values)
    if n <= patience:
        return None
    best = float(np.nanmin(values))
    recent, _ = _improvement_split(values, patience)
    final_rise = (values[-1] - best) / abs(best) if best else 0.0
    if recent <= min_delta * abs(best) and final_rise <= loss_rise:
        return Finding("plateau", f"{key} improved by at most {max(recent, 0.0):.3g} in the last "
                       f"{patience} epochs (best {_fmt(best)}): it stopped making progress",
                       REMEDIES["plateau"], {"recent_improvement": float(max(recent, 0.0))})
    return None


def _check_noisy_batches(batch, noise, window):
    losses, epochs = batch
    finite = np.isfinite(losses)
    if finite.sum() < 2 * window:
        return None
    last = epochs == epochs[finite].max()
    if last.sum() < window:  # one short epoch: judge the last quarter of all batches
        last = np.arange(len(losses)) >= len(losses) * 3 // 4
    trend = moving_average(losses, window)
    resid = (losses - trend)[last & finite]
    level = np.nanmean(trend[last & finite])
    cv = float(np.std(resid) / abs(level)) if level else float("inf")
    if cv > noise:
        return Finding("noisy_batches", f"per-batch loss varies by {cv:.0%} of its moving average "
                       f"({int((last & finite).sum())} batches of the last epoch), above {noise:.0%}",
                       REMEDIES["noisy_batches"], {"relative_width": cv})
    return None


def _check_layer_stats(stats, dead, vanishing, exploding):
    stats = as_layer_stats(stats)
    findings = []
    dead_layers = {}
    for layer, s in stats["activations"].items():
        fractions = s.get("dead_fraction")
        if fractions and fractions[-1] is not None and fractions[-1] >= dead:
            dead_layers[layer] = fractions[-1]
    if dead_layers:
        text = ", ".join(f"{k} {v:.0%}" for k, v in dead_layers.items())
        findings.append(Finding("dead_relus", f"ReLU units never active on the sample: {text} "
                                f"(>= {dead:.0%})", REMEDIES["dead_relus"], {"dead": dead_layers}))
    kernels = [(k, v[-1]) for k, v in stats["gradients"].items()
               if v and v[-1] is not None and ("kernel" in k.split("/")[-1])]
    if kernels:
        norms = np.asarray([v for _, v in kernels], dtype="float64")
        if not np.isfinite(norms).all() or norms.max() > exploding:
            name, value = kernels[int(np.nanargmax(np.where(np.isfinite(norms), norms, np.inf)))]
            findings.append(Finding("exploding_gradients", f"gradient norm of {name} is "
                                    f"{_fmt(value)} (> {exploding:g})",
                                    REMEDIES["exploding_gradients"], {"weight": name, "norm": value}))
        elif len(kernels) >= 2 and norms[-1] > 0 and norms[0] / norms[-1] < vanishing:
            findings.append(Finding("vanishing_gradients", f"gradient norm of the first kernel "
                                    f"{kernels[0][0]} is {_fmt(norms[0])}, {norms[0] / norms[-1]:.2g} "
                                    f"times the last one's ({_fmt(norms[-1])})",
                                    REMEDIES["vanishing_gradients"],
                                    {"first": norms[0], "last": norms[-1]}))
    return findings


# --------------------------------------------------------------------------- entry point

def diagnose(
    history,
    *,
    batch_losses=None,
    layer_stats=None,
    gap=0.1,
    loss_rise=0.1,
    underfit_accuracy=0.7,
    explode=2.0,
    oscillation=0.3,
    flat=0.02,
    linear_r2=0.97,
    improving=0.1,
    patience=5,
    min_delta=0.01,
    noise=0.25,
    noise_window=20,
    dead=0.25,
    vanishing=1e-2,
    exploding=1e3,
):
    """Read a training history and list what is wrong, with evidence and remedy.

    Findings (names are stable):
    - "lr_too_high": the training loss is NaN/inf, grows past `explode` times
      its first value, or rises in at least `oscillation` of the epochs.
    - "lr_too_low": the training loss barely changes (less than `flat`), or
      falls almost linearly (R^2 >= `linear_r2`, the second half falling at
      least 0.6 times as much as the first) over 5+ epochs.
    - "overfitting": train accuracy exceeds validation accuracy by more than
      `gap` at the last epoch, or val_loss rose more than `loss_rise` above its
      minimum while the training loss kept falling.
    - "underfitting": training accuracy below `underfit_accuracy` and no gap.
    - "still_improving": the monitored loss (val_loss, else loss) fell by more
      than `improving` of its total fall in the last quarter of the epochs (the
      last epoch of a 2- or 3-epoch run) and is at its best at the end.
    - "plateau": the monitored loss improved by no more than `min_delta`
      (relative) in the last `patience` epochs, without rising (that would be
      overfitting).
    - "noisy_batches": with per-batch losses (or the `batch_loss_width` column
      `BatchLossRecorder` logs), their spread around the moving average in the
      last epoch exceeds `noise` of its level.
    - "dead_relus", "vanishing_gradients", "exploding_gradients": with
      `layer_stats`, from the last recorded epoch.

    A NaN loss makes every other check meaningless, so it is then the only
    finding. An LR finding explains a bad curve better than capacity does, so it
    suppresses "underfitting"; "lr_too_low" also suppresses "still_improving".

    Args:
        history: A keras History, a dict of lists, or a path (see `load_history`).
        batch_losses: Optional per-batch losses: a `BatchLossRecorder`, a dict or
            a list (see `load_batch_losses`).
        layer_stats: Optional `LayerStats` callback or its `.stats` dict.
        gap: Train minus validation accuracy that counts as overfitting.
            Defaults to `0.1`.
        loss_rise: Relative rise of val_loss above its minimum that counts as
            overfitting. Defaults to `0.1`.
        underfit_accuracy: Training accuracy below which the model underfits;
            depends on the task (0.7 suits 10-class Fashion-MNIST/CIFAR-10).
            Defaults to `0.7`.
        explode: Growth factor of the training loss over its first epoch that
            counts as divergence. Defaults to `2.0`.
        oscillation: Fraction of epochs with a rising training loss that counts
            as oscillation. Defaults to `0.3`.
        flat: Total relative change of the training loss below which it "barely
            changes". Defaults to `0.02`.
        linear_r2: R^2 of a straight-line fit above which the curve is "too
            linear". Defaults to `0.97`.
        improving: Fraction of the total fall happening in the last quarter of
            the epochs that counts as still improving. Defaults to `0.1`.
        patience: Epochs without progress that make a plateau. Defaults to `5`.
        min_delta: Relative improvement below which an epoch makes no progress.
            Defaults to `0.01`.
        noise: Relative width of the per-batch loss that counts as noisy.
            Defaults to `0.25` (a batch of 32 gives about 0.15 on a
            cross-entropy loss; the width shrinks like 1/sqrt(batch size)).
        noise_window: Moving-average window, in batches, for that width.
            Defaults to `20`.
        dead: Fraction of never-active ReLU units in a layer that is flagged.
            Defaults to `0.25` (cs231n: "as much as 40% of your network can be dead").
        vanishing: First-to-last kernel gradient-norm ratio below which
            gradients vanish. Defaults to `1e-2`.
        exploding: Kernel gradient norm above which gradients explode.
            Defaults to `1e3`.

    Returns:
        A `Diagnosis`.

    Example:
    >>> d = diagnose({"loss": [1.0, 0.5, 0.2, 0.1], "val_loss": [1.0, 0.8, 0.9, 1.2],
    ...               "accuracy": [0.6, 0.8, 0.95, 0.99], "val_accuracy": [0.6, 0.7, 0.7, 0.68]})
    >>> d.names
    ['overfitting']
    """
    for name, value in (("gap", gap), ("loss_rise", loss_rise), ("explode", explode),
                        ("oscillation", oscillation), ("flat", flat), ("improving", improving),
                        ("min_delta", min_delta), ("noise", noise), ("dead", dead),
                        ("vanishing", vanishing), ("exploding", exploding)):
        if not isinstance(value, (int, float)) or not value >= 0:
            raise ValueError(f"{name} must be a non-negative number. Received {name}={value!r}")
    check_positive_int(patience, "patience")
    check_positive_int(noise_window, "noise_window")
    h = load_history(history)
    if "loss" not in h:
        raise ValueError(f"history has no 'loss' column; it has {sorted(h)}")
    batch = load_batch_losses(batch_losses)
    loss = np.asarray(h["loss"], dtype="float64")
    monitor = monitor_key(h)
    acc_key = accuracy_key(h)
    summary = {"epochs": len(loss), "final_loss": float(loss[-1])}
    monitored = np.asarray(h[monitor], dtype="float64")
    if np.isfinite(monitored).any():
        best = int(np.nanargmin(monitored))
        summary.update({"monitor": monitor, "best_epoch": best + 1, f"best_{monitor}": float(monitored[best])})
    if acc_key:
        summary[f"final_{acc_key}"] = float(h[acc_key][-1])
        if "val_" + acc_key in h:
            summary[f"final_val_{acc_key}"] = float(h["val_" + acc_key][-1])

    high = _check_lr_too_high(loss, explode, oscillation)
    if high is not None and "nan_epoch" in high.values:
        return Diagnosis([high], summary)
    low = None if high else _check_lr_too_low(loss, flat, linear_r2)
    findings = [f for f in (high, low) if f]
    over = _check_overfitting(h, loss, monitor, gap, loss_rise, acc_key)
    if over:
        findings.append(over)
    if not (high or low):
        under = _check_underfitting(h, acc_key, underfit_accuracy, gap)
        if under:
            findings.append(under)
    if np.isfinite(monitored).all():
        if not low:
            still = _check_still_improving(monitored, monitor, improving)
            if still:
                findings.append(still)
        if not (over and "val_loss_rise" in over.values):
            plateau = _check_plateau(monitored, monitor, patience, min_delta, loss_rise)
            if plateau:
                findings.append(plateau)
    if batch is not None:
        noisy = _check_noisy_batches(batch, noise, noise_window)
        if noisy:
            findings.append(noisy)
    elif "batch_loss_width" in h and np.isfinite(h["batch_loss_width"][-1]):
        width = float(h["batch_loss_width"][-1])  # logged by BatchLossRecorder
        if width > noise:
            findings.append(Finding("noisy_batches", f"per-batch loss varied by {width:.0%} of its "
                                    f"moving average in the last epoch, above {noise:.0%}",
                                    REMEDIES["noisy_batches"], {"relative_width": width}))
    if layer_stats is not None:
        findings.extend(_check_layer_stats(layer_stats, dead, vanishing, exploding))
    return Diagnosis(findings, summary)


def propose(history, recipe, *, lr_find=None, batch_losses=None, layer_stats=None, **thresholds):
    """The next `Recipe` these curves point at: `diagnose`, then `kerasrecipes.proposal.propose`.

    Args:
        history: What `load_history` reads: a History, a dict of lists, a file
            or a run directory.
        recipe: The `Recipe` that produced `history`.
        lr_find: An LR range test's suggested learning rate at the recipe's
            batch size (a number, an `LRFinderResult` or its dict), used for an
            LR finding instead of dividing or multiplying by 3.
        batch_losses, layer_stats, **thresholds: As for `diagnose`.

    Returns:
        A `Proposal` (one change of a recipe field per finding, each with its
        reason and source); falsy when the curves look healthy.

    Example:
    >>> from kerasrecipes.recipe import Recipe
    >>> history = {"loss": [1.0, 0.5, 0.2, 0.1], "val_loss": [1.0, 0.8, 0.9, 1.2],
    ...            "accuracy": [0.6, 0.8, 0.95, 0.99], "val_accuracy": [0.6, 0.7, 0.7, 0.68]}
    >>> propose(history, Recipe(augment="light")).diff_lines()
    ['augment: light -> standard (overfitting)']
    """
    from kerasrecipes import proposal

    diagnosis = diagnose(history, batch_losses=batch_losses, layer_stats=layer_stats, **thresholds)
    return proposal.propose(diagnosis, recipe, lr_find=lr_find)
