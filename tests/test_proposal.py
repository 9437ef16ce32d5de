"""`propose`: each rule fires on a synthetic history that shows its problem and proposes the matching change.

The histories are built so that `diagnose` finds exactly the problem named (the
first assertion of each case checks that), then the proposal is checked field
by field: old value, new value, the finding it answers and its source.
"""

import dataclasses
import json

import numpy as np
import pytest

from kerasrecipes import diagnose, runs
from kerasrecipes.diagnose import Diagnosis, Finding
from kerasrecipes.diagnose import propose
from kerasrecipes.proposal import Change, Proposal
from kerasrecipes.proposal import propose as propose_from
from kerasrecipes.recipe import Recipe

E = np.arange(12.0)
OVERFITTING = {"loss": [1.0, 0.5, 0.2, 0.1], "val_loss": [1.0, 0.8, 0.9, 1.2],
               "accuracy": [0.6, 0.8, 0.95, 0.99], "val_accuracy": [0.6, 0.7, 0.7, 0.68]}
_under_loss = 2.3 - 0.8 * (1 - np.exp(-E / 2))
_under_acc = 0.2 + 0.3 * (1 - np.exp(-E / 2))
UNDERFITTING = {"loss": list(_under_loss), "val_loss": list(_under_loss + 0.01),
                "accuracy": list(_under_acc), "val_accuracy": list(_under_acc)}
LR_TOO_HIGH = {"loss": [2.3, 5.0, float("nan")], "val_loss": [2.3, 5.0, float("nan")],
               "accuracy": [0.1, 0.1, 0.1], "val_accuracy": [0.1, 0.1, 0.1]}
LR_TOO_LOW = {"loss": list(2.3 - 0.05 * E), "val_loss": list(2.3 - 0.05 * E),
              "accuracy": list(0.8 + 0.001 * E), "val_accuracy": list(0.8 + 0.001 * E)}
STILL_IMPROVING = {"loss": list(np.exp(-E / 8) + 0.1), "val_loss": list(np.exp(-E / 8) + 0.22),
                   "accuracy": list(0.8 + 0.15 * (1 - np.exp(-E / 8))),
                   "val_accuracy": list(0.78 + 0.15 * (1 - np.exp(-E / 8)))}
PLATEAU = {"loss": list(np.exp(-E) + 0.2), "val_loss": list(np.exp(-E) + 0.45),
           "accuracy": [0.9] * 12, "val_accuracy": [0.88] * 12}
NOISY = {**PLATEAU, "batch_loss_width": [0.5] * 12}
HEALTHY = {"loss": [1.0, 0.6, 0.45, 0.4, 0.38, 0.37], "val_loss": [1.0, 0.62, 0.48, 0.43, 0.41, 0.405],
           "accuracy": [0.7, 0.82, 0.86, 0.88, 0.89, 0.895], "val_accuracy": [0.69, 0.81, 0.85, 0.87, 0.88, 0.885]}


def _only(proposal):
    assert len(proposal.changes) == 1, proposal
    return proposal.changes[0]


@pytest.mark.parametrize("history, finding, recipe, field, old, new, source", [
    (OVERFITTING, "overfitting", Recipe(augment="none"), "augment", "none", "light", "cs231n"),
    (OVERFITTING, "overfitting", Recipe(augment="strong", weight_decay=5e-4), "weight_decay", 5e-4, 1e-3, "Lee"),
    (OVERFITTING, "overfitting", Recipe(augment="strong", weight_decay=None), "weight_decay", None, 5e-4, "Lee"),
    (UNDERFITTING, "underfitting", Recipe(filters=(32, 64, 128)), "filters", (32, 64, 128), (64, 128, 256),
     "cs231n"),
    (UNDERFITTING, "underfitting", Recipe(filters=(256, 512), convs_per_stage=2), "convs_per_stage", 2, 3,
     "cs231n"),
    (UNDERFITTING, "underfitting", Recipe(filters=(256, 512), convs_per_stage=4, epochs=10), "epochs", 10, 20,
     "cs231n"),
    (LR_TOO_HIGH, "lr_too_high", Recipe(base_lr=0.3), "base_lr", 0.3, 0.1, "cs231n"),
    (LR_TOO_LOW, "lr_too_low", Recipe(base_lr=0.01), "base_lr", 0.01, 0.03, "cs231n"),
    (STILL_IMPROVING, "still_improving", Recipe(epochs=12), "epochs", 12, 24, "cs231n"),
    (PLATEAU, "plateau", Recipe(schedule="onecycle"), "schedule", "onecycle", "halving", "Wei"),
    (PLATEAU, "plateau", Recipe(schedule="halving"), "early_stopping", False, True, "Lee"),
])
def test_each_rule_fires_on_its_problem_and_proposes_the_matching_change(history, finding, recipe, field, old,
                                                                         new, source):
    assert diagnose.diagnose(history).names == [finding]
    proposal = propose(history, recipe)
    change = _only(proposal)
    assert (change.field, change.old, change.new, change.finding) == (field, old, new, finding)
    assert source in change.source and change.reason
    assert getattr(proposal.recipe, field) == new
    changed = {k for k, v in proposal.recipe.to_dict().items() if v != recipe.to_dict()[k]}
    assert changed == {field}  # one change, nothing else touched
    assert proposal and proposal.findings == [finding]


