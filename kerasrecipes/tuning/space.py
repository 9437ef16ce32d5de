"""Declarative hyperparameter spaces that become keras-tuner `HyperParameters`.

A `SearchSpace` names the ranges ("lr=LogUniform(1e-4, 1e-1)") and the model
factory they feed; keras-tuner does the sampling. What this adds to writing
`hp.Float(...)` calls by hand: the space is data (printable, JSON, checked
against the factory's signature before any trial), Choice values may be tuples
or None (keras-tuner's `hp.Choice` takes only str/int/float/bool), and a space
can be *refined* around the winners of a finished stage (`SearchSpace.refine`),
the coarse-to-fine loop of the cs231n notes.
"""

import dataclasses
import inspect
import json
import math

import keras_tuner as kt

# Hyperparameters consumed by compile()/fit() rather than by the factory.
TRAINING_NAMES = ("lr", "learning_rate", "optimizer", "momentum", "weight_decay", "batch_size")
# Conveniences translated into the factory's own arguments (see SearchSpace).
WIDTH_DEPTH = ("width", "depth")
_FACTORY_POSITIONAL = ("input_shape", "num_classes")
_PRIMITIVES = (bool, int, float, str)


def _fmt(value):
    return f"{value:.4g}" if isinstance(value, float) else repr(value)


class Param:
    """Base class of the range objects; subclasses say how keras-tuner declares them."""

    numeric = False
    log = False

    def check(self, name):
        """Raises ValueError naming `name` if the range is unusable."""

    def register(self, hp, name):
        """Declares the range on keras-tuner's `hp` and returns its raw (stored) value.

        keras-tuner returns the registered value when `name` already exists,
        which is how a refined stage's narrower range takes precedence.
        """
        raise NotImplementedError

    def declare(self, hp, name):
        """Declares the range on `hp` and returns the decoded value."""
        return self.decode(self.register(hp, name))

    def decode(self, value):
        return value

    def narrow(self, winners, bounds, margin):
        """A range around the winners' values, never outside `bounds` (the stage-0 range)."""
        return self

    def get_config(self):
        raise NotImplementedError

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash(json.dumps(self.get_config(), sort_keys=True))


class _Range(Param):
    numeric = True
    integer = False

    def __init__(self, low, high):
        self.low = low
        self.high = high

    def check(self, name):
        for side in ("low", "high"):
            value = getattr(self, side)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(
                    f"Hyperparameter '{name}': {side} must be a finite number. Received {self!r}"
                )
        if self.low >= self.high:
            what = "an empty range (low == high)" if self.low == self.high else "low > high"
            raise ValueError(
                f"Hyperparameter '{name}' has {what}; a range needs low < high. Received {self!r}"
            )
        if self.log and self.low <= 0:
            raise ValueError(
                f"Hyperparameter '{name}' is sampled in log space, so both bounds must be > 0. "
                f"Received {self!r}"
            )

    def _to_axis(self, value):
        return math.log(value) if self.log else float(value)

    def _from_axis(self, value):
        return math.exp(value) if self.log else value

    def narrow(self, winners, bounds, margin):
        values = [w for w in winners if w is not None]
        if not values:
            return self
        # Pad by a fraction of the current stage's width (in log units for log
        # ranges): winners bunched at one point still get a range to explore.
        pad = margin * (self._to_axis(self.high) - self._to_axis(self.low))
        low = self._from_axis(min(self._to_axis(v) for v in values) - pad)
        high = self._from_axis(max(self._to_axis(v) for v in values) + pad)
        low, high = max(low, bounds.low), min(high, bounds.high)
        if self.integer:
            low, high = int(math.floor(low + 1e-9)), int(math.ceil(high - 1e-9))
            low, high = max(low, bounds.low), min(high, bounds.high)
        if low >= high:
            # A one-value Choice rather than Fixed: it stays registered with
            # keras-tuner, so it also overrides a build function's own range.
            return Choice(int(low) if self.integer else low)
        return self._replace(low, high)

    def _replace(self, low, high):
        return type(self)(low, high)

    def __repr__(self):
        return f"{type(self).__name__}({_fmt(self.low)}, {_fmt(self.high)})"


