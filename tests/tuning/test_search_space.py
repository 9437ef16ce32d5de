import math

import keras_tuner as kt
import numpy as np
import pytest

from kerasrecipes.models import mlp, vgg
from kerasrecipes.tuning import (
    Choice,
    Fixed,
    IntUniform,
    LogUniform,
    SearchSpace,
    Uniform,
    default_mlp_space,
    default_vgg_space,
)


def _draws(param, n=3000, name="p"):
    """n values drawn exactly as keras-tuner's RandomSearch oracle draws them (one seed per draw)."""
    hp_object = SearchSpace.ranges(**{name: param}).to_hyperparameters().space[0]
    return np.array([hp_object.random_sample(seed) for seed in range(n)])


def test_log_uniform_spreads_draws_evenly_over_the_decades():
    values = _draws(LogUniform(1e-4, 1e-1))
    assert values.min() >= 1e-4 and values.max() <= 1e-1
    counts = np.histogram(np.log10(values), bins=[-4, -3, -2, -1])[0]
    # Chi-square against 1000 per decade, 2 degrees of freedom: 13.8 is the 0.1% critical value.
    chi2 = float(np.sum((counts - 1000.0) ** 2 / 1000.0))
    assert chi2 < 13.8, counts
    assert np.all(np.abs(counts - 1000) < 120), counts


def test_linear_range_bunches_draws_in_the_top_decade():
    values = _draws(Uniform(1e-4, 1e-1))
    top = np.mean(values >= 1e-2)
    assert 0.88 < top < 0.92  # 90% of a linear draw over [1e-4, 1e-1] is above 1e-2
    assert np.mean(values < 1e-3) < 0.02


def test_declarations_are_keras_tuner_hyperparameters():
    space = SearchSpace.ranges(
        lr=LogUniform(1e-4, 1e-1), dropout=Uniform(0.0, 0.6), depth=IntUniform(1, 4, log=True),
        act=Choice("relu", "elu"), head="gap",
    )
    by_name = {p.name: p for p in space.to_hyperparameters().space}
    assert set(by_name) == {"lr", "dropout", "depth", "act"}  # Fixed values are not searched
    assert isinstance(by_name["lr"], kt.engine.hyperparameters.Float)
    assert by_name["lr"].sampling == "log" and by_name["dropout"].sampling == "linear"
    assert isinstance(by_name["depth"], kt.engine.hyperparameters.Int) and by_name["depth"].sampling == "log"
    assert by_name["act"].values == ["relu", "elu"]
    assert space.searched == ["lr", "dropout", "depth", "act"]


def test_choice_of_tuples_round_trips_through_keras_tuner():
    space = SearchSpace(factory=vgg, filters=Choice((8, 16), (16, 32)), dense_units=Choice(None, (64,)))
    hp = space.to_hyperparameters()
    assert all(isinstance(v, str) for v in hp.space[0].values)  # stored as JSON text
    hp.values["filters"] = hp.space[0].values[1]
    assert space.sample(hp)["filters"] == (16, 32)
    assert space.decode({"dense_units": "null"}) == {"dense_units": None}


def test_config_round_trip_keeps_every_range():
    space = default_vgg_space()
    rebuilt = space.with_config(space.get_config())
    assert rebuilt.params == space.params
    assert rebuilt.factory is space.factory


def test_width_and_depth_become_filters_or_hidden():
    kwargs, training = default_vgg_space().split({"width": 16, "depth": 3, "lr": 0.01, "batch_size": 64,
                                                  "order": "conv-act-bn"})
    assert kwargs == {"filters": (16, 32, 64), "order": "conv-act-bn"}
    assert training == {"lr": 0.01, "batch_size": 64}
    kwargs, _ = default_mlp_space().split({"width": 32, "depth": 2})
    assert kwargs == {"hidden": (32, 32)}
    # every default choice builds with the real factories
    for space, shape in ((default_vgg_space(), (28, 28, 1)), (default_mlp_space(), (8, 8, 1))):
        values = space.sample(kt.HyperParameters())
        kwargs, _ = space.split(values)
        model = space.factory(shape, 10, **kwargs)
        assert model.output_shape == (None, 10)


# ---------------------------------------------------------------- refine
def test_refine_shrinks_log_ranges_around_the_winners_in_log_space():
    space = SearchSpace.ranges(lr=LogUniform(1e-4, 1e-1))
    refined = space.refine([{"lr": 1e-3}, {"lr": 4e-3}], margin=0.1)
    lr = refined.params["lr"]
    # pad = 0.1 * 3 decades = 0.3 decade on each side of [1e-3, 4e-3]
    assert math.isclose(math.log10(lr.low), -3.3, abs_tol=1e-9)
    assert math.isclose(math.log10(lr.high), math.log10(4e-3) + 0.3, abs_tol=1e-9)
    assert isinstance(lr, LogUniform)


