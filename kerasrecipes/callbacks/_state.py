"""Atomic on-disk state for callbacks that must survive a killed run."""

import json
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
    and any weight file no kept state names.
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

    def _collect_garbage(self):
        referenced = set()
        for epoch in self._state_epochs():
            with open(self._state_path(epoch)) as f:
                referenced.update(json.load(f)["arrays"])
        for fname in os.listdir(self.directory):
            if fname.endswith(_ARRAYS_SUFFIX) and fname[: -len(_ARRAYS_SUFFIX)] not in referenced:
                os.remove(os.path.join(self.directory, fname))

    def states(self):
        """The JSON states kept on disk (the last two epochs'), oldest first."""
        out = []
        for epoch in self._state_epochs():
            with open(self._state_path(epoch)) as f:
                out.append(json.load(f)["state"])
        return out

    def load(self, epoch):
        """Returns (state, {name: arrays}) saved after `epoch`, or None."""
        path = self._state_path(epoch)
        if not os.path.exists(path):
            return None
        with open(path) as f:
            saved = json.load(f)
        return saved["state"], {name: load_arrays(self._array_path(name)) for name in saved["arrays"]}

    def clear(self):
        if not os.path.isdir(self.directory):
            return
        for fname in os.listdir(self.directory):
            if _STATE_RE.match(fname) or fname.endswith(_ARRAYS_SUFFIX) or fname.startswith(".tmp-"):
                os.remove(os.path.join(self.directory, fname))
