"""One self-contained HTML page for a training run: results, settings, curves, diagnosis, LR finder.

The page a user opens after a long run: every figure is embedded as a PNG data
URI, so the single file can be mailed, archived or opened offline. Numbers are
written with 4 significant digits (accuracies as percentages with 2 decimals),
epochs are 1-based integers as Keras prints them, and each figure says which
model it comes from.
"""

import base64
import datetime
import html
import io
import json
import os

from kerasrecipes import _io
from kerasrecipes._stats import best_of
from kerasrecipes import diagnose as _diagnose
from kerasrecipes import plots

# Optional files of a run directory, next to history.json / history.csv.
RUN_FILES = {"batch_losses": "batch_losses.json", "layer_stats": "layer_stats.json",
             "lr_find": "lr_find.json", "proposal": "proposal.json"}
_READ = ("lr_find", "proposal")  # the files read here; the others are paths their loaders read

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1200px;margin:2em auto;
     padding:0 1em;color:#222}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.3em .6em;
     text-align:left;vertical-align:top}th{background:#f4f4f4}img{max-width:100%}
.muted{color:#777}
"""


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def figure_html(fig, alt):
    """A matplotlib figure as an embedded PNG `<img>` (for every page of the package).

    Example:
    >>> figure_html(plots.history({"loss": [1.0, 0.5]}), "curves")[:34]
    '<img alt="curves" src="data:image/'
    """
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{_png(fig)}">'


def page(title, sections) -> str:
    """A self-contained HTML page of `sections` (HTML strings) with the package's style.

    Example:
    >>> page("a run", ["<h1>a run</h1>"])[:15]
    '<!DOCTYPE html>'
    """
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>"
            + "\n".join(sections) + "</body></html>")


def _read_json(path):
    with open(path) as f:
        return json.load(f)


def _from_run_dir(run):
    found = {}
    if isinstance(run, (str, os.PathLike)) and os.path.isdir(os.fspath(run)):
        for key, name in RUN_FILES.items():
            path = os.path.join(os.fspath(run), name)
            if os.path.isfile(path):
                found[key] = _read_json(path) if key in _READ else path
    return found


def _number(value):
    """One format for every number on the page: 4 significant digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return html.escape(str(value))
    return str(value) if isinstance(value, int) else f"{value:.4g}"


def _metrics_table(history):
    rows = []
    for key, values in history.items():
        if key == "lr" and "learning_rate" in history:
            continue  # one learning-rate row: Keras's own `learning_rate`
        found = best_of(values, key)
        if found is None:
            continue
        best_text = "-" if "learning_rate" in key or key == "lr" else f"{_number(found[1])} (epoch {found[0] + 1})"
        rows.append(f"<tr><td>{html.escape(key)}</td><td>{_number(values[-1])}</td><td>{best_text}</td></tr>")
    return ("<table><thead><tr><th>metric</th><th>last epoch</th><th>best</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _results_table(results):
    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{accuracy:.2%}</td></tr>"
                   for name, accuracy in results.items())
    return f"<table><thead><tr><th>model</th><th>test accuracy</th></tr></thead><tbody>{rows}</tbody></table>"


def _key_value_table(values):
    def cell(value):
        return html.escape(", ".join(map(str, value))) if isinstance(value, (list, tuple)) else _number(value)

    rows = "".join(f"<tr><th>{html.escape(str(k))}</th><td>{cell(v)}</td></tr>" for k, v in values.items())
    return f"<table><tbody>{rows}</tbody></table>"


def _integer_epochs(fig):
    """Epoch axes get integer ticks (no 0.5 epochs on a 3-epoch run)."""
    from matplotlib.ticker import MaxNLocator

    for ax in fig.axes:
        if ax.get_xlabel() == "epoch":
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return fig


def report(run, path=None, *, title=None, batch_losses=None, layer_stats=None, lr_find=None,
           sanity=None, model=None, x=None, y=None, class_names=None, diagnose_kwargs=None,
           results=None, settings=None, facts=None, model_name=None, proposal=None):
    """Write one self-contained HTML page about a training run.

    Sections, each where its data exists: the test-accuracy table (`results`),
    the run's facts and the recipe's settings, the learning curves (with the
    learning rate and the per-batch loss when recorded), the diagnosis
    (`kerasrecipes.diagnose`), the final and best metrics, the LR range test,
    the layer statistics, a `sanity_check` report, and, given a model and
    data, the confusion matrix and the top losses (titled with `model_name`).
    All images are embedded.

    Args:
        run: A run directory (holding `history.json` or `history.csv`, and
            optionally `batch_losses.json`, `layer_stats.json`,
            `lr_find.json`), or a History / dict of lists / history file.
        path: The HTML file to write. Defaults to `report.html` inside the run
            directory, else in the current directory.
        title: Page title. Defaults to the run directory's name or "Training report".
        batch_losses: A `BatchLossRecorder` or its data (overrides the run directory's).
        layer_stats: A `LayerStats` callback or its data (overrides the run directory's).
        lr_find: An LR-finder result (`lrs`, `losses`, `suggestion`; object or dict).
        sanity: A `kerasrecipes.babysit.Report`.
        model, x, y: A trained model and held-out data for the confusion matrix
            and the top losses.
        class_names: Class names for those figures.
        diagnose_kwargs: Thresholds passed to `diagnose`.
        results: `{model name: test accuracy}` (single, TTA, ensemble), as
            `runs.train` writes into `summary.json`.
        settings: The recipe's settings (`Recipe.to_dict()`).
        facts: Other `{name: value}` facts of the run (data, device, seconds).
        model_name: Which model the confusion matrix and top losses come from.
        proposal: The next run the diagnosis proposes (`kerasrecipes.proposal.Proposal`
            or its dict; a run directory's `proposal.json` by default), shown
            after the diagnosis with the command that trains it.

    Returns:
        The path written (atomically: a temp file, then renamed).

    Example:
    >>> history = model.fit(x, y, validation_split=0.1, epochs=10)
    >>> report(history, "run/report.html", model=model, x=x_test, y=y_test)
    """
    history = _diagnose.load_history(run)
    if "lr" in history and "learning_rate" in history:
        history = {k: v for k, v in history.items() if k != "lr"}  # one learning-rate row and panel
    found = _from_run_dir(run)
    batch_losses = batch_losses if batch_losses is not None else found.get("batch_losses")
    layer_stats = layer_stats if layer_stats is not None else found.get("layer_stats")
    lr_find = lr_find if lr_find is not None else found.get("lr_find")
    proposal = proposal if proposal is not None else found.get("proposal")
    if (x is None) != (y is None) or (model is not None and x is None):
        raise ValueError("model, x and y go together: pass all three for the confusion matrix and top losses")
    is_dir = isinstance(run, (str, os.PathLike)) and os.path.isdir(os.fspath(run))
    if path is None:
        path = os.path.join(os.fspath(run), "report.html") if is_dir else "report.html"
    if title is None:
        title = f"Training report: {os.path.basename(os.path.abspath(os.fspath(run)))}" if is_dir else "Training report"

    diagnosis = _diagnose.diagnose(history, batch_losses=batch_losses, layer_stats=layer_stats,
                                   **(diagnose_kwargs or {}))
    sections = [f"<h1>{html.escape(title)}</h1>",
                f'<p class="muted">{len(next(iter(history.values())))} epochs; written '
                f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}</p>"]
    if results:
        sections += ["<h2>Test accuracy</h2>", _results_table(results)]
    if facts:
        sections += ["<h2>Run</h2>", _key_value_table(facts)]
    sections += ["<h2>Learning curves</h2>",
                 figure_html(_integer_epochs(plots.history(history, batch_losses=batch_losses)),
                      "learning curves and learning rate")]
    sections += ["<h2>Diagnosis</h2>", diagnosis._repr_html_()]
    if proposal is not None:
        sections += ["<h2>Next run</h2>", _proposal_html(proposal, run if is_dir else None)]
    sections += ["<h2>Metrics</h2>", _metrics_table(history)]
    if lr_find is not None:
        sections += ["<h2>LR range test</h2>", figure_html(plots.lr_finder(lr_find), "LR range test")]
    if layer_stats is not None:
        sections += ["<h2>Layer statistics</h2>", figure_html(plots.layer_stats(layer_stats), "layer statistics")]
    if sanity is not None:
        sections += ["<h2>Sanity checks</h2>", sanity._repr_html_()]
    if settings:
        sections += ["<h2>Recipe settings</h2>", _key_value_table(settings)]
    if model is not None:
        if model_name:
            sections += [f'<p class="muted">The confusion matrix and the top losses come from {html.escape(model_name)} '
                         f"on {len(y)} held-out test images.</p>"]
        sections += ["<h2>Confusion matrix</h2>",
                     figure_html(plots.confusion_matrix(model, x, y, class_names), "confusion matrix"),
                     "<h2>Top losses</h2>",
                     figure_html(plots.top_losses(model, x, y, k=16, class_names=class_names), "top losses")]
    return _io.write_text(os.fspath(path), page(title, sections))


def _proposal_html(proposal, run_dir):
    from kerasrecipes.proposal import Proposal

    if isinstance(proposal, dict):
        proposal = Proposal.from_dict(proposal)
    text = proposal._repr_html_()
    if proposal and run_dir is not None:
        text += (f"<p>Train it on the same data and split: <code>{html.escape(proposal.command(os.fspath(run_dir)))}"
                 "</code></p>")
    return text


def lr_find_report(run, path=None):
    """Write `report.html` for a directory written by `kerasrecipes lr-find` (its `lr_find.json`).

    Returns:
        The path written.
    """
    run = os.fspath(run)
    source = os.path.join(run, RUN_FILES["lr_find"])
    if not os.path.isfile(source):
        raise ValueError(f"{run!r} holds no {RUN_FILES['lr_find']}: run `kerasrecipes lr-find --out {run}` first")
    found = _read_json(source)
    title = f"LR range test: {os.path.basename(os.path.abspath(run))}"
    suggestion = found.get("suggestion")
    facts = {k: v for k, v in found.items() if k not in ("lrs", "losses", "raw_losses")}
    sections = [f"<h1>{html.escape(title)}</h1>",
                "<p>Suggested learning rate: "
                + ("none (too few points)" if suggestion is None else f"<b>{suggestion:.3g}</b>")
                + ", the steepest descent of the smoothed loss against log10(LR) (Smith 2017).</p>",
                _key_value_table(facts), figure_html(plots.lr_finder(found), "LR range test")]
    return _io.write_text(path or os.path.join(run, "report.html"), page(title, sections))