def test_overfitting_ladder_ends_in_fewer_epochs_then_nothing_left_to_propose():
    # augmentation already strongest, dropout at its cap: weight decay first, then the best epoch, then nothing
    recipe = Recipe(augment="strong", weight_decay=5e-4, dropout=0.5, epochs=4)
    three = Diagnosis([Finding("overfitting", "", "")] * 3, {"best_epoch": 2})
    proposal = propose_from(three, recipe)
    assert [(c.field, c.new) for c in proposal.changes] == [("weight_decay", 1e-3), ("epochs", 2)]
    assert [name for name, _ in proposal.unanswered] == ["overfitting"]
    assert (proposal.recipe.weight_decay, proposal.recipe.epochs, proposal.recipe.dropout) == (1e-3, 2, 0.5)


def test_a_finding_whose_rules_are_spent_is_unanswered_and_proposes_nothing():
    recipe = Recipe(filters=(512,), convs_per_stage=4, epochs=10, weight_decay=None)
    diagnosis = Diagnosis([Finding("still_improving", "", ""), Finding("underfitting", "", "")])
    proposal = propose_from(diagnosis, recipe)
    assert [(c.field, c.new, c.finding) for c in proposal.changes] == [("epochs", 20, "still_improving")]
    assert [name for name, _ in proposal.unanswered] == ["underfitting"]
    assert "underfitting: no change left to propose" in "\n".join(proposal.lines())


def test_noisy_batches_doubles_the_batch_and_layer_findings_have_rules():
    assert diagnose.diagnose(NOISY).names == ["plateau", "noisy_batches"]
    proposal = propose(NOISY, Recipe(batch_size=128, schedule="onecycle"))
    assert [(c.field, c.new) for c in proposal.changes] == [("schedule", "halving"), ("batch_size", 256)]
    cases = {"dead_relus": ("activation", "leaky_relu"), "exploding_gradients": ("base_lr", 0.0667),
             "vanishing_gradients": ("order", "conv-bn-act")}
    for name, expected in cases.items():
        got = propose_from(Diagnosis([Finding(name, "", "")]), Recipe(order="conv-act", base_lr=0.2))
        assert [(c.field, c.new) for c in got.changes] == [expected], name


def test_one_field_is_changed_once_even_when_two_findings_want_it():
    diagnosis = Diagnosis([Finding("lr_too_high", "", ""), Finding("dead_relus", "", "")])
    proposal = propose_from(diagnosis, Recipe(activation="elu", base_lr=0.3))
    assert [c.field for c in proposal.changes] == ["base_lr"]  # dead_relus wanted base_lr too: taken
    assert [name for name, _ in proposal.unanswered] == ["dead_relus"]


def test_an_lr_finding_takes_the_lr_finders_suggestion_when_one_was_run():
    recipe = Recipe(base_lr=0.3, batch_size=128, base_batch_size=256)  # learning_rate = 0.15
    change = _only(propose(LR_TOO_HIGH, recipe, lr_find={"suggestion": 0.02}))
    assert change.new == pytest.approx(0.04) and "range test" in change.reason  # 0.02 at batch 128 -> base 0.04
    # a suggestion pointing the wrong way (higher, for an LR too high) is not taken
    assert _only(propose(LR_TOO_HIGH, recipe, lr_find=0.9)).new == 0.1
    with pytest.raises(ValueError, match=r"lr_find must be a positive learning rate.*lr_find='fast'"):
        propose(LR_TOO_HIGH, recipe, lr_find="fast")
    with pytest.raises(ValueError, match=r"recipe must be a kerasrecipes Recipe.*recipe=\{'epochs': 3\}"):
        propose(LR_TOO_HIGH, {"epochs": 3})


