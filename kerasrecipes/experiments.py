"""The sources' classic experiments, reproducible: one model per variant, same data, same seed, curves overlaid.

cs231n and Wei's "Must Know Tips/Tricks" compare zero, small-random, Xavier
and He initialization; Wei's tips and Hung-yi Lee's compare sigmoid and tanh
against the ReLU family and maxout; cs231n places BatchNorm before the
nonlinearity (Ioffe & Szegedy) and asks what happens after it; and Srivastava
et al. (2014) sweep the dropout rate from 0.0 to 0.9. `compare` runs any such
comparison for a model builder or for variants of a `Recipe` (the package's
one run configuration: each variant then trains exactly as `Recipe.fit`
trains it); the `compare_*` functions are those four, built on the
`kerasrecipes.models` factories.

Memory: `compare` calls `kerasrecipes.clear_session()` before each variant, so
a long comparison in a notebook stays flat (`tests/test_memory_loops.py`).
"""

import html
import math
import os
import time

import keras
import numpy as np

from kerasrecipes import optimizers, plots
from kerasrecipes._stats import best_of
from kerasrecipes.data.preprocessing import to_unit_range
from kerasrecipes.memory import clear_session

INITIALIZERS = ("zeros", "small_random", "glorot", "he")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "prelu", "rrelu", "elu", "maxout")
DROPOUT_RATES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
# Defaults for the ready-made comparisons: small enough for a laptop CPU,
# without BatchNorm so that initialization and activation differences show.
_BASE = {
    "vgg": {"filters": (16, 32), "convs_per_stage": 1, "order": "conv-act", "head": "flatten",
            "dense_units": (64,), "dense_dropout": 0.0},
    "mlp": {"hidden": (128, 64), "order": "dense-act"},
}
_BN_ORDERS = {
    "vgg": {"none": "conv-act", "before": "conv-bn-act", "after": "conv-act-bn"},
    "mlp": {"none": "dense-act", "before": "dense-bn-act", "after": "dense-act-bn"},
}


def _split(data, seed=0):
    """((x, y), (x_val, y_val)) from either that or (x, y), holding out 20% of every class (seeded)."""
    from kerasrecipes.data import train_val_split

    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError("data must be (x, y) or ((x, y), (x_val, y_val)). "
                         f"Received {type(data).__name__} of length {len(data) if hasattr(data, '__len__') else '?'}")
    if isinstance(data[0], (tuple, list)):
        (x, y), (xv, yv) = data
    else:
        x, y = np.asarray(data[0]), np.asarray(data[1])
        if len(x) < 2 or len(x) != len(y):
            raise ValueError(f"data needs at least 2 examples, as many labels as inputs, to hold out a validation "
                             f"set. Received {len(x)} inputs and {len(y)} labels")
        labels = y.argmax(axis=-1) if y.ndim > 1 else y  # one-hot rows: their class
        index = np.arange(len(x)).reshape(-1, 1)
        (fit, _), (val, _) = train_val_split(index, labels, 0.2, seed=seed)
        x, y, xv, yv = x[fit[:, 0]], y[fit[:, 0]], x[val[:, 0]], y[val[:, 0]]
    if len(x) != len(y) or len(xv) != len(yv):
        raise ValueError(f"inputs and labels differ in length: {len(x)}/{len(y)} train, {len(xv)}/{len(yv)} validation")
    return (x, y), (xv, yv)


