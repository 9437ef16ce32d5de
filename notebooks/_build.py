"""Write the notebooks from the cell lists below (committed without outputs).

    python notebooks/_build.py

Each notebook is a story in markdown cells and short code cells that call the
library; the logic lives in the package. `KERASRECIPES_SMOKE=1` shrinks data and
epochs so CI can execute every notebook in seconds.
"""

import os

import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))
NOTEBOOKS = {}

SETUP = '''%matplotlib inline
import os
SMOKE = os.environ.get("KERASRECIPES_SMOKE") == "1"  # CI: tiny data, 1 epoch
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras
import numpy as np
import kerasrecipes as kr
keras.utils.set_random_seed(0)'''


def notebook(name, cells):
    NOTEBOOKS[name] = cells


def md(text):
    return nbformat.v4.new_markdown_cell(text.strip())


def code(text):
    return nbformat.v4.new_code_cell(text.strip())


notebook("01_quickstart.ipynb", [
    md("""
# Quickstart: the recipe as one `model.fit` call

Hung-yi Lee's *recipe of deep learning* starts with the training set: train, look at how the
model does on the data it was trained on, and only then at held-out data — a bad test score
is not automatically overfitting. Xiu-Shen Wei adds what to do while training (divide the
learning rate by 2 when the validation score stops improving) and after it (an ensemble of
checkpoints of a single model is "very cheap" and "can still work reasonably well").

This notebook runs that loop on the real Fashion-MNIST sample that ships inside the package
(8,000 training and 2,000 test images, offline):

1. a VGG-style network from the factory `kr.models.vgg`,
2. `kr.callbacks.recipe()`: checkpoint ensemble + halve the LR on a plateau with roll-back + early stopping,
3. the learning curves (`kr.plots.history`) and what they say (`kr.diagnose.diagnose`),
4. the ensemble of the best epochs, and one HTML report of the run (`kr.report.report`).

The same job from a shell is `kerasrecipes demo --recipe factory`; plain `kerasrecipes demo` trains the
measured preset `kr.presets.fashion_mnist_fast` (one-cycle SGD instead of halving) on the same sample.
"""),
    code(SETUP),
    code('''import tempfile

hyp = dict(
    train_images=8000,  # of the sample's 8,000 (10% held out for validation)
    epochs=15,          # at most; early stopping may end sooner
    batch_size=128,     # images per step
    lr=1e-3,            # Adam's default
    patience=2,         # epochs without a lower val_loss before the LR is halved
    k=3,                # checkpoint-ensemble members: the 3 best epochs
)
if SMOKE:
    hyp.update(train_images=512, epochs=1)
out = tempfile.mkdtemp(prefix="kr_quickstart_")  # every file this notebook writes goes here'''),
    md("""
## Data

The preprocessing cs231n and Wei ask for: zero-centre and normalize with statistics of the training
set only (the model's first layer does it, so the saved model takes raw [0, 1] images), and
augment with flips and pad-and-crop (`augment="light"`).
"""),
    code('''(x_train, y_train), (x_test, y_test) = kr.datasets.fashion_mnist_sample()  # uint8, (N, 28, 28, 1)
x_train, y_train = x_train[:hyp["train_images"]], y_train[:hyp["train_images"]]
if SMOKE:
    x_test, y_test = x_test[:256], y_test[:256]
(x_fit, y_fit), (x_val, y_val) = kr.data.train_val_split(x_train, y_train, 0.1, seed=0)
x_val, x_test = x_val.astype("float32") / 255, x_test.astype("float32") / 255
train = kr.data.pipeline(x_fit, y_fit, hyp["batch_size"], augment="light", seed=0)  # scales uint8 to [0, 1]
print(len(x_fit), "training,", len(x_val), "validation,", len(x_test), "test images")'''),
    md("""
## Model and training

Conv → BatchNorm → ReLU units (BatchNorm after the convolution, before the activation), He
initialization for ReLU (`kernel_initializer="auto"`), dropout, and a dense head.
`kr.callbacks.recipe()` returns plain Keras callbacks; the first one collects the ensemble.
"""),
    code('''scaled = x_fit.astype("float32") / 255
model = kr.models.vgg((28, 28, 1), 10, filters=(32, 64), order="conv-bn-act", activation="relu",
                      dropout=0.25, dense_units=(128,),
                      input_normalization=(float(scaled.mean()), float(scaled.var())))
model.compile(keras.optimizers.Adam(hyp["lr"]), "sparse_categorical_crossentropy", metrics=["accuracy"])
print(f"{model.count_params():,} weights")

callbacks = kr.callbacks.recipe("val_loss", ensemble="top_k", patience=hyp["patience"], k=hyp["k"])
history = model.fit(train, validation_data=(x_val, y_val), epochs=hyp["epochs"], callbacks=callbacks,
                    shuffle=False, verbose=2)  # the pipeline shuffles'''),
    md("""
## Look at the curves

"Look at loss curves: use a plot and also plot a moving average to see trends better" (cs231n).
Training against validation, the best epoch marked, and the learning rate on a log axis: each
halving shows as a step.
"""),
    code('kr.plots.history(history)'),
    md("""
`diagnose` reads the same history the way cs231n and Lee read a plot — a train/validation gap is
overfitting, no gap and a low score is underfitting, a loss that explodes or oscillates means a
learning rate that is too high — and gives the evidence (numbers) and their remedy.
"""),
    code('kr.diagnose.diagnose(history)'),
    md("""
## The checkpoint ensemble

The recipe kept the weights of the best epochs; averaged, they make one `keras.Model` that saves
and loads like any other. The table compares each member with the ensemble on the test set.
"""),
    code('''ensemble = callbacks[0].ensemble()
ensemble.save(os.path.join(out, "ensemble.keras"))  # reloads with keras.saving.load_model
kr.ensembles.evaluate(ensemble, x_test, y_test)'''),
    code('kr.plots.confusion_matrix(model, x_test, y_test, kr.datasets.FASHION_MNIST_CLASSES)'),
    md("""
## One report of the run

Curves, diagnosis, metrics, confusion matrix and the images with the highest loss, in one
self-contained HTML page (images embedded): open it in a browser, or attach it to a ticket.
"""),
    code('''path = kr.report.report(history, os.path.join(out, "report.html"), model=model, x=x_test, y=y_test,
                       class_names=kr.datasets.FASHION_MNIST_CLASSES, title="Quickstart")
print("wrote", path)'''),
])


