"""Build the Fashion-MNIST sample shipped in `kerasrecipes/datasets/data/`.

Run from the repository root with the Debian files installed
(`apt-get install dataset-fashion-mnist`):

    python -m kerasrecipes.datasets._make_sample

It draws a stratified subset (800 training and 200 test images per class) with a
fixed seed, keeps the draws in their original order, and writes gzipped IDX files
(the upstream format, gzip mtime 0) so the output is byte-for-byte reproducible
and is read back by the same strict IDX reader as the full data set.
"""

import gzip
import importlib
import os
import struct
import sys

import numpy as np

# The package re-exports the function under the module's name, so fetch the module.
fm = importlib.import_module("kerasrecipes.datasets.fashion_mnist")
from kerasrecipes import _io
from kerasrecipes.datasets.sample import DATA_DIR, PER_CLASS, PREFIX

SEED = 20240601
LICENSE_NAME = "LICENSE-fashion-mnist.txt"
# Upstream's licence (github.com/zalandoresearch/fashion-mnist, LICENSE), which
# Debian's copyright file repeats as "Expat": it must travel with the images.
LICENSE_TEXT = """\
Fashion-MNIST sample shipped with kerasrecipes: 8,000 training and 2,000 test
images drawn (stratified, fixed seed) from Fashion-MNIST by
kerasrecipes/datasets/_make_sample.py. Source: https://github.com/zalandoresearch/fashion-mnist

The MIT License (MIT)

Copyright (c) 2017 Zalando SE, https://tech.zalando.com

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def _stratified(labels, per_class, rng):
    picks = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(10)]
    return np.sort(np.concatenate(picks))


def _idx_bytes(array):
    # Magic: two zero bytes, 0x08 (unsigned byte), then the number of dimensions.
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(">" + "I" * array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def _write_gz(path, payload):
    def write(raw):
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as f:
            f.write(payload)

    _io.atomic_write(path, write, mode="wb")


def main(source=fm.DEBIAN_DIR, out_dir=DATA_DIR):
    splits = fm._load_dir(source)
    if splits is None:
        sys.exit(f"Fashion-MNIST IDX files not found in {source!r}")
    rng = np.random.default_rng(SEED)
    os.makedirs(out_dir, exist_ok=True)
    for split, (x, y) in zip(("train", "test"), splits):
        keep = _stratified(y, PER_CLASS[split], rng)
        images_stem, labels_stem = fm._FILES[split]
        _write_gz(os.path.join(out_dir, PREFIX + images_stem + ".gz"), _idx_bytes(x[keep, ..., 0]))
        _write_gz(os.path.join(out_dir, PREFIX + labels_stem + ".gz"), _idx_bytes(y[keep]))
        print(f"{split}: {len(keep)} images, indices {keep[:5].tolist()}...")
    _io.write_text(os.path.join(out_dir, LICENSE_NAME), LICENSE_TEXT)


if __name__ == "__main__":
    main()
