"""Linux /proc readers for the kill tests and benchmarks/search_kills.py: who a process's children are, who is alive."""

import os


def children(pid):
    """{pid: keras-tuner tuner id} of the live processes whose parent is `pid` ("?" where it has none)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) != pid or fields[0] == "Z":
                continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = dict(v.split(b"=", 1) for v in f.read().split(b"\0") if b"=" in v)
            found[int(entry)] = env.get(b"KERASTUNER_TUNER_ID", b"?").decode()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not ours to read
    return found


def alive(pid):
    """Whether `pid` runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
