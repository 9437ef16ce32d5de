"""Which Keras dtype policy a run should use on this machine: `choose`.

Keras lets you pick a dtype policy (`keras.config.set_dtype_policy("mixed_bfloat16")`)
but leaves the choice to you, and the right choice depends on the hardware:
bfloat16 compute pays only where the chip has bfloat16 matrix units. On a
2-core Intel Xeon with AVX512_BF16 and AMX-BF16 a bfloat16 matmul ran ~4.7x a
float32 one (TensorFlow, 2048 x 2048) and the `fashion_mnist_fast` training
steps ~1.35x faster in CPU time; on an AMD EPYC without those units bfloat16 is
emulated and slower than float32. NVIDIA GPUs compute bfloat16 natively from
compute capability 8.0 (Ampere) on. `choose` reads those facts and returns
the policy with a one-line reason, so a run can print and record why it trains
in the precision it does. It only decides; it sets nothing.
"""

import functools
import time

import numpy as np

# Explicit policies accepted as they are: Keras's float and mixed policies.
POLICIES = ("float32", "mixed_bfloat16", "bfloat16", "mixed_float16", "float16", "float64")
# CPU flags (as /proc/cpuinfo spells them) that mean bfloat16 matrix units:
# AVX512_BF16 (dot products, Cooper Lake / Zen 4 on) and AMX-BF16 (tiles, Sapphire Rapids on).
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
# First NVIDIA compute capability with bfloat16 tensor cores (Ampere, A100).
BF16_GPU_CAPABILITY = (8, 0)
# The measured matmul speed-up below which bfloat16 is not worth its rounding:
# the preset's steps gained ~1.35x where the matmul gained ~4.7x, so a matmul
# gain under 1.3x leaves nothing for the training step.
MIN_SPEEDUP = 1.3


def choose(precision: str = "auto", *, cpu_flags=None, gpu=None, measure=False) -> tuple:
    """The dtype policy for a run, and why.

    With `precision="auto"`: `"mixed_bfloat16"` (bfloat16 compute, float32
    weights) where training runs on a GPU of compute capability >= 8.0, or on
    a CPU that has `amx_bf16` or `avx512_bf16`; `"float32"` elsewhere. Any
    explicit Keras float policy (see `POLICIES`) is returned as it is.

    Args:
        precision: `"auto"` or a policy name from `POLICIES`. Defaults to `"auto"`.
        cpu_flags: The CPU's flags (an iterable of names, or one
            space-separated string); `None` reads them from `/proc/cpuinfo`.
            For tests and for deciding for another machine.
        gpu: The training GPU's compute capability as `(major, minor)`,
            `False` for no GPU, or `None` to ask the backend (JAX:
            `jax.devices()`; TensorFlow: its physical GPU list; torch:
            `torch.cuda`). Defaults to `None`.
        measure: On a CPU, also time a bfloat16 against a float32 matmul
            (`matmul_speedup`) and choose bfloat16 only if it is at least
            `MIN_SPEEDUP` times faster, whatever the flags say (for virtual
            machines whose flags mislead). A callable returning the speed-up
            stands in for the timing (tests). Defaults to `False`.

    Returns:
        `(policy, reason)`: a policy name for `keras.config.set_dtype_policy`
        and a one-line human-readable reason.

    Example:
        >>> choose(cpu_flags="avx2 avx512f", gpu=False)
        ('float32', 'CPU without bfloat16 units (no amx_bf16 / avx512_bf16)')
        >>> choose(gpu=(9, 0))[0]
        'mixed_bfloat16'
    """
    if not isinstance(precision, str) or (precision != "auto" and precision not in POLICIES):
        raise ValueError(f"precision must be 'auto' or one of {POLICIES}. Received precision={precision!r}")
    if gpu is not None and gpu is not False:
        if (not isinstance(gpu, tuple) or len(gpu) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) for v in gpu)):
            raise ValueError(f"gpu must be None, False or a compute capability (major, minor). Received gpu={gpu!r}")
    if not (isinstance(measure, bool) or callable(measure)):
        raise ValueError(f"measure must be a bool or a callable returning a speed-up. Received measure={measure!r}")
    if isinstance(cpu_flags, str):
        cpu_flags = cpu_flags.split()
    if precision != "auto":
        return precision, f"explicit precision={precision!r}"

    if gpu is None:
        gpu = gpu_capability()
    if gpu:
        cc = f"{gpu[0]}.{gpu[1]}"
        if tuple(gpu) >= BF16_GPU_CAPABILITY:
            return "mixed_bfloat16", f"GPU of compute capability {cc} computes bfloat16 natively"
        return "float32", f"GPU of compute capability {cc} < 8.0 has no bfloat16 tensor cores"

    flags = set(read_cpu_flags() if cpu_flags is None else cpu_flags)
    have = [f for f in BF16_CPU_FLAGS if f in flags]
    said = f"CPU with {' and '.join(have)}" if have else "CPU without bfloat16 units (no amx_bf16 / avx512_bf16)"
    if measure:
        speedup = float(measure() if callable(measure) else matmul_speedup())
        if speedup >= MIN_SPEEDUP:
            return "mixed_bfloat16", f"{said}; bfloat16 matmul measured {speedup:.2f}x float32 (>= {MIN_SPEEDUP})"
        return "float32", f"{said}; bfloat16 matmul measured {speedup:.2f}x float32 (< {MIN_SPEEDUP})"
    if have:
        return "mixed_bfloat16", said
    return "float32", said