class LogUniform(_Range):
    """A float sampled uniformly in log space: every decade between low and high is equally likely.

    "It's best to optimize in log space": a learning rate or weight decay
    between 1e-4 and 1e-1 drawn linearly lands in the top decade 90% of the time.

    Args:
        low: Lower bound, > 0.
        high: Upper bound, > low.

    Example:
    >>> SearchSpace(lr=LogUniform(1e-4, 1e-1))  # -> hp.Float("lr", 1e-4, 1e-1, sampling="log")
    """

    log = True

    def register(self, hp, name):
        return hp.Float(name, self.low, self.high, sampling="log")

    def get_config(self):
        return {"type": "LogUniform", "low": self.low, "high": self.high}


class Uniform(_Range):
    """A float sampled uniformly (linearly) between low and high, e.g. a dropout rate.

    Example:
    >>> SearchSpace(dropout=Uniform(0.0, 0.6))  # -> hp.Float("dropout", 0.0, 0.6)
    """

    def register(self, hp, name):
        return hp.Float(name, self.low, self.high, sampling="linear")

    def get_config(self):
        return {"type": "Uniform", "low": self.low, "high": self.high}


class IntUniform(_Range):
    """An integer between low and high inclusive, linear or (with `log=True`) log-uniform.

    Args:
        low: Lower bound (int).
        high: Upper bound (int), > low.
        log: Sample in log space (e.g. widths 8..512). Defaults to `False`.

    Example:
    >>> SearchSpace(depth=IntUniform(1, 4))  # -> hp.Int("depth", 1, 4)
    """

    integer = True

    def __init__(self, low, high, log=False):
        super().__init__(low, high)
        self.log = bool(log)

    def check(self, name):
        for side in ("low", "high"):
            value = getattr(self, side)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"Hyperparameter '{name}': {side} must be an int. Received {self!r}")
        super().check(name)

    def register(self, hp, name):
        return hp.Int(name, self.low, self.high, sampling="log" if self.log else "linear")

    def _replace(self, low, high):
        return IntUniform(low, high, log=self.log)

    def get_config(self):
        return {"type": "IntUniform", "low": self.low, "high": self.high, "log": self.log}

    def __repr__(self):
        return f"IntUniform({self.low}, {self.high}{', log=True' if self.log else ''})"


class Choice(Param):
    """One of a list of values, e.g. `Choice("relu", "elu")` or `Choice((16, 32), (32, 64))`.

    Values that keras-tuner's `hp.Choice` cannot hold (tuples, lists, None, or a
    mix of types) are stored in keras-tuner as their JSON text and decoded back
    before they reach the factory, so trial files stay JSON.

    Args:
        *values: The choices, at least one, no duplicates.

    Example:
    >>> SearchSpace(activation=Choice("relu", "elu", "leaky_relu"), batch_size=Choice(64, 128))
    """

    def __init__(self, *values):
        self.values = tuple(values)
        types = {type(v) for v in self.values}
        # bool is a subclass of int: a mix of the two would be coerced by keras-tuner.
        self.encoded = not (len(types) == 1 and types.pop() in _PRIMITIVES) and bool(self.values)

    def check(self, name):
        if not self.values:
            raise ValueError(f"Hyperparameter '{name}' is an empty Choice; give at least one value. Received {self!r}")
        encoded = [self._encode(v) for v in self.values]
        if len(set(encoded)) != len(encoded):
            raise ValueError(f"Hyperparameter '{name}' has duplicate choices. Received {self!r}")

    def _encode(self, value):
        if not self.encoded:
            return value
        if isinstance(value, tuple):
            value = list(value)
        try:
            return json.dumps(value)
        except TypeError:
            raise ValueError(
                f"Choice values must be JSON-serializable (numbers, strings, None, tuples or lists of them). "
                f"Received {value!r}"
            ) from None

    def decode(self, value):
        if not self.encoded:
            return value
        decoded = json.loads(value) if isinstance(value, str) else value
        return tuple(decoded) if isinstance(decoded, list) else decoded

    def register(self, hp, name):
        return hp.Choice(name, [self._encode(v) for v in self.values], ordered=False)

    def narrow(self, winners, bounds, margin):
        won = {self._encode(self.decode(w)) if self.encoded else w for w in winners}
        kept = tuple(v for v in self.values if self._encode(v) in won)
        return Choice(*kept) if kept else self

    def get_config(self):
        return {"type": "Choice", "values": [self._encode(v) for v in self.values], "encoded": self.encoded}

    def __repr__(self):
        return f"Choice({', '.join(_fmt(v) for v in self.values)})"