notebook("02_training_tricks.ipynb", [
    md("""
# Training tricks as experiments

cs231n, Lee and Wei make claims about initialization, activations, BatchNorm and dropout, and
experiments back some of them (Amar Budhiraja's VGG-like net on MNIST with zero, random and
Xavier initialization, "Towards weight initialization in deep neural networks"; a Keras dropout
sweep from 0.0 to 0.9). `kr.experiments` turns each into one call: one model per
variant, the same data, the same seed, a table and the learning curves overlaid.

But first, cs231n's advice before any experiment: **babysit the learning process**.
"""),
    code(SETUP),
    code('''hyp = dict(
    train_images=4000,  # from the embedded sample; 20% of them held out for validation
    epochs=5,           # per variant
    initializers=kr.experiments.INITIALIZERS,   # zeros, small_random, glorot, he
    activations=kr.experiments.ACTIVATIONS,     # sigmoid, tanh, relu, leaky_relu, prelu, rrelu, elu, maxout
    dropout_rates=kr.experiments.DROPOUT_RATES,  # 0.0, 0.1, ..., 0.9
    sweep_samples=256,  # examples the babysitting LR sweep trains on (full batch, 20 steps per LR)
)
if SMOKE:
    hyp.update(train_images=300, epochs=1, initializers=("zeros", "he"), activations=("sigmoid", "relu"),
               dropout_rates=(0.0, 0.5), sweep_samples=32)
(x_train, y_train), _ = kr.datasets.fashion_mnist_sample()
x, y = x_train[:hyp["train_images"]].astype("float32") / 255, y_train[:hyp["train_images"]]
data = kr.data.train_val_split(x, y, 0.2, seed=0)  # ((x, y), (x_val, y_val))'''),
    md("""
## Babysitting: check the model before training it

cs231n's steps, each of which catches a different bug:

- "Make a forward pass and check the loss (disable regularization). Check if the loss is
  reasonable": with 10 classes and small random weights the cross-entropy is about ln 10 ≈ 2.30.
- "Add regularization, the loss should go up!"
- "Take a small number of data and try to train the loss and reach zero loss. (You should
  overfit perfectly for small datasets.)"
- Try learning rates: "if loss is barely changing, then the learning rate is small; if you got
  NaN then your NN exploded and your learning rate is high."

`sanity_check` runs them in seconds on copies of the weights, so the model is left untouched.
"""),
    code('''model = kr.models.vgg((28, 28, 1), 10, filters=(16, 32), order="conv-bn-act", dense_units=(64,))
print(f"ln(10) = {np.log(10):.3f}")
kr.babysit.sanity_check(model, x[:512], y[:512], sweep_samples=hyp["sweep_samples"])'''),
    md("""
Overfitting a small sample does not catch everything: a big enough net memorizes 50 examples
with shuffled labels too. The last check trains briefly and asks for better-than-chance accuracy
on held-out examples — with the labels shuffled (a classic data-loading bug) it fails:
"""),
    code('''shuffled = np.random.default_rng(0).permutation(y[:512])
kr.babysit.sanity_check(model, x[:512], shuffled, checks=["learns_signal"])'''),
    md("""
## Weight initialization

Budhiraja's experiment, as a Chinese study note on CNN training tips retells it: if all weights
start at zero, "the trained result is the same everywhere — your
network behaves like a linear model" (the symmetry problem); small random numbers shrink the
signal layer after layer (vanishing gradients); Xavier (Glorot) keeps the variance of every
layer's output equal, and He initialization is "the solution for the ReLU issue" of Xavier. The
net is a small VGG without BatchNorm, so that the initialization matters.
"""),
    code('''inits = kr.experiments.compare_initializers(data, epochs=hyp["epochs"], initializers=hyp["initializers"])
display(inits.figure())
inits'''),
    md("""
## Activations

cs231n's verdict: "Use ReLU. Be careful with your learning rates. Try out Leaky ReLU / Maxout /
ELU. Try out tanh but don't expect much. Don't use sigmoid!" — sigmoid saturates and kills the
gradient, and its output is not zero-centred. Wei adds PReLU (a learned negative slope) and RReLU
(a random one during training, its mean at test time), which helped against overfitting in the
Kaggle NDSB competition. Each activation gets its matching initialization (He for the ReLU
family, Glorot for tanh and sigmoid).
"""),
    code('''acts = kr.experiments.compare_activations(data, epochs=hyp["epochs"], activations=hyp["activations"])
display(acts.figure())
acts'''),
    md("""
## Where BatchNorm goes

"Usually after the convolution, before the activation" (cs231n, following Ioffe & Szegedy). Its
benefits, from the same lecture: networks train faster, allow higher learning rates, are less
sensitive to the initial weights, and get some regularization from the batch statistics.
Here: no BatchNorm, BatchNorm before the ReLU (`order="conv-bn-act"`), and after it
(`"conv-act-bn"`).
"""),
    code('''bn = kr.experiments.compare_batchnorm(data, epochs=hyp["epochs"])
display(bn.figure())
bn'''),
    md("""
## The dropout sweep

The same study note's Keras experiment sweeps the dropout rate from 0.0 to 0.9 after every convolution.
"Dropout forces a neural network to learn more robust features", but it "roughly doubles the
number of iterations required to converge"; Wei: "p = 0.5 is a reasonable default, but this can
be tuned on validation data". With few epochs, expect high rates to underfit — the gap between
the training and validation curves is what dropout closes.
"""),
    code('''drop = kr.experiments.compare_dropout(data, epochs=hyp["epochs"], rates=hyp["dropout_rates"])
display(drop.figure())
drop'''),
    code('''for result in (inits, acts, bn, drop):
    print(f"{result.title}: best variant {result.best}")'''),
    md("""
These are five-epoch runs on 3,200 images: they show the trends cs231n and Lee describe, not final
accuracies. Raise `epochs` and `train_images` (or pass `model="mlp"`, or your own builder to
`kr.experiments.compare`) to test a claim on your own data;
`benchmarks/seed_experiments.py` runs all four from a shell.
"""),
    md("""
## Many fits in one notebook: `kr.clear_session()` between them

Every `compare` above starts each variant with `kr.clear_session()`: Keras's own
`keras.backend.clear_session()` plus the traced train steps that TensorFlow keeps after it (its
registry of custom gradients), which otherwise add 4-11 MB per fit of small VGGs like this one
(BENCHMARKS.md). Do the same in a sweep of your own, and memory stays flat however many fits the
session runs:

```python
for rate in (0.0, 0.25, 0.5):
    kr.clear_session()  # before building the next model
    model = kr.models.vgg((28, 28, 1), 10, filters=(16, 32), dropout=rate)
    model.compile(kr.optimizers.build("adam"), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)
```
"""),
])


