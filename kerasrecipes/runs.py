"""A whole training run written into one directory: the main job behind `kerasrecipes train` and `demo`.

The run is the recipe end to end: a VGG from the factory, an augmenting tf.data
pipeline, Adam or SGD with momentum, halving on plateau with roll-back, early
stopping and a checkpoint ensemble (`callbacks.recipe`), then the single model,
the ensemble and test-time flips evaluated on held-out data, a diagnosis of the
learning curves and an HTML report. With `recipe` set to a name of
`presets.PRESETS` (the demo's default, `fashion_mnist_fast`), the model,
optimizer, one-cycle schedule, augmentation and ensemble are that preset's
instead, and everything else (files, resume, evaluation, report) is the same.

Every file is written atomically, and a `run.json` records the state: a run
killed halfway leaves the earlier files intact, and the next `train` into the
same directory says so and resumes from the last finished epoch (Keras's
`BackupAndRestore`, plus the callbacks' own saved state).
"""

import json
import os
import time

import numpy as np

from kerasrecipes import _io

DATASETS = ("sample", "fashion_mnist", "mnist", "cifar10")
# Settings a run accepts, with their defaults: every factory option plus training ones.
DEFAULTS = {
    "dataset": "sample",
    "recipe": None,  # a named `presets` recipe (fashion_mnist_fast); None: the factory settings below
    "preset": None,
    "filters": (32, 64),
    "convs_per_stage": 2,
    "order": "conv-bn-act",
    "activation": "relu",
    "kernel_initializer": "auto",
    "dropout": 0.25,
    "dense_units": (128,),
    "dense_dropout": 0.5,
    "head": "flatten",
    "pooling": "max",
    "weight_decay": None,
    "l1": None,
    "max_norm": None,
    "optimizer": "adam",
    "lr": 1e-3,  # Adam's default; use about 0.05 with optimizer="sgd"
    "momentum": 0.9,  # SGD only
    "batch_size": 128,
    "epochs": 10,
    "augment": "light",  # flips + pad-and-crop
    "flip": True,  # False for digits
    "mixup": None,
    "ensemble": "top_k",
    "k": 3,
    "patience": 2,
    "val_fraction": 0.1,
    "train_limit": None,  # use only the first N training images (quick runs)
    "seed": 0,
}
MODEL_KEYS = ("preset", "filters", "convs_per_stage", "order", "activation", "kernel_initializer", "dropout",
              "dense_units", "dense_dropout", "head", "pooling", "weight_decay", "l1", "max_norm")
# What a named recipe decides itself; with `recipe` set these must keep their defaults.
RECIPE_OWNS = MODEL_KEYS + ("optimizer", "lr", "momentum", "augment", "mixup", "ensemble", "patience")
STATE_FILE = "run.json"


def load_config(path):
    """Settings from a JSON file (any keys of `DEFAULTS`), checked like command-line flags."""
    try:
        with open(path) as f:
            config = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"config file {path!r} cannot be read as JSON: {e}") from e
    if not isinstance(config, dict):
        raise ValueError(f"config file {path!r} must hold a JSON object of settings")
    return check_config(config)


def check_config(config):
    """Complete a partial config with `DEFAULTS`, refusing unknown keys and bad values."""
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown setting(s) {', '.join(unknown)}; valid: {', '.join(DEFAULTS)}")
    merged = {**DEFAULTS, **config}
    if merged["dataset"] not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}. Received dataset={merged['dataset']!r}")
    if merged["optimizer"] not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd'. Received optimizer={merged['optimizer']!r}")
    for key in ("epochs", "batch_size", "k", "patience"):
        if not isinstance(merged[key], int) or isinstance(merged[key], bool) or merged[key] < 1:
            raise ValueError(f"{key} must be a positive integer. Received {key}={merged[key]!r}")
    if not isinstance(merged["lr"], (int, float)) or not merged["lr"] > 0:
        raise ValueError(f"lr must be a positive number. Received lr={merged['lr']!r}")
    if not 0 < merged["val_fraction"] < 1:
        raise ValueError(f"val_fraction must be in (0, 1). Received val_fraction={merged['val_fraction']!r}")
    if merged["ensemble"] not in ("top_k", "snapshot", "every", None):
        raise ValueError(f"ensemble must be top_k, snapshot, every or None. Received ensemble={merged['ensemble']!r}")
    for key in ("filters", "dense_units"):
        if isinstance(merged[key], list):
            merged[key] = tuple(merged[key])
    if merged["recipe"] is not None:
        from kerasrecipes import presets

        if merged["recipe"] not in presets.PRESETS:
            raise ValueError(f"recipe must be one of {', '.join(presets.PRESETS)} or None. "
                             f"Received recipe={merged['recipe']!r}")
        overridden = [key for key in RECIPE_OWNS if merged[key] != DEFAULTS[key]]
        if overridden:
            raise ValueError(f"recipe={merged['recipe']!r} sets the model, optimizer, schedule, augmentation and "
                             f"ensemble itself, so {', '.join(overridden)} cannot be set with it "
                             "(use recipe=None to build from the factory settings)")
    return merged