def test_healthy_curves_propose_nothing_and_say_so():
    assert not diagnose.diagnose(HEALTHY)
    proposal = propose(HEALTHY, Recipe())
    assert not proposal and proposal.changes == [] and proposal.recipe == Recipe()
    assert proposal.lines() == ["the curves look healthy: nothing to change"]
    assert "look healthy" in repr(proposal) and "look healthy" in proposal._repr_html_()


def test_a_proposal_round_trips_through_json_and_shows_as_a_diff():
    proposal = propose(UNDERFITTING, Recipe(filters=(16, 32)))
    back = Proposal.from_dict(json.loads(json.dumps(proposal.to_dict())))
    assert back == proposal and back.changes[0].new == (32, 64)
    assert proposal.diff_lines() == ["filters: 16,32 -> 32,64 (underfitting)"]
    assert proposal.reason_lines()[0].startswith("filters: 16,32 -> 32,64 (underfitting): ")
    assert proposal.command("runs/a") == "kerasrecipes next runs/a --out runs/a_next"
    html = proposal._repr_html_()
    assert "<td><code>filters</code></td><td>16,32</td><td><b>32,64</b></td>" in html and "cs231n" in html
    assert isinstance(proposal.changes[0], Change) and "because" in repr(proposal)


def test_a_run_shows_its_proposal_in_the_console_report_and_files():
    summary = {"test_accuracy": {"single": 0.5}, "test_images": 10, "epochs_run": 1, "best_epoch": 1,
               "best_monitor": "val_loss", "train_seconds": 1.0, "findings": ["underfitting"],
               "proposal": ["filters: 16,32 -> 32,64 (underfitting): training accuracy is low: twice the filters"]}
    text = runs.format_summary(summary, "runs/a")
    assert "diagnosis: underfitting" in text and "  filters: 16,32 -> 32,64 (underfitting): training" in text
    assert text.splitlines()[-1] == "  run it: kerasrecipes next runs/a --out runs/a_next"
    healthy = runs.format_summary({**summary, "findings": [], "proposal": []}, "runs/a")
    assert healthy.splitlines()[-1] == "diagnosis: the curves look healthy; no change proposed"


def test_report_html_shows_the_proposal_with_its_command(tmp_path):
    from kerasrecipes import _io, report

    run = tmp_path / "run"
    run.mkdir()
    diagnose.save_history(UNDERFITTING, run / runs.HISTORY_FILE)
    proposal = propose(UNDERFITTING, Recipe(filters=(16, 32)))
    _io.write_json(run / runs.PROPOSAL_FILE, proposal.to_dict())
    page = (tmp_path / "r.html")
    report.report(run, page)
    text = page.read_text()
    assert text.index("<h2>Diagnosis</h2>") < text.index("<h2>Next run</h2>") < text.index("<h2>Metrics</h2>")
    assert f"kerasrecipes next {run} --out {run}_next" in text and "<b>32,64</b>" in text


def test_the_recipe_it_proposes_is_a_recipe_that_builds():
    proposal = propose(UNDERFITTING, Recipe(filters=(4, 8), convs_per_stage=1, epochs=1))
    assert dataclasses.replace(proposal.recipe) == proposal.recipe
    assert proposal.recipe.build_model().count_params() > Recipe(filters=(4, 8), convs_per_stage=1).build_model().count_params()


def test_the_docstring_examples_run():
    import doctest

    runner = doctest.DocTestRunner()
    for function in (propose, propose_from):
        for test in doctest.DocTestFinder().find(function, function.__name__, globs=dict(function.__globals__)):
            runner.run(test)
    assert runner.failures == 0 and runner.tries == 5


def test_a_two_epoch_run_whose_loss_still_falls_is_still_improving_and_gets_more_epochs():
    history = {"loss": [1.52, 0.93], "val_loss": [1.13, 0.92], "accuracy": [0.58, 0.81], "val_accuracy": [0.71, 0.81]}
    assert diagnose.diagnose(history).names == ["still_improving"]  # measured: the preset stopped after 2 epochs
    assert propose(history, Recipe(epochs=2)).diff_lines() == ["epochs: 2 -> 4 (still_improving)"]
    assert "still_improving" not in diagnose.diagnose({**history, "val_loss": [0.92, 1.13]})
