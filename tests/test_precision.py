import doctest
import sys
import types

import keras
import pytest

from kerasrecipes import precision
from kerasrecipes.precision import choose


@pytest.fixture(autouse=True)
def _fixed_seed():
    # Replaces conftest's autouse fixture for this module: nothing here builds a model or draws random
    # numbers, and its keras.backend.clear_session() teardown (a full gc) cost 0.5-4 s per test.
    yield


NO_BF16 = "fpu sse2 avx avx2 fma avx512f"  # an AVX-512 CPU without bfloat16 units (Skylake-SP)


# One test per decision table (a failing row shows itself in the assertion), not one test per row.
CPU_CASES = [
    ("fpu avx avx2 fma", "float32"),  # the AMD EPYC this project is measured on
    (NO_BF16, "float32"),  # avx512f alone is not bfloat16
    ("avx2 avx512f avx512_bf16", "mixed_bfloat16"),  # Cooper Lake, Zen 4
    ("avx2 avx512f avx512_bf16 amx_bf16 amx_tile", "mixed_bfloat16"),  # Sapphire Rapids
    ("amx_bf16", "mixed_bfloat16"),
    ("", "float32"),
]


def test_auto_on_cpu_follows_the_bf16_flags():
    for flags, expected in CPU_CASES:
        policy, reason = choose(cpu_flags=flags, gpu=False)
        assert (flags, policy) == (flags, expected)
        assert "CPU" in reason
        assert choose(cpu_flags=flags.split(), gpu=False)[0] == expected  # an iterable works like the string


def test_reason_names_the_flags_found():
    assert choose(cpu_flags="avx512_bf16 amx_bf16", gpu=False)[1] == "CPU with amx_bf16 and avx512_bf16"


GPU_CASES = [
    ((7, 0), "float32"), ((7, 5), "float32"),  # V100, T4: no bfloat16 tensor cores
    ((8, 0), "mixed_bfloat16"), ((8, 6), "mixed_bfloat16"), ((9, 0), "mixed_bfloat16"),  # A100, A10/3090, H100/H200
]


def test_auto_on_gpu_follows_compute_capability_and_ignores_cpu_flags():
    # The GPU trains, so a bfloat16 CPU does not matter, nor does a plain one.
    for capability, expected in GPU_CASES:
        for flags in ("avx2", "avx512_bf16 amx_bf16"):
            policy, reason = choose(cpu_flags=flags, gpu=capability)
            assert (capability, policy) == (capability, expected)
            assert f"{capability[0]}.{capability[1]}" in reason


def test_measure_decides_over_the_flags():
    # Both ways: flags present but the matmul is slow (a VM), flags absent but bfloat16 is fast.
    for speedup, expected in [(0.7, "float32"), (1.29, "float32"), (1.3, "mixed_bfloat16"), (4.7, "mixed_bfloat16")]:
        for flags in ("avx2", "avx512_bf16 amx_bf16"):
            policy, reason = choose(cpu_flags=flags, gpu=False, measure=lambda: speedup)
            assert (speedup, policy) == (speedup, expected)
            assert f"{speedup:.2f}x" in reason


def test_measure_is_not_asked_on_a_gpu_nor_for_an_explicit_policy():
    def timer():
        raise AssertionError("timed although the decision did not need it")

    assert choose(gpu=(8, 0), measure=timer)[0] == "mixed_bfloat16"
    assert choose("float32", measure=timer) == ("float32", "explicit precision='float32'")


def test_explicit_policies_pass_through_and_are_keras_policies():
    for name in precision.POLICIES:
        assert choose(name, cpu_flags="amx_bf16", gpu=(9, 0))[0] == name
        assert keras.DTypePolicy(name).name == name  # each is a policy Keras accepts


BAD = [
    ({"precision": "bf16"}, "precision='bf16'"),
    ({"precision": "int8"}, "precision='int8'"),
    ({"precision": None}, "precision=None"),
    ({"precision": True}, "precision=True"),
    ({"gpu": 8.0}, "gpu=8.0"),
    ({"gpu": (8, "0")}, "gpu=(8, '0')"),
    ({"gpu": True}, "gpu=True"),
    ({"measure": "yes"}, "measure='yes'"),
]


def test_bad_arguments_name_the_argument_and_echo_the_value():
    for kwargs, fragment in BAD:
        with pytest.raises(ValueError) as error:
            choose(**kwargs)
        assert "Received " + fragment in str(error.value)


def test_bad_precision_is_rejected_before_any_device_query(monkeypatch):
    monkeypatch.setattr(precision, "gpu_capability", lambda: pytest.fail("queried the device"))
    with pytest.raises(ValueError):
        choose("fp32")


def test_reads_this_machines_flags_and_finds_no_gpu_here():
    flags = precision.read_cpu_flags()
    assert isinstance(flags, tuple)
    if flags:  # Linux x86 or ARM
        assert all(isinstance(f, str) and " " not in f for f in flags)
    assert precision.gpu_capability() is False  # the test machines are CPU-only
    policy, reason = choose()
    expected = "mixed_bfloat16" if set(flags) & set(precision.BF16_CPU_FLAGS) else "float32"
    assert policy == expected


def test_gpu_capability_through_jax_devices(monkeypatch):
    # A fake jax module: what jax.devices() shows on a CUDA machine (platform "gpu", compute_capability "9.0").
    gpu = types.SimpleNamespace(platform="gpu", compute_capability="9.0")
    cpu = types.SimpleNamespace(platform="cpu")
    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(devices=lambda: [cpu, gpu]))
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    assert precision.gpu_capability() == (9, 0)
    assert choose(cpu_flags="avx2")[0] == "mixed_bfloat16"
    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(devices=lambda: [cpu]))
    assert precision.gpu_capability() is False

    def broken():
        raise RuntimeError("no CUDA")

    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(devices=broken))
    assert precision.gpu_capability() is False  # a failing query means float32, not a crash


def test_capability_parsing():
    for value, expected in [("8.0", (8, 0)), ("8.6", (8, 6)), ((7, 5), (7, 5)), (None, (0, 0))]:
        assert precision._parse_capability(value) == expected


def test_matmul_speedup_really_times_both_dtypes():
    speedup = precision.matmul_speedup(size=128, repeats=2)
    assert 0.02 < speedup < 50


def test_docstring_example_runs():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(choose, "choose", globs={"choose": choose}):
        runner.run(test)
    assert runner.failures == 0 and runner.tries == 2