class Comparison:
    """Results of `compare`: a table, the histories, and overlaid learning curves.

    Also what `kerasrecipes.compare.compare` returns for run directories.

    Attributes:
        table: One dict per variant: variant, params, seconds, final loss and
            metrics, best validation accuracy (or loss) and its epoch.
        histories: `{variant: history dict}`.
        title: What was compared.
        differences: `{setting: [value per variant]}` for the settings that
            differ between the variants (run directories' recipes); may be empty.
    """

    def __init__(self, table, histories, title="comparison", differences=None):
        self.table = table
        self.histories = histories
        self.title = title
        self.differences = dict(differences or {})

    @property
    def best(self):
        """The variant with the best validation accuracy (or lowest val_loss)."""
        key = "best_val_accuracy" if all("best_val_accuracy" in r for r in self.table) else "best_val_loss"
        sign = 1 if key == "best_val_accuracy" else -1

        def score(row):
            v = row.get(key, float("nan"))
            return sign * v if isinstance(v, float) and math.isfinite(v) else -math.inf

        return max(self.table, key=score)["variant"]

    def figure(self, metrics=("loss", "accuracy"), smooth=None):
        """Learning curves of every variant overlaid (validation solid, training dashed)."""
        fig = plots.overlay(self.histories, metrics=metrics, smooth=smooth)
        fig.suptitle(self.title)
        return fig

    def to_dict(self):
        return {"title": self.title, "table": self.table, "histories": self.histories,
                "differences": self.differences}

    def write_html(self, path) -> str:
        """One self-contained HTML page: the table, the settings that differ and the curves overlaid.

        Written atomically (a temp file, then renamed). Returns the path.
        """
        from kerasrecipes import _io, report

        sections = [f"<h1>{html.escape(self.title)}</h1>", self._repr_html_()]
        sections += ["<h2>Learning curves</h2>", report.figure_html(self.figure(), "learning curves overlaid")]
        return _io.write_text(os.fspath(path), report.page(self.title, sections))

    def _columns(self):
        preferred = ["variant", "status", "params", "seconds", "loss", "val_loss", "accuracy", "val_accuracy",
                     "best_val_accuracy", "best_epoch", "epochs", "test single", "test flips", "test ensemble",
                     "test ensemble + flips", "train seconds", "CPU seconds", "compile seconds", "diagnosis", "parent"]
        present = [c for c in preferred if any(c in r for r in self.table)]
        return present + sorted({k for r in self.table for k in r} - set(present))

    @staticmethod
    def _cell(value):
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.4g}"
        if isinstance(value, (list, tuple)):
            return ",".join(map(str, value))
        return str(value)

    def __repr__(self):
        cols = self._columns()
        rows = [[self._cell(r.get(c, "")) for c in cols] for r in self.table]
        widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
        line = lambda cells: "  ".join(cell.ljust(w) for cell, w in zip(cells, widths))
        lines = [self.title, line(cols), line(["-" * w for w in widths])] + [line(r) for r in rows]
        if self.differences:
            lines.append("settings that differ: " + "; ".join(
                f"{k}: {' / '.join(self._cell(v) for v in values)}" for k, values in self.differences.items()))
        return "\n".join(lines)

    def _repr_html_(self):
        cols = self._columns()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(self._cell(r.get(c, '')))}</td>" for c in cols)
                       + "</tr>" for r in self.table)
        return (f"<div><p><b>{html.escape(self.title)}</b></p><table class='kr-compare'><thead><tr>{head}"
                f"</tr></thead><tbody>{body}</tbody></table>{self._differences_html()}</div>")

    def _differences_html(self):
        """The settings that differ, one row each and a column per variant ("" when none differ)."""
        if not self.differences:
            return ""
        head = "".join(f"<th>{html.escape(str(r['variant']))}</th>" for r in self.table)
        rows = "".join(f"<tr><th>{html.escape(k)}</th>"
                       + "".join(f"<td>{html.escape(self._cell(v))}</td>" for v in values) + "</tr>"
                       for k, values in self.differences.items())
        return (f"<h2>Settings that differ</h2><table class='kr-differences'><thead><tr><th>setting</th>{head}"
                f"</tr></thead><tbody>{rows}</tbody></table>")


def _summarize(name, model, history, seconds):
    row = {"variant": name, "params": int(model.count_params()), "seconds": round(seconds, 2)}
    for key, values in history.items():
        if values:
            row[key] = float(values[-1])
    key = next((k for k in ("val_accuracy", "val_loss") if k in history), None)
    found = best_of(history[key], key) if key else None
    if found is not None:
        row[f"best_{key}"], row["best_epoch"] = found[1], found[0] + 1
    return row


# What `compare` uses for a model builder's uncompiled models; a Recipe has these as its own fields.
_FIT_DEFAULTS = {"batch_size": 128, "optimizer": "adam", "learning_rate": 1e-3,
                 "loss": "sparse_categorical_crossentropy", "metrics": ("accuracy",)}


