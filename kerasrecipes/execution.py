"""How a run executes, decided once: precision, input path, compilation cache, devices and data parallelism.

`plan(recipe)` returns an `ExecutionPlan`: a record that is printed in a run's
first lines, written into `run.json` beside the recipe, and that the training
code asks instead of the environment (STYLE: decide by backend and device in
one place, print the decision, record it).

The input paths (BENCHMARKS.md, "Input path", has the measurements):

- `"device"`: under JAX with an accelerator, the whole training set is put on
  the device once and every batch is a gather there (`data.ArrayBatches(...,
  on_device=True)`); airbench's way, nothing but indices crosses per step.
- `"host"`: batches are sliced from host arrays and copied per step (Keras's
  JAX loop copies one batch ahead); the default on a CPU, under torch and
  under TensorFlow (where Keras feeds the same batches through tf.data: a
  tf.data pipeline of its own measured no faster, BENCHMARKS.md).

Whatever the path, images travel as uint8 and are scaled, augmented and mixed
inside the compiled step (`models.Augmented`), so no path needs TensorFlow.
"""

import dataclasses
import os

import keras

INPUT_PATHS = ("auto", "host", "device")
CACHE_ENV = "KERASRECIPES_CACHE"


def cache_dir() -> str:
    """`~/.cache/kerasrecipes` (or `$KERASRECIPES_CACHE`): where compiled steps are kept."""
    return os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "kerasrecipes")


def enable_compile_cache() -> str | None:
    """Turns on JAX's persistent compilation cache under `cache_dir()/jax`; returns that folder.

    Every compiled step is kept, however short its compile (JAX keeps only
    those over a second by default), so a second run, a resumed run or a
    search's next trial with the same shapes loads its steps instead of
    compiling them. `None` under other backends (TensorFlow and torch keep
    no such cache).
    """
    if keras.backend.backend() != "jax":
        return None
    import jax

    folder = os.path.join(cache_dir(), "jax")
    os.makedirs(folder, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", folder)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return folder


def device() -> str:
    """The device a run trains on, in words (`"CPU (2 cores)"`, `"GPU (compute capability 9.0)"`)."""
    from kerasrecipes import precision

    gpu = precision.gpu_capability()
    return f"GPU (compute capability {gpu[0]}.{gpu[1]})" if gpu else f"CPU ({os.cpu_count()} cores)"


def accelerators() -> list:
    """The accelerators the backend sees (GPUs, TPUs), as backend device objects or names; empty on a CPU."""
    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            return [d for d in jax.devices() if d.platform != "cpu"]
        if backend == "torch":
            import torch

            return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        if backend == "tensorflow":
            import tensorflow as tf  # device query only

            return tf.config.list_logical_devices("GPU")
    except Exception:  # a failing device query means no accelerator, never a failed run
        return []
    return []


def training_devices() -> list:
    """The devices one data-parallel run would use: the accelerators, else (JAX) every host device.

    `XLA_FLAGS=--xla_force_host_platform_device_count=2` makes JAX show two
    CPU devices, which is how data parallelism is tested without GPUs.
    """
    found = accelerators()
    if found or keras.backend.backend() != "jax":
        return found
    import jax

    return jax.devices()


def input_path(choice: str = "auto") -> tuple:
    """`(path, reason)`: how batches reach the device (see the module docstring)."""
    if choice not in INPUT_PATHS:
        raise ValueError(f"input must be one of {', '.join(INPUT_PATHS)}. Received input={choice!r}")
    backend = keras.backend.backend()
    if choice == "device":
        if backend != "jax":
            raise ValueError(f"input='device' is a JAX path; the backend is {backend!r}. Received input='device'")
        return "device", "asked for"
    if choice == "host":
        return "host", "asked for"
    if backend == "jax" and accelerators():
        return "device", "an accelerator under JAX: the training set is copied to it once"
    return "host", "no accelerator" if backend == "jax" else f"the {backend} backend"


@dataclasses.dataclass(frozen=True)
class ExecutionPlan:
    """Every decision about how a run executes, made once (`plan`)."""

    backend: str
    device: str
    precision: str
    precision_reason: str
    input: str
    input_reason: str
    devices: int
    data_parallel: bool
    compile_cache: str | None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def line(self) -> str:
        """One line for a person: where, in what precision, how the data gets there."""
        parallel = f", data-parallel over {self.devices} devices" if self.data_parallel else ""
        cache = f"; compiled steps cached in {self.compile_cache}" if self.compile_cache else ""
        return (f"on {self.device} ({self.backend}) in {self.precision} ({self.precision_reason}); input "
                f"{self.input} ({self.input_reason}){parallel}{cache}")

    def distribution(self):
        """The `keras.distribution.DataParallel` of this plan, or `None`."""
        if not self.data_parallel:
            return None
        return keras.distribution.DataParallel(devices=keras.distribution.list_devices())


def plan(recipe) -> ExecutionPlan:
    """The `ExecutionPlan` of a `Recipe` on this machine and backend (its `precision` is resolved here).

    Data parallelism (JAX only: `keras.distribution.DataParallel`) is on when
    the recipe allows it (`data_parallel`) and more than one device is seen.

    Example:
    >>> plan(kerasrecipes.presets.fashion_mnist_fast()).line()
    'on CPU (2 cores) (tensorflow) in float32 (...); input host (no accelerator)'
    """
    policy, reason = recipe.policy()
    path, why = input_path(recipe.input)
    backend = keras.backend.backend()
    devices = len(training_devices()) if backend == "jax" else max(1, len(accelerators()))
    parallel = bool(recipe.data_parallel) and backend == "jax" and devices > 1
    if parallel and path == "device":
        path, why = "host", "data-parallel: each batch is split over the devices as it is copied"
    return ExecutionPlan(backend=backend, device=device(), precision=policy, precision_reason=reason, input=path,
                         input_reason=why, devices=devices, data_parallel=parallel,
                         compile_cache=enable_compile_cache())
