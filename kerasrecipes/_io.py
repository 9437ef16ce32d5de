"""Atomic file writes, shared by everything that leaves a file behind.

A process killed at any point leaves the old file or the new one, never a
half-written one: each write goes to a temp file beside its target, is flushed
to disk, then renamed onto it (`os.replace` is atomic within a directory).
Files get the mode the user's umask gives (0644 under the usual 022), as
`open` would create them (`tempfile.mkstemp` alone makes them 0600).

For the kill tests only: with `KERASRECIPES_TEST_PAUSE=TEXT` in the
environment, a write whose file name contains TEXT prints one line to stderr
and sleeps between writing its temp file and renaming it, so that a test can
SIGKILL the process at exactly that moment.
"""

import contextlib
import json
import math
import os
import sys
import tempfile
import time


def _file_mode():
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _test_pause(path):
    """The kill tests' hook (see the module docstring); nothing happens without the variable."""
    text = os.environ.get("KERASRECIPES_TEST_PAUSE")
    if text and text in os.path.basename(path):
        print(f"KERASRECIPES_TEST_PAUSE: paused writing {path}", file=sys.stderr, flush=True)
        time.sleep(float(os.environ.get("KERASRECIPES_TEST_PAUSE_SECONDS", "60")))


def atomic_write(path, write, mode="w"):
    """Calls `write(file)` on a temp file beside `path`, then renames it onto `path`.

    Args:
        path: The file to write; its directory is created if needed.
        write: A function of the open temp file that writes the content.
        mode: "w" (text, UTF-8) or "wb". Defaults to "w".

    Returns:
        `path`.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix="-" + os.path.basename(path))
    with renamed_into(path, tmp):
        os.chmod(tmp, _file_mode())
        with os.fdopen(fd, mode, **({"encoding": "utf-8", "newline": ""} if "b" not in mode else {})) as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
    return path


@contextlib.contextmanager
def renamed_into(path, tmp):
    """Renames `tmp` to `path` once the body has written it; on any failure (or kill) `path` is untouched.

    The one rename step of every writer here; the test-only pause sits between the write and the rename.
    """
    try:
        yield
        _test_pause(path)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_text(path, text):
    """`text` written atomically as UTF-8."""
    return atomic_write(path, lambda f: f.write(text))


def write_json(path, obj, indent=1):
    """JSON with numpy scalars and arrays converted, and NaN/infinity written as null (strict JSON)."""
    return atomic_write(path, lambda f: json.dump(to_strict_json(obj), f, indent=indent, default=_jsonable))


def read_json(path):
    """The JSON content of `path`."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_json_or_none(path, problems=None):
    """The JSON content of `path`, or `None` when it is missing or damaged; the one reader of resumable state.

    A file that a kill cannot leave half-written (every write here is atomic)
    can still be damaged by a disk error, a full disk before `fsync`, or a hand:
    zero bytes, cut short, random bytes. Whatever reads such a file to resume
    reads it through this, and falls back (to the copy before, or to a fresh
    start) instead of failing with `Expecting value: line 1 column 1 (char 0)`
    on every rerun.

    Args:
        path: The file.
        problems: Optional list; the reason a file that exists cannot be read
            is appended to it (`"empty file (0 bytes)"`, `"not JSON: ..."`).

    Returns:
        The decoded value, or `None`.
    """
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        return None
    except OSError as e:
        reason = f"cannot be read ({e.strerror or e})"
    else:
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            reason = "not JSON (not UTF-8 text)"
        except ValueError as e:
            reason = "empty file (0 bytes)" if not raw else f"not JSON ({e})"
    if problems is not None:
        problems.append(reason)
    return None


def save_keras(model, path):
    """`model.save` (or `save_weights` for a `.weights.h5` path) to a temp file, then rename."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    name = os.path.basename(path)
    tmp = os.path.join(directory, f".tmp-{os.getpid()}-{name}")  # keeps the .keras / .weights.h5 ending
    with renamed_into(path, tmp):
        if name.endswith(".weights.h5"):
            model.save_weights(tmp, overwrite=True)
        else:
            model.save(tmp, overwrite=True)
    return path


def to_strict_json(obj):
    """Plain JSON types: numpy values converted, tuples as lists, NaN and infinity as None."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: to_strict_json(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_strict_json(v) for v in obj]
    if hasattr(obj, "tolist") and not isinstance(obj, (str, bytes)):  # numpy scalars and arrays
        return to_strict_json(obj.tolist())
    return obj


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
