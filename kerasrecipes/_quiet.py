"""Keep TensorFlow's native log lines off the terminal of the `kerasrecipes` command.

TensorFlow 2.19+ prints INFO and ERROR lines from C++ (oneDNN, CUDA stubs,
cuInit on a machine without a GPU) before its logging is initialised, so
TF_CPP_MIN_LOG_LEVEL cannot silence them (tensorflow/tensorflow#100442). The
command's contract is one clear line on a bad flag and a readable table at the
end, so when the package is imported by the command itself, file descriptor 2
(where native code writes) is parked in a temp file, while Python's
`sys.stderr` keeps writing to the real stderr: our messages, warnings and
tracebacks are still seen. `dump_parked()` shows the native lines when the
command fails unexpectedly. Library users importing kerasrecipes see TF as usual.
"""

import os
import sys
import tempfile

_parked = None


def invoked_as_command():
    """True while `python -m kerasrecipes` or the `kerasrecipes` console script imports the package."""
    first = sys.argv[0] if sys.argv else ""
    return first == "-m" or os.path.basename(first) == "kerasrecipes"


def park_native_stderr():
    """Point fd 2 at a temp file and `sys.stderr` at a duplicate of the real stderr."""
    global _parked
    if _parked is not None:
        return
    try:
        sys.stderr.flush()
        real = os.dup(2)
    except (OSError, ValueError):  # no real stderr: nothing to park
        return
    sys.stderr = open(real, "w", buffering=1, encoding="utf-8", errors="replace")
    _parked = tempfile.TemporaryFile()
    os.dup2(_parked.fileno(), 2)


def dump_parked():
    """Write what native code printed to the real stderr (after an unexpected failure)."""
    if _parked is None:
        return
    _parked.seek(0)
    text = _parked.read().decode(errors="replace")
    if text:
        sys.stderr.write("native log lines:\n" + text)
