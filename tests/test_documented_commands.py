"""Every documented command runs as written: README shell lines and notebook commands, in smoke mode.

The commands are read at test time: every line of a ```bash block in README.md
that starts with `kerasrecipes` or `python -m kerasrecipes` (continuation
lines joined, trailing comments dropped), and every `!kerasrecipes ...` /
`!python -m kerasrecipes ...` line of a notebook code cell (notebook 04 ends
with the search command). pip and pytest lines are not commands of the package
and are left out. Each runs with `KERASRECIPES_SMOKE=1` (every subcommand then
runs at a tiny size) in one temporary working directory, in document order, so
`kerasrecipes report runs/x` finds what the `train --out runs/x` line above it
wrote; it must exit 0 (or the status listed in EXPECTED_STATUS for a command
documented as failing on purpose). Usage synopses (`[--flag ...]`, `a|b`) and
lines that need a cluster's shell variables (`$HOST`) are reported as skipped.
"""

import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
TIMEOUT_S = 300  # per command; a smoke run takes seconds plus TensorFlow's import
EXPECTED_STATUS = {}  # command text -> exit status, for commands documented as failing on purpose
# Files the documented commands read that a user writes first: `train --config settings.json`. (The
# image folders of `--data photos/` are written by the README's own `kerasrecipes.datasets.example_folder` line.)
INPUT_FILES = {"settings.json": json.dumps({"epochs": 1})}


def _join_continuations(lines):
    joined, current = [], ""
    for line in lines:
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        joined.append(current + line)
        current = ""
    if current:
        joined.append(current)
    return joined


def _is_command(line):
    return line.startswith("kerasrecipes ") or line == "kerasrecipes" or line.startswith("python -m kerasrecipes")


def readme_commands(text=None):
    """The package's shell commands in README.md's ```bash blocks, in order."""
    text = (REPO / "README.md").read_text() if text is None else text
    commands = []
    for block in re.findall(r"^[ \t]*```(?:bash|sh|shell|console)[ \t]*\n(.*?)^[ \t]*```", text, re.S | re.M):
        for line in _join_continuations(block.splitlines()):
            line = line.strip()
            if _is_command(line):
                commands.append(("README.md", line))
    return commands


def notebook_commands():
    """`!kerasrecipes ...` and `!python -m kerasrecipes ...` lines of the notebooks' code cells, in order."""
    nbformat = pytest.importorskip("nbformat")
    commands = []
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for line in _join_continuations(cell.source.splitlines()):
                line = line.strip()
                if line.startswith("!") and _is_command(line[1:].strip()):
                    commands.append((path.name, line[1:].strip()))
    return commands


def _why_not_runnable(line):
    if re.search(r"\[--|\w\|\w", line.split("#")[0]):
        return "a usage synopsis, not a command"
    if "$" in line:
        return "needs shell variables of a cluster job ($HOST, $ROLE)"
    return None


def _argv(line):
    words = shlex.split(line, comments=True)
    if words[0] == "python":  # python -m kerasrecipes[.module] ...
        return [sys.executable, *words[1:]]
    return [sys.executable, "-m", "kerasrecipes", *words[1:]]  # the console script is `python -m kerasrecipes`


def _params():
    params = []
    for where, line in readme_commands() + notebook_commands():
        reason = _why_not_runnable(line)
        marks = [pytest.mark.skip(reason=reason)] if reason else []
        params.append(pytest.param(line, id=f"{where}: {line[:90]}", marks=marks))
    return params


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("documented")
    for name, content in INPUT_FILES.items():
        (directory / name).write_text(content)
    return directory


def test_the_readme_and_notebook_04_document_search_commands():
    readme = readme_commands()
    assert any(line.startswith("kerasrecipes search") for _, line in readme)
    assert any(where.startswith("04_") and "search" in line for where, line in notebook_commands())
    # the parser itself: continuation lines, comments and indented blocks
    text = "x\n  ```bash\n  kerasrecipes train --a 1 \\\n      --b 2   # note\n  pip install x\n  ```\n"
    assert readme_commands(text) == [("README.md", "kerasrecipes train --a 1        --b 2   # note")]
    assert _argv("kerasrecipes train --a 1 --b 2   # note")[1:] == ["-m", "kerasrecipes", "train", "--a", "1", "--b", "2"]


@pytest.mark.parametrize("line", _params())
def test_documented_command_runs_as_written(line, workdir):
    env = dict(os.environ, KERASRECIPES_SMOKE="1", TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg",
               PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for key in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT"):
        env.pop(key, None)
    done = subprocess.run(_argv(line), cwd=workdir, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    expected = EXPECTED_STATUS.get(line, 0)
    assert done.returncode == expected, f"{line}\nexit {done.returncode}\n{done.stderr[-3000:]}"
