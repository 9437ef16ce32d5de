"""Parallel trials on one machine or a cluster, on keras-tuner's own chief/worker mode.

keras-tuner runs a search in parallel when every process gets
`KERASTUNER_ORACLE_IP`, `KERASTUNER_ORACLE_PORT` and its own
`KERASTUNER_TUNER_ID` ("chief" hosts the oracle over gRPC, the others run
trials). This module adds what it leaves to the user:

- `workers=N` starts the chief and N workers on this machine (the chief on a
  free port of 127.0.0.1), each pinned to a GPU (`gpus`) or to its share of
  the CPU cores, waits for them, and leaves the results on disk for the
  calling `Search`, which reads them like a single-process search.
- A worker that dies is started again under the same tuner id; keras-tuner's
  oracle then hands it the trial it was running (`Oracle.create_trial`
  returns a tuner's ongoing trial), so a kill costs at most that trial's
  progress and the search still completes every requested trial.
- `role="chief"|"worker"` with `oracle="HOST:PORT"` runs one process of a
  cluster search (one command per machine, e.g. a SLURM array).

How workers get the data: they are started with `multiprocessing`'s "spawn"
method and receive the search's arguments (data, `SearchSpace` or build
function, callbacks) pickled, once per stage. A build function must therefore
be importable (defined at module level, not a lambda or a notebook cell), and
a script that starts a parallel search must guard it with
`if __name__ == "__main__":`, as for any spawned process.

The oracle has no authentication: anyone who reaches its port can read and
write the search. Keep it on loopback (the default) or a private network.
"""

import contextlib
import multiprocessing
import os
import pickle
import shutil
import socket
import sys
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
    try:
        import tensorflow as tf
    except ImportError:
        return 0
    return len(tf.config.list_physical_devices("GPU"))


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


def _stderr_progress(event):
    from kerasrecipes.tuning.search import print_progress

    print_progress(event, file=sys.stderr)


def _child_env(parallel, tuner_id, index):
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
    else:
        # N workers share the cores instead of each starting one thread per core.
        t = str(parallel.threads)
        env.update(TF_NUM_INTRAOP_THREADS=t, TF_NUM_INTEROP_THREADS="1", OMP_NUM_THREADS=t,
                   KERASRECIPES_THREADS=t)
    return env


def _child_main(job_path, env):
    """Entry point of a spawned chief or worker: runs its part of one stage."""
    os.environ.update(env)
    sys.stdout = sys.stderr  # keep the parent's stdout for its own output (the CLI prints JSON there)
    if "KERASRECIPES_THREADS" in env:
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(int(env["KERASRECIPES_THREADS"]))
        tf.config.threading.set_inter_op_parallelism_threads(1)
    with open(job_path, "rb") as f:
        job = pickle.load(f)
    from kerasrecipes.tuning.search import Search

    search = Search(**job["search"])
    search._run_stage(*job["stage"], index=job["index"])


def _start(ctx, job_path, parallel, tuner_id, index):
    process = ctx.Process(target=_child_main, args=(job_path, _child_env(parallel, tuner_id, index)),
                         name=f"kerasrecipes-{tuner_id}", daemon=False)
    process.start()
    return process


def run_local(parallel, search_kwargs, stage, index, project_dir, poll=0.2):
    """Runs one stage with a local chief and `parallel.workers` workers; returns the tuner ids that ran.

    The job (the search's arguments and the stage) is pickled once into the
    project directory; a worker that dies is started again under its tuner
    id, up to `parallel.max_restarts` times.
    """
    try:
        blob = pickle.dumps({"search": search_kwargs, "stage": stage, "index": index})
    except Exception as e:  # report before any process starts
        raise ValueError(
            "workers need the search's arguments pickled (data, SearchSpace or a build function defined at "
            f"module level, callbacks): {type(e).__name__}: {e}"
        ) from None
    os.makedirs(project_dir, exist_ok=True)
    job_path = os.path.join(project_dir, "kerasrecipes_job.pkl")
    from kerasrecipes import _io

    _io.atomic_write(job_path, lambda f: f.write(blob), mode="wb")
    ctx = multiprocessing.get_context("spawn")
    chief = _start(ctx, job_path, parallel, "chief", 0)
    ids = [f"tuner{i}" for i in range(parallel.workers)]
    workers = {tid: _start(ctx, job_path, parallel, tid, i) for i, tid in enumerate(ids)}
    restarts = dict.fromkeys(ids, 0)
    try:
        while workers:
            if not chief.is_alive() and chief.exitcode == 0:
                # keras-tuner's chief ends by itself once every tuner was told to stop and no
                # trial is ongoing: the remaining workers are only shutting down.
                for process in workers.values():
                    process.join(timeout=60)
                break
            for i, tid in enumerate(ids):
                process = workers.get(tid)
                if process is None or process.is_alive():
                    continue
                process.join()
                if process.exitcode == 0:
                    del workers[tid]
                    continue
                if restarts[tid] >= parallel.max_restarts:
                    raise RuntimeError(f"worker {tid} died {restarts[tid] + 1} times (last exit status "
                                       f"{process.exitcode}); its output is above. The search is resumable.")
                restarts[tid] += 1
                print(f"kerasrecipes: worker {tid} exited with status {process.exitcode}; starting it again "
                      "to resume its trial", file=sys.stderr, flush=True)
                workers[tid] = _start(ctx, job_path, parallel, tid, i)
            if not chief.is_alive() and workers:
                raise RuntimeError(f"the search's chief (oracle) exited with status {chief.exitcode} before its "
                                   "workers finished; its output is above. The search is resumable.")
            time.sleep(poll)
        # Every trial ended and was saved by the oracle before the workers were told to stop;
        # keras-tuner's chief only polls for the end every 20 s, so end it now.
        chief.join(timeout=2.0)
    finally:
        for process in [chief, *workers.values()]:
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)
                if process.is_alive():
                    process.kill()
                    process.join()
        with contextlib.suppress(OSError):
            os.remove(job_path)
    return {"restarts": restarts}


def clear_project(project_dir):
    """Removes a stage's project before its chief and workers start (they then never overwrite)."""
    if os.path.isdir(project_dir):
        shutil.rmtree(project_dir)
