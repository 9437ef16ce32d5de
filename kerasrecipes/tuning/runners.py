"""How a stage's trials run: in this process, in local worker processes, or as part of a cluster.

A runner receives a stage's `StageSpec` and `StageJob` and returns a tuner
whose oracle holds the stage's trials; each ends in `stage.run_stage` (in this
process or another). They are chosen once per search from the resolved
`parallel.Parallel` (`runner_for`):

- `InProcessRunner`: keras-tuner's own loop, here.
- `ClusterRunner`: this process is the chief or a worker of a cluster search
  (keras-tuner's environment variables set for the stage); a worker then reads
  the shared project to return the same results.
- `LocalWorkersRunner`: a keras-tuner chief on a free port of 127.0.0.1 and N
  workers, each a `kerasrecipes/tuning/worker.py` process that gets the
  stage through a pipe (`kerasrecipes.tuning.worker`). Their output lines come
  back through pipes and reach this process's stderr prefixed with the process
  (`[tuner0] coarse: trial 2/8 ...`); the last 20 are kept, so a chief or worker
  that dies is reported with what it said last. A worker that dies is started
  again under its tuner id (keras-tuner's oracle hands a tuner id its ongoing
  trial back), up to `Parallel.max_restarts` times; a chief that dies ends the
  stage with `SearchError` (the search resumes when run again). When this
  process dies, the pipes close and the children exit at once.
"""

import collections
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time

from kerasrecipes.tuning import parallel as parallel_module
from kerasrecipes.tuning.stage import SearchError, open_stage, run_stage

TAIL_LINES = 20  # output lines of each child kept for the error message
_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")  # run as a script: see worker.py


class Runner:
    """The runner interface: `run(spec, job)` runs one stage and returns a tuner holding its trials."""

    def run(self, spec, job):
        raise NotImplementedError


class InProcessRunner(Runner):
    """Runs the stage's trials in this process (keras-tuner's own loop)."""

    def run(self, spec, job):
        tuner = run_stage(spec, job)
        if tuner._is_worker():
            # keras-tuner's distributed mode set up by the caller's own environment variables: a
            # worker's oracle is a gRPC client; read the shared project instead.
            return open_stage(spec, job.hypermodel)
        return tuner


class ClusterRunner(Runner):
    """One process of a cluster search: the chief (serves the oracle) or a worker (runs trials)."""

    def __init__(self, parallel):
        self.parallel = parallel

    def run(self, spec, job):
        with parallel_module.cluster_env(self.parallel) as tuner_id:
            if self.parallel.role == "worker":
                spec = _replace(spec, label=f"{spec.label} [{tuner_id}]")
            tuner = run_stage(spec, job)
        if self.parallel.role == "chief":
            return tuner  # its oracle is the search's: every trial has ended
        return open_stage(spec, job.hypermodel)  # a worker reads the shared project


def _replace(spec, **changes):
    import dataclasses

    return dataclasses.replace(spec, **changes)


class _Child:
    """A chief or worker process, its output forwarded to stderr with a prefix and its last lines kept."""

    def __init__(self, tuner_id, settings, blob):
        self.tuner_id = tuner_id
        self.tail = collections.deque(maxlen=TAIL_LINES)
        env = dict(os.environ, PYTHONUNBUFFERED="1", **settings["env"])
        self.process = subprocess.Popen([sys.executable, _WORKER],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        env=env, close_fds=True)
        self._reader = threading.Thread(target=self._forward, name=f"kerasrecipes-{tuner_id}-output", daemon=True)
        self._reader.start()
        try:
            self.process.stdin.write(json.dumps(settings).encode() + b"\n")
            self.process.stdin.write(len(blob).to_bytes(8, "big") + blob)
            self.process.stdin.flush()  # kept open: its end-of-file tells the child this process is gone
        except BrokenPipeError:  # it died at once; poll() reports it
            pass

    def _forward(self):
        for raw in self.process.stdout:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self.tail.append(line)
            try:
                print(f"[{self.tuner_id}] {line}", file=sys.stderr, flush=True)
            except (OSError, ValueError):
                pass

    def poll(self):
        return self.process.poll()

    def last_lines(self):
        self._reader.join(timeout=2.0)  # the last lines of a dead process are still in the pipe
        lines = list(self.tail)
        return "\n".join(f"    {line}" for line in lines) if lines else "    (no output)"

    def stop(self, timeout=10.0):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