notebook("03_callbacks_and_ensembles.ipynb", [
    md("""
# Callbacks and ensembles: halving, snapshots, SWA, the LR range test, TTA

Wei's "Must Know Tips/Tricks": "a typical value of LR in the beginning of your training is 0.1. In practice, if
you see that you stopped making progress on the validation set, divide the LR by 2 (or by 5),
and keep going, which might give you a surprise." And on ensembles: "different checkpoints of a
single model ... Clearly, this suffers from some lack of variety, but can still work reasonably
well in practice. The advantage of this approach is that it is very cheap."

This notebook trains one small VGG several ways on the embedded Fashion-MNIST sample, each with
one callback from `kr.callbacks`, then finds a learning rate with the range test and adds
test-time augmentation.
"""),
    code(SETUP),
    code('''hyp = dict(
    train_images=8000,  # of the sample's 8,000 (10% held out for validation)
    epochs=10,          # per training run
    batch_size=128,     # images per step
    cycles=3,           # snapshot-ensemble cycles (one member each)
)
if SMOKE:
    hyp.update(train_images=512, epochs=2, cycles=2)
(x_train, y_train), (x_test, y_test) = kr.datasets.fashion_mnist_sample()
x_train, y_train = x_train[:hyp["train_images"]], y_train[:hyp["train_images"]]
if SMOKE:
    x_test, y_test = x_test[:256], y_test[:256]
(x_fit, y_fit), (x_val, y_val) = kr.data.train_val_split(x_train, y_train, 0.1, seed=0)
x_fit, x_val, x_test = (a.astype("float32") / 255 for a in (x_fit, x_val, x_test))
steps_per_epoch = -(-len(x_fit) // hyp["batch_size"])


def build():
    """The same small VGG for every run (conv-BN-ReLU, 16-32 filters)."""
    return kr.models.vgg((28, 28, 1), 10, filters=(16, 32), order="conv-bn-act", dropout=0.1,
                         dense_units=(64,), input_normalization=(float(x_fit.mean()), float(x_fit.var())))'''),
    md("""
## Halving the learning rate on a plateau, with roll-back

`HalveLROnPlateau` is Keras's `ReduceLROnPlateau` (factor 0.5) plus a roll-back: at each halving
the model goes back to its best weights, so the epochs spent drifting away are not kept. The LR of
every epoch lands in `history.history["learning_rate"]` (Keras's own name for it). The run starts from a deliberately high LR
(Adam at 3e-3) so that plateaus come early.
"""),
    code('''model = build()
model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
train = kr.data.pipeline(x_fit, y_fit, hyp["batch_size"], augment="light", seed=0)  # flips + pad-and-crop
halving = kr.callbacks.HalveLROnPlateau("val_loss", patience=1, verbose=1)
history = model.fit(train, validation_data=(x_val, y_val), epochs=hyp["epochs"], callbacks=[halving],
                    shuffle=False, verbose=2)  # the pipeline shuffles
print("lr per epoch:", [f"{lr:.3g}" for lr in history.history["learning_rate"]])'''),
    code('kr.plots.history(history)'),
    md("""
The model now holds the best epoch's weights (the roll-back's last job). It was trained with flips
and pad-and-crop, which matters for test-time augmentation at the end.

## Snapshot ensembles

Huang et al. (2017) make checkpoint ensembles diverse: a cosine learning rate restarted every
cycle (`kr.schedules.CyclicCosine`) drives the model into a different minimum each time, and
`CheckpointEnsemble("snapshot")` keeps the weights at the end of each cycle — several models
for the price of one training run.
"""),
    code('''cycle_epochs = hyp["epochs"] // hyp["cycles"]
snap_model = build()
schedule = kr.schedules.CyclicCosine(0.05, cycle_steps=cycle_epochs * steps_per_epoch)
snap_model.compile(keras.optimizers.SGD(schedule, momentum=0.9), "sparse_categorical_crossentropy",
                   metrics=["accuracy"])
snapshots = kr.callbacks.CheckpointEnsemble("snapshot", k=hyp["cycles"])
snap_model.fit(x_fit, y_fit, validation_data=(x_val, y_val), epochs=cycle_epochs * hyp["cycles"],
               batch_size=hyp["batch_size"], callbacks=[snapshots], verbose=2)
print("snapshots taken at epochs", [m.epoch for m in snapshots.members])
kr.ensembles.evaluate(snapshots.member_models(), x_test, y_test)'''),
    md("""
Whether the mean beats its best member depends on the snapshots: with cycles of a few epochs the
early ones are weaker than the last, and averaging can lose to the last snapshot alone. Huang et al.
used cycles of dozens of epochs; raise `epochs` (and keep `cycles`) to give each cycle time to
converge, and compare the rows of the table rather than trusting the idea.

## Stochastic weight averaging (SWA)

Instead of averaging the predictions of several snapshots, SWA (Izmailov et al. 2018) averages
their *weights*: from `start_epoch` on, training continues at a constant LR and the weights at
each epoch end are averaged; the average replaces the weights at the end, and the BatchNorm
statistics are recomputed for it on the training data. One model, no extra inference cost.
"""),
    code('''swa_model = build()
swa_model.compile(keras.optimizers.SGD(0.05, momentum=0.9), "sparse_categorical_crossentropy", metrics=["accuracy"])
swa = kr.callbacks.SWA(start_epoch=hyp["epochs"] // 2, lr=0.01, data=x_fit)
swa_history = swa_model.fit(x_fit, y_fit, validation_data=(x_val, y_val), epochs=hyp["epochs"],
                            batch_size=hyp["batch_size"], callbacks=[swa], verbose=2)
last_epoch = swa_history.history["val_accuracy"][-1]
averaged = swa_model.evaluate(x_val, y_val, verbose=0)[1]
print(f"validation accuracy: last epoch {last_epoch:.4f}, SWA average of {swa.averaged} epochs {averaged:.4f}")'''),
    md("""
## The learning-rate range test

cs231n's step 3 of choosing hyperparameters: "find the LR that makes the loss go down". The range
test (Smith 2017) raises the LR exponentially batch by batch and records the smoothed loss until
it blows up; a good LR sits where the loss falls fastest (the suggestion), well before the
minimum. The model's weights and optimizer state are put back afterwards.
"""),
    code('''probe = build()
probe.compile(keras.optimizers.SGD(momentum=0.9), "sparse_categorical_crossentropy")
found = kr.lr_find(probe, x_fit, y_fit, min_lr=1e-5, max_lr=10.0, steps=30 if SMOKE else 150,
                   batch_size=hyp["batch_size"])
print(found)
kr.plots.lr_finder(found)'''),
    md("""
## Test-time augmentation

Average the predictions over the image and its mirror (`flips=True`) and, with `crops="five"`,
over the four corner and the centre crops of the zero-padded image — the same shifts
pad-and-crop trained on. The halving model above was trained with that augmentation.
Measure it on your data: the flips are nearly free, while a 4-pixel corner crop of a 28x28 image
is the extreme of the shifts seen in training and can cost accuracy.
"""),
    code('''def accuracy(probs):
    return float(np.mean(probs.argmax(-1) == y_test))


print(f"plain              {accuracy(model.predict(x_test, verbose=0)):.4f}")
print(f"TTA flips          {accuracy(kr.data.tta_predict(model, x_test, flips=True)):.4f}")
print(f"TTA flips + crops  {accuracy(kr.data.tta_predict(model, x_test, flips=True, crops='five')):.4f}")'''),
    md("""
All of these compose: `kr.callbacks.recipe()` puts the checkpoint ensemble, the halving and early
stopping together (notebook 01), and `kr.presets.fashion_mnist_fast()` is a whole recipe
(one-cycle LR, augmentation, checkpoint ensemble, TTA) as one dataclass.
"""),
])


