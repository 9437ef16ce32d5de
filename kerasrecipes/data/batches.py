"""Batches of in-memory arrays for `fit` on any backend, shuffled per epoch from `(seed, epoch)`."""

import keras
import numpy as np


class ArrayBatches(keras.utils.PyDataset):
    """Shuffled batches of `(x, y)` arrays, on the host or already on the accelerator.

    What it adds to passing arrays to `fit(shuffle=True)`: Keras draws each
    epoch's order from the global NumPy (or TensorFlow, or torch) random state,
    so a run resumed at epoch k sees other orders than an uninterrupted one.
    Here epoch e's order is a function of `(seed, e)` alone: set `epoch` to the
    first epoch `fit` trains (`initial_epoch`) and a resumed run sees exactly
    the orders it would have seen. No TensorFlow needed; images stay uint8
    (`kerasrecipes.models.Augmented` scales them inside the compiled step).

    With `on_device=True` the arrays are put on the default accelerator once
    (under JAX), and each batch is a gather there: nothing but the indices
    crosses from the host per step.

    Args:
        x: Images (or samples), any array.
        y: Labels (integer or one-hot), or `None`.
        batch_size: Samples per batch.
        shuffle: Reshuffle every epoch. Defaults to `True`.
        seed: Integer seed of the orders; `None` draws one.
        epoch: The 0-based epoch whose order comes first. Defaults to `0`.
        drop_remainder: Drop the last incomplete batch (data-parallel
            training needs equal batches). Defaults to `False`.
        on_device: Keep the arrays on the accelerator (JAX). Defaults to `False`.

    Keras's `fit` does not tell a dataset which epoch it is in (and peeks at a
    batch before the first one), so the order follows `fit`'s epoch through the
    callback `epoch_callback()`; without it, `epoch` counts `on_epoch_end`s.

    Example:
    >>> batches = ArrayBatches(x_train, y_onehot, 256, seed=0)
    >>> model.fit(batches, epochs=3, callbacks=[batches.epoch_callback()])
    """

    def __init__(self, x, y=None, batch_size=256, shuffle=True, seed=None, epoch=0, drop_remainder=False,
                 on_device=False):
        super().__init__()
        if y is not None and len(y) != len(x):
            raise ValueError(f"y must have one label per sample of x ({len(x)}). Received {len(y)} labels")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer. Received batch_size={batch_size!r}")
        self.n = len(x)
        if drop_remainder and self.n < batch_size:
            raise ValueError(f"drop_remainder leaves no batch of {batch_size} from {self.n} samples")
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(np.random.default_rng().integers(2**31 - 1)) if seed is None else int(seed)
        self.drop_remainder = drop_remainder
        self.on_device = on_device
        if on_device:
            import jax  # device-resident arrays are a JAX path (execution.input_path chooses it only there)

            x = jax.device_put(x)
            y = None if y is None else jax.device_put(y)
        self.x, self.y = x, y
        self.epoch = epoch

    @property
    def epoch(self) -> int:
        """The 0-based epoch whose order the next batches follow."""
        return self._epoch

    @epoch.setter
    def epoch(self, value):
        self._epoch = int(value)
        self._order = (np.random.default_rng([self.seed, self._epoch]).permutation(self.n) if self.shuffle
                       else np.arange(self.n))

    def __len__(self):
        return self.n // self.batch_size if self.drop_remainder else -(-self.n // self.batch_size)

    def __getitem__(self, index):
        take = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        x = self.x[take]
        return x if self.y is None else (x, self.y[take])

    def on_epoch_end(self):
        self.epoch = self._epoch + 1

    def epoch_callback(self) -> keras.callbacks.Callback:
        """A callback that sets `epoch` to `fit`'s epoch as it begins (put it in `fit`'s callbacks)."""
        return _FollowEpochs(self)


class _FollowEpochs(keras.callbacks.Callback):
    """Sets a dataset's `epoch` at every epoch begin: the order of epoch e is the same on resume."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        if self.batches.epoch != epoch:
            self.batches.epoch = epoch