def compare(builder, variants, data, epochs=None, *, batch_size=None, optimizer=None, learning_rate=None,
            loss=None, metrics=None, seed=0, callbacks=None, verbose=0, title="comparison"):
    """Train one model per variant on the same data with the same seed; tabulate and overlay the curves.

    Before each variant the global seed is reset (`keras.utils.set_random_seed`),
    so the variants differ only in what the variant changes: the same data
    order, the same initial draws where the architectures agree. Before that,
    `kerasrecipes.clear_session()` frees what the previous variant's fit left
    behind (Keras's global state and TensorFlow's traced gradients), so memory
    stays flat however many variants run; build no model before the call that
    `builder` reuses.

    Args:
        builder: A `kerasrecipes.recipe.Recipe`, whose variants are field
            overrides (`{"light": {"augment": "light"}}`): each trains through
            `Recipe.fit` (its optimizer, schedule, loss, augmentation and
            batch size), `input_shape` and `num_classes` taken from the data.
            Or `builder(**kwargs) -> keras.Model`: an uncompiled model is
            compiled with a fresh `optimizer` at `learning_rate`, `loss` and
            `metrics`; a compiled one is trained as it is.
        variants: `{name: kwargs}`: Recipe fields, or the builder's arguments
            (`{"he": {"kernel_initializer": "he"}}`).
        data: `(x, y)` (20% of every class held out for validation, drawn with
            `seed`) or `((x, y), (x_val, y_val))`; uint8 images are scaled to [0, 1].
        epochs: Epochs per variant. Defaults to the recipe's `epochs`, or `5`
            for a builder.
        batch_size, optimizer, learning_rate, loss, metrics: For a builder only
            (a Recipe's are its fields: set them there or in the variants).
            Default to `128`, "adam" (one of `kerasrecipes.optimizers.NAMES`),
            `1e-3`, "sparse_categorical_crossentropy" and `("accuracy",)`.
        seed: Global seed set before each variant (a Recipe's own `seed`
            wins when it has one). Defaults to `0`.
        callbacks: Optional callable `name -> list of callbacks` (fresh ones
            per variant) or a list (shared: they must reset in on_train_begin).
        verbose: Passed to `fit`. Defaults to `0`.
        title: Title of the table and figure. Defaults to "comparison".

    Returns:
        A `Comparison`: `.table`, `.histories`, `.best`, `.figure()`; for a
        Recipe, `.differences` holds the fields the variants set.

    Example:
    >>> recipe = kr.presets.get("fashion_mnist_fast", epochs=3)
    >>> result = compare(recipe, {"none": {"augment": "none"}, "light": {"augment": "light"}}, (x, y))
    >>> result = compare(lambda units: my_model(units), {"small": {"units": 32}, "big": {"units": 256}},
    ...                  data=((x, y), (x_val, y_val)), epochs=3)
    >>> result.figure()
    """
    from kerasrecipes.recipe import Recipe

    is_recipe = isinstance(builder, Recipe)
    if not is_recipe and not callable(builder):
        raise ValueError("builder must be a kerasrecipes Recipe or a callable returning a keras.Model. "
                         f"Received builder={builder!r}")
    if not isinstance(variants, dict) or not variants:
        raise ValueError(f"variants must be a non-empty dict of name -> kwargs. Received variants={variants!r:.80}")
    for name, kwargs in variants.items():
        if not isinstance(kwargs, dict):
            raise ValueError(f"variants[{name!r}] must be a dict of {'Recipe fields' if is_recipe else 'builder kwargs'}"
                             f". Received {kwargs!r}")
    if epochs is not None and (isinstance(epochs, bool) or int(epochs) != epochs or epochs < 1):
        raise ValueError(f"epochs must be a positive integer. Received epochs={epochs!r}")
    fit_args = {"batch_size": batch_size, "optimizer": optimizer, "learning_rate": learning_rate, "loss": loss,
                "metrics": metrics}
    if is_recipe:
        given = {k: v for k, v in fit_args.items() if v is not None}
        if given:
            name, value = next(iter(given.items()))
            raise ValueError(f"{name} is set by the Recipe (its fields batch_size, optimizer, base_lr, "
                             f"label_smoothing, ...), not by compare: put it in the recipe or the variants. "
                             f"Received {name}={value!r}")
        recipes = _recipe_variants(builder, variants, data, epochs, seed)
    else:
        fit_args = {k: _FIT_DEFAULTS[k] if v is None else v for k, v in fit_args.items()}
        optimizers.build(fit_args["optimizer"], fit_args["learning_rate"])  # checks both before any work
    (x, y), (xv, yv) = _split(data, seed)
    x, xv = to_unit_range(x), to_unit_range(xv)
    table, histories = [], {}
    for name, kwargs in variants.items():
        clear_session()
        keras.utils.set_random_seed(seed)
        cbs = callbacks(name) if callable(callbacks) else list(callbacks or [])
        start = time.perf_counter()
        if is_recipe:
            result = recipes[name].fit(x, y, validation_data=(xv, yv), callbacks=cbs, verbose=verbose)
            model, history = result.model, result.history
        else:
            model = builder(**kwargs)
            if not isinstance(model, keras.Model):
                raise ValueError(f"builder(**variants[{name!r}]) must return a keras.Model. "
                                 f"Received {type(model).__name__}")
            if not model.compiled:
                model.compile(optimizer=optimizers.build(fit_args["optimizer"], fit_args["learning_rate"]),
                              loss=fit_args["loss"], metrics=list(fit_args["metrics"]))
            history = model.fit(x, y, validation_data=(xv, yv), epochs=int(epochs or 5),
                                batch_size=fit_args["batch_size"], callbacks=cbs, verbose=verbose)
        seconds = time.perf_counter() - start
        histories[str(name)] = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        table.append(_summarize(str(name), model, histories[str(name)], seconds))
        del model, history  # so the next clear_session frees this variant's model and traced steps
    differences = {}
    if is_recipe:
        fields = sorted({k for kwargs in variants.values() for k in kwargs})
        differences = {k: [getattr(r, k) for r in recipes.values()] for k in fields}
    return Comparison(table, histories, title, differences=differences)