def load_dataset(name):
    """`(x_train, y_train), (x_test, y_test)` as uint8 images for a dataset name."""
    from kerasrecipes import datasets

    if name == "sample":
        return datasets.fashion_mnist_sample()
    if name == "fashion_mnist":
        return datasets.fashion_mnist(download=False)
    return getattr(datasets, name)()


def previous_state(out):
    """The state recorded by an earlier run in `out`, or None."""
    path = os.path.join(out, STATE_FILE)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def train(out, config=None, *, verbose=1, log=print):
    """Run the recipe end to end and write everything into the directory `out`.

    Args:
        out: The run directory (created if needed). Running again into the same
            directory after a kill resumes from the last finished epoch.
        config: Settings (keys of `DEFAULTS`); missing ones take the defaults.
        verbose: Keras's fit verbosity (0, 1 or 2). Defaults to `1`.
        log: Where one-line messages go. Defaults to `print`.

    Returns:
        The summary dict also written to `out/summary.json`: test accuracy of
        the single model, the ensemble and the single model with test-time
        flips, epochs run, seconds, and the names of the diagnosis findings.

    Example:
    >>> summary = train("runs/quick", {"epochs": 2, "train_limit": 2000})
    """
    import keras

    from kerasrecipes import callbacks as krc
    from kerasrecipes import data, diagnose

    config = check_config(config or {})
    os.makedirs(out, exist_ok=True)
    state = previous_state(out)
    if state and state.get("state") == "running":
        log(f"note: the run in {out} started {state.get('started')} did not finish; its files are kept "
            "and training resumes from its last finished epoch")
        if state.get("config") and state["config"] != json.loads(json.dumps(_io.to_strict_json(config))):
            raise ValueError(f"{out} holds an unfinished run with other settings; use another --out or delete it")
    _io.write_json(os.path.join(out, STATE_FILE),
                {"state": "running", "started": time.strftime("%Y-%m-%d %H:%M:%S"), "config": config})

    keras.utils.set_random_seed(config["seed"])
    (x_train, y_train), (x_test, y_test) = load_dataset(config["dataset"])
    if config["train_limit"]:
        x_train, y_train = x_train[: config["train_limit"]], y_train[: config["train_limit"]]
    (x_fit, y_fit), (x_val, y_val) = data.train_val_split(x_train, y_train, config["val_fraction"],
                                                          seed=config["seed"])
    num_classes = int(y_train.max()) + 1
    parts = _recipe_parts if config["recipe"] else _factory_parts
    model, train_ds, validation, callbacks, epochs = parts(config, (x_fit, y_fit), (x_val, y_val), num_classes, out,
                                                           verbose)

    start = time.perf_counter()
    history = model.fit(train_ds, validation_data=validation, epochs=epochs, callbacks=callbacks,
                        shuffle=False, verbose=verbose)  # the pipeline shuffles
    seconds = time.perf_counter() - start
    diagnose.save_history(history, os.path.join(out, "history.json"))
    _io.save_keras(model, os.path.join(out, "model.keras"))

    x_eval = x_test.astype("float32") / 255.0
    results = {"single": float(np.mean(model.predict(x_eval, verbose=0).argmax(-1) == y_test))}
    if config["flip"]:
        tta = data.tta_predict(model, x_eval, flips=True)
        results["single + TTA flips"] = float(np.mean(tta.argmax(-1) == y_test))
    ensemble_callback = next((c for c in callbacks if isinstance(c, krc.CheckpointEnsemble)), None)
    if ensemble_callback is not None and ensemble_callback.members:
        ensemble = ensemble_callback.ensemble()
        _io.save_keras(ensemble, os.path.join(out, "ensemble.keras"))
        probabilities = ensemble.predict(x_eval, verbose=0)
        results[f"{ensemble_callback.mode} ensemble of {len(ensemble_callback.members)}"] = float(
            np.mean(probabilities.argmax(-1) == y_test))
    diagnosis = diagnose.diagnose(history)
    summary = {
        "dataset": config["dataset"], "train_images": len(x_fit), "test_images": len(x_test),
        "epochs_run": len(history.history["loss"]), "train_seconds": round(seconds, 1),
        "test_accuracy": results, "findings": [f.name for f in diagnosis.findings],
    }
    _io.write_json(os.path.join(out, "summary.json"), summary)
    _io.write_text(os.path.join(out, "diagnosis.txt"), str(diagnosis) + "\n")
    write_report(out, model=model, x_test=x_eval, y_test=y_test, config=config)
    _io.write_json(os.path.join(out, STATE_FILE), {"state": "complete", "started": state and state.get("started"),
                                               "finished": time.strftime("%Y-%m-%d %H:%M:%S"), "config": config})
    return summary


