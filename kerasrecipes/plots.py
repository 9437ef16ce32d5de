"""The figures cs231n and Hung-yi Lee's tips tell you to look at, as matplotlib Figures.

Every function returns a `matplotlib.figure.Figure` built with the object API,
never pyplot: nothing is registered with a GUI, nothing is shown, and it works
on a headless machine. In Jupyter, with the inline backend on (`%matplotlib
inline`, the default once pyplot has been imported), a figure left as the last
expression of a cell, or passed to `display(fig)`, is drawn; in a script call
`fig.savefig("curves.png")`.
"""

import math

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from kerasrecipes._stats import as_layer_stats, best_of, moving_average
from kerasrecipes.diagnose import load_batch_losses, load_history, monitor_key

_TRAIN, _VAL, _BEST = "#1f77b4", "#ff7f0e", "#2ca02c"
_LR_KEYS = ("lr", "learning_rate")
# Columns that are not metrics to plot as train/val pairs.
_NOT_CURVES = _LR_KEYS + ("batch_loss_width", "dead_fraction", "grad_norm_ratio")


def _auto_window(n, fraction=10):
    return max(1, int(round(n / fraction))) if n >= 2 * fraction else 1


def _check_smooth(smooth):
    if smooth is None or smooth == "auto":
        return smooth
    if int(smooth) != smooth or smooth < 1:
        raise ValueError(f"smooth must be 'auto', None or a positive integer. Received smooth={smooth!r}")
    return int(smooth)


def _curve(ax, x, values, color, label, window):
    values = np.asarray(values, dtype="float64")
    if window > 1:
        ax.plot(x, values, color=color, alpha=0.3, linewidth=1)
        ax.plot(x, moving_average(values, window), color=color, label=f"{label} (avg {window})")
    else:
        ax.plot(x, values, color=color, label=label, marker="o" if len(values) < 30 else None,
                markersize=3)


