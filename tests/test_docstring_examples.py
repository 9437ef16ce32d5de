"""The docstring examples of the shared helpers run as written (doctest), and say what they show."""

import doctest

import pytest

from kerasrecipes import _stats, proposal, report
from kerasrecipes.data import preprocessing


@pytest.mark.parametrize("function", [_stats.infer_mode, _stats.best_of, preprocessing.to_unit_range,
                                      proposal.next_command, report.figure_html, report.page],
                         ids=lambda f: f.__name__)
def test_the_example_runs(function):
    runner = doctest.DocTestRunner()
    for test in doctest.DocTestFinder().find(function, function.__name__, globs=dict(function.__globals__)):
        runner.run(test)
    assert runner.tries >= 1 and runner.failures == 0
