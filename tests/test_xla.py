"""Every augmentation preset compiles with XLA under KERAS_BACKEND=jax (one layer that refuses turns XLA off for the model)."""

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = textwrap.dedent(
    """
    import json, warnings
    import numpy as np, keras
    assert keras.backend.backend() == "jax"
    import kerasrecipes as kr

    report = {}
    for preset in kr.data.AUGMENTATION_PRESETS:
        for shape in [(28, 28, 1), (32, 32, 3)]:
            aug = kr.data.augmentation(preset, shape, seed=0)
            model = keras.Sequential([keras.Input(shape), aug, keras.layers.Flatten(), keras.layers.Dense(2)])
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                              jit_compile=True)
            x = np.random.default_rng(0).uniform(size=(8,) + shape).astype("float32")
            loss = model.fit(x, np.arange(8) % 2, batch_size=8, epochs=1, verbose=0).history["loss"][0]
            report[f"{preset} {shape}"] = {
                "refuse_jit": [type(l).__name__ for l in model._flatten_layers() if not l.supports_jit],
                "jit_compile": model.jit_compile,
                "warnings": [str(w.message) for w in caught],
                "loss": float(loss),
            }
    print("XLA-REPORT " + json.dumps(report))
    """
)


@pytest.mark.skipif(importlib.util.find_spec("jax") is None, reason="JAX is not installed (pip install '.[dev]')")
def test_every_augmentation_preset_compiles_with_xla_under_jax():
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
           "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(l for l in result.stdout.splitlines() if l.startswith("XLA-REPORT "))
    report = json.loads(line.removeprefix("XLA-REPORT "))
    assert len(report) == 10  # 5 presets x (grayscale, RGB)
    for case, seen in report.items():
        assert seen["refuse_jit"] == [], case
        assert seen["jit_compile"] is True, case
        assert not [w for w in seen["warnings"] if "Proceeding with `jit_compile=False`" in w], (case, seen)
        assert np.isfinite(seen["loss"]), (case, seen)
