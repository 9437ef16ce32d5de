"""The next run a diagnosis points at: one change of the `Recipe` per finding, each rule citing its source.

`kerasrecipes.diagnose` names what the learning curves show (overfitting, an LR
too high, ...) and says what the sources recommend in words. `propose` turns
those words into the next `Recipe`: for each finding, most urgent first, the
first rule of its ladder that still changes something and touches a field no
earlier finding changed. The rules:

| finding | the change, in order of preference | source |
|---|---|---|
| lr_too_high | `base_lr`: the LR finder's suggestion, else / 3 | cs231n, babysitting ("if you got NaN ... your learning rate is high"); Wei, insights from figures ("a very high learning rate will cause a quite strange loss curve") |
| lr_too_low | `base_lr`: the LR finder's suggestion, else x 3 | cs231n, babysitting ("loss barely changing: the learning rate is small"); Wei ("too linear: the learning rate is low") |
| overfitting | `augment` one step stronger (none, light, standard, strong); `weight_decay` x 2; `dropout` + 0.1; `epochs` down to the best epoch | cs231n ("huge train/val gap: increase regularization, get more data"); Wei, data augmentation; Lee, regularization, dropout, early stopping |
| underfitting | `filters` x 2 (wider); `convs_per_stage` + 1 (deeper); `epochs` x 2; `weight_decay` / 2 | cs231n ("no gap between train/val: underfitting: train longer, use a bigger model"); Wei ("no gap ... at a low accuracy level ... increase the model capacity") |
| still_improving | `epochs` x 2 | cs231n ("accuracy still going up: you need to train longer") |
| plateau | `schedule` = halving; with halving already, `early_stopping` on | Wei ("stopped making progress on the validation set: divide the LR by 2"); Lee, early stopping |
| noisy_batches | `batch_size` x 2 (the LR follows by the linear scaling rule) | Wei, insights from figures ("the width of the curve is related to the batch size") |
| dead_relus | `activation` = leaky_relu; else `base_lr` / 3 | Wei and cs231n on the dying ReLU (a high LR kills units; Leaky ReLU) |
| exploding_gradients | `base_lr` / 3; `order` with BatchNorm | cs231n (BatchNorm; the LR) |
| vanishing_gradients | `order` with BatchNorm; `activation` = relu | Lee, vanishing gradients (ReLU); cs231n, BatchNorm |

A healthy diagnosis proposes nothing. A finding whose every rule is spent (a
net already at 512 filters, ...) is kept in `unanswered` with the reason.
Neither Keras nor keras-tuner nor fastai acts on a diagnosis; this is what it adds.
"""

import dataclasses
import html

from kerasrecipes.recipe import Recipe

AUGMENT_LADDER = ("none", "light", "standard", "strong")
MAX_FILTERS = 512
MAX_CONVS = 4
MAX_DROPOUT = 0.5
DEFAULT_WEIGHT_DECAY = 5e-4
SOURCES = {
    "lr_too_high": "cs231n, babysitting the learning process: a loss that explodes (NaN) means the learning rate "
                   "is high; Wei, insights from figures: a very high learning rate causes a quite strange loss "
                   "curve (one that rises or swings)",
    "lr_too_low": "cs231n, babysitting the learning process: a loss barely changing means the learning rate is "
                  "small; Wei: a loss curve too linear means it is low",
    "augment": "cs231n: a huge train/val gap is overfitting, get more data; Wei: data augmentation is the thing "
               "you must do",
    "weight_decay": "cs231n: a huge train/val gap is overfitting, increase regularization; Lee: L2 regularization",
    "dropout": "cs231n: increase regularization; Lee: dropout",
    "fewer_epochs": "Lee: early stopping, where the validation loss was lowest",
    "wider": "cs231n: no gap between train and val is underfitting, use a bigger model; Wei, insights from "
             "figures: no gap at a low accuracy means low learnability, increase the model capacity",
    "deeper": "cs231n: no gap between train and val is underfitting, use a bigger model; Wei, insights from "
              "figures: no gap at a low accuracy means low learnability, increase the model capacity",
    "longer": "cs231n: accuracy still going up, you need to train longer",
    "less_regularization": "cs231n: no gap between train and val is underfitting; a strong penalty holds the "
                           "model back",
    "halving": "Wei: if you stopped making progress on the validation set, divide the LR by 2 (or by 5) and keep "
               "going",
    "stop": "Lee: early stopping",
    "batch": "Wei, insights from figures: the width of the loss curve is related to the batch size; too wide, "
             "increase it",
    "leaky": "Wei and cs231n: ReLU units can die when the learning rate is too high; Leaky ReLU is one fix",
    "batchnorm": "cs231n: BatchNorm keeps activations unit-Gaussian, and so the gradients in range",
    "relu": "Lee: ReLU against vanishing gradients",
}


