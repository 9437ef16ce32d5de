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

SETUP = '''import os
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


notebook("05_transfer_learning.ipynb", [
    md("""
# Transfer learning: the seeds' fine-tuning table as code

Xiu-Shen Wei's notes give four cases, by how much data you have and how close it is
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
exactly the seeds' point. Try `per_class = 400` to move to the "quite a lot of data" row.
"""),
])


def main():
    for name, cells in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, os.path.join(HERE, name))
        print("wrote", name)


if __name__ == "__main__":
    main()