class Fixed(Param):
    """A value that is not searched (plain values given to `SearchSpace` become `Fixed`).

    Example:
    >>> SearchSpace(lr=LogUniform(1e-4, 1e-1), head="gap")  # head is Fixed("gap")
    """

    def __init__(self, value):
        self.value = value

    def check(self, name):
        try:
            json.dumps(list(self.value) if isinstance(self.value, tuple) else self.value)
        except TypeError:
            raise ValueError(
                f"Hyperparameter '{name}' is fixed to a value that is not JSON-serializable; "
                f"pass numbers, strings, None, or tuples/lists of them. Received {self.value!r}"
            ) from None

    def declare(self, hp, name):
        # Not registered with keras-tuner: a fixed value is not part of the
        # search, and keras-tuner's Fixed takes only primitive values.
        return self.value

    def get_config(self):
        value = list(self.value) if isinstance(self.value, tuple) else self.value
        return {"type": "Fixed", "value": value, "tuple": isinstance(self.value, tuple)}

    def __repr__(self):
        return f"Fixed({self.value!r})"


def param_from_config(config):
    """Rebuilds a `Param` from its `get_config()` dict."""
    kind = config["type"]
    if kind == "LogUniform":
        return LogUniform(config["low"], config["high"])
    if kind == "Uniform":
        return Uniform(config["low"], config["high"])
    if kind == "IntUniform":
        return IntUniform(config["low"], config["high"], log=config.get("log", False))
    if kind == "Choice":
        choice = Choice()
        choice.encoded = config["encoded"]
        choice.values = tuple(choice.decode(v) for v in config["values"])
        return choice
    if kind == "Fixed":
        return Fixed(tuple(config["value"]) if config.get("tuple") else config["value"])
    raise ValueError(f"Unknown parameter type in config: {config!r}")


def param_from_hyperparameter(hp_object):
    """Our `Param` for a keras-tuner hyperparameter (Float, Int, Choice, Boolean, Fixed)."""
    cfg = hp_object.get_config()
    kind = type(hp_object).__name__
    if kind == "Float" and cfg.get("step") is None:
        return (LogUniform if cfg["sampling"] == "log" else Uniform)(cfg["min_value"], cfg["max_value"])
    if kind == "Int" and cfg.get("step") in (None, 1):
        return IntUniform(cfg["min_value"], cfg["max_value"], log=cfg["sampling"] == "log")
    if kind == "Choice":
        return Choice(*cfg["values"])
    if kind == "Boolean":
        return Choice(False, True)
    if kind == "Fixed":
        return Fixed(cfg["value"])
    return None  # stepped ranges are left to the build function's own declaration


def _default_factory():
    from kerasrecipes.models import vgg

    return vgg


