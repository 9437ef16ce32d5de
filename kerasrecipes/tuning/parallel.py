"""Parallel trials on one machine or a cluster, on keras-tuner's own chief/worker mode.

keras-tuner runs a search in parallel when every process gets
`KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT` and its own
`KERASTUNER_TUNER_ID` ("chief" hosts the oracle over gRPC, the others run
trials). This module adds what it leaves to the user:

- `workers=N` runs the chief and N workers on this machine (the chief on a
  free port of 127.0.0.1), each pinned to a GPU (`gpus`) or to its share of
  the CPU cores.
- `role="chief"|"worker"` with `oracle="HOST:PORT"` runs one process of a
  cluster search (one command per machine, e.g. a SLURM array).

This module checks and describes the parallel set-up (`resolve` -> `Parallel`,
called once per search and passed down) and the processes' environments; the
processes themselves are started and watched by
`kerasrecipes.tuning.runners.LocalWorkersRunner`.

The oracle has no authentication: anyone who reaches its port can read and
write the search. Keep it on loopback (the default) or a private network.
"""

import contextlib
import os
import shutil
import socket
import time

ROLES = ("chief", "worker")
_ENV_KEYS = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")


class Parallel:
    """How a search runs its trials in parallel (validated; made by `resolve`).

    Attributes:
        workers: Local worker processes (None in cluster mode).
        gpus: GPU ids, one worker pinned per id (round-robin), or None.
        role: "chief" or "worker" in cluster mode, else None.
        host, port: The oracle's address.
        threads: CPU threads per local worker (None with GPUs).
        max_restarts: Times a dead local worker is started again.
    """

    def __init__(self, workers=None, gpus=None, role=None, host="127.0.0.1", port=None, threads=None,
                 max_restarts=3):
        self.workers = workers
        self.gpus = gpus
        self.role = role
        self.host = host
        self.port = port
        self.threads = threads
        self.max_restarts = max_restarts

    def __repr__(self):
        where = f"{self.host}:{self.port}"
        if self.role:
            return f"Parallel(role={self.role!r}, oracle={where!r})"
        return f"Parallel(workers={self.workers}, gpus={self.gpus}, threads={self.threads}, oracle={where!r})"


def _parse_oracle(oracle):
    if not isinstance(oracle, str) or oracle.count(":") != 1:
        raise ValueError(f"oracle must be 'HOST:PORT'. Received oracle={oracle!r}")
    host, port = oracle.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"oracle must be 'HOST:PORT' with a port in 1-65535. Received oracle={oracle!r}")
    return host, int(port)


def _check_bindable(host, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as e:
            raise ValueError(f"oracle {host}:{port} cannot be bound on this machine: {e.strerror or e}. "
                             f"Received oracle='{host}:{port}'") from None


def _free_port(host):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, 0))
        except OSError as e:
            raise ValueError(f"oracle host {host!r} cannot be bound on this machine: {e.strerror or e}") from None
        return s.getsockname()[1]


def _check_reachable(host, port, wait):
    """Waits up to `wait` seconds for a TCP connection to the chief (workers may start before it)."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise ValueError(f"oracle host {host!r} cannot be resolved: {e}. Received oracle='{host}:{port}'") from None
    deadline = time.monotonic() + wait
    while True:
        try:
            with socket.create_connection((host, port), timeout=2):
                return
        except OSError as e:
            if time.monotonic() >= deadline:
                raise ValueError(f"oracle {host}:{port} cannot be reached (no chief answered within {wait:g} s: "
                                 f"{e.strerror or e}). Received oracle='{host}:{port}'") from None
            time.sleep(0.5)


def _visible_gpus():
    """The GPUs the Keras backend sees (under JAX no TensorFlow is needed: the GPU image may lack it)."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        # physical devices: listing them does not start the runtime, so memory growth can still be set
        return len(tf.config.list_physical_devices("GPU"))
    try:
        return len(keras.distribution.list_devices("gpu"))
    except RuntimeError:  # JAX without a GPU platform
        return 0