@dataclasses.dataclass(frozen=True)
class Change:
    """One field of the recipe changed, why, and who recommends it.

    Attributes:
        field: The `Recipe` field.
        old, new: Its value before and after.
        finding: The `diagnose` finding it answers.
        reason: The rule, in words.
        source: cs231n, Wei or Lee, by name.
    """

    field: str
    old: object
    new: object
    finding: str
    reason: str
    source: str

    def line(self) -> str:
        """`field: old -> new (finding)`, one short line."""
        return f"{self.field}: {_show(self.old)} -> {_show(self.new)} ({self.finding})"


@dataclasses.dataclass
class Proposal:
    """The next recipe: `recipe`, the `changes` that made it and the findings left `unanswered`.

    Falsy when nothing is proposed (healthy curves, or every rule spent). Prints
    as the diff with a reason per field; `_repr_html_` shows it as a table in
    Jupyter; `to_dict` / `from_dict` round-trip through JSON (`proposal.json`).
    """

    recipe: Recipe
    changes: list
    findings: list = dataclasses.field(default_factory=list)
    unanswered: list = dataclasses.field(default_factory=list)

    def __bool__(self):
        return bool(self.changes)

    def diff_lines(self) -> list:
        """One short line per change."""
        return [c.line() for c in self.changes]

    def reason_lines(self) -> list:
        """One line per change with its reason: `field: old -> new (finding): reason`."""
        return [f"{c.line()}: {c.reason}" for c in self.changes]

    def command(self, run_dir, out=None) -> str:
        """The command that trains this proposal after the run in `run_dir` (`next_command`)."""
        return next_command(run_dir, out)

    def to_dict(self) -> dict:
        return {"recipe": self.recipe.to_dict(), "findings": list(self.findings),
                "changes": [_jsonable(dataclasses.asdict(c)) for c in self.changes],
                "unanswered": [list(u) for u in self.unanswered]}

    @classmethod
    def from_dict(cls, values: dict) -> "Proposal":
        return cls(Recipe.from_dict(values["recipe"]),
                   [Change(**{k: _tupled(v) for k, v in c.items()}) for c in values.get("changes", [])],
                   list(values.get("findings", [])), [tuple(u) for u in values.get("unanswered", [])])

    def lines(self) -> list:
        """The proposal as a person reads it: each change with its reason and source."""
        if not self.findings:
            return ["the curves look healthy: nothing to change"]
        lines = []
        for c in self.changes:
            lines += [c.line(), f"    because {c.reason}", f"    source: {c.source}"]
        lines += [f"{name}: no change left to propose ({why})" for name, why in self.unanswered]
        return lines

    def __repr__(self):
        head = f"Proposal: {len(self.changes)} change(s)" if self.changes else "Proposal: no change"
        return "\n".join([head] + [f"  {line}" for line in self.lines()])

    def _repr_html_(self):
        esc = html.escape
        if not self.changes:
            text = "; ".join(self.lines())
            return f"<p>Next run: {esc(text)}.</p>"
        rows = "".join(f"<tr><td><code>{esc(c.field)}</code></td><td>{esc(_show(c.old))}</td>"
                       f"<td><b>{esc(_show(c.new))}</b></td><td>{esc(c.finding)}</td>"
                       f"<td>{esc(c.reason)}</td><td>{esc(c.source)}</td></tr>" for c in self.changes)
        left = "".join(f"<li>{esc(name)}: no change left to propose ({esc(why)})</li>" for name, why in self.unanswered)
        return ('<table class="kr-proposal"><thead><tr><th>field</th><th>now</th><th>next</th><th>finding</th>'
                f"<th>why</th><th>source</th></tr></thead><tbody>{rows}</tbody></table>"
                + (f"<ul>{left}</ul>" if left else ""))