def test_refine_never_leaves_the_original_bounds():
    bounds = SearchSpace.ranges(lr=LogUniform(1e-4, 1e-1), dropout=Uniform(0.0, 0.6), depth=IntUniform(1, 8))
    winners = [{"lr": 1.1e-4, "dropout": 0.59, "depth": 8}, {"lr": 0.09, "dropout": 0.58, "depth": 7}]
    stage = bounds
    for _ in range(4):  # repeated stages stay inside, however wide the margin
        stage = stage.refine(winners, bounds=bounds, margin=0.9)
        assert stage.params["lr"].low >= 1e-4 and stage.params["lr"].high <= 1e-1
        assert 0.0 <= stage.params["dropout"].low and stage.params["dropout"].high <= 0.6
        assert 1 <= stage.params["depth"].low and stage.params["depth"].high <= 8
    assert stage.params["dropout"].high == 0.6 and stage.params["lr"].low == 1e-4


def test_refine_narrows_choices_to_the_winners_and_keeps_fixed_values():
    space = SearchSpace.ranges(act=Choice("relu", "elu", "tanh"), width=Choice((8, 16), (16, 32)),
                               dropout=Uniform(0.0, 0.5), head="gap")
    winners = [{"act": "tanh", "width": (8, 16), "dropout": 0.2}, {"act": "relu", "width": (8, 16), "dropout": 0.2}]
    refined = space.refine(winners, margin=0.1)
    assert refined.params["act"].values == ("relu", "tanh")  # the original order
    assert refined.params["width"].values == ((8, 16),)
    assert refined.params["head"] == Fixed("gap")
    d = refined.params["dropout"]  # one winning value: a range of +-10% of the width around it
    assert math.isclose(d.low, 0.15) and math.isclose(d.high, 0.25)
    # a range that collapses to one value stays a registered one-value choice
    collapsed = SearchSpace.ranges(depth=IntUniform(1, 8)).refine([{"depth": 4}], margin=0.0)
    assert collapsed.params["depth"] == Choice(4)
    assert [p.values for p in collapsed.to_hyperparameters().space] == [[4]]


def test_refined_range_takes_precedence_over_the_build_declaration():
    # keras-tuner returns the registered value when a name exists: a refined
    # stage's narrower range wins over the wide one the build function declares.
    narrow = SearchSpace.ranges(lr=LogUniform(1e-3, 2e-3)).to_hyperparameters()
    hp_object = narrow.space[0]
    for seed in range(50):
        narrow.values["lr"] = hp_object.random_sample(seed)
        assert 1e-3 <= narrow.Float("lr", 1e-5, 1.0, sampling="log") <= 2e-3


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "params, match",
    [
        ({"lr": LogUniform(1e-2, 1e-2)}, "'lr' has an empty range"),
        ({"lr": LogUniform(1e-1, 1e-4)}, "'lr' has low > high"),
        ({"lr": LogUniform(0.0, 1e-1)}, "'lr' is sampled in log space.*> 0"),
        ({"wd": LogUniform(-1e-3, 1e-1)}, "'wd' is sampled in log space"),
        ({"dropout": Uniform(0.5, 0.2)}, "'dropout' has low > high"),
        ({"dropout": Uniform(0.0, float("nan"))}, "'dropout': high must be a finite number"),
        ({"depth": IntUniform(1.5, 3)}, "'depth': low must be an int"),
        ({"act": Choice()}, "'act' is an empty Choice"),
        ({"act": Choice("relu", "relu")}, "'act' has duplicate choices"),
    ],
)
def test_bad_ranges_raise_naming_the_hyperparameter(params, match):
    with pytest.raises(ValueError, match=match):
        SearchSpace.ranges(**params)


def test_unknown_factory_argument_raises_before_anything_runs():
    with pytest.raises(ValueError, match=r"Unknown factory argument 'kernel_szie' for vgg"):
        SearchSpace(kernel_szie=Choice(3, 5))
    with pytest.raises(ValueError, match=r"Unknown factory argument 'filters' for mlp"):
        SearchSpace(factory=mlp, filters=Choice((8,), (16,)))
    with pytest.raises(ValueError, match="'num_classes' is read from the data"):
        SearchSpace(num_classes=Choice(2, 3))
    with pytest.raises(ValueError, match="'width' sets vgg's 'filters'"):
        SearchSpace(width=Choice(8, 16), filters=(8, 16))
    with pytest.raises(ValueError, match="give 'width' too"):
        SearchSpace(depth=Choice(1, 2))
    with pytest.raises(ValueError, match="refine needs at least one winning trial"):
        SearchSpace.ranges(lr=LogUniform(1e-4, 1e-1)).refine([])
