"""A training run for the kill-and-resume test (run as a subprocess, not collected by pytest).

usage: python _resume_script.py WORKDIR OUT_JSON [KILL_EPOCH]

With KILL_EPOCH, the run writes WORKDIR/ready when it reaches the third batch
of that epoch and then sleeps, waiting for the parent's SIGKILL.
"""

import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from kerasrecipes.callbacks import SWA, recipe  # noqa: E402

workdir, out = sys.argv[1], sys.argv[2]
kill_epoch = int(sys.argv[3]) if len(sys.argv) > 3 else None
if keras.backend.backend() == "tensorflow":
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
keras.utils.set_random_seed(7)

rng = np.random.default_rng(0)
x = rng.normal(size=(160, 8)).astype("float32")
y = ((x[:, 0] + 0.5 * rng.normal(size=160)) > 0).astype("int32") + (x[:, 1] > 0.8).astype("int32")
model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.Dense(3, activation="softmax")])
model.compile(keras.optimizers.SGD(0.8, momentum=0.9), "sparse_categorical_crossentropy")


class Killer(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        if self._epoch == kill_epoch and batch == 2:
            open(os.path.join(workdir, "ready"), "w").close()
            time.sleep(120)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch


cbs = recipe("val_loss", ensemble="top_k", patience=1, k=3, backup_dir=os.path.join(workdir, "backup"),
             early_stopping_patience=4, verbose=0)
callbacks = cbs[:-1] + [SWA(start_epoch=6, backup_dir=os.path.join(workdir, "backup", "swa"))] + cbs[-1:]
if kill_epoch is not None:
    callbacks.append(Killer())
history = model.fit(x[:128], y[:128], validation_data=(x[128:], y[128:]), batch_size=16, epochs=12,
                    shuffle=False, verbose=0, callbacks=callbacks)
ensemble, halving, stopping, swa = callbacks[0], callbacks[1], callbacks[2], callbacks[3]
result = {
    "epochs_in_this_process": len(history.history["loss"]),
    "halvings": halving.halvings,
    "best": float(halving.best),
    "best_epoch": halving.best_epoch,
    "lr": float(model.optimizer.learning_rate),
    "members": [[m.epoch, m.metric] for m in ensemble.members],
    "member_sums": [float(sum(np.sum(w) for w in m.weights)) for m in ensemble.members],
    "early_stopping_best": float(stopping.best),
    "swa_averaged": swa.averaged,
    "final_weights": [w.tolist() for w in model.get_weights()],
}
with open(out, "w") as f:
    json.dump(result, f)