def _recipe_variants(recipe, variants, data, epochs, seed):
    """`{name: Recipe}`: the base recipe with each variant's fields, the data's shape and classes, the seed."""
    import dataclasses

    from kerasrecipes.recipe import check_fields

    input_shape, num_classes = _shape_and_classes(data)
    base = {"input_shape": input_shape, "num_classes": num_classes,
            "seed": recipe.seed if recipe.seed is not None else seed}
    if epochs is not None:
        base["epochs"] = int(epochs)
    recipes = {}
    for name, kwargs in variants.items():
        check_fields(kwargs, what=f"variants[{name!r}]", values=kwargs)
        recipes[name] = dataclasses.replace(recipe, **{**base, **kwargs})  # the Recipe checks every value
    return recipes


def _factory(model, input_shape, num_classes, base):
    from kerasrecipes import models

    if model not in _BASE:
        raise ValueError(f"model must be one of {', '.join(_BASE)}. Received model={model!r}")
    factory = models.vgg if model == "vgg" else models.mlp

    def build(**kwargs):
        return factory(input_shape, num_classes, **{**base, **kwargs})

    return build


def _shape_and_classes(data):
    (x, y), (_, yv) = _split(data)
    labels = np.concatenate([np.asarray(y).reshape(len(y), -1), np.asarray(yv).reshape(len(yv), -1)])
    num_classes = labels.shape[1] if labels.shape[1] > 1 else int(labels.max()) + 1
    return tuple(np.asarray(x).shape[1:]), num_classes


def _ready_made(data, model, model_kwargs, variants, title, **kwargs):
    input_shape, num_classes = _shape_and_classes(data)
    base = {**_BASE.get(model, {}), **(model_kwargs or {})}
    builder = _factory(model, input_shape, num_classes, base)
    return compare(builder, variants, data, title=title, **kwargs)


