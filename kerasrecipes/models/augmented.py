"""The training model: augmentation, MixUp and CutMix inside the compiled step, in front of a network."""

import keras
from keras import ops

_SCALE = 1.0 / 255.0  # uint8 pixels to [0, 1]: the one place images are scaled inside a model


def scale_images(x):
    """Integer images (uint8 in [0, 255]) to float32 in [0, 1]; float images unchanged.

    The dtype is static, so this is decided once when the step is traced.
    """
    if "int" in keras.backend.standardize_dtype(x.dtype):
        return ops.cast(x, "float32") * _SCALE
    return x


@keras.saving.register_keras_serializable(package="kerasrecipes")
class Augmented(keras.Model):
    """A network trained with its augmentation and label mixing inside the compiled training step.

    Keras's own pattern puts random preprocessing layers at the start of a
    model so they run on the accelerator and become identities at inference;
    this adds what that pattern cannot do and the recipes need:

    - uint8 batches are scaled to [0, 1] in the step (4x less to move to the
      device than float32);
    - MixUp (Zhang et al.) and CutMix (Yun et al.), which change the labels as
      well as the images, also run in the step: the images are mixed in
      `call`, and `compute_loss` (Keras's documented hook) mixes the one-hot
      labels with the same weight, which `call` keeps in a non-trainable
      variable. As in timm, one weight per batch and each image is mixed with
      its mirror in the batch (the batch reversed), which the epoch's shuffle
      makes random; with both set, each batch uses one of them at random;
    - every draw comes from the layers' `keras.random.SeedGenerator`s, which
      are variables of this model: a backup of the model keeps the random
      state of the augmentation and mixing, and XLA compiles the whole step.

    Evaluation and `predict` run `net` on the scaled images, untouched. Save
    `net` (the attribute) as the trained model; this wrapper also serializes.

    Args:
        net: The network, a `keras.Model` taking images in [0, 1].
        augment: A Keras layer applied with `training=True` (e.g.
            `kerasrecipes.data.augmentation("light", shape)`), or `None`.
        mixup: MixUp's Beta alpha (e.g. `0.2`), or `None`.
        cutmix: CutMix's Beta alpha (e.g. `1.0`), or `None`.
        seed: Optional integer seed of the mixing draws.
        **kwargs: `keras.Model` keyword arguments, such as `name`.

    Example:
    >>> net = kerasrecipes.models.vgg((28, 28, 1), 10, filters=(8, 16))
    >>> model = Augmented(net, kerasrecipes.data.augmentation("light", (28, 28, 1)), mixup=0.2)
    >>> model.compile("adam", keras.losses.CategoricalCrossentropy())
    >>> model.fit(x_uint8, keras.utils.to_categorical(y, 10), epochs=1)
    """

    def __init__(self, net, augment=None, mixup=None, cutmix=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(net, keras.Model):
            raise ValueError(f"net must be a keras.Model. Received net={type(net).__name__}")
        if augment is not None and not isinstance(augment, keras.layers.Layer):
            raise ValueError(f"augment must be a Keras layer or None. Received augment={type(augment).__name__}")
        for name, value in (("mixup", mixup), ("cutmix", cutmix)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
                raise ValueError(f"{name} must be a positive Beta alpha or None. Received {name}={value!r}")
        if cutmix is not None and len(net.input_shape) != 4:
            raise ValueError(f"cutmix needs image inputs (N, H, W, C). Received net input {net.input_shape}")
        self.net = net
        self.augment = augment
        self.mixup = None if mixup is None else float(mixup)
        self.cutmix = None if cutmix is None else float(cutmix)
        self.seed = seed
        self.mixing = self.mixup is not None or self.cutmix is not None
        if self.mixing:
            self.seed_generator = keras.random.SeedGenerator(seed)
            # The weight of the batch's own labels in the last training batch: set by `call`, read by
            # `compute_loss` in the same step.
            self.mix_weight = self.add_weight(shape=(), initializer="ones", trainable=False, name="mix_weight",
                                              dtype="float32")
        self.build(net.input_shape)

    def build(self, input_shape):
        self.net.build(input_shape)
        if self.augment is not None and not self.augment.built:
            self.augment.build(input_shape)
        self.built = True

    def call(self, x, training=False):
        x = scale_images(x)
        if training:
            if self.augment is not None:
                x = self.augment(x, training=True)
            if self.mixing:
                x = self._mix(x)
        return self.net(x, training=training)

    def _mix(self, x):
        """Mixes each image with its mirror in the batch; keeps the weight of its own label."""
        partner = ops.flip(x, axis=0)
        if self.mixup is not None:
            lam_mixup = keras.random.beta((), self.mixup, self.mixup, seed=self.seed_generator)
            mixed_up = lam_mixup * x + (1.0 - lam_mixup) * partner
        if self.cutmix is not None:
            cut, lam_cutmix = self._cut_mask(x)
            cut_mixed = ops.where(cut, partner, x)
        if self.mixup is not None and self.cutmix is not None:  # timm's switch: one of them per batch
            use_cutmix = keras.random.uniform((), seed=self.seed_generator) < 0.5
            x = ops.where(use_cutmix, cut_mixed, mixed_up)
            lam = ops.where(use_cutmix, lam_cutmix, lam_mixup)
        elif self.cutmix is not None:
            x, lam = cut_mixed, lam_cutmix
        else:
            x, lam = mixed_up, lam_mixup
        self.mix_weight.assign(ops.cast(lam, "float32"))
        return x

    def _cut_mask(self, x):
        """CutMix's box: `(mask (1, H, W, 1), weight of the image's own label = 1 - box area fraction)`."""
        height, width = x.shape[1], x.shape[2]
        lam = keras.random.beta((), self.cutmix, self.cutmix, seed=self.seed_generator)
        centre = keras.random.uniform((2,), seed=self.seed_generator) * ops.convert_to_tensor([height, width],
                                                                                             "float32")
        side = ops.sqrt(1.0 - lam)
        half_h, half_w = side * height / 2.0, side * width / 2.0
        top = ops.clip(ops.round(centre[0] - half_h), 0, height)
        bottom = ops.clip(ops.round(centre[0] + half_h), 0, height)
        left = ops.clip(ops.round(centre[1] - half_w), 0, width)
        right = ops.clip(ops.round(centre[1] + half_w), 0, width)
        rows = ops.arange(height, dtype="float32")[:, None]
        cols = ops.arange(width, dtype="float32")[None, :]
        mask = (rows >= top) & (rows < bottom) & (cols >= left) & (cols < right)
        own = 1.0 - (bottom - top) * (right - left) / float(height * width)
        return mask[None, :, :, None], own

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if training and self.mixing and y is not None:
            lam = ops.cast(self.mix_weight, y.dtype)
            y = lam * y + (1.0 - lam) * ops.flip(y, axis=0)
        return super().compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training)

    def get_config(self):
        return {**super().get_config(), "net": keras.saving.serialize_keras_object(self.net),
                "augment": None if self.augment is None else keras.saving.serialize_keras_object(self.augment),
                "mixup": self.mixup, "cutmix": self.cutmix, "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["net"] = keras.saving.deserialize_keras_object(config["net"])
        if config.get("augment") is not None:
            config["augment"] = keras.saving.deserialize_keras_object(config["augment"])
        return cls(**config)


def inference_model(model):
    """The network a training model trains: `model.net` for an `Augmented`, else `model` itself."""
    return model.net if isinstance(model, Augmented) else model
