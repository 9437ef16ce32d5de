"""Write a folder of real images, one subfolder per class, from Fashion-MNIST: to try `--data DIR` with.

    python -m kerasrecipes.datasets.example_folder photos/ --per-class 100 --rgb --size 32,32

writes `photos/<class>/<n>.png|jpg` (alternating PNG and JPEG) from the
embedded Fashion-MNIST sample, and with `--test-dir DIR` the same from its
test images. `--rgb` tints each image by its own random per-channel gain,
drawn independently of its class, so colour carries no label information.
`write_images` does the same for any uint8 arrays (the benchmarks and tests
build their folders with it).
"""

import argparse
import os
import sys

import numpy as np


def write_images(root, x, y, class_names, *, sizes=None, rgb_every=0, tint=(0.45, 1.0), quality=95, seed=0,
                 start=0):
    """Write uint8 images `x` `(N, H, W, 1|3)` with labels `y` as `root/<class>/<start + i>.png|jpg`.

    Args:
        root: The folder (created; files already there are kept).
        x: uint8 images.
        y: Integer labels indexing `class_names`.
        class_names: Folder names (a `/` in a name becomes `-`).
        sizes: Optional list of `(height, width)`, cycled over the images
            (bilinear resize); `None` keeps each image's size.
        rgb_every: Every `rgb_every`-th image (1: all) is made RGB with a random
            per-channel tint in `tint`, independent of the class; `0`: none.
        tint: `(low, high)` of the per-channel gain.
        quality: JPEG quality. Defaults to `95`.
        seed: Seed of the tints.
        start: First file number (to add images to an existing folder).

    Returns:
        The relative paths written, in order.
    """
    from PIL import Image

    rng = np.random.default_rng(seed)
    written = []
    folders = [name.replace("/", "-") for name in class_names]
    for folder in folders:
        os.makedirs(os.path.join(root, folder), exist_ok=True)
    for j, (image, label) in enumerate(zip(np.asarray(x), np.asarray(y))):
        picture = Image.fromarray(image[..., 0] if image.shape[-1] == 1 else image)
        if sizes:
            height, width = sizes[j % len(sizes)]
            picture = picture.resize((width, height), Image.BILINEAR)
        if rgb_every and j % rgb_every == (1 % rgb_every):
            gray = np.asarray(picture.convert("L"), np.float32)[..., None]
            picture = Image.fromarray((gray * rng.uniform(*tint, 3)).astype(np.uint8))
        n = start + j
        relative = os.path.join(folders[int(label)], f"{n:06d}.{'png' if n % 2 else 'jpg'}")
        if n % 2:
            picture.save(os.path.join(root, relative))
        else:
            picture.save(os.path.join(root, relative), quality=quality)
        written.append(relative)
    return written


def _size(text):
    try:
        values = tuple(int(v) for v in text.split(","))
    except ValueError:
        values = ()
    if len(values) == 1:
        values *= 2
    if len(values) != 2 or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected H,W (two positive integers), got {text!r}")
    return values


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m kerasrecipes.datasets.example_folder",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("directory", help="folder to write (one subfolder per class)")
    parser.add_argument("--per-class", type=int, default=100, help="training images per class (default: 100)")
    parser.add_argument("--rgb", action="store_true", help="RGB images with a random tint each")
    parser.add_argument("--size", type=_size, metavar="H,W", default=None, help="resize to H,W (default: 28,28)")
    parser.add_argument("--test-dir", metavar="DIR", help="also write test images there")
    parser.add_argument("--test-per-class", type=int, default=20, help="test images per class (default: 20)")
    args = parser.parse_args(argv)
    if args.per_class < 1 or args.test_per_class < 1:
        parser.error(f"--per-class and --test-per-class must be >= 1. Received {args.per_class}, "
                     f"{args.test_per_class}")

    from kerasrecipes.datasets import FASHION_MNIST_CLASSES, fashion_mnist_sample

    (x, y), (x_test, y_test) = fashion_mnist_sample()
    splits = [(args.directory, x, y, args.per_class, 1)]
    if args.test_dir:
        splits.append((args.test_dir, x_test, y_test, args.test_per_class, 2))
    for root, images, labels, per_class, seed in splits:
        keep = np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(10)]))
        written = write_images(root, images[keep], labels[keep], FASHION_MNIST_CLASSES,
                               sizes=[args.size] if args.size else None, rgb_every=1 if args.rgb else 0, seed=seed)
        print(f"wrote {len(written)} images into {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
