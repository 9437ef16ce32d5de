"""Folder decoding with Pillow + numpy against TensorFlow's tf.data: images/s and how far the pixels are apart.

Writes Fashion-MNIST training images as files (PNG only, JPEG only, or half
and half; 28x28 grayscale, or with `--rgb32` 32x32 RGB with a random tint per
image), then, in this process, decodes every file into uint8 at `--size`
(default: the images' own size, the common case of a folder of small images;
the resize still runs, as in `load_folder`) with:

- `tf_before`: TensorFlow's pass as `load_folder` ran it before this
  benchmark's commit (`tf.io.decode_image` + `tf.image.resize` in a parallel
  tf.data map: libjpeg's fast IDCT);
- `tf`: `folder.decode(decoder="tensorflow")`, TensorFlow's pass now (JPEG
  with the accurate IDCT, so that it gives Pillow's pixels), what `load_folder`
  runs where TensorFlow imports;
- `pillow`: `folder.decode(decoder="pillow")` (`_decode.decode_files`: Pillow,
  threads only for large images, the resize batched in numpy), what it runs
  without TensorFlow.

Each is timed `--repeats` times after one warm-up pass (TensorFlow's start-up
and the page cache are not the decoder's); the median wall and CPU seconds are
recorded with the largest pixel difference between the two, to
benchmarks/results/decoders.jsonl. Run it with:

    python benchmarks/decoders.py --format png            # 3,000 grayscale PNGs
    python benchmarks/decoders.py --format png --rgb32
    python benchmarks/decoders.py --format jpg --size 20,20
"""

import argparse
import os
import statistics
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import RESULTS_DIR, Clock, append_jsonl, loadavg, machine_facts  # noqa: E402

HYP = {
    "images": 3_000,  # files written and decoded ("a few thousand small PNGs")
    "jpeg_quality": 95,
    "tint": (0.45, 1.0),  # per-channel gain range of the random tint (RGB only)
    "repeats": 3,  # timed passes per decoder (after one warm-up); the median is recorded
    "folder": "/tmp/kerasrecipes_bench/decoders",
}


def write(root, x, fmt, rgb32, seed=0):
    from PIL import Image

    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    paths = []
    for i, image in enumerate(x):
        picture = Image.fromarray(image[..., 0])
        if rgb32:
            picture = picture.resize((32, 32), Image.BILINEAR)
            gain = rng.uniform(*HYP["tint"], 3)
            picture = Image.fromarray((np.asarray(picture, np.float32)[..., None] * gain).astype(np.uint8))
        ext = fmt if fmt != "mixed" else ("png" if i % 2 else "jpg")
        path = os.path.join(root, f"{i:06d}.{ext}")
        picture.save(path, quality=HYP["jpeg_quality"]) if ext == "jpg" else picture.save(path)
        paths.append(path)
    return paths


def tf_decode(paths, size, channels):
    """TensorFlow's pass, as load_folder ran it before Pillow."""
    import tensorflow as tf

    height, width = size
    images = np.zeros((len(paths), height, width, channels), np.uint8)

    def load(path, i):
        image = tf.io.decode_image(tf.io.read_file(path), channels=channels, expand_animations=False)
        image = tf.image.resize(image, (height, width), method="bilinear")
        return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8), i

    ds = tf.data.Dataset.from_tensor_slices((list(paths), np.arange(len(paths), dtype=np.int64)))
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=False).batch(256).prefetch(2)
    for batch, where in ds.as_numpy_iterator():
        images[where] = batch
    return images


def timed(function, repeats):
    function()  # warm-up
    walls, cpus = [], []
    for _ in range(repeats):
        clock = Clock().start()
        result = function()
        clock.stop()
        walls.append(clock.wall)
        cpus.append(clock.cpu)
    return result, statistics.median(walls), statistics.median(cpus)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=HYP["images"])
    parser.add_argument("--format", choices=("png", "jpg", "mixed"), default="png")
    parser.add_argument("--rgb32", action="store_true")
    parser.add_argument("--size", default=None, help="H,W to resize to (default: the images' own size)")
    parser.add_argument("--repeats", type=int, default=HYP["repeats"])
    parser.add_argument("--results", default=os.path.join(RESULTS_DIR, "decoders.jsonl"))
    args = parser.parse_args()

    from kerasrecipes import datasets
    from kerasrecipes.datasets import folder

    (x, _), _ = datasets.fashion_mnist()
    root = os.path.join(HYP["folder"], f"{args.format}{'_rgb32' if args.rgb32 else ''}_{args.images}")
    paths = write(root, x[: args.images], args.format, args.rgb32)
    channels = 3 if args.rgb32 else 1
    size = tuple(int(s) for s in args.size.split(",")) if args.size else ((32, 32) if args.rgb32 else (28, 28))
    record = {"benchmark": "decoders", "images": len(paths), "format": args.format,
              "color_mode": "rgb" if args.rgb32 else "grayscale", "source_size": [32, 32] if args.rgb32 else [28, 28],
              "image_size": list(size), "loadavg_start": loadavg(), "facts": machine_facts()}
    arrays = {}
    for name, run in (("pillow", lambda: folder.decode(paths, size, channels, decoder="pillow")[0]),
                      ("tf", lambda: folder.decode(paths, size, channels, decoder="tensorflow")[0]),
                      ("tf_before", lambda: tf_decode(paths, size, channels))):
        arrays[name], wall, cpu = timed(run, args.repeats)
        record[name] = {"images_per_s": round(len(paths) / wall), "wall_s": round(wall, 3), "cpu_s": round(cpu, 3)}
    for name in ("tf", "tf_before"):  # how far Pillow's pixels are from each
        difference = np.abs(arrays["pillow"].astype(int) - arrays[name].astype(int))
        record[name]["max_pixel_difference_to_pillow"] = int(difference.max())
        record[name]["pixels_differing_from_pillow"] = round(float(np.mean(difference > 0)), 4)
    record["pillow_speed_over_tf"] = round(record["tf"]["wall_s"] / record["pillow"]["wall_s"], 2)
    record["loadavg_end"] = loadavg()
    append_jsonl(args.results, [record])
    print({k: v for k, v in record.items() if k != "facts"})


if __name__ == "__main__":
    main()