@functools.lru_cache(maxsize=1)
def _cpuinfo_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):  # x86 / ARM spelling
                    return tuple(line.split(":", 1)[1].split())
    except OSError:
        pass
    return ()


def read_cpu_flags() -> tuple:
    """The CPU's flags from `/proc/cpuinfo` (empty where there is none, e.g. macOS)."""
    return _cpuinfo_flags()


def gpu_capability():
    """The first GPU's compute capability `(major, minor)` on the current backend, or `False`.

    Never raises: a backend that cannot say (no CUDA build, a non-NVIDIA
    accelerator) counts as no GPU.
    """
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "jax":
            import jax

            gpus = [d for d in jax.devices() if d.platform == "gpu"]
            if gpus:
                return _parse_capability(getattr(gpus[0], "compute_capability", None))
        elif backend == "tensorflow":
            import tensorflow as tf  # device query only; models and layers stay backend-free

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                details = tf.config.experimental.get_device_details(gpus[0])
                return _parse_capability(details.get("compute_capability"))
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                return tuple(torch.cuda.get_device_capability(0))
    except Exception:  # a backend's device query failing must not stop a run; float32 is always safe
        return False
    return False


def _parse_capability(value):
    """(8, 0) from "8.0", (8, 0) or None-ish (then (0, 0): a GPU of unknown capability)."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return int(value[0]), int(value[1])
    if isinstance(value, str) and "." in value:
        major, minor = value.split(".", 1)
        return int(major), int(minor)
    return (0, 0)


@functools.lru_cache(maxsize=4)
def matmul_speedup(size: int = 512, repeats: int = 7) -> float:
    """How many times faster a `size` x `size` matmul runs in bfloat16 than in float32.

    Through `keras.ops.matmul` on the current backend, the result brought back
    to the host; the two dtypes alternate, `repeats` timings each after one
    warm-up, and the best of each is compared, so that a burst of load from
    other processes hits both alike. About a second on 2 CPU cores at the
    default size; cached per process. On a shared, loaded machine it still
    scatters (BENCHMARKS.md), which is why `choose` trusts the CPU flags
    unless asked to measure.
    """
    import keras

    rng = np.random.default_rng(0)
    operands = {}
    for dtype in ("float32", "bfloat16"):
        a = keras.ops.convert_to_tensor(rng.random((size, size), dtype=np.float32), dtype=dtype)
        b = keras.ops.convert_to_tensor(rng.random((size, size), dtype=np.float32), dtype=dtype)
        keras.ops.convert_to_numpy(keras.ops.matmul(a, b))  # warm-up: kernels chosen, caches filled
        operands[dtype] = (a, b)
    best = {"float32": float("inf"), "bfloat16": float("inf")}
    for _ in range(repeats):
        for dtype, (a, b) in operands.items():
            start = time.perf_counter()
            keras.ops.convert_to_numpy(keras.ops.matmul(a, b))
            best[dtype] = min(best[dtype], time.perf_counter() - start)
    return best["float32"] / best["bfloat16"]