def next_command(run_dir, out=None) -> str:
    """`kerasrecipes next RUN_DIR --out OUT`, with `OUT` = `RUN_DIR_next` unless given (console, report, docs).

    Example:
    >>> next_command("runs/demo/")
    'kerasrecipes next runs/demo/ --out runs/demo_next'
    """
    import os

    run_dir = os.fspath(run_dir)
    return f"kerasrecipes next {run_dir} --out {os.fspath(out) if out else run_dir.rstrip(os.sep) + '_next'}"


def propose(diagnosis, recipe: Recipe, *, lr_find=None) -> Proposal:
    """The next `Recipe` a `Diagnosis` points at, one change per finding.

    `kerasrecipes.diagnose.propose(history, recipe)` diagnoses the curves and
    calls this; call it directly with a diagnosis already made.

    Args:
        diagnosis: A `diagnose.Diagnosis` of the run's curves.
        recipe: The `Recipe` that produced them.
        lr_find: An LR range test's suggested learning rate at the recipe's
            batch size: a number, an `LRFinderResult` or its dict. Used for an
            LR finding instead of dividing or multiplying by 3.

    Returns:
        A `Proposal`; falsy when the diagnosis found nothing.

    Example:
    >>> from kerasrecipes.diagnose import Diagnosis, Finding
    >>> propose(Diagnosis([Finding("still_improving", "", "")]), Recipe(epochs=12)).diff_lines()
    ['epochs: 12 -> 24 (still_improving)']
    """
    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be a kerasrecipes Recipe. Received recipe={recipe!r}")
    if not (hasattr(diagnosis, "findings") and hasattr(diagnosis, "summary")):
        raise ValueError(f"diagnosis must be a kerasrecipes.diagnose.Diagnosis. Received diagnosis={diagnosis!r:.80}")
    suggestion = _suggestion(lr_find)
    values, changes, unanswered = {}, [], []
    for finding in diagnosis:
        rule = _RULES.get(finding.name)
        if rule is None:
            continue
        for field, new, reason, source in rule(recipe, finding, diagnosis.summary, suggestion):
            old = _current(recipe, field)
            if field in values or new == old:
                continue
            values[field] = new
            changes.append(Change(field, old, new, finding.name, reason, SOURCES[source]))
            break
        else:
            unanswered.append((finding.name, "every rule for it is already applied or taken by another finding"))
    return Proposal(dataclasses.replace(recipe, **values), changes, diagnosis.names, unanswered)


# --------------------------------------------------------------------------- rules
# Each rule yields candidates (field, new value, reason, source key), best first; `propose` takes the first
# that changes the recipe and touches a field no earlier finding took.

def _lr(factor, word, how):
    def rule(recipe, finding, summary, suggestion):
        if suggestion is not None and (suggestion < recipe.learning_rate) == (factor < 1):
            base = _round(recipe.base_lr_for(suggestion))
            yield "base_lr", base, f"the LR range test suggests {suggestion:.3g} at batch {recipe.batch_size}", \
                finding.name
        yield "base_lr", _round(recipe.base_lr * factor), f"the learning rate is too {word}: {how}", \
            finding.name
    return rule