class SearchSpace:
    """The hyperparameters of a search and the model factory they configure.

    Each keyword is a factory argument (any argument of `factory`, e.g. `vgg`'s
    `dropout`, `order`, `activation`, `l2`), a training setting
    (`lr`, `optimizer` — "adam", "sgd" (momentum 0.9), "nesterov", "rmsprop",
    "adamw" —, `momentum`, `weight_decay` (the optimizer's decoupled decay,
    as everywhere in the package), `batch_size`), or a width/depth convenience: `width`
    is the first stage's filters of a factory with `filters` (doubling per
    stage, `depth` stages, default 2: `width=32` -> `filters=(32, 64)`) or the
    units of every hidden layer of a factory with `hidden` (`depth` layers).
    Values are `LogUniform`, `Uniform`, `IntUniform`, `Choice`, `Fixed`, or any
    plain value (fixed).

    Args:
        factory: Called as `factory(input_shape, num_classes, **arguments)` and
            returning an uncompiled `keras.Model`. Defaults to
            `kerasrecipes.models.vgg`.
        **params: The hyperparameters.

    Raises:
        ValueError: an empty or inverted range, a non-positive bound of a log
            range, or a name that is neither a factory argument nor a training
            setting — naming the hyperparameter.

    Example:
    >>> space = SearchSpace(lr=LogUniform(1e-4, 1e-1), l2=LogUniform(1e-6, 1e-2),
    ...                     dropout=Uniform(0.0, 0.6), width=Choice(16, 32, 64),
    ...                     order=Choice("conv-bn-act", "conv-act-bn"), head="gap")
    >>> space.to_hyperparameters().space  # keras-tuner Float(sampling="log"), Choice...
    """

    def __init__(self, factory=None, **params):
        self.factory = factory if factory is not None else _default_factory()
        self.params = {}
        for name, value in params.items():
            param = value if isinstance(value, Param) else Fixed(value)
            param.check(name)
            self.params[name] = param
        if self.base_recipe is not None:
            self._check_recipe_fields()
        elif self.factory is not False:
            self._check_factory()

    @classmethod
    def ranges(cls, **params):
        """A space of ranges only, not tied to a factory (used for build-function searches)."""
        return cls(factory=False, **params)

    @property
    def base_recipe(self):
        """The `Recipe` this space varies (its factory), or `None` for a model-factory space."""
        from kerasrecipes.recipe import Recipe

        return self.factory if isinstance(self.factory, Recipe) else None

    def recipe(self, values):
        """The base recipe with `values` (decoded; `width`/`depth` become its `filters`), a `Recipe`.

        Example:
        >>> space = recipe_space(presets.fashion_mnist_fast(), base_lr=LogUniform(0.05, 0.5))
        >>> space.recipe({"base_lr": 0.1}).base_lr
        0.1
        """
        import dataclasses

        base = self.base_recipe
        if base is None:
            raise ValueError(f"this space varies a model factory, not a Recipe: {self!r}")
        values = dict(values)
        width, depth = values.pop("width", None), values.pop("depth", None)
        if width is not None:
            stages = int(depth) if depth is not None else len(base.stage_plan()[0])
            values["filters"] = tuple(int(width) * 2**i for i in range(stages))
        return dataclasses.replace(base, **{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})

    def _factory_arguments(self):
        if self.base_recipe is not None:
            from kerasrecipes.recipe import Recipe

            return {f.name for f in dataclasses.fields(Recipe) if f.metadata.get("cli", True)} | set(WIDTH_DEPTH), \
                False
        signature = inspect.signature(self.factory)
        names = set(signature.parameters)
        takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
        return names, takes_any

    def _check_recipe_fields(self):
        from kerasrecipes.recipe import check_fields

        names = [n for n in self.params if n not in WIDTH_DEPTH]
        check_fields(names, what="search space", cli_only=True)
        if "filters" in self.params and "width" in self.params:
            raise ValueError("'width' sets the recipe's 'filters'; give one or the other, not both. "
                             f"Received width={self.params['width']!r}, filters={self.params['filters']!r}")
        if "depth" in self.params and "width" not in self.params:
            raise ValueError(f"'depth' sets the number of stages of 'width'; give 'width' too. "
                             f"Received depth={self.params['depth']!r} without width")

    def _check_factory(self):
        if not callable(self.factory):
            raise ValueError(f"factory must be callable. Received factory={self.factory!r}")
        names, takes_any = self._factory_arguments()
        factory_name = getattr(self.factory, "__name__", repr(self.factory))
        for name in self.params:
            if name in _FACTORY_POSITIONAL:
                raise ValueError(
                    f"'{name}' is read from the data and cannot be a hyperparameter of {factory_name}. "
                    f"Received {name}={self.params[name]!r}"
                )
            if name in TRAINING_NAMES or name in names or takes_any:
                continue
            if name == "depth" and "width" not in self.params and ("filters" in names or "hidden" in names):
                raise ValueError(
                    f"'depth' sets the number of stages/layers of 'width'; give 'width' too. "
                    f"Received depth={self.params[name]!r} without width"
                )
            if name in WIDTH_DEPTH and ("filters" in names or "hidden" in names):
                target = "filters" if "filters" in names else "hidden"
                if target in self.params:
                    raise ValueError(
                        f"'{name}' sets {factory_name}'s '{target}'; give one or the other, not both. "
                        f"Received {name}={self.params[name]!r}, {target}={self.params[target]!r}"
                    )
                continue
            valid = sorted(n for n in names if n not in _FACTORY_POSITIONAL)
            raise ValueError(
                f"Unknown factory argument '{name}' for {factory_name}: it is not one of its arguments "
                f"({', '.join(valid)}) nor a training setting ({', '.join(TRAINING_NAMES)}). "
                f"Received {name}={self.params[name]!r}"
            )

    # -- keras-tuner side -------------------------------------------------
    @property
    def searched(self):
        """Names of the hyperparameters that are searched (not Fixed)."""
        return [n for n, p in self.params.items() if not isinstance(p, Fixed)]

    def to_hyperparameters(self):
        """A `keras_tuner.HyperParameters` with every searched range registered."""
        hp = kt.HyperParameters()
        for name, param in self.params.items():
            param.declare(hp, name)
        return hp

    def sample(self, hp):
        """Declares every range on `hp` and returns the decoded values (fixed ones included)."""
        return {name: param.declare(hp, name) for name, param in self.params.items()}

    def decode(self, values):
        """Decoded values (tuples, None) from keras-tuner's stored values; unknown names pass through."""
        out = {}
        for name, value in values.items():
            param = self.params.get(name)
            out[name] = param.decode(value) if param is not None else value
        return out

    def split(self, values):
        """Splits decoded values into `(factory_kwargs, training_settings)`, resolving width/depth."""
        training = {n: v for n, v in values.items() if n in TRAINING_NAMES}
        kwargs = {n: v for n, v in values.items() if n not in TRAINING_NAMES}
        names, _ = self._factory_arguments()
        if any(n in kwargs for n in WIDTH_DEPTH) and not all(n in names for n in kwargs if n in WIDTH_DEPTH):
            width = kwargs.pop("width", None)
            depth = int(kwargs.pop("depth", 2))
            if width is not None:
                width = int(width)
                if "filters" in names:
                    kwargs["filters"] = tuple(width * 2**i for i in range(depth))
                else:
                    kwargs["hidden"] = (width,) * depth
        return kwargs, training

    # -- coarse to fine ---------------------------------------------------
    def refine(self, winners, bounds=None, margin=0.1):
        """The next stage's space: numeric ranges shrunk around the winners, choices narrowed to theirs.

        Args:
            winners: List of value dicts (decoded) of the best trials.
            bounds: The first stage's space; no range ever leaves it.
                Defaults to this space.
            margin: Padding on each side of the winners' span, as a fraction of
                this stage's width (in log units for log ranges). Defaults to `0.1`.

        Returns:
            A new `SearchSpace` with the same factory.
        """
        if not winners:
            raise ValueError("refine needs at least one winning trial. Received winners=[]")
        if not 0 <= margin < 1:
            raise ValueError(f"margin must be in [0, 1). Received margin={margin!r}")
        bounds = bounds if bounds is not None else self
        params = {}
        for name, param in self.params.items():
            limit = bounds.params.get(name, param)
            if isinstance(param, _Range) and not isinstance(limit, _Range):
                limit = param
            params[name] = param.narrow([w.get(name) for w in winners if name in w], limit, margin)
        return self._with(params)

    def _with(self, params):
        space = SearchSpace.__new__(SearchSpace)
        space.factory = self.factory
        space.params = params
        return space

    # -- persistence ------------------------------------------------------
    def get_config(self):
        return {name: param.get_config() for name, param in self.params.items()}

    def with_config(self, config):
        """This space's factory with the ranges of `config` (from `get_config`)."""
        return self._with({name: param_from_config(c) for name, c in config.items()})

    @classmethod
    def from_hyperparameters(cls, hp):
        """The unconditional ranges of a keras-tuner `HyperParameters` as a factory-less space."""
        params = {}
        for hp_object in hp.space:
            if hp_object.conditions:
                continue  # conditional hyperparameters stay as the build function declares them
            param = param_from_hyperparameter(hp_object)
            if param is not None:
                params[hp_object.name] = param
        return cls.ranges(**params)

    def __repr__(self):
        factory = getattr(self.factory, "__name__", None) if self.factory is not False else None
        if self.base_recipe is not None:
            factory = "Recipe"
        inner = ", ".join(f"{n}={p!r}" for n, p in self.params.items())
        return f"SearchSpace({'factory=' + factory + ', ' if factory else ''}{inner})"


