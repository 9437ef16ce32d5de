#!/usr/bin/env bash
# GPU check: the product itself under KERAS_BACKEND=jax on a lent GPU machine, in under 8 minutes.
#
# Runs benchmarks/gpu_check.py (its docstring lists the parts and what each prints): fashion_mnist_94
# through Recipe.fit (cold and warm compilation cache, device-resident and host input), the hand-written
# PyTorch peer on the same GPU (benchmarks/torch_peer_gpu.py), three seeds through `kerasrecipes train`,
# and a 2-worker search. Results go to $OUT/gpu_check.json after every part.
#
# The GPU image has JAX and PyTorch but no TensorFlow, and cannot download. So Keras, keras-tuner and
# their two missing needs travel as wheels, and so does the data. Prepare them here, once (PyPI
# reachable; the GPU image runs Python 3.12):
#   mkdir -p .git/info && echo /benchmarks/gpu_wheels/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
#     -d benchmarks/gpu_wheels keras==3.15.1 keras-tuner==1.4.8 kt-legacy==1.0.5 namex==0.1.0 optree==0.20.0
#   mkdir -p benchmarks/gpu_wheels/fashion-mnist && cp /usr/share/datasets/fashion-mnist/*.gz benchmarks/gpu_wheels/fashion-mnist/
# (about 34 MB in all; never committed). Then, with the device tool:
#   run(command="bash benchmarks/gpu_check.sh", carry=["benchmarks/gpu_wheels"], timeout_s=540)
#
# Here, on a CPU box, GPU_CHECK_SMOKE=1 runs the same code paths at toy size (2,048 images, 2 epochs,
# 2 trials of 1 epoch on 512 images; no PyTorch peer); add GPU_CHECK_HIDE_TF=1 to run it as if
# TensorFlow were absent.
set -euo pipefail
cd "$(dirname "$0")/.."
WHEELS=benchmarks/gpu_wheels
if [ "${GPU_CHECK_SMOKE:-0}" != 1 ] && compgen -G "$WHEELS/*.whl" > /dev/null; then  # the smoke uses what is installed
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/gpu_check_site \
        "$WHEELS"/*.whl
    export PYTHONPATH="/tmp/gpu_check_site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=3 PYTHONUNBUFFERED=1 MPLBACKEND=Agg
# Worker processes share one GPU: JAX must not take 75 % of its memory each at start-up.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
export KERASRECIPES_DATA="${KERASRECIPES_DATA:-$( [ -d $WHEELS/fashion-mnist ] && echo $PWD/$WHEELS/fashion-mnist || echo /usr/share/datasets/fashion-mnist )}"
# A fresh compilation cache: the first fit is a cold start, the later ones find its entries.
export KERASRECIPES_CACHE="${KERASRECIPES_CACHE:-$(mktemp -d /tmp/gpu_check_cache_XXXX)}"

PYTHON=python3
if [ "${GPU_CHECK_HIDE_TF:-0}" = 1 ]; then  # here only: a venv of this Python's packages less TensorFlow
    site=$(python3 -c "import site; print(site.getsitepackages()[0])")
    venv=/tmp/gpu_check_notf
    rm -rf "$venv" && python3 -m venv --without-pip "$venv"
    vsite=$("$venv/bin/python" -c "import site; print(site.getsitepackages()[0])")
    for f in "$site"/*; do
        case "$(basename "$f")" in tensorflow*|tensorboard*|tf_keras*|*.pth) ;; *) ln -s "$f" "$vsite/";; esac
    done
    PYTHON="$venv/bin/python"  # worker processes start from sys.executable, so they see no TensorFlow either
fi
timeout "${GPU_CHECK_TIMEOUT:-500}" "$PYTHON" benchmarks/gpu_check.py
