"""Learning-rate schedules of the CNN training recipes, as serializable Keras schedules.

Steps are optimizer steps (batches): for "every n epochs" pass
`n * steps_per_epoch`. Keras already has `CosineDecay` (with linear warmup),
`CosineDecayRestarts`, `ExponentialDecay`, `PolynomialDecay`,
`InverseTimeDecay` and `PiecewiseConstantDecay`; the schedules here are thin
subclasses or compositions of those, under the names the recipes use, plus the
two that Keras lacks (warmup in front of *any* schedule, and one-cycle).
"""

import math

import keras
from keras import ops

_S = keras.optimizers.schedules


def _positive(name, value, integer=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    if integer:
        ok = ok and float(value).is_integer()
    if not ok:
        kind = "a positive integer" if integer else "a positive number"
        raise ValueError(f"{name} must be {kind}. Received {name}={value!r}")


@keras.saving.register_keras_serializable(package="kerasrecipes")
class StepDecay(_S.ExponentialDecay):
    """Divides the LR by `1 / factor` every `step_size` steps: `lr * factor ** (step // step_size)`.

    The classic "divide by 10 every n epochs". This is Keras's `ExponentialDecay`
    with `staircase=True`, under the recipe's name and arguments.

    Args:
        initial_learning_rate: LR of the first step.
        step_size: Steps between two drops (epochs times steps per epoch).
        factor: Multiplier at each drop. Defaults to `0.1`.
        name: Defaults to `"StepDecay"`.

    Example:
    >>> steps_per_epoch = 100
    >>> schedule = StepDecay(0.1, step_size=30 * steps_per_epoch)  # /10 every 30 epochs
    >>> float(schedule(3000))
    0.01...
    """

    def __init__(self, initial_learning_rate, step_size, factor=0.1, name="StepDecay"):
        _positive("initial_learning_rate", initial_learning_rate)
        _positive("step_size", step_size, integer=True)
        _positive("factor", factor)
        if factor > 1:  # "divides": a factor above 1 would grow the LR without bound
            raise ValueError(f"factor must be in (0, 1]. Received factor={factor!r}")
        super().__init__(initial_learning_rate, int(step_size), factor, staircase=True, name=name)
        self.step_size = int(step_size)
        self.factor = factor

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "step_size": self.step_size,
            "factor": self.factor,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="kerasrecipes")