def _overfitting(recipe, finding, summary, suggestion):
    step = AUGMENT_LADDER.index(recipe.augment) if recipe.augment in AUGMENT_LADDER else len(AUGMENT_LADDER)
    if step + 1 < len(AUGMENT_LADDER):
        yield "augment", AUGMENT_LADDER[step + 1], "training accuracy runs ahead of validation accuracy: " \
            "stronger augmentation", "augment"
    decay = recipe.weight_decay
    yield "weight_decay", _round(decay * 2) if decay else DEFAULT_WEIGHT_DECAY, \
        "a stronger weight penalty narrows the train/validation gap", "weight_decay"
    if recipe.dropout + 0.1 <= MAX_DROPOUT + 1e-9:
        yield "dropout", round(recipe.dropout + 0.1, 2), "more dropout in the convolutional units", "dropout"
    best = summary.get("best_epoch")
    if best and best < recipe.epochs:
        yield "epochs", int(best), f"the validation loss was lowest at epoch {best}", "fewer_epochs"


def _underfitting(recipe, finding, summary, suggestion):
    filters, convs = recipe.stage_plan()
    if max(filters) * 2 <= MAX_FILTERS:
        yield "filters", tuple(f * 2 for f in filters), "training accuracy is low: twice the filters", "wider"
    if isinstance(convs, int) and convs < MAX_CONVS:
        yield "convs_per_stage", convs + 1, "training accuracy is low: one more convolution per stage", "deeper"
    yield "epochs", recipe.epochs * 2, "training accuracy is low: twice the epochs", "longer"
    if recipe.weight_decay:
        yield "weight_decay", _round(recipe.weight_decay / 2), "half the weight penalty", "less_regularization"


def _still_improving(recipe, finding, summary, suggestion):
    yield "epochs", recipe.epochs * 2, "the validation loss still fell at the end: twice the epochs", "longer"


def _plateau(recipe, finding, summary, suggestion):
    yield "schedule", "halving", "the monitored loss stopped improving: halve the LR on a plateau", "halving"
    if recipe.schedule == "halving":
        yield "early_stopping", True, "the loss stopped improving under the halving schedule: stop there", "stop"


def _noisy(recipe, finding, summary, suggestion):
    yield "batch_size", recipe.batch_size * 2, "the per-batch loss is noisy: twice the batch (the LR scales " \
        "with it)", "batch"


def _dead(recipe, finding, summary, suggestion):
    if recipe.activation == "relu":
        yield "activation", "leaky_relu", "ReLU units never fire: leaky ReLU keeps a gradient", "leaky"
    yield "base_lr", _round(recipe.base_lr / 3), "dead units follow a high LR: / 3", "leaky"


def _exploding(recipe, finding, summary, suggestion):
    yield "base_lr", _round(recipe.base_lr / 3), "gradients explode: a third of the LR", "batchnorm"
    if "bn" not in recipe.order:
        yield "order", "conv-bn-act", "BatchNorm in every unit", "batchnorm"


def _vanishing(recipe, finding, summary, suggestion):
    if "bn" not in recipe.order:
        yield "order", "conv-bn-act", "gradients vanish: BatchNorm in every unit", "batchnorm"
    yield "activation", "relu", "gradients vanish: ReLU", "relu"


_RULES = {
    "lr_too_high": _lr(1 / 3, "high", "a third of it"), "lr_too_low": _lr(3.0, "low", "three times it"), "overfitting": _overfitting,
    "underfitting": _underfitting, "still_improving": _still_improving, "plateau": _plateau,
    "noisy_batches": _noisy, "dead_relus": _dead, "exploding_gradients": _exploding,
    "vanishing_gradients": _vanishing,
}


def _current(recipe, field):
    """A field's value as the model is built (`filters` and `convs_per_stage` from the stage plan)."""
    if field in ("filters", "convs_per_stage"):
        return recipe.stage_plan()[field == "convs_per_stage"]
    return getattr(recipe, field)


def _suggestion(lr_find):
    if lr_find is None:
        return None
    value = lr_find.get("suggestion") if isinstance(lr_find, dict) else getattr(lr_find, "suggestion", lr_find)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"lr_find must be a positive learning rate, an LRFinderResult or its dict. "
                         f"Received lr_find={lr_find!r}")
    return float(value)


def _round(value):
    """Three significant digits: a proposed 0.0666667 reads 0.0667."""
    return float(f"{value:.3g}")


def _show(value):
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    return str(value)


def _jsonable(values):
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def _tupled(value):
    return tuple(value) if isinstance(value, list) else value
