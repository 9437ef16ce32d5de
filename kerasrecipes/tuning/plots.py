"""Figures of a search: score against each hyperparameter, score by choice, best so far.

Built with matplotlib's object API (`matplotlib.figure.Figure`), never pyplot,
so they render headless and never open a window or leak global state.
"""

import numpy as np
from matplotlib.figure import Figure

_STAGE_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def _completed(results):
    return [r for r in results.rows if r["status"] == "COMPLETED" and r["score"] is not None]


def _stage_color(stage):
    return _STAGE_COLORS[stage % len(_STAGE_COLORS)]


def _label(value):
    if isinstance(value, tuple):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


def plot_numeric(results, name, log=False):
    """Score against one numeric hyperparameter, a point per trial coloured by stage (log x if `log`)."""
    fig = Figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    rows = [r for r in _completed(results) if isinstance(r.get(name), (int, float))]
    for stage in sorted({r["stage"] for r in rows}):
        points = [(r[name], r["score"]) for r in rows if r["stage"] == stage]
        xs, ys = zip(*points)
        ax.scatter(xs, ys, s=22, color=_stage_color(stage), alpha=0.8,
                   label="coarse" if stage == 0 else f"refine {stage}")
    if log:
        ax.set_xscale("log")
    ax.set_xlabel(name + (" (log scale)" if log else ""))
    ax.set_ylabel(results.objective)
    ax.set_title(f"{results.objective} vs {name}")
    if rows:
        ax.legend(fontsize=7)
    return fig


def plot_categorical(results, name):
    """Score by choice of one categorical hyperparameter: every trial as a point, the mean as a bar."""
    fig = Figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    rows = [r for r in _completed(results) if name in r]
    choices = []
    for r in rows:
        if _label(r[name]) not in choices:
            choices.append(_label(r[name]))
    rng = np.random.default_rng(0)  # fixed jitter: the same search always draws the same figure
    for i, choice in enumerate(choices):
        scores = [r["score"] for r in rows if _label(r[name]) == choice]
        ax.bar(i, np.mean(scores), width=0.6, color="0.85", edgecolor="0.5")
        stages = [r["stage"] for r in rows if _label(r[name]) == choice]
        ax.scatter(i + rng.uniform(-0.15, 0.15, len(scores)), scores, s=18,
                   color=[_stage_color(s) for s in stages], zorder=3)
    ax.set_xticks(range(len(choices)), choices, rotation=20 if len(choices) > 3 else 0, fontsize=8)
    if rows:
        low = min(r["score"] for r in rows)
        high = max(r["score"] for r in rows)
        pad = 0.05 * (high - low) + 1e-3
        ax.set_ylim(low - pad, high + pad)
    ax.set_xlabel(name)
    ax.set_ylabel(results.objective)
    ax.set_title(f"{results.objective} by {name}")
    return fig


def plot_best_so_far(results):
    """Each trial's score and the best so far against the trial number (all stages in order)."""
    fig = Figure(figsize=(5, 3.6), layout="constrained")
    ax = fig.add_subplot()
    best = None
    numbers, bests = [], []
    pick = max if results.direction == "max" else min
    for number, row in enumerate(results.rows, start=1):
        if row["status"] == "COMPLETED" and row["score"] is not None:
            ax.scatter(number, row["score"], s=16, color=_stage_color(row["stage"]), alpha=0.7)
            best = row["score"] if best is None else pick(best, row["score"])
        if best is not None:
            numbers.append(number)
            bests.append(best)
    ax.step(numbers, bests, where="post", color="black", label="best so far")
    stage_starts = [i for i, r in enumerate(results.rows, start=1) if i > 1 and r["stage"] != results.rows[i - 2]["stage"]]
    for start in stage_starts:
        ax.axvline(start - 0.5, color="0.6", linestyle=":")
    ax.set_xlabel("trial")
    ax.set_ylabel(results.objective)
    ax.set_title("best so far")
    if numbers:
        ax.legend(fontsize=7)
    return fig


def plot_search(results, log_names=(), categorical_names=()):
    """All figures of a search's `Results`.

    Args:
        results: A `Results` (from `Search.results()`).
        log_names: Hyperparameters drawn on a log x axis.
        categorical_names: Hyperparameters drawn as choices (others as numbers
            when their values are numbers).

    Returns:
        A dict of `matplotlib.figure.Figure`: one per hyperparameter (by name),
        then `"best_so_far"`.

    Example:
    >>> figures = plot_search(search.results(), log_names={"lr"})
    >>> figures["lr"].savefig("lr.png")
    """
    figures = {}
    rows = _completed(results)
    for name in results.names:
        values = [r[name] for r in rows if name in r]
        numeric = values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if name in categorical_names or not numeric:
            figures[name] = plot_categorical(results, name)
        else:
            figures[name] = plot_numeric(results, name, log=name in log_names)
    figures["best_so_far"] = plot_best_so_far(results)
    return figures
