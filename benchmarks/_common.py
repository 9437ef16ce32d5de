"""Shared by the benchmark scripts: machine facts, load average, wall and CPU clocks, the JSON-lines results file."""

import json
import os
import platform
import subprocess
import time

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
# The CPU flags that change what a number means: bfloat16 matrix units (AMX-BF16,
# AVX512_BF16) make bfloat16 training ~1.35x faster where they exist; AVX-512 and
# AVX2/FMA set the float32 peak. Recorded as true/false so two boxes compare at a glance.
CPU_FLAGS = ("amx_bf16", "avx512_bf16", "avx512f", "avx2", "fma")


class Clock:
    """Wall and CPU seconds of this process (all its threads), summed over start/stop intervals.

    CPU seconds are `time.process_time()` (user + system of every thread):
    beside the wall time they tell how much of a slow run was the other
    processes on a shared machine (CPU seconds stay, wall seconds grow).
    """

    def __init__(self):
        self.wall = self.cpu = 0.0
        self._start = None

    def start(self):
        self._start = (time.perf_counter(), time.process_time())
        return self

    def stop(self):
        if self._start is not None:
            self.wall += time.perf_counter() - self._start[0]
            self.cpu += time.process_time() - self._start[1]
            self._start = None
        return self

    def now(self):
        """(wall, cpu) so far, including a running interval."""
        if self._start is None:
            return self.wall, self.cpu
        return (self.wall + time.perf_counter() - self._start[0], self.cpu + time.process_time() - self._start[1])


def rss_mb():
    """This process's resident set size in MB (Linux `/proc/self/status`)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    raise RuntimeError("no VmRSS in /proc/self/status")


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(v) for v in f.read().split()[:3]]
    except OSError:
        return None


def machine_facts():
    import keras

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    from kerasrecipes.precision import choose, read_cpu_flags

    flags = set(read_cpu_flags())
    facts = {"cpu": cpu, "cores": os.cpu_count(), "cpu_flags": {f: f in flags for f in CPU_FLAGS},
             "loadavg": loadavg(), "python": platform.python_version(),
             "keras": keras.__version__, "backend": keras.backend.backend()}
    try:
        import tensorflow as tf

        facts["tensorflow"] = tf.__version__
    except ImportError:  # a JAX-only machine (the GPU image)
        facts["tensorflow"] = None
    if keras.backend.backend() == "jax":
        import jax

        facts["jax"] = jax.__version__
        facts["device"] = str(jax.devices()[0])
    facts["precision_auto"] = choose()  # (policy, reason): what Recipe(precision="auto") picks here
    try:
        facts["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                         cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    except OSError:
        pass
    return facts


def append_jsonl(path, records):
    """Appends records to a JSON-lines file atomically (the package's temp-file-then-rename writer)."""
    from kerasrecipes._io import write_text  # here: throughput's parent process imports no backend

    old = ""
    if os.path.exists(path):
        with open(path) as f:
            old = f.read()
    write_text(path, old + "".join(json.dumps(r) + "\n" for r in records))