def history(h, smooth="auto", *, batch_losses=None, metrics=None, monitor=None, figsize=None):
    """Learning curves: loss and every metric, train against validation, with a moving average.

    One panel per metric (loss first), training and validation overlaid, the
    best epoch of `monitor` marked on every panel; a panel with the learning
    rate on a log axis when the history recorded one ("learning_rate", as
    Keras's `ReduceLROnPlateau` and `HalveLROnPlateau` write it, or an older "lr"); and a per-batch loss
    panel with its moving average when `batch_losses` are given (from a
    `BatchLossRecorder`).

    Args:
        h: A keras History, a dict of lists or a path (see
            `kerasrecipes.diagnose.load_history`).
        smooth: Moving-average window in epochs; "auto" uses a tenth of the
            epochs once there are 20 or more (and a fiftieth of the batches for
            the batch curve); `None` or 1 draws raw curves only. Defaults to "auto".
        batch_losses: Optional `BatchLossRecorder`, dict or list of per-batch losses.
        metrics: Metric names to draw (without "val_"). Defaults to all.
        monitor: The column whose minimum (or maximum, for accuracy-like
            names) marks the best epoch. Defaults to "val_loss", else "loss".
        figsize: Matplotlib figure size. Defaults to 4.5 inches per panel wide.

    Returns:
        A `matplotlib.figure.Figure`; its `best_epoch` attribute holds the
        marked epoch (1-based).

    Example:
    >>> fig = history(model.fit(x, y, validation_split=0.1, epochs=10))
    >>> fig.savefig("curves.png")
    """
    smooth = _check_smooth(smooth)
    data = load_history(h)
    batch = load_batch_losses(batch_losses)
    names = [k for k in data if not k.startswith("val_") and k not in _NOT_CURVES]
    if metrics is not None:
        unknown = [m for m in metrics if m not in data]
        if unknown:
            raise ValueError(f"metrics {unknown} are not in the history; it has {sorted(data)}")
        names = list(metrics)
    names.sort(key=lambda k: (k != "loss", k))
    lr_key = next((k for k in _LR_KEYS if k in data), None)
    monitor = monitor or monitor_key(data)
    if monitor not in data:
        raise ValueError(f"monitor {monitor!r} is not in the history; it has {sorted(data)}")
    values = np.asarray(data[monitor], dtype="float64")
    found = best_of(values, monitor)
    best = None if found is None else found[0]

    panels = len(names) + (lr_key is not None) + (batch is not None)
    cols = min(panels, 3)
    rows = math.ceil(panels / cols)
    fig = Figure(figsize=figsize or (4.5 * cols, 3.4 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax in axes[panels:]:
        ax.set_visible(False)
    n = len(values)
    epochs = np.arange(1, n + 1)
    window = _auto_window(n) if smooth == "auto" else (smooth or 1)
    for ax, name in zip(axes, names):
        _curve(ax, epochs, data[name], _TRAIN, name, window)
        if "val_" + name in data:
            _curve(ax, epochs, data["val_" + name], _VAL, "val_" + name, window)
        if best is not None:
            ax.axvline(best + 1, color=_BEST, linestyle=":", label=f"best epoch {best + 1}")
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    k = len(names)
    if lr_key is not None:
        ax = axes[k]
        lr = np.asarray(data[lr_key], dtype="float64")
        ax.step(epochs, lr, where="post", color="#9467bd")
        if np.all(lr[np.isfinite(lr)] > 0):
            ax.set_yscale("log")
        ax.set_title(f"learning rate ({lr_key})")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3, which="both")
        k += 1
    if batch is not None:
        ax = axes[k]
        losses, batch_epochs = batch
        # x in epochs: batch i of epoch e sits at e + i / steps_in_that_epoch
        position = np.zeros(len(losses))
        for e in np.unique(batch_epochs):
            idx = np.flatnonzero(batch_epochs == e)
            position[idx] = e + np.arange(len(idx)) / len(idx)
        bwindow = (max(5, len(losses) // 50) if smooth == "auto" else (smooth or 1))
        ax.plot(position, losses, color=_TRAIN, alpha=0.3, linewidth=0.8, label="batch loss")
        if bwindow > 1:
            ax.plot(position, moving_average(losses, bwindow), color=_TRAIN, label=f"avg {bwindow} batches")
        ax.set_title("loss per batch")
        ax.set_xlabel("epoch")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    fig.best_epoch = None if best is None else best + 1
    return fig


def _get(result, name):
    if isinstance(result, dict):
        if name not in result:
            raise ValueError(f"lr_finder result needs {name!r}; it has {sorted(result)}")
        return result[name]
    if not hasattr(result, name):
        raise ValueError(f"lr_finder result needs a {name!r} attribute. Received {type(result).__name__}")
    return getattr(result, name)


def lr_finder(result, *, skip_start=0, figsize=(6, 4)):
    """The LR range test: loss against learning rate on a log axis, the suggestion marked.

    Args:
        result: The result of `kerasrecipes.lr_find`, or any object or dict
            with `lrs`, `losses` and (optionally) `suggestion`.
        skip_start: Points to drop at the start, where the loss is still
            settling. Defaults to `0`.
        figsize: Figure size. Defaults to `(6, 4)`.

    Returns:
        A `matplotlib.figure.Figure`.

    Example:
    >>> lr_finder({"lrs": [1e-5, 1e-3, 1e-1], "losses": [2.3, 1.5, 9.0], "suggestion": 1e-3})
    """
    lrs = np.asarray(_get(result, "lrs"), dtype="float64")[skip_start:]
    losses = np.asarray(_get(result, "losses"), dtype="float64")[skip_start:]
    if lrs.shape != losses.shape or lrs.ndim != 1 or len(lrs) == 0:
        raise ValueError(f"lrs and losses must be equal-length 1-D sequences. Received {lrs.shape} and {losses.shape}")
    suggestion = result.get("suggestion") if isinstance(result, dict) else getattr(result, "suggestion", None)
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    ax.plot(lrs, losses, color=_TRAIN)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss (smoothed)")
    if suggestion is not None:
        ax.axvline(float(suggestion), color=_BEST, linestyle="--", label=f"suggestion {float(suggestion):.2g}")
        ax.legend()
    ax.set_title("LR range test")
    ax.grid(alpha=0.3, which="both")
    return fig


def _labels(y):
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1)
    return y.reshape(-1).astype("int64")


def _probabilities(model_or_probs, x):
    if hasattr(model_or_probs, "predict"):
        if x is None:
            raise ValueError("x is required when a model is given")
        return np.asarray(model_or_probs.predict(x, verbose=0))
    return np.asarray(model_or_probs)


def confusion_counts(y_true, y_pred, num_classes=None):
    """The confusion matrix as counts: row = true class, column = predicted class.

    Args:
        y_true: Integer labels or one-hot rows.
        y_pred: Integer labels, one-hot rows or class probabilities.
        num_classes: Number of classes. Defaults to the largest label + 1.

    Returns:
        An int64 array `(num_classes, num_classes)`.

    Example:
    >>> confusion_counts([0, 1, 1], [0, 1, 0])
    array([[1, 0],
           [1, 1]])
    """
    if num_classes is not None and (isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer))
                                    or num_classes < 1):
        raise ValueError(f"num_classes must be None or a positive integer. Received num_classes={num_classes!r}")
    t, p = _labels(y_true), _labels(y_pred)
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred need the same number of examples. Received {t.shape[0]} and {p.shape[0]}")
    k = int(num_classes or max(t.max(initial=0), p.max(initial=0)) + 1)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def confusion_matrix(model_or_probs, x=None, y=None, class_names=None, *, normalize=True, figsize=None):
    """A confusion matrix heatmap, rows normalized to recall, with counts in the cells.

    Args:
        model_or_probs: A Keras model (it predicts `x`), or predicted
            probabilities `(N, C)`, or predicted labels `(N,)`.
        x: Inputs, when a model is given.
        y: True labels (integers or one-hot).
        class_names: Optional names of the classes for the axes.
        normalize: Colour by the fraction of each true class (recall) rather
            than raw counts. Defaults to `True`.
        figsize: Figure size. Defaults to one that fits the classes.

    Returns:
        A `matplotlib.figure.Figure`; `fig.counts` holds the matrix of counts.

    Example:
    >>> fig = confusion_matrix(model, x_test, y_test, class_names=kr.datasets.FASHION_MNIST_CLASSES)
    """
    if y is None:
        raise ValueError("y (the true labels) is required")
    probs = _probabilities(model_or_probs, x)
    num_classes = probs.shape[1] if probs.ndim == 2 and probs.shape[1] > 1 else None
    if class_names is not None:
        num_classes = len(class_names)
    counts = confusion_counts(y, probs, num_classes)
    k = counts.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
    shown = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    size = max(4.0, 0.55 * k + 2)
    fig = Figure(figsize=figsize or (size + 1, size), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    fig.colorbar(image, ax=ax, label="fraction of true class" if normalize else "count")
    ax.set_xticks(range(k), names, rotation=45, ha="right")
    ax.set_yticks(range(k), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(k):
        for j in range(k):
            if counts[i, j]:
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize="x-small",
                        color="white" if shown[i, j] > 0.5 * shown.max() else "black")
    accuracy = np.trace(counts) / max(counts.sum(), 1)
    ax.set_title(f"confusion matrix (accuracy {accuracy:.3f})")
    fig.counts = counts
    return fig


def per_example_loss(probs, y, eps=1e-7):
    """Cross-entropy of every example, `-log p[true class]`, clipped like Keras's.

    Example:
    >>> per_example_loss([[0.9, 0.1], [0.2, 0.8]], [0, 0]).round(3)
    array([0.105, 1.609])
    """
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not 0 < eps < 1:
        raise ValueError(f"eps must be a number in (0, 1). Received eps={eps!r}")
    probs = np.asarray(probs, dtype="float64")
    t = _labels(y)
    if probs.ndim != 2 or len(probs) != len(t):
        raise ValueError(f"probs must be (N, classes) with one label each. Received {probs.shape} and {len(t)} labels")
    return -np.log(np.clip(probs[np.arange(len(t)), t], eps, 1.0))


def _as_image(example):
    a = np.asarray(example, dtype="float64")
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    if a.ndim == 1:
        side = int(round(math.sqrt(a.size)))
        if side * side == a.size:
            a = a.reshape(side, side)
    if a.ndim == 3:  # colour: scale into [0, 1] for imshow
        lo, hi = a.min(), a.max()
        a = (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)
    return a


def top_losses(model, x, y, k=9, *, class_names=None, probs=None, figsize=None):
    """The `k` examples the model gets most wrong (highest loss), with their labels.

    Each panel shows the image titled "predicted / true", the loss and the
    probability given to the true class, as fastai's `plot_top_losses` does.

    Args:
        model: A Keras classifier with probability outputs (ignored when
            `probs` is given).
        x: Images `(N, H, W[, C])`; flat vectors that are perfect squares are
            shown as square images.
        y: True labels (integers or one-hot).
        k: How many examples to show. Defaults to `9`.
        class_names: Optional class names for the titles.
        probs: Optional precomputed probabilities `(N, C)`.
        figsize: Figure size. Defaults to 2 inches per panel.

    Returns:
        A `matplotlib.figure.Figure`; `fig.indices` and `fig.losses` hold the
        shown examples' indices into `x` and their losses, highest first.

    Example:
    >>> fig = top_losses(model, x_test, y_test, k=16, class_names=kr.datasets.FASHION_MNIST_CLASSES)
    """
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer. Received k={k!r}")
    probs = _probabilities(model if probs is None else probs, x)
    losses = per_example_loss(probs, y)
    k = min(int(k), len(losses))
    order = np.argsort(-losses, kind="stable")[:k]
    t = _labels(y)
    predicted = probs.argmax(axis=1)
    name = (lambda c: str(class_names[c])) if class_names is not None else str
    cols = min(k, int(math.ceil(math.sqrt(k))))
    rows = int(math.ceil(k / cols))
    fig = Figure(figsize=figsize or (2.2 * cols, 2.4 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False).ravel())
    for ax in axes:
        ax.axis("off")
    for ax, i in zip(axes, order):
        image = _as_image(x[i])
        if image.ndim == 1:
            ax.plot(image)
        else:
            ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        ax.set_title(f"{name(predicted[i])} / {name(t[i])}\nloss {losses[i]:.2f}, p {probs[i, t[i]]:.2f}",
                     fontsize="small")
    fig.suptitle("top losses: predicted / true")
    fig.indices = order
    fig.losses = losses[order]
    return fig


def layer_stats(stats, *, figsize=None):
    """Per-layer statistics: cs231n's per-layer activation variance figures, dead ReLUs, gradient norms.

    Four panels, one line per recorded epoch (epoch 0 is before training):
    activation std per layer (shrinking towards zero with depth means
    vanishing signal, growing means exploding), activation mean, the fraction
    of dead ReLU units per ReLU layer, and the gradient norm of every kernel
    on a log axis.

    Args:
        stats: A `LayerStats` callback after fit, its `.stats` dict, a
            `layer_statistics()` snapshot, or a JSON file written by
            `LayerStats.save`.
        figsize: Figure size. Defaults to `(12, 7)`.

    Returns:
        A `matplotlib.figure.Figure`.

    Example:
    >>> fig = layer_stats(kerasrecipes.callbacks.stats.layer_statistics(model, x[:128], y[:128]))
    """

    s = as_layer_stats(stats)
    epochs = s["epochs"]
    layers = list(s["activations"])
    kernels = [k for k in s["gradients"] if k.split("/")[-1] in ("kernel", "depthwise_kernel", "embeddings")]
    kernels = kernels or list(s["gradients"])
    fig = Figure(figsize=figsize or (12, 7), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    cmap = matplotlib.colormaps["viridis"]
    shade = (lambda i: cmap(i / max(len(epochs) - 1, 1)))

    def per_epoch(ax, names, getter, title, log=False):
        positions = np.arange(len(names))
        for i, epoch in enumerate(epochs):
            values = [getter(n, i) for n in names]
            values = np.asarray([np.nan if v is None else v for v in values], dtype="float64")
            ax.plot(positions, values, marker="o", markersize=3, color=shade(i), label=f"epoch {epoch}")
        ax.set_xticks(positions, names, rotation=60, ha="right", fontsize="x-small")
        ax.set_title(title)
        if log:
            ax.set_yscale("log")
        ax.grid(alpha=0.3)

    per_epoch(axes[0], layers, lambda n, i: s["activations"][n]["std"][i], "activation std per layer")
    per_epoch(axes[1], layers, lambda n, i: s["activations"][n]["mean"][i], "activation mean per layer")
    relu = [n for n in layers if s["activations"][n].get("dead_fraction") is not None]
    if relu:
        per_epoch(axes[2], relu, lambda n, i: s["activations"][n]["dead_fraction"][i],
                  "dead ReLU fraction (never active on the sample)")
        axes[2].set_ylim(-0.02, 1.02)
    else:
        axes[2].text(0.5, 0.5, "no ReLU layers", ha="center", va="center", transform=axes[2].transAxes)
        axes[2].set_title("dead ReLU fraction")
    if kernels:
        positive = all((v is None or v > 0) for k in kernels for v in s["gradients"][k])
        per_epoch(axes[3], kernels, lambda n, i: s["gradients"][n][i], "gradient norm per kernel",
                  log=positive)
    else:
        axes[3].set_title("gradient norm per kernel (not recorded)")
    if epochs:
        axes[0].legend(fontsize="x-small")
    return fig


def _short_label(name, width=32):
    """A legend label of at most `width` characters: a long run path keeps its tail (`...runs/demo_next`)."""
    name = str(name)
    return name if len(name) <= width else "..." + name[-(width - 3):]


def overlay(histories, metrics=("loss", "accuracy"), *, smooth=None, figsize=None):
    """Learning curves of several runs overlaid: validation solid, training dashed, one colour per run.

    Args:
        histories: A dict `{run name: history}` (anything `load_history` accepts).
        metrics: Metrics to draw, one panel each; missing ones are skipped.
            Defaults to `("loss", "accuracy")`.
        smooth: Optional moving-average window in epochs.
        figsize: Figure size. Defaults to 5.5 by 4 inches per panel.

    Returns:
        A `matplotlib.figure.Figure`.

    Example:
    >>> fig = overlay({"he": h1.history, "zeros": h2.history})
    """
    if not isinstance(histories, dict) or not histories:
        raise ValueError(f"histories must be a non-empty dict of name -> history. Received {histories!r:.80}")
    smooth = _check_smooth(smooth)
    data = {name: load_history(h) for name, h in histories.items()}
    shown = [m for m in metrics if any(m in d or "val_" + m in d for d in data.values())]
    if not shown:
        raise ValueError(f"none of metrics {list(metrics)} is in the histories")
    fig = Figure(figsize=figsize or (5.5 * len(shown), 4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(shown), squeeze=False).ravel())
    colors = matplotlib.colormaps["tab10"]
    window = smooth or 1
    for ax, metric in zip(axes, shown):
        for i, (name, d) in enumerate(data.items()):
            color = colors(i % 10)
            short = _short_label(name)
            for key, style, label in ((metric, "--", f"{short} (train)"), ("val_" + metric, "-", short)):
                if key in d:
                    values = moving_average(d[key], window)
                    ax.plot(np.arange(1, len(values) + 1), values, style, color=color, label=label,
                            alpha=0.6 if style == "--" else 1.0)
        ax.set_title(f"{metric}: validation solid, training dashed")
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", ncol=2)
    return fig
