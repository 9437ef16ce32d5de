"""The one-liner: halving on plateau, early stopping and a checkpoint ensemble that work together."""

import os

from kerasrecipes.callbacks._monitor import check_count, check_monitor
from kerasrecipes.callbacks.backup import AtomicBackupAndRestore
from kerasrecipes.callbacks.ensemble import CheckpointEnsemble
from kerasrecipes.callbacks.plateau import EarlyStopping, HalveLROnPlateau

_ENSEMBLES = ("top_k", "snapshot", "every", None)

def recipe(monitor="val_loss", ensemble="top_k", *, patience=3, factor=0.5, min_lr=1e-6,
           max_halvings=None, early_stopping_patience=None, k=5, every=1, directory=None,
           backup_dir=None, verbose=1):
    """Callbacks for `model.fit(callbacks=recipe())`: the training recipe in one line.

    Returns, in an order that makes them work together:

    1. `CheckpointEnsemble(ensemble, k, monitor, every, directory)` when
       `ensemble` is not None (first, so each member holds its own epoch's
       weights before any roll-back);
    2. `HalveLROnPlateau(monitor, factor, patience, ...)`: halve the LR after
       `patience` epochs without progress, rolling back to the best weights;
    3. `EarlyStopping(monitor, patience=early_stopping_patience,
       restore_best_weights=True)`, whose patience defaults to
       `2 * patience + 1`, so that two halvings in a row get their chance
       before training stops;
    4. `AtomicBackupAndRestore` (Keras's `BackupAndRestore`, written atomically) when `backup_dir` is given (last, as
       our callbacks must save their state before it does); the callbacks'
       own resumable state goes to subfolders of `backup_dir`.

    With `ensemble="snapshot"` the LR belongs to a cyclic schedule
    (`schedules.CyclicCosine`) and the snapshots need every cycle to run, so
    neither the halving nor early stopping is included: the list is the
    snapshot collector (plus BackupAndRestore).

    Every argument is checked here, before any training; a `monitor` the
    first epoch does not log is a `ValueError` at the end of that epoch,
    naming the metrics that exist.

    Args:
        monitor: Metric for all callbacks. Defaults to `"val_loss"`.
        ensemble: `"top_k"`, `"snapshot"`, `"every"` or `None`. Defaults to `"top_k"`.
        patience: Halving patience in epochs. Defaults to `3`.
        factor: LR multiplier at each halving. Defaults to `0.5`.
        min_lr: Lowest LR. Defaults to `1e-6`.
        max_halvings: Most halvings before stopping; `None` for no limit.
            Defaults to `None`.
        early_stopping_patience: Defaults to `2 * patience + 1`.
        k: Ensemble size. Defaults to `5`.
        every: Epochs between members for `"every"` (and snapshots without a
            cyclic schedule). Defaults to `1`.
        directory: On-disk ensemble directory; `None` keeps members in memory.
            Defaults to `None`.
        backup_dir: Adds BackupAndRestore and makes every callback resumable.
            Defaults to `None`.
        verbose: 0 or 1. Defaults to `1`.

    Returns:
        A list of callbacks. The `CheckpointEnsemble`, if any, is the first;
        call `.ensemble()` on it after `fit`.

    Example:
    >>> callbacks = recipe("val_loss", ensemble="top_k", patience=2)
    >>> model.fit(x, y, validation_split=0.1, epochs=30, callbacks=callbacks)
    >>> ensemble_model = callbacks[0].ensemble()
    """
    check_monitor(monitor)
    if ensemble not in _ENSEMBLES:
        raise ValueError(f"ensemble must be one of {_ENSEMBLES}. Received ensemble={ensemble!r}")
    patience = check_count("patience", patience, minimum=1)
    if early_stopping_patience is None:
        early_stopping_patience = 2 * patience + 1
    elif (not isinstance(early_stopping_patience, int) or isinstance(early_stopping_patience, bool)
          or early_stopping_patience <= patience):
        raise ValueError(
            "early_stopping_patience must be an integer larger than patience, or the "
            "run stops before the LR is ever halved. Received "
            f"early_stopping_patience={early_stopping_patience!r} with patience={patience!r}"
        )

    def sub(name):
        return None if backup_dir is None else os.path.join(str(backup_dir), name)

    callbacks = []
    if ensemble is not None:
        callbacks.append(CheckpointEnsemble(ensemble, k=k, monitor=monitor, every=every,
                                            directory=directory, backup_dir=sub("ensemble"),
                                            verbose=verbose))
    if ensemble != "snapshot":
        callbacks.append(HalveLROnPlateau(monitor, factor=factor, patience=patience, min_lr=min_lr,
                                          max_halvings=max_halvings, verbose=verbose,
                                          backup_dir=sub("halving")))
        callbacks.append(EarlyStopping(monitor, patience=early_stopping_patience,
                                       restore_best_weights=True, verbose=verbose,
                                       backup_dir=sub("early_stopping")))
    if backup_dir is not None:
        callbacks.append(AtomicBackupAndRestore(sub("keras")))
    return callbacks
