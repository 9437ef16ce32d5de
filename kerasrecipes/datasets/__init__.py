"""Dataset loaders."""

from kerasrecipes.datasets.fashion_mnist import CLASS_NAMES as FASHION_MNIST_CLASSES
from kerasrecipes.datasets.fashion_mnist import fashion_mnist
from kerasrecipes.datasets.idx import read_idx
