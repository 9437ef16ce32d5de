"""Entry point of a local chief or worker process: `python .../kerasrecipes/tuning/worker.py`.

Started by `kerasrecipes.tuning.runners.LocalWorkersRunner`, which writes to
this process's stdin, a pipe only it holds: one JSON line of settings (the
environment, the parent's main script), then the stage (`StageSpec`, `StageJob`)
pickled behind an 8-byte length. Nothing is read from a file, so nobody else can
hand this process code to run. The parent keeps the pipe open; when it dies the
pipe reaches end-of-file and this process exits at once (a thread reads it), so
no chief or worker outlives the search that started it.

It is started as a script, not with `-m`: `-m` would import the whole package
(TensorFlow, Keras: tens of seconds on a busy machine) before the thread that
watches the parent is running. Only the standard library is imported until then.
"""

import sys

if __name__ == "__main__":
    del sys.path[0]  # this file's folder: its modules are the package's, never top-level names

import json
import os
import threading

EXIT_PARENT_GONE = 75  # the exit status when the parent died


def _read_exactly(stream, n):
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            raise EOFError("the parent closed the pipe before the stage was sent")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _watch_parent(fd):
    # os.read on the raw descriptor: a daemon thread blocked in a buffered reader would abort the
    # interpreter at its shutdown ("could not acquire lock for <stdin>").
    while os.read(fd, 1024):
        pass
    # End of file: the parent is gone (killed, or it ended). Exit without cleanup: every state
    # file of the search is written atomically, and the trial in flight is run again on resume.
    os._exit(EXIT_PARENT_GONE)


def main():
    stdin = sys.stdin.buffer
    settings = json.loads(stdin.readline())
    blob = _read_exactly(stdin, int.from_bytes(_read_exactly(stdin, 8), "big"))
    threading.Thread(target=_watch_parent, args=(stdin.fileno(),), name="kerasrecipes-parent-watch",
                     daemon=True).start()
    os.environ.update(settings["env"])
    sys.path[:0] = [p for p in settings["sys_path"] if p not in sys.path]
    if settings.get("threads") and os.environ.get("KERAS_BACKEND", "tensorflow") == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(int(settings["threads"]))
        tf.config.threading.set_inter_op_parallelism_threads(1)
    if settings.get("main_path"):
        # The parent's script, imported as multiprocessing's spawn does (as "__mp_main__", its
        # `if __name__ == "__main__":` block not run), so classes it defines can be unpickled.
        import multiprocessing.spawn

        multiprocessing.spawn.import_main_path(settings["main_path"])
    import pickle

    from kerasrecipes.tuning import stage

    message = pickle.loads(blob)  # from the parent's pipe, never from a file (see the module)
    spec, tuner_id = message["spec"], os.environ["KERASTUNER_TUNER_ID"]
    where = f"{os.environ['KERASTUNER_ORACLE_IP']}:{os.environ['KERASTUNER_ORACLE_PORT']}"
    print(f"kerasrecipes: {'chief serving the oracle on ' + where if tuner_id == 'chief' else tuner_id + ' running trials of ' + where}"
          f" for {spec.project_dir} (pid {os.getpid()})", flush=True)
    stage.run_stage(spec, message["job"])
    sys.stdout.flush()
    sys.stderr.flush()
    # Every state file is written and closed; skip the interpreter's teardown, where gRPC's and
    # TensorFlow's threads can abort the process after the work is done.
    os._exit(0)


if __name__ == "__main__":
    main()
