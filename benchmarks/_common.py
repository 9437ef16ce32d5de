"""Shared by the benchmark scripts: machine facts, load average, and the JSON-lines results file."""

import json
import os
import platform
import subprocess

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


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
    facts = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
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