class LocalWorkersRunner(Runner):
    """A local keras-tuner chief and `parallel.workers` workers run the stage (see the module)."""

    def __init__(self, parallel, poll=0.2):
        self.parallel = parallel
        self.poll = poll

    def _message(self, spec, job):
        try:
            blob = pickle.dumps({"spec": spec, "job": job})
        except Exception as e:  # report before any process starts
            raise ValueError(
                "workers need the search's arguments pickled (data, SearchSpace or a build function defined at "
                f"module level, callbacks): {type(e).__name__}: {e}"
            ) from None
        main = sys.modules.get("__main__")
        main_path = getattr(main, "__file__", None)
        if main_path and os.path.basename(main_path) in ("__main__.py", "pytest", "ipykernel_launcher.py"):
            main_path = None  # a package's or tool's entry point: nothing of ours is defined there
        return blob, main_path

    def run(self, spec, job):
        blob, main_path = self._message(spec, job)
        os.makedirs(spec.project_dir, exist_ok=True)
        children = {}

        def start(tuner_id, index):
            env = parallel_module.child_env(self.parallel, tuner_id, index)
            settings = {"env": env, "sys_path": [p for p in sys.path if p], "main_path": main_path,
                        "threads": env.get("KERASRECIPES_THREADS")}
            children[tuner_id] = _Child(tuner_id, settings, blob)

        ids = [f"tuner{i}" for i in range(self.parallel.workers)]
        restarts = dict.fromkeys(ids, 0)
        try:
            start("chief", 0)
            for i, tid in enumerate(ids):
                start(tid, i)
            running = set(ids)
            while running:
                chief_status = children["chief"].poll()
                if chief_status == 0:
                    # keras-tuner's chief ends by itself once every tuner was told to stop and no
                    # trial is ongoing: the remaining workers are only shutting down.
                    for tid in running:
                        children[tid].process.wait(timeout=60)
                    break
                for i, tid in enumerate(ids):
                    status = children[tid].poll() if tid in running else None
                    if status is None:
                        continue
                    if status == 0:
                        running.discard(tid)
                        continue
                    if restarts[tid] >= self.parallel.max_restarts:
                        raise SearchError(
                            f"worker {tid} died {restarts[tid] + 1} times (last exit status {status}); its last "
                            f"lines:\n{children[tid].last_lines()}\nThe search is resumable: run it again.")
                    restarts[tid] += 1
                    print(f"kerasrecipes: worker {tid} exited with status {status}; starting it again to resume "
                          "its trial", file=sys.stderr, flush=True)
                    children[tid].stop()
                    start(tid, i)
                if chief_status is not None and running:
                    raise SearchError(
                        f"the search's chief (oracle) exited with status {chief_status} before its workers "
                        f"finished; its last lines:\n{children['chief'].last_lines()}\n"
                        "The search is resumable: run it again.")
                time.sleep(self.poll)
            # Every trial ended and was saved by the oracle before the workers were told to stop;
            # keras-tuner's chief only looks for the end every 20 s, so end it now.
            try:
                children["chief"].process.wait(timeout=2.0)
            except subprocess.TimeoutExpired:
                pass
        finally:
            for child in children.values():
                child.stop()
        return open_stage(spec, job.hypermodel)


def runner_for(parallel):
    """The runner of a resolved `Parallel` (None: in this process)."""
    if parallel is None:
        return InProcessRunner()
    if parallel.role is not None:
        return ClusterRunner(parallel)
    return LocalWorkersRunner(parallel)