def compare_initializers(data, epochs=5, *, initializers=INITIALIZERS, model="vgg", model_kwargs=None,
                         activation="relu", **kwargs):
    """Zero, small random (N(0, 0.01)), Glorot (Xavier) and He initialization on the same net.

    What cs231n and Wei's "Must Know Tips/Tricks" expect: zeros never break the symmetry (every unit of a
    layer stays identical, the net learns like a linear model or not at all);
    small random numbers vanish through depth; Glorot and He keep the signal
    alive, He being the one derived for ReLU.

    Args:
        data: `(x, y)` or `((x, y), (x_val, y_val))`, images for "vgg".
        epochs: Epochs per variant. Defaults to `5`.
        initializers: Names the factories accept ("zeros", "small_random",
            "glorot", "he", "lecun") or Keras initializers. Defaults to the four above.
        model: "vgg" (a small VGG-like net without BatchNorm, so initialization shows)
            or "mlp". Defaults to "vgg".
        model_kwargs: Overrides for the factory, e.g. `{"filters": (32, 64)}`.
        activation: Activation of every unit. Defaults to "relu".
        **kwargs: Passed to `compare` (batch_size, learning_rate, seed, ...).

    Returns:
        A `Comparison`.

    Example:
    >>> result = compare_initializers(kr.datasets.fashion_mnist_sample(), epochs=3)
    """
    variants = {str(i): {"kernel_initializer": i, "activation": activation} for i in initializers}
    return _ready_made(data, model, model_kwargs, variants, f"initializers ({activation})", epochs=epochs, **kwargs)


def compare_activations(data, epochs=5, *, activations=ACTIVATIONS, model="vgg", model_kwargs=None, **kwargs):
    """Sigmoid, tanh, ReLU, leaky ReLU, PReLU, RReLU, ELU and maxout on the same net.

    Each gets its matching initialization ("auto": He for the ReLU family,
    Glorot for tanh/sigmoid), the pairing of He et al. (2015) and Wei's tips.

    Args:
        data, epochs, model, model_kwargs, **kwargs: as for `compare_initializers`.
        activations: Activation names the factories accept. Defaults to the eight above.

    Returns:
        A `Comparison`.

    Example:
    >>> result = compare_activations(data, epochs=3, activations=("sigmoid", "relu", "prelu"))
    """
    variants = {str(a): {"activation": a, "kernel_initializer": "auto"} for a in activations}
    return _ready_made(data, model, model_kwargs, variants, "activations", epochs=epochs, **kwargs)


def compare_dropout(data, epochs=5, *, rates=DROPOUT_RATES, model="vgg", model_kwargs=None, **kwargs):
    """A dropout sweep, rate 0.0 to 0.9 (as Srivastava et al. 2014 vary it).

    For "vgg" the dropout follows every convolution, before its activation
    ("conv-drop-act"); for "mlp" it follows every hidden unit.

    Args:
        data, epochs, model, model_kwargs, **kwargs: as for `compare_initializers`.
        rates: Dropout rates. Defaults to 0.0, 0.1, ..., 0.9.

    Returns:
        A `Comparison`, variants named "0.0", "0.1", ...

    Example:
    >>> result = compare_dropout(data, epochs=10, rates=(0.0, 0.25, 0.5))
    """
    for rate in rates:
        if not 0 <= rate < 1:
            raise ValueError(f"rates must lie in [0, 1). Received rates={rates!r}")
    if model == "vgg":
        variants = {f"{r:.1f}": {"dropout": r, "order": "conv-drop-act"} for r in rates}
    else:
        variants = {f"{r:.1f}": {"dropout": r} for r in rates}
    return _ready_made(data, model, model_kwargs, variants, "dropout rate", epochs=epochs, **kwargs)


def compare_batchnorm(data, epochs=5, *, model="vgg", model_kwargs=None, activation="relu", **kwargs):
    """BatchNorm: none, before the activation (Ioffe & Szegedy), after it.

    Args:
        data, epochs, model, model_kwargs, **kwargs: as for `compare_initializers`.
        activation: Activation of every unit. Defaults to "relu".

    Returns:
        A `Comparison` with variants "none", "before", "after".

    Example:
    >>> result = compare_batchnorm(data, epochs=5)
    """
    if model not in _BN_ORDERS:
        raise ValueError(f"model must be one of {', '.join(_BN_ORDERS)}. Received model={model!r}")
    variants = {place: {"order": order, "activation": activation} for place, order in _BN_ORDERS[model].items()}
    return _ready_made(data, model, model_kwargs, variants, "BatchNorm placement", epochs=epochs, **kwargs)