def default_vgg_space(**overrides):
    """The default space for `kerasrecipes.models.vgg`: the ranges of the cs231n recipe.

    Learning rate and weight decay in log space, dropout linear, width, BN
    placement, activation, batch size and optimizer as choices; a global
    average pooling head (`head="gap"`) keeps trials cheap. Keyword arguments
    replace or add entries.

    Args:
        **overrides: Entries to replace or add (ranges or fixed values).

    Returns:
        A `SearchSpace` over `vgg`.

    Example:
    >>> space = default_vgg_space(width=Choice(8, 16), depth=2)
    """
    params = dict(
        lr=LogUniform(1e-4, 1e-1),
        l2=LogUniform(1e-6, 1e-2),
        dropout=Uniform(0.0, 0.6),
        width=Choice(16, 32, 64),
        order=Choice("conv-bn-act", "conv-act-bn"),
        activation=Choice("relu", "elu", "leaky_relu"),
        batch_size=Choice(64, 128, 256),
        optimizer=Choice("adam", "sgd"),
        depth=2,
        head="gap",
    )
    params.update(overrides)
    return SearchSpace(**params)


def default_mlp_space(**overrides):
    """The default space for `kerasrecipes.models.mlp`: log-space LR and L2 penalty, width, depth.

    Args:
        **overrides: Entries to replace or add (ranges or fixed values).

    Returns:
        A `SearchSpace` over `mlp`.

    Example:
    >>> space = default_mlp_space(width=Choice(32, 64))
    """
    from kerasrecipes.models import mlp

    params = dict(
        lr=LogUniform(1e-4, 1e-1),
        l2=LogUniform(1e-6, 1e-2),
        dropout=Uniform(0.0, 0.6),
        width=Choice(64, 128, 256),
        depth=Choice(1, 2, 3),
        activation=Choice("relu", "elu", "leaky_relu"),
        batch_size=Choice(64, 128, 256),
        optimizer=Choice("adam", "sgd"),
    )
    params.update(overrides)
    return SearchSpace(factory=mlp, **params)


