"""Dataset loaders: Fashion-MNIST (local IDX files first), an embedded sample,
MNIST and CIFAR-10 through keras.datasets, and a user's own image folders
(`load_folder`: checked, split and decoded once into uint8 arrays)."""

from kerasrecipes.datasets.directory import from_directory
from kerasrecipes.datasets.fashion_mnist import CLASS_NAMES as FASHION_MNIST_CLASSES
from kerasrecipes.datasets.fashion_mnist import fashion_mnist
from kerasrecipes.datasets.idx import read_idx
from kerasrecipes.datasets.keras_datasets import CIFAR10_CLASSES
from kerasrecipes.datasets.keras_datasets import MNIST_CLASSES
from kerasrecipes.datasets.keras_datasets import cifar10
from kerasrecipes.datasets.keras_datasets import mnist
from kerasrecipes.datasets.sample import fashion_mnist_sample
from kerasrecipes.datasets.load import ImageData
from kerasrecipes.datasets.load import load
from kerasrecipes.datasets.folder import from_source
from kerasrecipes.datasets.folder import load_folder
