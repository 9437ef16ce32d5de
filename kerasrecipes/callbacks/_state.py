"""Atomic on-disk state for callbacks that must survive a killed run."""

import os
import re

import numpy as np

from kerasrecipes import _io

_STATE_RE = re.compile(r"^state-(\d{6})\.json$")
_ARRAYS_SUFFIX = ".npz"


def save_arrays(path, arrays):
    _io.atomic_write(path, lambda f: np.savez(f, *arrays), mode="wb")


def load_arrays(path):
    with np.load(path) as data:
        return [data[f"arr_{i}"] for i in range(len(data.files))]


class StateStore:
    """Per-epoch JSON states plus named weight lists (.npz) in one directory.

    `save(epoch, state, arrays)` writes the weight lists not yet on disk, then
    `state-<epoch>.json` naming them, then deletes all but the last two states
    and any weight file no kept state names. A state file or weight file that
    cannot be read (zero bytes, cut short, random bytes, missing) counts as no
    state (`load` returns None and says why), never as an error.
    """

    keep = 2

    def __init__(self, directory):
        self.directory = str(directory)

    def _state_path(self, epoch):
        return os.path.join(self.directory, f"state-{epoch:06d}.json")

    def _array_path(self, name):
        return os.path.join(self.directory, name + _ARRAYS_SUFFIX)

    def _state_epochs(self):
        if not os.path.isdir(self.directory):
            return []
        return sorted(
            int(m.group(1)) for m in map(_STATE_RE.match, os.listdir(self.directory)) if m
        )

    def save(self, epoch, state, arrays):
        for name, values in arrays.items():
            if not os.path.exists(self._array_path(name)):
                save_arrays(self._array_path(name), values)
        _io.write_json(self._state_path(epoch), {"epoch": epoch, "state": state, "arrays": sorted(arrays)})
        epochs = self._state_epochs()
        for old in epochs[: -self.keep]:
            os.remove(self._state_path(old))
        self._collect_garbage()

    def _read(self, epoch, problems=None):
        """The record saved after `epoch` (`{"epoch", "state", "arrays"}`), or None if missing or damaged."""
        saved = _io.read_json_or_none(self._state_path(epoch), problems)
        if saved is None:
            return None
        if not (isinstance(saved, dict) and isinstance(saved.get("state"), dict)
                and isinstance(saved.get("arrays"), list) and all(isinstance(a, str) for a in saved["arrays"])):
            if problems is not None:
                problems.append("not a state record (JSON, but without its state and arrays)")
            return None
        return saved

    def _collect_garbage(self):
        referenced = set()
        for epoch in self._state_epochs():
            saved = self._read(epoch)  # a damaged state names nothing: its arrays cannot serve it
            if saved is not None:
                referenced.update(saved["arrays"])
        for fname in os.listdir(self.directory):
            if fname.endswith(_ARRAYS_SUFFIX) and fname[: -len(_ARRAYS_SUFFIX)] not in referenced:
                os.remove(os.path.join(self.directory, fname))

    def states(self):
        """The JSON states kept on disk (the last two epochs'), oldest first."""
        saved = (self._read(epoch) for epoch in self._state_epochs())
        return [record["state"] for record in saved if record is not None]

    def load(self, epoch, problems=None):
        """Returns (state, {name: arrays}) saved after `epoch`, or None.

        None when nothing was saved after `epoch`, or when the state or a
        weight file it names cannot be read; then the reason (with the file)
        is appended to `problems` when given.
        """
        path = self._state_path(epoch)
        found = []
        saved = self._read(epoch, found)
        if saved is None:
            if problems is not None:
                problems.extend(f"{os.path.basename(path)}: {reason}" for reason in found)
            return None
        arrays = {}
        for name in saved["arrays"]:
            try:
                arrays[name] = load_arrays(self._array_path(name))
            except Exception as e:  # a damaged or missing .npz: BadZipFile, EOFError, OSError, ValueError, KeyError
                if problems is not None:
                    text = str(e).splitlines()[0][:120] if str(e) else ""
                    problems.append(f"{name}{_ARRAYS_SUFFIX}: cannot be read ({type(e).__name__}: {text})")
                return None
        return saved["state"], arrays

    def clear(self):
        if not os.path.isdir(self.directory):
            return
        for fname in os.listdir(self.directory):
            if _STATE_RE.match(fname) or fname.endswith(_ARRAYS_SUFFIX) or fname.startswith(".tmp-"):
                os.remove(os.path.join(self.directory, fname))
