"""The babysitting loop closed: train, read the curves, change one thing, train again.

cs231n ("babysitting the learning process") and Wei describe one loop: look
at the learning curves, change the one setting they point at, train again and
check that it helped. `kerasrecipes.diagnose.propose` reads a run's curves and
proposes the next `Recipe`; this module trains it:

- `next_run(run_dir, out)` trains a run directory's proposal into `out` on the
  same data and split (`runs.run_data` and the recipe's seed), with the run
  directory contract of `runs.train` (checks before any write, kill-safe, a
  rerun is a no-op) and `parent` recorded in `out/run.json`.
- `follow(run_dir, out, rounds=N)` follows the proposals N times, into
  `out/round1`, `out/round2`, ..., and stops early when a round does not raise
  the best validation accuracy (never the test set), when the curves look
  healthy, or when the next round would not fit in `minutes`. `out/loop.json`
  records the rounds and why it stopped.

Neither Keras nor keras-tuner nor fastai acts on a diagnosis; this is what it adds.
"""

import dataclasses
import os

from kerasrecipes import _io

LOOP_FILE = "loop.json"


def _complete_run(run_dir):
    """`(state, history)` of a complete run directory; a one-line `ValueError` otherwise."""
    from kerasrecipes import diagnose, runs

    state = runs.run_directory(run_dir, complete=True)
    return state, diagnose.load_history(os.path.join(os.fspath(run_dir), runs.HISTORY_FILE))


def proposal_of(run_dir, lr_find=None):
    """The `Proposal` of a complete run: its `proposal.json`, else proposed again from its history and recipe.

    With `lr_find` (an `lr-find` directory), proposed again with that LR range
    test's suggestion (`lr_find_suggestion`) for an LR finding.
    """
    from kerasrecipes import diagnose
    from kerasrecipes.proposal import Proposal
    from kerasrecipes.recipe import Recipe
    from kerasrecipes.runs import PROPOSAL_FILE

    state, history = _complete_run(run_dir)
    recipe = Recipe.from_dict({**Recipe().to_dict(), **state["recipe"]})
    suggestion = None if lr_find is None else lr_find_suggestion(lr_find, recipe)
    path = os.path.join(os.fspath(run_dir), PROPOSAL_FILE)
    record = _io.read_json_or_none(path) if os.path.exists(path) and suggestion is None else None
    if isinstance(record, dict):
        return Proposal.from_dict(record)
    return diagnose.propose(history, recipe, lr_find=suggestion)


def lr_find_suggestion(lr_dir, recipe):
    """The LR range test of `lr_dir` (`kerasrecipes lr-find --out DIR`) as a learning rate at `recipe`'s batch size.

    The test measured its suggestion at its own batch size; the linear scaling
    rule carries it to the recipe's. A test run with another optimizer says
    nothing about this recipe's LR and is refused, as is a directory without a
    suggestion. Returns a float.
    """
    from kerasrecipes.lr_finder import LR_FIND_FILE

    path = os.path.join(os.fspath(lr_dir), LR_FIND_FILE)
    record = _io.read_json_or_none(path) if os.path.isfile(path) else None
    if not isinstance(record, dict):
        raise ValueError(f"lr_find must be a directory written by kerasrecipes lr-find (with {LR_FIND_FILE}). "
                         f"Received lr_find={os.fspath(lr_dir)!r}")
    suggestion, tested = record.get("suggestion"), record.get("recipe") or {}
    if not isinstance(suggestion, (int, float)) or not suggestion > 0:
        raise ValueError(f"the LR range test in {os.fspath(lr_dir)!r} made no suggestion (too few points before the "
                         f"loss minimum); run it again over a wider range. Received lr_find={os.fspath(lr_dir)!r}")
    if tested.get("optimizer", recipe.optimizer) != recipe.optimizer:
        raise ValueError(f"the LR range test in {os.fspath(lr_dir)!r} ran with optimizer {tested['optimizer']!r}, the "
                         f"run with {recipe.optimizer!r}: its LR does not carry over; run lr-find with the run's recipe "
                         f"flags. Received lr_find={os.fspath(lr_dir)!r}")
    return float(suggestion) * recipe.batch_size / int(tested.get("batch_size", recipe.batch_size))


