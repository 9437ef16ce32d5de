"""AlexNet's "fancy PCA" colour augmentation."""

import math

import keras
import numpy as np
from keras import ops

from kerasrecipes.layers.whitening import _batches, _check_finite_numeric

_EIGEN_SCALES = ("std", "variance")


@keras.saving.register_keras_serializable(package="kerasrecipes")
class FancyPCA(keras.layers.Layer):
    """Fancy PCA colour augmentation (Krizhevsky et al. 2012), fitted with `adapt()`.

    `adapt(images)` takes the covariance of all pixels' colour vectors and its
    eigenvectors `p_i` and eigenvalues `lambda_i`. In training, every image gets
    one shift `[p_1 ... p_C] [alpha_1 m_1 ... alpha_C m_C]^T` added to all of its
    pixels, with `alpha_i ~ N(0, alpha_std)` drawn afresh per image and per call:
    the illumination's intensity and colour change along the data's own principal
    colour axes. At inference the layer is the identity. Keras has no PCA colour
    augmentation (`RandomColorJitter` moves along fixed brightness, contrast,
    saturation and hue axes); this layer adds it.

    `m_i` is the spread along axis `i`. AlexNet's paper and Wei's "Must Know Tips/Tricks" write
    `alpha_i * lambda_i` (`eigen_scale="variance"`), which depends on the pixels'
    scale: tiny for [0, 1] images, huge for [0, 255]. The default
    `eigen_scale="std"` uses `sqrt(lambda_i)`, the standard deviation along the
    axis (as fb.resnet.torch's widely copied ImageNet constants do), so the shift
    is `alpha_std` standard deviations whatever the pixel scale.

    When to use it: colour images, and models without BatchNorm right after the
    input; on grayscale data it reduces to a random brightness shift. One public
    report finds it helps without BatchNorm and hurts with it; measure on your data.

    Args:
        alpha_std: Standard deviation of the per-image `alpha_i`. Defaults to `0.1`.
        eigen_scale: `"std"` or `"variance"`, see above. Defaults to `"std"`.
        seed: Optional integer seed.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:
    >>> images = np.random.default_rng(0).uniform(size=(64, 8, 8, 3)).astype("float32")
    >>> layer = FancyPCA(alpha_std=0.1)
    >>> layer.adapt(images)
    >>> layer(images, training=True).shape
    (64, 8, 8, 3)
    """

    def __init__(self, alpha_std=0.1, eigen_scale="std", seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(alpha_std, (int, float)) or not math.isfinite(alpha_std) or alpha_std < 0:
            raise ValueError(f"alpha_std must be a finite number >= 0. Received alpha_std={alpha_std!r}")
        if eigen_scale not in _EIGEN_SCALES:
            raise ValueError(f"eigen_scale must be one of {_EIGEN_SCALES}. Received eigen_scale={eigen_scale!r}")
        self.alpha_std = float(alpha_std)
        self.eigen_scale = eigen_scale
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self._adapted = False

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(f"FancyPCA needs a known number of channels. Received shape {input_shape}")
        self.eigenvectors = self.add_weight(
            shape=(channels, channels), initializer="zeros", trainable=False, name="eigenvectors"
        )
        self.eigenvalues = self.add_weight(
            shape=(channels,), initializer="zeros", trainable=False, name="eigenvalues"
        )

    def adapt(self, data):
        """Fit the colour covariance's eigenvectors and eigenvalues.

        Args:
            data: Images `(N, H, W, C)` as a numpy array, a `tf.data.Dataset` or an
                iterable of batches (tuples keep their first element), in the scale
                the layer will see in training.
        """
        total, sums, outer, channels = 0, None, None, None
        for batch in _batches(data):
            _check_finite_numeric(batch, "FancyPCA")
            if batch.ndim < 2 or batch.size == 0:
                raise ValueError(f"FancyPCA.adapt needs non-empty images (..., C). Received shape {batch.shape}")
            channels = batch.shape[-1]
            pixels = batch.reshape(-1, channels).astype(np.float64)
            sums = pixels.sum(0) if sums is None else sums + pixels.sum(0)
            outer = pixels.T @ pixels if outer is None else outer + pixels.T @ pixels
            total += len(pixels)
        if total == 0:
            raise ValueError("FancyPCA.adapt received no data")
        if not self.built:
            self.build((None, channels))
        mean = sums / total
        cov = outer / total - np.outer(mean, mean)
        values, vectors = np.linalg.eigh(cov)
        order = np.argsort(values)[::-1]  # largest eigenvalue first, as in the paper
        self.eigenvalues.assign(np.clip(values[order], 0.0, None).astype("float32"))
        self.eigenvectors.assign(vectors[:, order].astype("float32"))
        self._adapted = True

    def load_own_variables(self, store):
        super().load_own_variables(store)
        self._adapted = True

    def call(self, inputs, training=False):
        if not self._adapted:
            raise ValueError("FancyPCA must be fitted with adapt(images) before it is called")
        if not training:
            return inputs
        x = ops.cast(inputs, self.compute_dtype)
        unbatched = len(x.shape) == 3
        batch = 1 if unbatched else ops.shape(x)[0]
        channels = self.eigenvalues.shape[0]
        alpha = keras.random.normal((batch, channels), stddev=self.alpha_std, seed=self.seed_generator)
        spread = ops.sqrt(self.eigenvalues) if self.eigen_scale == "std" else self.eigenvalues
        shift = ops.matmul(alpha * spread, ops.transpose(self.eigenvectors))  # (batch, C)
        shift = ops.cast(shift, x.dtype)
        if unbatched:
            return x + shift[0]
        return x + ops.reshape(shift, (batch,) + (1,) * (len(x.shape) - 2) + (channels,))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"alpha_std": self.alpha_std, "eigen_scale": self.eigen_scale, "seed": self.seed})
        return config