notebook("04_hyperparameter_search.ipynb", [
    md("""
# Hyperparameter search: log space, random, coarse to fine, then ensemble the winners

cs231n: "It's best to optimize in log space", "it's better to try random search instead of grid
searches (in log space)", and "adjust your ranges and try again". Its step-by-step version:
coarse search training each trial for about 1-5 epochs, then refine and train longer, then look
at the loss curves. Wei closes the loop: use the search to find the best hyperparameters, "then
pick the top few models to form the ensemble" — it needs no extra training.

`kr.tuning` does this on top of keras-tuner (which samples, schedules, checkpoints and resumes
the trials); each trial trains a `kr.models.vgg` with the recipe callbacks (halving on a
plateau, then early stopping).
"""),
    code(SETUP),
    code('''import tempfile

from kerasrecipes.tuning import Choice, LogUniform, SearchSpace, Uniform, random_search

hyp = dict(
    train_images=4000,  # from the sample; 20% held out as the search's validation set
    trials=12,          # coarse stage
    epochs=2,           # per coarse trial; the refine stage doubles it
    refine_trials=6,    # fine stage
    top_k=3,            # winners the fine stage is centred on, and ensemble members
)
if SMOKE:
    hyp.update(train_images=300, trials=2, epochs=1, refine_trials=1, top_k=2)
(x_train, y_train), (x_test, y_test) = kr.datasets.fashion_mnist_sample()
x = x_train[:hyp["train_images"]].astype("float32") / 255
(x_fit, y_fit), (x_val, y_val) = kr.data.train_val_split(x, y_train[:hyp["train_images"]], 0.2, seed=0)
x_test = (x_test[:256] if SMOKE else x_test).astype("float32") / 255
y_test = y_test[:256] if SMOKE else y_test
directory = tempfile.mkdtemp(prefix="kr_search_")  # keras-tuner's trial files'''),
    md("""
## The space

Rates and strengths span decades, so they are sampled log-uniformly (every decade equally likely:
`LogUniform`); a dropout rate is sampled linearly (`Uniform`); discrete choices with `Choice`.
Any plain value is fixed. Keys are arguments of the factory (`kr.models.vgg`) or training
settings (`lr`, `optimizer`, `batch_size`); `width=16, depth=2` means `filters=(16, 32)`.
"""),
    code('''space = SearchSpace(
    lr=LogUniform(1e-4, 1e-1),
    l2=LogUniform(1e-6, 1e-2),
    dropout=Uniform(0.0, 0.5),
    width=Choice(8, 16, 32),
    optimizer=Choice("adam", "sgd"),
    depth=2, order="conv-bn-act", dense_units=(64,), batch_size=128,
)
space'''),
    md("## Coarse stage: short random trials"),
    code('''search = random_search(space, x_fit, y_fit, validation_data=(x_val, y_val), max_trials=hyp["trials"],
                       epochs=hyp["epochs"], directory=directory, seed=0)
search.results().sort("score")'''),
    md("""
Score against each hyperparameter (log axis for the log ranges): look for the region where the
good trials gather, and for winners at the edge of a range — then the range was too narrow.
"""),
    code('''for name, figure in search.plot().items():
    display(figure)'''),
    md("""
## Fine stage: narrow the ranges around the winners, train longer

`refine` centres every range on the `top_k` best trials (their span plus a margin, in log units
for log ranges, never leaving the first ranges), narrows the choices to the winners', and doubles
the epochs.
"""),
    code('''search.refine(top_k=hyp["top_k"], max_trials=hyp["refine_trials"])
search.stages[-1].space'''),
    code('''results = search.results()
results.sort("score")'''),
    code('''display(search.plot()["best_so_far"])
search.best_hyperparameters(1)[0]'''),
    md("""
## The top-k ensemble

The best trials' models (each with the weights of its best epoch) averaged into one model; the
table shows each member and the ensemble on the test set, which the search never saw. Averaging
pays when the members are about equally good and make different mistakes; with trials of a few
epochs their quality still differs a lot, and the mean can trail the best member — train the
last stage longer (`search.refine(epochs=...)`) before ensembling.
"""),
    code('''ensemble = search.ensemble(hyp["top_k"])
kr.ensembles.evaluate(ensemble, x_test, y_test)'''),
    md("""
Re-running the same `random_search` call on the same directory resumes it (finished trials are
kept, even after a `kill -9`); `search.save()` writes the results table and the plots. The same
search from a shell: progress on stderr, the best hyperparameters as one JSON line on stdout,
`results.csv` and the plots under `--dir` (with `KERASRECIPES_SMOKE=1`, as in CI, it runs 2 tiny
trials).
"""),
    code("!kerasrecipes search --dataset sample --trials 12 --epochs 2 --refine 1 --dir runs/fm"),
])


