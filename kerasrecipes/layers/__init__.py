"""Every layer kerasrecipes adds to Keras; Keras's own layers are used as they are."""

from kerasrecipes.layers.maxout import Maxout
from kerasrecipes.layers.rrelu import RReLU
from kerasrecipes.layers.fancy_pca import FancyPCA
from kerasrecipes.layers.random_hsv import RandomHSV
from kerasrecipes.layers.random_resized_crop import RandomResizedCrop
from kerasrecipes.layers.random_shift import RandomShift
from kerasrecipes.layers.whitening import Whitening