def best_val_accuracy(run_dir):
    """The best validation accuracy of a run's epochs (`history.json`), or `None` without one."""
    from kerasrecipes import diagnose, runs
    from kerasrecipes._stats import best_of

    history = diagnose.load_history(os.path.join(os.fspath(run_dir), runs.HISTORY_FILE))
    key = diagnose.accuracy_key(history)
    found = best_of(history.get(f"val_{key}", []), f"val_{key}") if key else None
    return None if found is None else found[1]


def next_run(run_dir, out, *, lr_find=None, overwrite=False, verbose=1, log=print, prepare=None):
    """Train the proposal of the complete run in `run_dir` into the run directory `out`.

    Args:
        run_dir: A complete run directory (`kerasrecipes train`, `demo` or `next`).
        out: The new run directory; running again after a kill resumes, into a
            complete one does nothing (as `runs.train`).
        lr_find: Optional `kerasrecipes lr-find` directory: an LR finding then
            takes its suggestion (`lr_find_suggestion`) instead of a third or
            three times the LR.
        overwrite: Retrain a complete run in `out`. Defaults to `False`.
        verbose: Keras's fit verbosity. Defaults to `1`.
        log: Where one-line messages go. Defaults to `print`.
        prepare: Optional `(recipe, data) -> (recipe, data)` applied before
            training (the command line's `KERASRECIPES_SMOKE=1` shrinking).

    Returns:
        `(proposal, summary)`: the `Proposal` followed and the new run's
        summary dict; `summary` is `None` when the curves looked healthy and
        nothing was proposed (nothing is written then).

    Example:
    >>> proposal, summary = next_run("runs/demo", "runs/demo_next")
    """
    from kerasrecipes import runs

    run_dir, out = os.fspath(run_dir), os.fspath(out)
    state, _ = _complete_run(run_dir)
    if os.path.abspath(out) == os.path.abspath(run_dir):
        raise ValueError(f"out must be a new run directory, not the run it follows. Received out={out!r}")
    proposal = proposal_of(run_dir, lr_find)
    if not proposal.changes:
        log(f"{run_dir}: the curves look healthy; no change proposed, nothing to train")
        return proposal, None
    data = runs.run_data(state)  # the same images; the recipe's seed and val_fraction give the same split
    recipe = proposal.recipe
    if prepare is not None:
        recipe, data = prepare(recipe, data)
    log(f"next run after {run_dir}:")
    for line in proposal.diff_lines():
        log(f"  {line}")
    name = state.get("recipe_name")
    summary = runs.train(out, recipe, data, overwrite=overwrite, verbose=verbose, log=log,
                         recipe_name=f"{name} (next)" if name and not name.endswith("(next)") else name,
                         parent=run_dir)
    return proposal, summary


@dataclasses.dataclass
class Loop:
    """What `follow` did: the run directories in order (the start first), their best validation accuracy,
    the changes of each round and why it stopped. `best` is the directory with the best validation accuracy."""

    runs: list
    val_accuracy: list
    changes: list
    stopped: str

    @property
    def best(self):
        scored = [(v, i) for i, v in enumerate(self.val_accuracy) if v is not None]
        return self.runs[max(scored)[1]] if scored else self.runs[0]

    def to_dict(self):
        return {**dataclasses.asdict(self), "best": self.best}

    def __repr__(self):
        lines = [f"Loop of {len(self.runs) - 1} round(s); stopped: {self.stopped}"]
        for i, (run, acc) in enumerate(zip(self.runs, self.val_accuracy)):
            shown = "n/a" if acc is None else f"{acc:.2%}"
            change = "start" if i == 0 else "; ".join(self.changes[i - 1]) or "-"
            lines.append(f"  {run}: best val accuracy {shown}  ({change})")
        lines.append(f"best: {self.best}")
        return "\n".join(lines)