notebook("05_transfer_learning.ipynb", [
    md("""
# Transfer learning: Wei's fine-tuning table as code

Xiu-Shen Wei's "Must Know Tips/Tricks" gives four cases, by how much data you have and how close it is
to the data the network was trained on:

| | very similar data | very different data |
|---|---|---|
| very little data | linear classifier on the top layer: `"linear"` | a classifier on earlier features: `"features_from"` |
| quite a lot of data | fine-tune a few top layers: `"top"` | fine-tune a large number of layers: `"deep"` |

`kr.models.fine_tune(base, num_classes, strategy=...)` builds each case from any functional
Keras model. With a network, the usual base is a `keras.applications` model with ImageNet
weights, e.g. `keras.applications.MobileNetV2((96, 96, 3), include_top=False, weights="imagenet")`
(inputs resized to 96x96 and repeated to 3 channels). This notebook runs offline, so it makes
its own pretrained network: a VGG trained on five Fashion-MNIST classes (the *source* task),
then transferred to the other five classes with little data (the *target* task).
"""),
    code(SETUP),
    code('''(x_train, y_train), (x_test, y_test) = kr.datasets.fashion_mnist_sample()
x_train, x_test = x_train.astype("float32") / 255, x_test.astype("float32") / 255
source, target = y_train < 5, y_train >= 5
x_src, y_src = x_train[source], y_train[source]
if SMOKE:
    x_src, y_src, x_test, y_test = x_src[:500], y_src[:500], x_test[:500], y_test[:500]
# The target task: classes 5-9 (sandal, shirt, sneaker, bag, ankle boot) relabelled 0-4, little data.
per_class = 10 if SMOKE else 40
idx = np.concatenate([np.flatnonzero(y_train == c)[:per_class] for c in range(5, 10)])
x_tgt, y_tgt = x_train[idx], y_train[idx] - 5
test = y_test >= 5
x_tgt_test, y_tgt_test = x_test[test], y_test[test] - 5
print(len(x_src), "source images,", len(x_tgt), "target images,", len(x_tgt_test), "target test images")'''),
    md("## Pretrain on the source task"),
    code('''base = kr.models.vgg((28, 28, 1), 5, filters=(32, 64, 128), order="conv-bn-act", dropout=0.2,
                    dense_units=(128,), name="source_vgg")
base.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
base.fit(x_src, y_src, epochs=1 if SMOKE else 6, batch_size=128, verbose=0)
print("blocks:", [name for name, _ in kr.models.blocks(base)])'''),
    md("""
## The four strategies, and training from scratch

Each model is compiled with the learning rate its strategy calls for: only a new head
trains in `"linear"` and `"features_from"` (an ordinary rate), while `"top"` and `"deep"`
change pretrained weights and take a small one. BatchNorm layers stay frozen.
Every strategy starts from the same pretrained weights.
"""),
    code('''pretrained = base.get_weights()
rates = {"linear": 1e-3, "features_from": 1e-3, "top": 1e-4, "deep": 1e-4}
epochs = 1 if SMOKE else 30
results = {}
for strategy, lr in rates.items():
    base.set_weights(pretrained)
    model = kr.models.fine_tune(base, 5, strategy=strategy, num_blocks=2)
    model.compile(keras.optimizers.Adam(lr), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_tgt, y_tgt, epochs=epochs, batch_size=32, verbose=0)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    results[strategy] = (trainable, model.evaluate(x_tgt_test, y_tgt_test, verbose=0)[1])
scratch = kr.models.vgg((28, 28, 1), 5, filters=(32, 64, 128), order="conv-bn-act", dropout=0.2, dense_units=(128,))
scratch.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
scratch.fit(x_tgt, y_tgt, epochs=epochs, batch_size=32, verbose=0)
results["from scratch"] = (scratch.count_params(), scratch.evaluate(x_tgt_test, y_tgt_test, verbose=0)[1])
for name, (trainable, accuracy) in results.items():
    print(f"{name:>14}: {trainable:>9,} trainable weights, target test accuracy {accuracy:.3f}")'''),
    md("""
With a few dozen images per class, reusing the source network's features beats training
from scratch; which strategy wins between them depends on how similar the two tasks are —
exactly Wei's point. Try `per_class = 400` to move to the "quite a lot of data" row.
"""),
])


def main():
    for name, cells in NOTEBOOKS.items():
        for i, cell in enumerate(cells):
            cell.id = f"cell-{i:02d}"  # stable ids: rebuilding does not rewrite every notebook
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, os.path.join(HERE, name))
        print("wrote", name)


if __name__ == "__main__":
    main()
