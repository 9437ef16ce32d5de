"""Averaging same-shaped classifiers into one model, and a member-by-member evaluation table.

"Different checkpoints of a single model over time", "the top trials of a
search", "the same model from different initializations": any models with the
same input and output shapes average into one `keras.Model` that saves as
`.keras` and loads back in safe mode.
"""

import keras
import numpy as np
from keras import ops

from kerasrecipes._models import check_built

_METHODS = ("mean", "geometric")


@keras.saving.register_keras_serializable(package="kerasrecipes")
class GeometricMean(keras.layers.Layer):
    """Normalized geometric mean of probability vectors: softmax(mean(log p)).

    Keras has `Average` (the arithmetic mean) but no geometric mean. The result
    is renormalized over the last axis so that it is again a distribution.
    Inputs are clipped at `epsilon` before the log so a zero probability from
    one member does not veto a class outright.

    Args:
        epsilon: Floor on the probabilities before the log. Defaults to `1e-7`.
        **kwargs: Base layer keyword arguments.

    Example:
    >>> GeometricMean()([np.array([[0.5, 0.5]]), np.array([[0.9, 0.1]])])  # ~[[0.75, 0.25]]
    """

    def __init__(self, epsilon=1e-7, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def call(self, inputs):
        logs = [ops.log(ops.clip(p, self.epsilon, 1.0)) for p in inputs]
        return ops.softmax(ops.mean(ops.stack(logs, axis=0), axis=0), axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config["epsilon"] = self.epsilon
        return config


def _check_models(models):
    if isinstance(models, keras.Model) or not isinstance(models, (list, tuple)) or not models:
        raise ValueError(
            "models must be a non-empty list of keras.Model. "
            f"Received models={models!r}"
        )
    for i, m in enumerate(models):
        check_built(m, "averaging", argument=f"models[{i}]", inputs=True)
    shapes = [(tuple(m.inputs[0].shape[1:]), tuple(m.outputs[0].shape[1:])) for m in models]
    for i, shape in enumerate(shapes):
        if shape != shapes[0]:
            raise ValueError(
                "All models must share input and output shapes; models[0] has "
                f"(input, output)={shapes[0]} but models[{i}] has {shape}"
            )


def _distinct_names(models):
    """Members as they are, except that a repeated name gets a wrapper named `<name>_<i>`.

    A functional model may not hold two layers of one name, and two models
    from the same factory call share theirs; the wrapper shares the member's
    layers and weights, copying nothing.
    """
    seen = set()
    distinct = []
    for i, model in enumerate(models):
        if model.name in seen:
            # inputs/outputs, not input/output: a Sequential model has only the plural ones.
            inputs, outputs = model.inputs, model.outputs
            model = keras.Model(inputs[0] if len(inputs) == 1 else inputs,
                                outputs[0] if len(outputs) == 1 else outputs, name=f"{model.name}_{i}")
        seen.add(model.name)
        distinct.append(model)
    return distinct


def average(models, method: str = "mean", name: str = "ensemble") -> keras.Model:
    """One model whose output is the mean of the members' output probabilities.

    The members are used as they are (no copy of their weights): the returned
    model calls each of them on the same input and averages. Members with
    the same name (two models from one factory call) are wrapped under new names.

    Args:
        models: List of `keras.Model` with the same input and output shapes,
            each outputting probabilities (softmax or sigmoid).
        method: `"mean"` (arithmetic mean of probabilities, Keras's `Average`)
            or `"geometric"` (renormalized geometric mean). Defaults to `"mean"`.
        name: Name of the returned model. Defaults to `"ensemble"`.

    Returns:
        A functional `keras.Model`, saveable as `.keras`.

    Example:
    >>> ens = average([model_a, model_b, model_c])
    >>> ens.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    >>> ens.evaluate(x_test, y_test)
    """
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}. Received method={method!r}")
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string. Received name={name!r}")
    _check_models(models)
    first = models[0].inputs[0]
    inputs = keras.Input(shape=first.shape[1:], dtype=first.dtype, name="ensemble_input")
    outputs = [m(inputs) for m in _distinct_names(models)]
    if method == "mean":
        merged = keras.layers.Average(name="mean_probabilities")(outputs)
    else:
        merged = GeometricMean(name="geometric_mean_probabilities")(outputs)
    return keras.Model(inputs, merged, name=name)


def _probabilities(p):
    p = np.asarray(p, dtype="float64")
    if p.ndim == 2 and p.shape[1] == 1:  # one sigmoid unit
        p = np.concatenate([1.0 - p, p], axis=1)
    return p


def _scores(p, labels):
    eps = 1e-7
    acc = float(np.mean(np.argmax(p, axis=1) == labels))
    nll = float(-np.mean(np.log(np.clip(p[np.arange(len(labels)), labels], eps, 1.0))))
    return acc, nll


class EnsembleEvaluation:
    """A table of accuracy and cross-entropy per member and for the ensemble.

    Attributes:
        rows: list of dicts with keys `name`, `accuracy`, `loss`; the last row is
            the ensemble.
    """

    def __init__(self, rows):
        self.rows = rows

    @property
    def ensemble(self):
        return self.rows[-1]

    @property
    def members(self):
        return self.rows[:-1]

    @property
    def best_member(self):
        return max(self.members, key=lambda r: r["accuracy"])

    def __getitem__(self, name):
        for row in self.rows:
            if row["name"] == name:
                return row
        raise KeyError(name)

    def __repr__(self):
        width = max(len(r["name"]) for r in self.rows)
        lines = [f"{'model':<{width}}  accuracy  loss"]
        lines += [f"{r['name']:<{width}}  {r['accuracy']:.4f}    {r['loss']:.4f}" for r in self.rows]
        return "\n".join(lines)

    def _repr_html_(self):
        cells = "".join(
            f"<tr><td>{r['name']}</td><td>{r['accuracy']:.4f}</td><td>{r['loss']:.4f}</td></tr>"
            for r in self.rows
        )
        return f"<table><tr><th>model</th><th>accuracy</th><th>loss</th></tr>{cells}</table>"


def evaluate(models_or_ensemble, x, y, method: str = "mean", batch_size: int = 256) -> EnsembleEvaluation:
    """Accuracy and cross-entropy of each member and of their average, on `(x, y)`.

    Each member predicts once; the ensemble's probabilities are averaged from
    those predictions (so the table costs one pass per member).

    Args:
        models_or_ensemble: A list of `keras.Model`, or a model made by
            `average` (its members are found among its layers).
        x: Inputs (numpy array).
        y: Integer labels, shape `(N,)`, or one-hot, shape `(N, C)`.
        method: `"mean"` or `"geometric"` for a list of models; an ensemble
            model keeps its own. Defaults to `"mean"`.
        batch_size: Prediction batch size. Defaults to `256`.

    Returns:
        An `EnsembleEvaluation` (prints as a table; `.rows`, `.ensemble`,
        `.best_member`).

    Example:
    >>> table = evaluate([model_a, model_b], x_test, y_test)
    >>> table.ensemble["accuracy"] - table.best_member["accuracy"]
    """
    if isinstance(models_or_ensemble, keras.Model):
        members = [layer for layer in models_or_ensemble.layers if isinstance(layer, keras.Model)]
        if not members:
            raise ValueError(
                "models_or_ensemble is a single model without member models; pass "
                f"a list of models or a model made by average(). Received {models_or_ensemble.name}"
            )
        method = "geometric" if any(isinstance(l, GeometricMean) for l in models_or_ensemble.layers) else "mean"
    else:
        members = list(models_or_ensemble)
        _check_models(members)
    if method not in _METHODS:
        raise ValueError(f"method must be one of {_METHODS}. Received method={method!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer. Received batch_size={batch_size!r}")
    y = np.asarray(y)
    labels = np.argmax(y, axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1).astype("int64")
    if len(labels) != len(x):
        raise ValueError(f"x and y must have the same length. Received len(x)={len(x)}, len(y)={len(labels)}")
    rows, probs = [], []
    for m in members:
        p = _probabilities(m.predict(x, batch_size=batch_size, verbose=0))
        probs.append(p)
        acc, nll = _scores(p, labels)
        rows.append({"name": m.name, "accuracy": acc, "loss": nll})
    stacked = np.stack(probs)
    if method == "mean":
        p = stacked.mean(axis=0)
    else:
        logp = np.log(np.clip(stacked, 1e-7, 1.0)).mean(axis=0)
        p = np.exp(logp - logp.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
    acc, nll = _scores(p, labels)
    rows.append({"name": f"ensemble ({method})", "accuracy": acc, "loss": nll})
    return EnsembleEvaluation(rows)