def follow(run_dir, out, rounds, *, minutes=None, lr_find=None, overwrite=False, verbose=1, log=print,
           prepare=None):
    """Follow the proposals from `run_dir` for up to `rounds` rounds, into `out/round1`, `out/round2`, ...

    A round trains the previous round's proposal (`next_run`). The loop stops
    early when a round does not raise the best validation accuracy so far
    (cs231n: compare on validation data, never on the test set), when the
    curves look healthy (nothing proposed), or, with `minutes`, when the next
    round's estimated training time (the previous round's seconds, scaled by
    the epochs) would pass the budget. Training seconds are read from the runs'
    `summary.json`, so a resumed loop counts the rounds it already has. A
    rerun of a finished loop trains nothing and returns the same `Loop`.

    Args:
        run_dir: The complete run to start from.
        out: The loop directory (created); holds the rounds and `loop.json`.
        rounds: Most rounds to train, a positive integer.
        minutes: Optional training-time budget of the rounds, in minutes.
        lr_find: As for `next_run`, for the first round (the LR range test
            measured the starting recipe).
        overwrite, verbose, log, prepare: As for `next_run`.

    Returns:
        A `Loop`; also written to `out/loop.json`.
    """
    from kerasrecipes._stats import check_positive_int

    check_positive_int(rounds, "rounds")
    if minutes is not None and not (isinstance(minutes, (int, float)) and minutes > 0):
        raise ValueError(f"minutes must be a positive number. Received minutes={minutes!r}")
    out = os.fspath(out)
    _complete_run(run_dir)
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"out must be a directory; {out!r} is a file. Received out={out!r}")
    if os.path.isdir(out) and os.listdir(out) and not os.path.exists(os.path.join(out, LOOP_FILE)) \
            and not os.path.isdir(os.path.join(out, "round1")):
        raise ValueError(f"{out!r} exists and holds no {LOOP_FILE}: it is not a loop directory; pass another --out")
    loop = Loop([os.fspath(run_dir)], [best_val_accuracy(run_dir)], [], "")
    spent = 0.0
    for k in range(1, rounds + 1):
        previous = loop.runs[-1]
        first = lr_find if k == 1 else None
        proposal = proposal_of(previous, first)
        if not proposal.changes:
            loop.stopped = f"the curves of {previous} look healthy: nothing to change"
            break
        if minutes is not None:
            summary = _io.read_json(os.path.join(previous, "summary.json"))
            old_epochs = max(1, summary.get("epochs_run") or 1)
            estimate = summary.get("train_seconds", 0.0) * proposal.recipe.epochs / old_epochs
            if k > 1 and spent + estimate > minutes * 60:
                loop.stopped = (f"the budget: round {k} would take ~{estimate:.0f} s more, {spent:.0f} s of "
                                f"{minutes * 60:.0f} s are spent")
                break
        target = os.path.join(out, f"round{k}")
        _, summary = next_run(previous, target, lr_find=first, overwrite=overwrite, verbose=verbose, log=log,
                              prepare=prepare)
        spent += float(summary.get("train_seconds") or 0.0)
        loop.runs.append(target)
        loop.val_accuracy.append(best_val_accuracy(target))
        loop.changes.append(proposal.diff_lines())
        _io.write_json(os.path.join(out, LOOP_FILE), loop.to_dict())
        new, best_before = loop.val_accuracy[-1], max((v for v in loop.val_accuracy[:-1] if v is not None),
                                                      default=None)
        if new is not None and best_before is not None and new <= best_before:
            loop.stopped = (f"round {k} did not improve the best validation accuracy "
                            f"({new:.2%} against {best_before:.2%})")
            break
    else:
        loop.stopped = f"all {rounds} round(s) done"
    _io.write_json(os.path.join(out, LOOP_FILE), loop.to_dict())
    log(repr(loop))
    return loop
