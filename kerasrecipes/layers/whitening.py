"""PCA and ZCA whitening fitted with adapt(), as in the cs231n notes."""

import math

import keras
import numpy as np
from keras import ops

_METHODS = ("pca", "zca")


def _batches(data):
    """Yield numpy batches from an array, a tf.data.Dataset or any iterable of batches."""
    if hasattr(data, "shape") and not hasattr(data, "element_spec"):
        yield np.asarray(data)
        return
    for batch in data:
        if isinstance(batch, (tuple, list)):  # (x, y) or (x, y, w): keep x
            batch = batch[0]
        yield np.asarray(batch)


def _check_finite_numeric(batch, layer):
    if batch.dtype.kind not in "biuf":
        raise ValueError(f"{layer}.adapt needs numeric data. Received data of dtype {batch.dtype}")
    if batch.dtype.kind == "f" and not np.isfinite(batch).all():
        raise ValueError(f"{layer}.adapt received data containing NaN or inf")


@keras.saving.register_keras_serializable(package="kerasrecipes")
class Whitening(keras.layers.Layer):
    """PCA or ZCA whitening, fitted to data with `adapt()`.

    The cs231n recipe: centre the data, take the covariance `C = X^T X / N`, its
    SVD `U, S, V = svd(C)`, rotate into the eigenbasis `X U` and divide by
    `sqrt(S + epsilon)` (PCA whitening); ZCA rotates back with `U^T`, which keeps
    the inputs' layout and look. `epsilon` is the smoothing knob of cs231n's notes:
    larger values damp the weakest directions (mostly noise) instead of blowing
    them up. Keras's `Normalization` only rescales each feature; this layer adds
    the decorrelation. cs231n's caveat holds: whitening is rarely used with
    CNNs, where per-channel standardization is the default.

    Two modes:
    - `patch_size=None`: every sample is flattened into one vector of `D`
      features (`D = H * W * C` for images; mind the `D x D` covariance). ZCA
      returns the input's shape, PCA returns `(batch, n_components)`.
    - `patch_size=p` (odd): the statistics come from `p x p` image patches
      (`D = p * p * C`), and the transform slides over the image as a convolution
      with "same" padding (borders see zero padding): ZCA returns the whitened
      centre pixel, shape `(batch, H, W, C)`; PCA returns the whitened patch
      components, shape `(batch, H, W, n_components)`.

    Args:
        method: `"zca"` or `"pca"`. Defaults to `"zca"`.
        epsilon: Added to the eigenvalues before the square root. Defaults to `1e-5`.
        patch_size: `None` for whole samples, or an odd patch side in pixels.
            Defaults to `None`.
        n_components: PCA only: how many leading components to keep (all when
            `None`). Defaults to `None`.
        patches_per_image: Patch mode: random patches drawn per image in `adapt`.
            Defaults to `16`.
        **kwargs: Base layer keyword arguments, such as `name`.

    Example:
    >>> x = np.random.default_rng(0).normal(size=(500, 4)) @ [[2, 1, 0, 0], [0, 1, 0, 0], [0, 0, 3, 1], [0, 0, 0, 1]]
    >>> white = Whitening("pca")
    >>> white.adapt(x)
    >>> np.round(np.cov(np.asarray(white(x)).T, bias=True), 2)  # ~ identity
    """

    def __init__(self, method="zca", epsilon=1e-5, patch_size=None, n_components=None,
                 patches_per_image=16, **kwargs):
        super().__init__(**kwargs)
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}. Received method={method!r}")
        if not isinstance(epsilon, (int, float)) or not math.isfinite(epsilon) or epsilon < 0:
            raise ValueError(f"epsilon must be a finite number >= 0. Received epsilon={epsilon!r}")
        if patch_size is not None and (
            not isinstance(patch_size, int) or patch_size < 1 or patch_size % 2 == 0
        ):
            raise ValueError(f"patch_size must be None or an odd positive integer. Received patch_size={patch_size!r}")
        if n_components is not None:
            if method != "pca":
                raise ValueError(f"n_components applies to method='pca' only. Received n_components={n_components!r}")
            if not isinstance(n_components, int) or n_components < 1:
                raise ValueError(f"n_components must be a positive integer. Received n_components={n_components!r}")
        if not isinstance(patches_per_image, int) or patches_per_image < 1:
            raise ValueError(
                f"patches_per_image must be a positive integer. Received patches_per_image={patches_per_image!r}"
            )
        self.method = method
        self.epsilon = float(epsilon)
        self.patch_size = patch_size
        self.n_components = n_components
        self.patches_per_image = patches_per_image
        self._adapted = False

    def _feature_dim(self, input_shape):
        dims = input_shape[1:]
        if self.patch_size is not None:
            if len(dims) != 3:
                raise ValueError(f"Whitening with patch_size needs (batch, H, W, C) inputs. Received shape {input_shape}")
            return self.patch_size * self.patch_size * dims[-1]
        return int(np.prod(dims))

    def _out_dim(self, dim):
        if self.method == "zca":
            return dim if self.patch_size is None else self._channels
        return self.n_components or dim

    def build(self, input_shape):
        if any(d is None for d in input_shape[1:]):
            raise ValueError(f"Whitening needs fully known sample dimensions. Received shape {input_shape}")
        self._channels = input_shape[-1]
        dim = self._feature_dim(input_shape)
        if self.n_components is not None and self.n_components > dim:
            raise ValueError(
                f"n_components must be at most the {dim} input features. Received n_components={self.n_components}"
            )
        self.mean = self.add_weight(shape=(dim,), initializer="zeros", trainable=False, name="mean")
        self.matrix = self.add_weight(
            shape=(dim, self._out_dim(dim)), initializer="zeros", trainable=False, name="matrix"
        )

    def _patches(self, batch, rng):
        p = self.patch_size
        h = p // 2
        padded = np.pad(batch, [(0, 0), (h, h), (h, h), (0, 0)])
        n, height, width, _ = batch.shape
        count = n * self.patches_per_image
        rows = rng.integers(0, height, count)
        cols = rng.integers(0, width, count)
        which = np.repeat(np.arange(n), self.patches_per_image)
        offsets = np.arange(p)
        # Patch vectors in (row, col, channel) order: the layout of a conv kernel.
        patches = padded[which[:, None, None], rows[:, None, None] + offsets[None, :, None],
                         cols[:, None, None] + offsets[None, None, :]]
        return patches.reshape(count, -1)

    def adapt(self, data):
        """Fit the mean and the whitening matrix.

        Args:
            data: A numpy array `(N, ...)`, a `tf.data.Dataset` or an iterable of
                batches (tuples keep their first element). Accumulated in float64
                in one pass.
        """
        rng = np.random.default_rng(0)  # patch positions: fixed, so adapt is repeatable
        total, sums, outer, shape = 0, None, None, None
        for batch in _batches(data):
            _check_finite_numeric(batch, "Whitening")
            if batch.ndim < 2 or len(batch) == 0:
                raise ValueError(f"Whitening.adapt needs a non-empty batch of samples. Received shape {batch.shape}")
            shape = batch.shape
            if self.patch_size is not None and batch.ndim != 4:
                raise ValueError(f"Whitening with patch_size needs (N, H, W, C) data. Received shape {batch.shape}")
            flat = (self._patches(batch, rng) if self.patch_size is not None
                    else batch.reshape(len(batch), -1)).astype(np.float64)
            sums = flat.sum(0) if sums is None else sums + flat.sum(0)
            outer = flat.T @ flat if outer is None else outer + flat.T @ flat
            total += len(flat)
        if total == 0:
            raise ValueError("Whitening.adapt received no data")
        if not self.built:
            self.build((None,) + tuple(shape[1:]))
        mean = sums / total
        cov = outer / total - np.outer(mean, mean)
        u, s, _ = np.linalg.svd(cov)
        rotate = u / np.sqrt(s + self.epsilon)  # PCA whitening: X U diag(1/sqrt(S+eps))
        if self.method == "pca":
            matrix = rotate[:, : self.n_components or len(s)]
        else:
            matrix = rotate @ u.T  # ZCA: rotate back into the input space
            if self.patch_size is not None:
                centre = (self.patch_size // 2) * (self.patch_size + 1) * self._channels
                matrix = matrix[:, centre: centre + self._channels]
        self.mean.assign(mean.astype("float32"))
        self.matrix.assign(matrix.astype("float32"))
        self._adapted = True

    def load_own_variables(self, store):
        super().load_own_variables(store)
        self._adapted = True

    def call(self, inputs):
        if not self._adapted:
            raise ValueError("Whitening must be fitted with adapt(data) before it is called")
        x = ops.cast(inputs, self.compute_dtype)
        if self.patch_size is None:
            flat = ops.reshape(x, (-1, self.matrix.shape[0])) - self.mean
            out = ops.matmul(flat, self.matrix)
            return ops.reshape(out, (-1,) + tuple(inputs.shape[1:])) if self.method == "zca" else out
        p = self.patch_size
        kernel = ops.reshape(self.matrix, (p, p, self._channels, self.matrix.shape[1]))
        bias = ops.matmul(self.mean[None, :], self.matrix)[0]
        return ops.conv(x, kernel, padding="same") - bias

    def compute_output_shape(self, input_shape):
        if self.patch_size is None:
            if self.method == "zca":
                return input_shape
            return (input_shape[0], self.n_components or int(np.prod(input_shape[1:])))
        dim = self._feature_dim(input_shape)
        self._channels = input_shape[-1]
        return tuple(input_shape[:-1]) + (self._out_dim(dim),)

    def get_config(self):
        config = super().get_config()
        config.update({
            "method": self.method, "epsilon": self.epsilon, "patch_size": self.patch_size,
            "n_components": self.n_components, "patches_per_image": self.patches_per_image,
        })
        return config