def resolve(workers=None, gpus=None, role=None, oracle=None, connect_timeout=60.0):
    """Checks the parallel arguments of a search; returns a `Parallel` or None for a single process.

    Args:
        workers: Number of local worker processes (>= 1). Defaults to the
            number of `gpus` when they are given.
        gpus: GPU ids as "0,1" or a list of ints; one worker per GPU.
        role: "chief" or "worker" to run one process of a cluster search.
        oracle: "HOST:PORT" of the chief. Defaults to a free port on 127.0.0.1
            for local workers; required with `role`.
        connect_timeout: Seconds a cluster worker waits for the chief before
            giving up. Defaults to `60.0`.

    Raises:
        ValueError: for `workers` < 1, an unknown GPU id, an oracle address
            that cannot be bound (chief, local) or reached (worker).
    """
    if workers is None and gpus is None and role is None and oracle is None:
        return None
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be an integer >= 1. Received workers={workers!r}")
    if role is not None and role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}. Received role={role!r}")
    if role is not None and (workers is not None or gpus is not None):
        raise ValueError(f"role={role!r} runs one process of a cluster; workers and gpus are for a local "
                         f"search. Received workers={workers!r}, gpus={gpus!r}")
    if role is not None and oracle is None:
        raise ValueError(f"role={role!r} needs oracle='HOST:PORT' (the chief's address, the same in every process)")
    host, port = _parse_oracle(oracle) if oracle is not None else ("127.0.0.1", None)

    if gpus is not None:
        ids = gpus
        if isinstance(gpus, str):
            try:
                ids = [int(g) for g in gpus.split(",") if g.strip() != ""]
            except ValueError:
                raise ValueError(f"gpus must be GPU ids such as '0,1'. Received gpus={gpus!r}") from None
        if (not isinstance(ids, (list, tuple)) or not ids or
                any(isinstance(g, bool) or not isinstance(g, int) or g < 0 for g in ids) or len(set(ids)) != len(ids)):
            raise ValueError(f"gpus must be distinct GPU ids such as '0,1'. Received gpus={gpus!r}")
        available = _visible_gpus()
        missing = [g for g in ids if g >= available]
        if missing:
            have = f"{available} GPU(s) (ids 0-{available - 1})" if available else "no GPU"
            raise ValueError(f"gpus has id {missing[0]} but this machine has {have}. Received gpus={gpus!r}")
        gpus = list(ids)
        workers = workers or len(gpus)

    if role == "worker":
        _check_reachable(host, port, connect_timeout)
        return Parallel(role=role, host=host, port=port)
    if role == "chief":
        _check_bindable(host, port)
        return Parallel(role=role, host=host, port=port)
    if workers is None:
        raise ValueError(f"oracle={oracle!r} without workers or role: give workers=N for a local search, or "
                         "role='chief'/'worker' for a cluster")
    if port is None:
        port = _free_port(host)
    else:
        _check_bindable(host, port)
    threads = None
    if gpus is None and _visible_gpus():
        # On a GPU machine the workers go round-robin over its GPUs (several to a GPU share its memory).
        gpus = list(range(_visible_gpus()))
    if gpus is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        threads = max(1, cores // workers)
    return Parallel(workers=workers, gpus=gpus, host=host, port=port, threads=threads)


@contextlib.contextmanager
def cluster_env(parallel, tuner_id=None):
    """Sets keras-tuner's three environment variables for a cluster process, restoring them after."""
    saved = {k: os.environ.get(k) for k in _ENV_KEYS}
    if tuner_id is None:
        tuner_id = "chief" if parallel.role == "chief" else os.environ.get("KERASTUNER_TUNER_ID") or (
            f"tuner{os.environ['SLURM_ARRAY_TASK_ID']}" if "SLURM_ARRAY_TASK_ID" in os.environ
            else f"tuner-{socket.gethostname()}-{os.getpid()}")
    os.environ.update({"KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": parallel.host,
                       "KERASTUNER_ORACLE_PORT": str(parallel.port)})
    try:
        yield tuner_id
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def child_env(parallel, tuner_id, index):
    """The environment of a local chief (`tuner_id` "chief") or worker: keras-tuner's three variables, threads, GPU."""
    env = {"KERASTUNER_TUNER_ID": tuner_id, "KERASTUNER_ORACLE_IP": parallel.host,
           "KERASTUNER_ORACLE_PORT": str(parallel.port), "TF_CPP_MIN_LOG_LEVEL": os.environ.get(
               "TF_CPP_MIN_LOG_LEVEL", "2")}
    if tuner_id == "chief":
        # The chief only answers the workers: keep it off the GPUs and to one core.
        env.update(CUDA_VISIBLE_DEVICES="-1", TF_NUM_INTRAOP_THREADS="1", TF_NUM_INTEROP_THREADS="1",
                   OMP_NUM_THREADS="1")
    elif parallel.gpus is not None:
        env.update(CUDA_VISIBLE_DEVICES=str(parallel.gpus[index % len(parallel.gpus)]),
                   TF_FORCE_GPU_ALLOW_GROWTH="true")
        sharing = -(-parallel.workers // len(parallel.gpus))  # workers on the busiest GPU
        if sharing > 1:  # JAX takes 75 % of a GPU at start-up: each worker gets its share instead
            env.update(XLA_PYTHON_CLIENT_MEM_FRACTION=f"{0.9 / sharing:.3f}")
    else:
        # N workers share the cores instead of each starting one thread per core.
        t = str(parallel.threads)
        env.update(TF_NUM_INTRAOP_THREADS=t, TF_NUM_INTEROP_THREADS="1", OMP_NUM_THREADS=t,
                   KERASRECIPES_THREADS=t)
    return env


def clear_project(project_dir):
    """Removes a stage's project before its chief and workers start (they then never overwrite)."""
    if os.path.isdir(project_dir):
        shutil.rmtree(project_dir)


@contextlib.contextmanager
def local_env():
    """keras-tuner's distributed-mode variables removed for the block (a process reading a project)."""
    saved = {k: os.environ.pop(k) for k in _ENV_KEYS if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def enable_gpu_memory_growth():
    """Lets several trials (or processes, one per GPU) share GPU memory instead of grabbing it all."""
    import keras

    if keras.backend.backend() != "tensorflow":
        return
    import tensorflow as tf

    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialized: growth can no longer change
            pass
