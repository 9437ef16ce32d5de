"""Training, the commands and a search under KERAS_BACKEND=jax in a Python where TensorFlow is not installed.

A JAX or PyTorch GPU box has no TensorFlow. These tests run the package in a
virtual environment of this Python's packages less TensorFlow (as
`benchmarks/gpu_check.sh` builds with `GPU_CHECK_HIDE_TF=1`) and check that
every preset and every augmentation trains with its whole step compiled by
XLA: warnings are recorded and any fallback fails the test, nothing imports
TensorFlow, two forced host devices train data-parallel, and the compilation
cache holds entries after a fit.
"""

import json
import os
import site
import subprocess
import sys
import textwrap

import pytest

FALLBACKS = ("Proceeding with `jit_compile=False`", "XLA is off")

TRAIN_EVERYTHING = textwrap.dedent(
    """
    import os, sys, warnings
    import numpy as np, keras
    assert keras.backend.backend() == "jax"
    try:
        import tensorflow  # noqa: F401
        raise SystemExit("tensorflow is importable here")
    except ImportError:
        pass
    import kerasrecipes as kr
    from kerasrecipes import execution, presets

    data = kr.datasets.load("sample")
    x, y = data.x_train[:512], data.y_train[:512]
    small = dict(filters=(4, 8), epochs=1, batch_size=128, seed=0)
    cases = [(name, {}) for name in presets.RECIPES]  # every preset with its own augmentation
    cases += [("fashion_mnist_fast", {"augment": a}) for a in kr.data.AUGMENTATION_PRESETS]
    cases += [("fashion_mnist_fast", m) for m in ({"mixup": 0.2}, {"cutmix": 1.0}, {"mixup": 0.2, "cutmix": 1.0})]
    for name, overrides in cases:
        recipe = presets.get(name, **small, **overrides)
        kr.clear_session()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            training = recipe.prepare(x, y)
            history = training.fit(epochs=1, verbose=0)
        fallbacks = [str(w.message) for w in caught if any(f in str(w.message) for f in FALLBACKS)]
        assert not fallbacks, (name, overrides, fallbacks)
        assert training.model.jit_compile is True, (name, overrides)
        assert np.isfinite(history.history["loss"][0]), (name, overrides, history.history)
        print("trained", name, overrides, round(history.history["loss"][0], 3))
    assert "tensorflow" not in sys.modules, "something imported TensorFlow"
    cache = os.path.join(os.environ["KERASRECIPES_CACHE"], "jax")
    entries = os.listdir(cache)
    assert entries, "the compilation cache is empty after the fits"
    print("CACHE", len(entries))
    """
).replace("FALLBACKS", repr(FALLBACKS))

DATA_PARALLEL = textwrap.dedent(
    """
    import sys
    import numpy as np, jax
    import kerasrecipes as kr
    from kerasrecipes import execution, presets

    assert len(jax.devices()) == 2, jax.devices()
    data = kr.datasets.load("sample")
    recipe = presets.fashion_mnist_fast(filters=(4, 8), epochs=2, batch_size=64, seed=0, precision="float32")
    plan = execution.plan(recipe)
    assert plan.data_parallel and plan.devices == 2, plan
    training = recipe.prepare(data.x_train[:500], data.y_train[:500], plan=plan)
    assert len(training.batches) == 7  # 500 // 64: equal batches, split over the 2 devices
    history = training.fit(epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    sharding = training.net.trainable_variables[0].value.sharding
    assert len(sharding.device_set) == 2, sharding  # the weights live on both devices (replicated)
    off = execution.plan(presets.fashion_mnist_fast(data_parallel=False))
    assert not off.data_parallel
    assert "tensorflow" not in sys.modules
    print("DATA-PARALLEL-OK", plan.line())
    """
)


@pytest.fixture(scope="module")
def python_without_tf(tmp_path_factory):
    """A venv whose site-packages link to this Python's, TensorFlow (and its companions) left out."""
    venv = tmp_path_factory.mktemp("notf") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    vsite = subprocess.run([python, "-c", "import site; print(site.getsitepackages()[0])"], check=True,
                           capture_output=True, text=True).stdout.strip()
    for name in os.listdir(site.getsitepackages()[0]):
        if not name.startswith(("tensorflow", "tensorboard", "tf_keras")):
            os.symlink(os.path.join(site.getsitepackages()[0], name), os.path.join(vsite, name))
    return python


def _run(python, args, tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "XLA_FLAGS")}
    environ.update(KERAS_BACKEND="jax", TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg",
                   KERASRECIPES_CACHE=str(tmp_path / "cache"), PYTHONPATH=os.getcwd(), **env)
    return subprocess.run([python, *args], capture_output=True, text=True, timeout=900, env=environ,
                          cwd=str(tmp_path))


def test_every_preset_and_augmentation_trains_compiled_without_tensorflow(python_without_tf, tmp_path):
    result = _run(python_without_tf, ["-c", TRAIN_EVERYTHING], tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    assert result.stdout.count("trained ") == 3 + 5 + 3
    assert not any(f in result.stderr for f in FALLBACKS), result.stderr[-3000:]


def test_two_host_devices_train_data_parallel(python_without_tf, tmp_path):
    result = _run(python_without_tf, ["-c", DATA_PARALLEL], tmp_path,
                  XLA_FLAGS="--xla_force_host_platform_device_count=2")
    assert result.returncode == 0 and "DATA-PARALLEL-OK" in result.stdout, result.stderr[-4000:]
    assert "data-parallel over 2 devices" in result.stdout


def test_train_and_search_commands_without_tensorflow(python_without_tf, tmp_path):
    run = _run(python_without_tf, ["-m", "kerasrecipes", "train", "--recipe", "fashion_mnist_fast", "--dataset",
                                   "sample", "--mixup", "0.2", "--seed", "0", "--out", "run"], tmp_path,
               KERASRECIPES_SMOKE="1")
    assert run.returncode == 0, run.stderr[-4000:]
    state = json.loads((tmp_path / "run" / "run.json").read_text())
    assert state["status"] == "complete" and state["versions"]["backend"] == "jax"
    assert "tensorflow" not in state["versions"]
    assert state["execution"]["input"] == "host" and state["execution"]["compile_cache"]
    assert "input host" in run.stdout and not any(f in run.stderr for f in FALLBACKS)
    search = _run(python_without_tf, ["-m", "kerasrecipes", "search", "--dataset", "sample", "--trials", "2",
                                      "--epochs", "1", "--dir", "search"], tmp_path, KERASRECIPES_SMOKE="1")
    assert search.returncode == 0, search.stderr[-4000:]
    assert "trial 2/2" in search.stdout + search.stderr and "results and plots in search" in search.stderr
