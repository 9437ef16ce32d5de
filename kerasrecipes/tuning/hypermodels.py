"""keras-tuner HyperModels: a `SearchSpace` built by its factory, or a user's build function.

keras-tuner lets users customize a search through `HyperModel.build(hp)` and
`HyperModel.fit(hp, model, ...)` rather than by subclassing the tuner; these two
are that customization. What they add: the sampled optimizer is built by
`kerasrecipes.optimizers.build` (the one optimizer builder of the package) and a
`batch_size` hyperparameter sets `fit`'s batch size.
"""

import keras_tuner as kt

from kerasrecipes import optimizers


class RecipeHyperModel(kt.HyperModel):
    """A keras-tuner HyperModel whose every trial is a `Recipe`: `space.recipe(values)`, trained as `Recipe.fit` trains.

    `build(hp)` builds the recipe's net inside its training model
    (`Recipe.training_model`: augmentation and mixing in the compiled step);
    `fit` compiles it with the recipe's optimizer, schedule and loss for the
    stage's epochs, feeds the recipe's batches (`Recipe.train_data`) with its
    own callbacks (`Recipe.callbacks`) before the search's, through
    `Training.fit` — the code of `Recipe.fit` and `kerasrecipes train`. What
    it adds to keras-tuner: a trial is exactly a run of a recipe, so the
    winner is a `Recipe` (`Search.best_recipe`).

    Args:
        space: A `SearchSpace` over a recipe (`tuning.recipe_space`).
        input_shape: Shape of one image.
        num_classes: Number of classes.
        normalization: `(mean, variance)` of the training images for a
            recipe with `normalize`, else `None`.

    Example (what `random_search` builds for a `recipe_space`):
    >>> hypermodel = RecipeHyperModel(recipe_space(presets.factory(), base_lr=LogUniform(1e-4, 1e-2)),
    ...                               (28, 28, 1), 10)
    """

    def __init__(self, space, input_shape, num_classes, normalization=None):
        super().__init__()
        self.space = space
        self.input_shape = tuple(input_shape)
        self.num_classes = int(num_classes)
        self.normalization = normalization

    def recipe(self, hp, epochs=None):
        """The trial's `Recipe` (with the stage's `epochs` unless the space searches them)."""
        import dataclasses

        recipe = self.space.recipe(self.space.decode(hp.values))
        recipe = dataclasses.replace(recipe, input_shape=self.input_shape, num_classes=self.num_classes)
        if epochs is not None and "epochs" not in self.space.params:
            recipe = dataclasses.replace(recipe, epochs=int(epochs))
        return recipe

    def build(self, hp):
        self.space.sample(hp)
        recipe = self.recipe(hp)
        return recipe.training_model(recipe.build_model(self.normalization))

    def fit(self, hp, model, x, y, *, epochs=1, validation_data=None, callbacks=(), verbose=0, **kwargs):
        import dataclasses

        from kerasrecipes import execution
        from kerasrecipes.recipe import Training

        recipe = self.recipe(hp, epochs)
        # A search runs trials side by side (workers), not one trial over several devices: no data parallelism.
        plan = dataclasses.replace(execution.plan(recipe), data_parallel=False)
        batches = recipe.train_data(x, y, plan=plan)
        recipe.compile(model, len(batches))
        val = None if validation_data is None else recipe.eval_data(*validation_data)
        own = recipe.callbacks(validation=val is not None)
        training = Training(model.net, model, batches, plan)
        return training.fit(epochs=recipe.epochs, validation_data=val, callbacks=own + list(callbacks),
                            verbose=verbose)


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
                                     momentum=0.9 if momentum is None else float(momentum),
                                     weight_decay=training.get("weight_decay"))
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
