"""keras-tuner HyperModels: a `SearchSpace` built by its factory, or a user's build function.

keras-tuner lets users customize a search through `HyperModel.build(hp)` and
`HyperModel.fit(hp, model, ...)` rather than by subclassing the tuner; these two
are that customization. What they add: the sampled optimizer is built by
`kerasrecipes.optimizers.build` (the one optimizer builder of the package) and a
`batch_size` hyperparameter sets `fit`'s batch size.
"""

import keras_tuner as kt

from kerasrecipes import optimizers


class SpaceHyperModel(kt.HyperModel):
    """A keras-tuner HyperModel that builds `space.factory(...)` from a `SearchSpace`.

    `build(hp)` declares the space on `hp`, calls the factory and compiles with
    the sampled optimizer and learning rate (`kerasrecipes.optimizers.build`);
    `fit` applies the sampled batch size. Everything else is keras-tuner's.

    Args:
        space: A `SearchSpace` with a factory.
        input_shape: Shape of one example.
        num_classes: Number of classes.
        loss: Loss to compile with. Defaults to `"sparse_categorical_crossentropy"`.
        metrics: Metrics to compile with. Defaults to `("accuracy",)`.
    """

    def __init__(self, space, input_shape, num_classes, loss="sparse_categorical_crossentropy",
                 metrics=("accuracy",)):
        super().__init__()
        self.space = space
        self.input_shape = tuple(input_shape)
        self.num_classes = int(num_classes)
        self.loss = loss
        self.metrics = list(metrics)

    def build(self, hp):
        values = self.space.sample(hp)
        kwargs, training = self.space.split(values)
        model = self.space.factory(self.input_shape, self.num_classes, **kwargs)
        lr = training.get("lr", training.get("learning_rate", 1e-3))
        momentum = training.get("momentum")
        optimizer = optimizers.build(training.get("optimizer", "adam"), float(lr),
                                     momentum=0.9 if momentum is None else float(momentum))
        model.compile(optimizer=optimizer, loss=self.loss, metrics=self.metrics)
        return model

    def fit(self, hp, model, *args, **kwargs):
        batch_size = self.space.decode(hp.values).get("batch_size")
        if batch_size is None and "batch_size" in self.space.params:
            batch_size = self.space.params["batch_size"].declare(hp, "batch_size")
        if batch_size is not None:
            kwargs["batch_size"] = int(batch_size)
        return model.fit(*args, **kwargs)


class FunctionHyperModel(kt.HyperModel):
    """Wraps a `build_fn(hp) -> compiled keras.Model`; a `batch_size` hyperparameter sets fit's batch size."""

    def __init__(self, build_fn):
        super().__init__()
        self.build_fn = build_fn

    def build(self, hp):
        return self.build_fn(hp)

    def fit(self, hp, model, *args, **kwargs):
        if "batch_size" in hp.values:
            kwargs["batch_size"] = int(hp.values["batch_size"])
        return model.fit(*args, **kwargs)
