"""Every notebook executes top to bottom in smoke mode (KERASRECIPES_SMOKE=1: tiny data, 1 epoch)."""

import os
import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOKS = sorted((pathlib.Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_notebooks_are_committed_without_outputs():
    assert NOTEBOOKS
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), path.name


def test_notebooks_name_their_sources():
    """Users have no "notes" folder: the prose names cs231n, Wei, Lee (and whoever else it quotes)."""
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        prose = " ".join(c.source for c in nb.cells if c.cell_type == "markdown").lower()
        for vague in ("the notes", "the seeds", "notes'", "seeds'"):
            assert vague not in prose, (path.name, vague)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_in_smoke_mode(path, monkeypatch, tmp_path):
    monkeypatch.setenv("KERASRECIPES_SMOKE", "1")
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