class LinearDecay(_S.PolynomialDecay):
    """Linear decay from `initial_learning_rate` to `end_learning_rate` over `decay_steps`, then constant.

    Keras's `PolynomialDecay` with `power=1`, with the end LR defaulting to 0.

    Args:
        initial_learning_rate: LR at step 0.
        decay_steps: Steps to reach `end_learning_rate`.
        end_learning_rate: Final LR. Defaults to `0.0`.
        name: Defaults to `"LinearDecay"`.

    Example:
    >>> float(LinearDecay(0.1, 100)(50))
    0.05...
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0, name="LinearDecay"):
        _positive("initial_learning_rate", initial_learning_rate)
        _positive("decay_steps", decay_steps, integer=True)
        if end_learning_rate < 0:
            raise ValueError(f"end_learning_rate must be >= 0. Received end_learning_rate={end_learning_rate!r}")
        super().__init__(initial_learning_rate, int(decay_steps), end_learning_rate, power=1.0, name=name)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "name": self.name,
        }


@keras.saving.register_keras_serializable(package="kerasrecipes")
class CyclicCosine(_S.CosineDecayRestarts):
    """Cosine annealing restarted every `cycle_steps`: the schedule of snapshot ensembles.

    Huang et al. 2017 ("Snapshot Ensembles: Train 1, get M for free"):
    `lr(t) = lr0 / 2 * (cos(pi * (t mod T) / T) + 1)`, T = `cycle_steps`; a
    snapshot is taken at the end of each cycle, where the LR is lowest. This is
    Keras's `CosineDecayRestarts` with equal cycles (`t_mul=1`) and equal peaks
    (`m_mul=1`); `CheckpointEnsemble(mode="snapshot")` reads `cycle_steps`.

    Args:
        initial_learning_rate: LR at the start of every cycle.
        cycle_steps: Steps per cycle (epochs per cycle times steps per epoch).
        alpha: Floor of the LR as a fraction of `initial_learning_rate`.
            Defaults to `0.0`.
        name: Defaults to `"CyclicCosine"`.

    Example:
    >>> schedule = CyclicCosine(0.1, cycle_steps=10 * steps_per_epoch)  # 10-epoch cycles
    """

    def __init__(self, initial_learning_rate, cycle_steps, alpha=0.0, name="CyclicCosine"):
        _positive("initial_learning_rate", initial_learning_rate)
        _positive("cycle_steps", cycle_steps, integer=True)
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1]. Received alpha={alpha!r}")
        super().__init__(initial_learning_rate, int(cycle_steps), t_mul=1.0, m_mul=1.0, alpha=alpha, name=name)
        self.cycle_steps = int(cycle_steps)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "cycle_steps": self.cycle_steps,
            "alpha": self.alpha,
            "name": self.name,
        }


def _as_schedule(value):
    if isinstance(value, _S.LearningRateSchedule):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return None
    raise ValueError(
        "schedule must be a keras.optimizers.schedules.LearningRateSchedule or a "
        f"positive float learning rate. Received schedule={value!r}"
    )


@keras.saving.register_keras_serializable(package="kerasrecipes")
class Warmup(_S.LearningRateSchedule):
    """Linear warmup in front of any schedule (or a constant LR).

    For `step < warmup_steps` the LR rises linearly from
    `initial_learning_rate` to the wrapped schedule's step-0 value; after that it
    is `schedule(step - warmup_steps)`, i.e. the wrapped schedule starts when
    warmup ends. Keras's `CosineDecay` has a warmup of its own, but only for
    cosine decay; this one goes in front of `StepDecay`, `CyclicCosine`,
    `PiecewiseConstantDecay` or any other schedule.

    Args:
        schedule: A `LearningRateSchedule`, or a float for a constant LR after
            warmup.
        warmup_steps: Length of the warmup, in steps.
        initial_learning_rate: LR at step 0. Defaults to `0.0`.
        name: Defaults to `"Warmup"`.

    Example:
    >>> schedule = Warmup(StepDecay(0.4, 30 * steps_per_epoch), warmup_steps=5 * steps_per_epoch)
    """

    def __init__(self, schedule, warmup_steps, initial_learning_rate=0.0, name="Warmup"):
        self._inner = _as_schedule(schedule)
        _positive("warmup_steps", warmup_steps, integer=True)
        if initial_learning_rate < 0:
            raise ValueError(
                f"initial_learning_rate must be >= 0. Received initial_learning_rate={initial_learning_rate!r}"
            )
        self.schedule = schedule
        self.warmup_steps = int(warmup_steps)
        self.initial_learning_rate = initial_learning_rate
        self.name = name

    def _after(self, step):
        if self._inner is None:
            return ops.full_like(step, float(self.schedule))
        return ops.cast(self._inner(step), "float32")

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = float(self.warmup_steps)
        target = self._after(ops.zeros_like(step))
        rising = self.initial_learning_rate + (target - self.initial_learning_rate) * step / warmup
        # The wrapped schedule is evaluated at max(step - warmup, 0) so it never
        # sees a negative step (both branches of `where` are computed).
        after = self._after(ops.maximum(step - warmup, 0.0))
        return ops.where(step < warmup, rising, after)

    def get_config(self):
        schedule = self.schedule
        if self._inner is not None:
            schedule = _S.serialize(self._inner)
        return {
            "schedule": schedule,
            "warmup_steps": self.warmup_steps,
            "initial_learning_rate": self.initial_learning_rate,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config["schedule"], dict):
            config["schedule"] = _S.deserialize(config["schedule"])
        return cls(**config)


@keras.saving.register_keras_serializable(package="kerasrecipes")
class OneCycle(_S.LearningRateSchedule):
    """The one-cycle policy (Smith 2018): up from a low LR to `max_learning_rate`, then down far below.

    For the first `pct_start * total_steps` steps the LR rises along a half
    cosine from `max_learning_rate / div_factor` to `max_learning_rate`; then a
    Keras `CosineDecay` brings it down to
    `max_learning_rate / (div_factor * final_div_factor)` at `total_steps`.
    Past `total_steps` the LR stays at its final value; momentum is not cycled.

    The shape is PyTorch's `OneCycleLR` (cosine annealing, two phases) with two
    differences of one step: the peak is at step `round(pct_start * total_steps)`
    (PyTorch: `pct_start * total_steps - 1`) and the floor at step `total_steps`
    (PyTorch: `total_steps - 1`, its last step). So a PyTorch run's last update
    uses the final LR, ours one a hair above it.

    Args:
        max_learning_rate: Peak LR.
        total_steps: Length of the whole cycle, in steps (usually all of training).
        pct_start: Fraction of the steps spent rising. Defaults to `0.3`.
        div_factor: Start LR is `max_learning_rate / div_factor`. Defaults to `25.0`.
        final_div_factor: Final LR is the start LR divided by this. Defaults to `1e4`.
        name: Defaults to `"OneCycle"`.

    Example:
    >>> schedule = OneCycle(0.1, total_steps=epochs * steps_per_epoch)
    """

    def __init__(self, max_learning_rate, total_steps, pct_start=0.3, div_factor=25.0,
                 final_div_factor=1e4, name="OneCycle"):
        _positive("max_learning_rate", max_learning_rate)
        _positive("total_steps", total_steps, integer=True)
        if not 0.0 < pct_start < 1.0:
            raise ValueError(f"pct_start must be in (0, 1). Received pct_start={pct_start!r}")
        _positive("div_factor", div_factor)
        _positive("final_div_factor", final_div_factor)
        self.max_learning_rate = max_learning_rate
        self.total_steps = int(total_steps)
        self.pct_start = pct_start
        self.div_factor = div_factor
        self.final_div_factor = final_div_factor
        self.name = name
        self.warmup_steps = max(1, int(round(pct_start * self.total_steps)))
        self.initial_lr = max_learning_rate / div_factor
        self.final_lr = self.initial_lr / final_div_factor
        self._decay = _S.CosineDecay(
            max_learning_rate,
            decay_steps=max(1, self.total_steps - self.warmup_steps),
            alpha=self.final_lr / max_learning_rate,
        )

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warm = float(self.warmup_steps)
        frac = ops.minimum(step / warm, 1.0)
        rising = self.initial_lr + (self.max_learning_rate - self.initial_lr) * (
            1.0 - ops.cos(math.pi * frac)
        ) / 2.0
        falling = ops.cast(self._decay(ops.maximum(step - warm, 0.0)), "float32")
        return ops.where(step < warm, rising, falling)

    def get_config(self):
        return {
            "max_learning_rate": self.max_learning_rate,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
            "name": self.name,
        }


def scale_lr(lr: float, batch_size: int, base_batch_size: int = 256) -> float:
    """The linear scaling rule (Goyal et al. 2017): `lr * batch_size / base_batch_size`.

    Args:
        lr: LR that works at `base_batch_size`.
        batch_size: The batch size you train with.
        base_batch_size: The batch size `lr` was tuned for. Defaults to `256`.

    Returns:
        The LR for `batch_size`, as a float.

    Example:
    >>> scale_lr(0.1, 1024)
    0.4
    """
    _positive("lr", lr)
    _positive("batch_size", batch_size, integer=True)
    _positive("base_batch_size", base_batch_size, integer=True)
    return float(lr) * batch_size / base_batch_size


def cycle_end_steps(schedule, max_step: int):
    """Steps (<= max_step) at which a cyclic schedule restarts, or None if it has no cycles.

    Knows `CyclicCosine`, Keras's `CosineDecayRestarts` (any `t_mul`) and
    either of them behind a `Warmup`. Used by `CheckpointEnsemble(mode="snapshot")`.

    Cycle `n` of `CosineDecayRestarts` ends where the cumulative length
    `first_decay_steps * (1 + t_mul + ... + t_mul ** (n - 1))` is reached, and
    Keras starts the next cycle at the first whole step at or past that length
    (its `floor` of the cycle index): the ceiling, not the rounding. For
    `first_decay_steps=7, t_mul=1.5` that is 7, 18, 34, 57, 93, 146.
    """
    if int(max_step) != max_step or max_step < 0:
        raise ValueError(f"max_step must be an integer >= 0. Received max_step={max_step!r}")
    offset = 0
    if isinstance(schedule, Warmup):
        offset, schedule = schedule.warmup_steps, schedule._inner
    if not isinstance(schedule, _S.CosineDecayRestarts):
        return None
    t_mul = float(_S.CosineDecayRestarts.get_config(schedule)["t_mul"])
    first = float(schedule.first_decay_steps)
    ends, cycle = [], 1
    while True:
        # The closed form, not a running sum, so no error piles up over cycles; the
        # 1e-9 keeps an exact integer length (t_mul=2: 10, 30, 70) from ceiling past itself.
        length = first * cycle if t_mul == 1.0 else first * (1.0 - t_mul**cycle) / (1.0 - t_mul)
        end = offset + math.ceil(length - 1e-9)
        if end > max_step:
            return ends
        ends.append(int(end))
        cycle += 1