def _factory_parts(config, fit_data, val_data, num_classes, out, verbose):
    """Model, training pipeline, validation data, callbacks and epochs from the factory settings."""
    import keras

    from kerasrecipes import callbacks as krc
    from kerasrecipes import data, models, schedules

    (x_fit, y_fit), (x_val, y_val) = fit_data, val_data
    mixing = config["mixup"] is not None
    train_ds = data.pipeline(x_fit, y_fit, config["batch_size"], augment=config["augment"], mixup=config["mixup"],
                             seed=config["seed"], flip=config["flip"], num_classes=num_classes)
    # MixUp trains on one-hot labels, so it validates on them too.
    validation = (x_val.astype("float32") / 255.0, np.eye(num_classes, dtype="float32")[y_val] if mixing else y_val)

    # Zero-centre, then normalize, with the training set's statistics (the seeds' first step).
    scaled = x_fit.astype("float32") / 255.0
    normalization = (float(scaled.mean()), float(scaled.var()))
    model = models.vgg(x_fit.shape[1:], num_classes, input_normalization=normalization,
                       **{key: config[key] for key in MODEL_KEYS})
    steps = -(-len(x_fit) // config["batch_size"])
    lr = config["lr"]
    if config["ensemble"] == "snapshot":
        cycles = max(1, min(config["k"], config["epochs"]))
        lr = schedules.CyclicCosine(lr, cycle_steps=steps * max(1, config["epochs"] // cycles))
    optimizer = (keras.optimizers.Adam(lr) if config["optimizer"] == "adam"
                 else keras.optimizers.SGD(lr, momentum=config["momentum"], nesterov=True))
    loss = "categorical_crossentropy" if mixing else "sparse_categorical_crossentropy"
    model.compile(optimizer, loss, metrics=["accuracy"])
    callbacks = krc.recipe("val_loss", ensemble=config["ensemble"], patience=config["patience"], k=config["k"],
                           directory=os.path.join(out, "members") if config["ensemble"] else None,
                           backup_dir=os.path.join(out, "backup"), verbose=min(verbose, 1))
    return model, train_ds, validation, callbacks, config["epochs"]


def _recipe_parts(config, fit_data, val_data, num_classes, out, verbose):
    """The same five parts from a named `presets` recipe (its model, optimizer, schedule, data and ensemble)."""
    from kerasrecipes import presets

    (x_fit, y_fit), (x_val, y_val) = fit_data, val_data
    # epochs, batch size and ensemble size are the recipe's own unless the run sets them.
    fields = {"epochs": "epochs", "batch_size": "batch_size", "k": "ensemble_k"}
    own = {field: config[key] for key, field in fields.items() if config[key] != DEFAULTS[key]}
    recipe = presets.get(config["recipe"], input_shape=tuple(x_fit.shape[1:]), num_classes=num_classes,
                         flip=config["flip"], tta_flips=config["flip"], seed=config["seed"], **own)
    steps = -(-len(x_fit) // recipe.batch_size)
    model = recipe.compile(recipe.build_model(), steps)
    callbacks = recipe.callbacks(validation=True, directory=os.path.join(out, "members"),
                                 backup_dir=os.path.join(out, "backup"))
    return model, recipe.train_data(x_fit, y_fit), recipe.eval_data(x_val, y_val), callbacks, recipe.epochs


def write_report(out, *, model=None, x_test=None, y_test=None, config=None):
    """Write `out/report.html`: curves, diagnosis, and the confusion matrix and top losses on held-out data.

    Without a model and data it loads `out/model.keras` and the test set named
    in `out/run.json`, so `kerasrecipes report DIR` gives the same page.
    """
    import keras

    from kerasrecipes import datasets
    from kerasrecipes.report import report

    if not os.path.exists(os.path.join(out, "history.json")):
        raise ValueError(f"{out!r} is not a finished run directory: it has no history.json")
    if config is None:
        config = check_config((previous_state(out) or {}).get("config") or {})
    if model is None and os.path.exists(os.path.join(out, "model.keras")):
        model = keras.saving.load_model(os.path.join(out, "model.keras"))
        _, (x_test, y_test) = load_dataset(config["dataset"])
        x_test = x_test.astype("float32") / 255.0
    names = {"sample": datasets.FASHION_MNIST_CLASSES, "fashion_mnist": datasets.FASHION_MNIST_CLASSES,
             "mnist": datasets.MNIST_CLASSES, "cifar10": datasets.CIFAR10_CLASSES}[config["dataset"]]
    if model is None:
        return report(out)
    return report(out, model=model, x=x_test, y=y_test, class_names=list(names))


def format_summary(summary):
    """The results table a person reads at the end of a run."""
    lines = [f"{'model':<32}{'test accuracy':>14}"]
    for name, accuracy in summary["test_accuracy"].items():
        lines.append(f"{name:<32}{accuracy:>14.4f}")
    lines.append(f"({summary['test_images']} held-out images; {summary['epochs_run']} epochs, "
                 f"{summary['train_seconds']:.0f} s of training on {summary['train_images']} images)")
    if summary["findings"]:
        lines.append("diagnosis: " + ", ".join(summary["findings"]))
    return "\n".join(lines)