def recipe_space(recipe, **params):
    """A `SearchSpace` over the fields of `recipe` (a `kerasrecipes.recipe.Recipe`): every trial is that recipe.

    Each keyword names a `Recipe` field (`base_lr`, `weight_decay`, `l2`,
    `dropout`, `order`, `activation`, `batch_size`, `augment`, `mixup`,
    `epochs`, ...) or `width` (the first stage's filters, doubling per stage,
    as many stages as the recipe has, or `depth`). A trial trains exactly the
    recipe `space.recipe(values)` through `Recipe.prepare`, the code behind
    `Recipe.fit` and `kerasrecipes train`, so its winner retrains with one
    command (`Search.best_recipe`).

    Args:
        recipe: The base `Recipe` (its fields are the values not searched).
        **params: Ranges or fixed values of Recipe fields.

    Example:
    >>> space = recipe_space(presets.fashion_mnist_fast(epochs=3), base_lr=LogUniform(0.02, 0.6),
    ...                      weight_decay=LogUniform(1e-5, 1e-2), augment=Choice("light", "standard"))
    """
    from kerasrecipes.recipe import Recipe

    if not isinstance(recipe, Recipe):
        raise ValueError(f"recipe must be a kerasrecipes.recipe.Recipe. Received recipe={type(recipe).__name__}")
    return SearchSpace(factory=recipe, **params)


def default_recipe_space(recipe, **overrides):
    """The cs231n ranges around a base recipe: LR and weight decay in log space, dropout, width, placement, data.

    The learning rate spans a tenth to three times the recipe's own
    (`base_lr`), decoupled weight decay 1e-5 to 1e-2 (log), dropout 0 to 0.5,
    the first stage's width 16, 32 or 64, BatchNorm before or after the
    activation, and the augmentation preset; everything else is the recipe's.

    Args:
        recipe: The base `Recipe`.
        **overrides: Entries to replace or add (ranges or fixed values of Recipe fields).

    Returns:
        A `SearchSpace` over `recipe`'s fields (`recipe_space`).

    Example:
    >>> space = default_recipe_space(presets.fashion_mnist_fast(epochs=2), batch_size=Choice(128, 256))
    """
    params = dict(
        base_lr=LogUniform(recipe.base_lr / 10, recipe.base_lr * 3),
        weight_decay=LogUniform(1e-5, 1e-2),
        dropout=Uniform(0.0, 0.5),
        width=Choice(16, 32, 64),
        order=Choice("conv-bn-act", "conv-act-bn"),
        augment=Choice("none", "light", "standard"),
    )
    params.update(overrides)
    return recipe_space(recipe, **params)
