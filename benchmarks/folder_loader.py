"""Folder loader: header-check cost and decoding images/s on 10,000 real image files, against training's images/s.

Writes Fashion-MNIST training images as files (half PNG, half JPEG quality 95;
grayscale 28x28, or with `--rgb32` 32x32 RGB with a random tint per image,
independent of the class), then times, in this process:

- `index`: listing the class folders;
- `headers`: `datasets.folder.check_files` on every file (magic bytes, declared
  size, end marker), in microseconds per file;
- `decode`: the parallel tf.data decode-and-resize pass into uint8, images/s;
- `load_folder`: everything a user's `--data DIR` costs (index + headers +
  split + decode), images/s;
- `keras`: one pass of `keras.utils.image_dataset_from_directory` over the same
  folder (batch 256, no shuffle), images/s, for reference;
- `train`: the images/s that training consumes, from `sizing.measure` of the
  recipe `for_data` sizes to this data (the 28x28 one is fashion_mnist_fast's
  VGG, 32-64-128 x2), and of the tiny 8-16-32 model it falls back to under a
  short budget.

Each record goes to benchmarks/results/folder_loader.jsonl with the machine
facts and the load average before and after. Run it with:

    python benchmarks/folder_loader.py                # 28x28 grayscale
    python benchmarks/folder_loader.py --rgb32        # 32x32 RGB, tinted
"""

import argparse
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import RESULTS_DIR, append_jsonl, loadavg, machine_facts  # noqa: E402

HYP = {
    "images": 10_000,  # files written and loaded
    "jpeg_quality": 95,
    "tint": (0.45, 1.0),  # per-channel gain range of the random tint (RGB only), drawn per image
    "train_steps": 6,  # timed steps of sizing.measure
    "folder": "/tmp/kerasrecipes_bench/folder",
}


def write_folder(root, x, y, class_names, *, rgb32=False, quality=95, seed=0, tint=(0.45, 1.0)):
    """Write images `x` (N, 28, 28, 1) uint8 with labels `y` as root/<class>/<i>.png|jpg; returns root.

    With `rgb32`, each image is resized to 32x32 and tinted by its own random
    per-channel gain, drawn independently of its class, so colour carries no
    label information.
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    shutil.rmtree(root, ignore_errors=True)
    for name in class_names:
        os.makedirs(os.path.join(root, name.replace("/", "-")))
    for i, (image, label) in enumerate(zip(x, y)):
        picture = Image.fromarray(image[..., 0])
        if rgb32:
            picture = picture.resize((32, 32), Image.BILINEAR)
            gain = rng.uniform(*tint, 3)
            picture = Image.fromarray((np.asarray(picture, np.float32)[..., None] * gain).astype(np.uint8))
        ext = "png" if i % 2 else "jpg"
        path = os.path.join(root, class_names[label].replace("/", "-"), f"{i:06d}.{ext}")
        picture.save(path, quality=quality) if ext == "jpg" else picture.save(path)
    return root


def timed(function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=HYP["images"])
    parser.add_argument("--rgb32", action="store_true")
    parser.add_argument("--folder", default=HYP["folder"])
    parser.add_argument("--results", default=os.path.join(RESULTS_DIR, "folder_loader.jsonl"))
    args = parser.parse_args()

    import keras

    from kerasrecipes import datasets, sizing
    from kerasrecipes.datasets import folder

    facts = machine_facts()
    (x, y), _ = datasets.fashion_mnist()
    x, y = x[: args.images], y[: args.images]
    root = args.folder + ("_rgb32" if args.rgb32 else "")
    _, write_seconds = timed(write_folder, root, x, y, datasets.FASHION_MNIST_CLASSES, rgb32=args.rgb32,
                             quality=HYP["jpeg_quality"], tint=HYP["tint"])
    size = (32, 32) if args.rgb32 else (28, 28)
    mode = "rgb" if args.rgb32 else "grayscale"
    channels = 3 if args.rgb32 else 1
    record = {"benchmark": "folder_loader", "images": len(x), "image_size": list(size), "color_mode": mode,
              "write_seconds": round(write_seconds, 2), "loadavg_start": loadavg(), "facts": facts}

    (names, paths, labels), seconds = timed(folder.index, root)
    record["index_seconds"] = round(seconds, 3)
    (headers, bad), seconds = timed(folder.check_files, root, paths)
    assert not bad, bad
    record["headers_seconds"] = round(seconds, 3)
    record["headers_us_per_file"] = round(1e6 * seconds / len(paths), 1)
    absolute = [os.path.join(root, p) for p in paths]
    folder.decode(absolute[:512], size, channels)  # warm-up: TensorFlow's start-up, not the loader's
    (images, failed), seconds = timed(folder.decode, absolute, size, channels)
    assert not len(failed)
    record["decode_images_per_s"] = round(len(paths) / seconds)
    data, seconds = timed(folder.load_folder, root, size, mode, log=lambda m: None)
    record["load_folder_seconds"] = round(seconds, 2)
    record["load_folder_images_per_s"] = round(len(paths) / seconds)
    record["headers_share_of_load"] = round(record["headers_seconds"] / seconds, 3)

    reference = keras.utils.image_dataset_from_directory(root, image_size=size, color_mode=mode, batch_size=256,
                                                         shuffle=False, verbose=False)
    start = time.perf_counter()
    count = sum(int(batch.shape[0]) for batch, _ in reference)
    record["keras_images_per_s"] = round(count / (time.perf_counter() - start))

    for label, recipe in (("train_sized", sizing.sized(data.input_shape, 10, len(x))),
                          ("train_8_16_32", sizing.sized(data.input_shape, 10, len(x), width=8))):
        per_step, startup = sizing.measure(recipe, steps=HYP["train_steps"])
        record[label] = {"filters": list(recipe.filters), "batch_size": recipe.batch_size,
                         "images_per_s": round(recipe.batch_size / per_step),
                         "loader_x": round(record["load_folder_images_per_s"] * per_step / recipe.batch_size, 1)}
    record["loadavg_end"] = loadavg()
    append_jsonl(args.results, [record])
    shown = {k: v for k, v in record.items() if k != "facts"}
    print(shown)


if __name__ == "__main__":
    main()
