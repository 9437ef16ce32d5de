"""Evidence on real data for the training callbacks, at equal training budgets (never run in CI).

Trains a slim factory VGG on a slice of Fashion-MNIST and reports, on the
10,000-image test set:

1. a snapshot ensemble (CyclicCosine, one member per cycle) against its best
   single member;
2. HalveLROnPlateau against the same run at a constant LR;
3. SWA over the last epochs of the constant-LR run against that run's last epoch.

Runs 2 and 3 share one training run (SWA only reads weights until the end), so
the script trains 2 models of HYP["epochs"] epochs each.

    python benchmarks/callbacks_evidence.py            # prints a table and one JSON line
    nohup python benchmarks/callbacks_evidence.py > evidence.log 2>&1 &
"""

import json
import os
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import kerasrecipes as kr  # noqa: E402
from kerasrecipes.callbacks import SWA, CheckpointEnsemble, HalveLROnPlateau  # noqa: E402

HYP = dict(
    train=15000,          # training images (first of the 60k), the budget's main knob
    val=2000,             # held out from the training set for val_loss (plateau detection)
    filters=(16, 32, 64),  # slim VGG: one 3x3 conv per stage, BN before ReLU, GAP head
    batch_size=128,
    epochs=12,            # every run trains this many epochs: the equal budget
    lr=0.05,              # SGD, momentum 0.9: the constant LR and the start of halving
    snapshot_lr=0.1,      # peak of each cosine cycle
    cycles=4,             # snapshot members (epochs / cycles epochs per cycle)
    halve_patience=1,     # epochs without val_loss progress before halving
    swa_start=8,          # 0-based epoch from which SWA averages (the last 4 epochs)
    seed=0,
)


def data():
    (x, y), (x_test, y_test) = kr.datasets.fashion_mnist()
    scale = np.float32(1 / 255)
    x = x.astype("float32")[..., None] * scale if x.ndim == 3 else x.astype("float32") * scale
    x_test = x_test.astype("float32")[..., None] * scale if x_test.ndim == 3 else x_test.astype("float32") * scale
    n, v = HYP["train"], HYP["val"]
    return (x[:n], y[:n]), (x[n:n + v], y[n:n + v]), (x_test, y_test)


def build(lr):
    keras.utils.set_random_seed(HYP["seed"])
    model = kr.models.vgg((28, 28, 1), 10, filters=HYP["filters"], convs_per_stage=1,
                          order="conv-bn-act", head="gap", dense_units=())
    model.compile(keras.optimizers.SGD(lr, momentum=0.9), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def accuracy(model, x, y):
    return float(model.evaluate(x, y, batch_size=512, verbose=0)[1])


class LastWeights(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        self.weights = self.model.get_weights()


def main():
    (x, y), val, (x_test, y_test) = data()
    fit = dict(batch_size=HYP["batch_size"], epochs=HYP["epochs"], validation_data=val, verbose=2)
    steps = -(-len(x) // HYP["batch_size"])  # Keras keeps the last partial batch
    results, timings = {}, {}

    # 1. snapshot ensemble
    cycle_epochs = HYP["epochs"] // HYP["cycles"]
    model = build(kr.schedules.CyclicCosine(HYP["snapshot_lr"], cycle_steps=cycle_epochs * steps))
    snap = CheckpointEnsemble("snapshot", k=HYP["cycles"])
    t = time.time()
    model.fit(x, y, callbacks=[snap], **fit)
    timings["snapshot_run_s"] = time.time() - t
    table = kr.ensembles.evaluate(snap.member_models(), x_test, y_test)
    print(table)
    results["snapshot_members"] = [m.epoch for m in snap.members]
    results["snapshot_member_acc"] = [r["accuracy"] for r in table.members]
    results["snapshot_ensemble_acc"] = table.ensemble["accuracy"]
    results["snapshot_best_member_acc"] = table.best_member["accuracy"]

    # 2 + 3. constant LR with SWA over its tail, and the last epoch of that run
    model = build(HYP["lr"])
    last = LastWeights()
    swa = SWA(start_epoch=HYP["swa_start"], data=x, batch_size=256)
    t = time.time()
    model.fit(x, y, callbacks=[last, swa], **fit)
    timings["constant_run_s"] = time.time() - t
    results["swa_acc"] = accuracy(model, x_test, y_test)
    model.set_weights(last.weights)
    results["constant_last_epoch_acc"] = accuracy(model, x_test, y_test)

    # 2. halving on plateau (roll-back to best, best weights at the end)
    model = build(HYP["lr"])
    halve = HalveLROnPlateau(patience=HYP["halve_patience"], verbose=1)
    t = time.time()
    history = model.fit(x, y, callbacks=[halve], **fit)
    timings["halving_run_s"] = time.time() - t
    results["halving_acc"] = accuracy(model, x_test, y_test)
    results["halving_lrs"] = history.history["learning_rate"]
    results["halvings"] = halve.halvings

    record = {"benchmark": "callbacks_evidence", "hyp": HYP, "results": results, "timings": timings,
              "machine": f"{platform.machine()} {os.cpu_count()} cpu", "keras": keras.__version__,
              "backend": keras.backend.backend(), "python": sys.version.split()[0]}
    print(json.dumps(record))
    r = results
    print(f"\n{'comparison':<42}{'test accuracy':>14}")
    print(f"{'snapshot ensemble (%d members)' % len(r['snapshot_members']):<42}{r['snapshot_ensemble_acc']:>14.4f}")
    print(f"{'  best single snapshot':<42}{r['snapshot_best_member_acc']:>14.4f}")
    print(f"{'HalveLROnPlateau (%d halvings)' % r['halvings']:<42}{r['halving_acc']:>14.4f}")
    print(f"{'  constant LR, last epoch':<42}{r['constant_last_epoch_acc']:>14.4f}")
    print(f"{'SWA from epoch %d' % (HYP['swa_start'] + 1):<42}{r['swa_acc']:>14.4f}")
    print(f"{'  same run, last epoch':<42}{r['constant_last_epoch_acc']:>14.4f}")


if __name__ == "__main__":
    main()
