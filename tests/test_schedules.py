import math

import keras
import numpy as np
import pytest

from kerasrecipes import schedules

S = keras.optimizers.schedules
STEPS = np.arange(0, 400, 7)


def values(schedule, steps=STEPS):
    return np.array([float(keras.ops.convert_to_numpy(schedule(int(s)))) for s in steps])


def test_step_decay_matches_piecewise_constant():
    ours = schedules.StepDecay(0.1, step_size=100, factor=0.1)
    reference = S.PiecewiseConstantDecay([99, 199, 299], [0.1, 0.01, 0.001, 0.0001])
    # PiecewiseConstantDecay switches after the boundary step; StepDecay at it.
    np.testing.assert_allclose(values(ours), values(reference), rtol=1e-5)
    assert float(ours(100)) == pytest.approx(0.01)


def test_linear_decay_matches_numpy():
    ours = schedules.LinearDecay(0.2, decay_steps=300, end_learning_rate=0.02)
    expected = np.interp(STEPS, [0, 300], [0.2, 0.02])
    np.testing.assert_allclose(values(ours), expected, rtol=1e-5)


def test_cyclic_cosine_is_huang_et_al():
    ours = schedules.CyclicCosine(0.1, cycle_steps=50)
    t = STEPS
    expected = 0.1 / 2 * (np.cos(np.pi * (t % 50) / 50) + 1)
    np.testing.assert_allclose(values(ours), expected, rtol=1e-4, atol=1e-7)
    # and it is Keras's CosineDecayRestarts with equal cycles
    np.testing.assert_allclose(values(ours), values(S.CosineDecayRestarts(0.1, 50, t_mul=1.0, m_mul=1.0)))


def test_warmup_in_front_of_any_schedule():
    inner = schedules.StepDecay(0.4, step_size=100)
    ours = schedules.Warmup(inner, warmup_steps=20, initial_learning_rate=0.04)
    v = values(ours, np.arange(0, 200))
    np.testing.assert_allclose(v[:20], 0.04 + (0.4 - 0.04) * np.arange(20) / 20, rtol=1e-5)
    np.testing.assert_allclose(v[20:], values(inner, np.arange(0, 180)), rtol=1e-5)
    constant = schedules.Warmup(0.1, warmup_steps=10)
    np.testing.assert_allclose(values(constant, [0, 5, 10, 50]), [0.0, 0.05, 0.1, 0.1], rtol=1e-5)


def test_one_cycle_shape():
    ours = schedules.OneCycle(1.0, total_steps=100, pct_start=0.3, div_factor=25, final_div_factor=1e4)
    t = np.arange(0, 120)
    v = values(ours, t)
    low, final = 1.0 / 25, 1.0 / 25 / 1e4
    rising = low + (1.0 - low) * (1 - np.cos(np.pi * t[:30] / 30)) / 2
    s = np.minimum(t[30:] - 30, 70) / 70
    falling = final + (1.0 - final) * (1 + np.cos(np.pi * s)) / 2
    np.testing.assert_allclose(v, np.concatenate([rising, falling]), rtol=1e-4, atol=1e-7)
    assert v.argmax() == 30 and v[-1] == pytest.approx(final, rel=1e-3)
    # Where it differs from PyTorch's OneCycleLR (peak at pct*T - 1, floor at T - 1), as documented:
    odd = values(schedules.OneCycle(1.0, total_steps=50, pct_start=0.25), range(52))
    assert odd.argmax() == round(0.25 * 50) == 12
    assert odd[50] == pytest.approx(odd.min(), rel=1e-6) and odd[49] > odd[50]


ALL = [
    schedules.StepDecay(0.1, 30),
    schedules.LinearDecay(0.1, 30, 0.01),
    schedules.CyclicCosine(0.1, 30, alpha=0.1),
    schedules.Warmup(schedules.CyclicCosine(0.1, 30), 5, 0.01),
    schedules.Warmup(0.3, 5),
    schedules.OneCycle(0.5, 60),
]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: s.name)
def test_round_trips_through_keras_file(schedule, tmp_path):
    restored = S.deserialize(S.serialize(schedule))
    assert type(restored) is type(schedule)
    np.testing.assert_allclose(values(restored), values(schedule), rtol=1e-6)

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(schedule), "mse")
    model.fit(np.ones((8, 3)), np.ones((8, 2)), epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    sched = S.deserialize(loaded.optimizer.get_config()["learning_rate"])
    np.testing.assert_allclose(values(sched), values(schedule), rtol=1e-6)
    np.testing.assert_allclose(
        loaded.predict(np.ones((2, 3)), verbose=0), model.predict(np.ones((2, 3)), verbose=0)
    )


def test_scale_lr_linear_rule():
    assert schedules.scale_lr(0.1, 1024) == pytest.approx(0.4)
    assert schedules.scale_lr(0.1, 32, base_batch_size=128) == pytest.approx(0.025)
    with pytest.raises(ValueError, match="batch_size.*Received batch_size=0"):
        schedules.scale_lr(0.1, 0)


@pytest.mark.parametrize("first, t_mul, steps", [(7, 1.5, 150), (10, 2.0, 75), (5, 1.3, 95), (30, 1.0, 65)])
def test_cycle_end_steps_are_where_keras_restarts(first, t_mul, steps):
    # Keras's schedule called at each step in turn (a vectorized call rounds its log
    # differently and moves some restarts): a restart is where the LR jumps up.
    keras_schedule = S.CosineDecayRestarts(0.1, first, t_mul=t_mul)
    v = values(keras_schedule, range(steps))
    restarts = [int(i) for i in np.flatnonzero(v[1:] > v[:-1]) + 1]
    assert len(restarts) >= 2
    assert schedules.cycle_end_steps(keras_schedule, steps - 1) == restarts
    if (first, t_mul) == (7, 1.5):  # the case: rounding said 7, 18, 33, 57, 92, 145
        assert restarts == [7, 18, 34, 57, 93, 146]
    assert schedules.cycle_end_steps(schedules.Warmup(keras_schedule, 4), steps + 3) == [4 + r for r in restarts]


def test_cycle_end_steps():
    assert schedules.cycle_end_steps(schedules.CyclicCosine(0.1, 30), 100) == [30, 60, 90]
    assert schedules.cycle_end_steps(S.CosineDecayRestarts(0.1, 10, t_mul=2.0), 100) == [10, 30, 70]
    warm = schedules.Warmup(schedules.CyclicCosine(0.1, 30), 5)
    assert schedules.cycle_end_steps(warm, 100) == [35, 65, 95]
    assert schedules.cycle_end_steps(schedules.StepDecay(0.1, 30), 100) is None


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: schedules.StepDecay(0.1, 0), "step_size"),
        (lambda: schedules.CyclicCosine(0.1, 10.5), "cycle_steps"),
        (lambda: schedules.Warmup("cosine", 10), "schedule"),
        (lambda: schedules.OneCycle(0.1, 100, pct_start=1.5), "pct_start"),
        (lambda: schedules.LinearDecay(-1.0, 10), "initial_learning_rate"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()
