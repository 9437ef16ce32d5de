"""Every layer kerasrecipes adds to Keras; Keras's own layers are used as they are."""

from kerasrecipes.layers.maxout import Maxout
from kerasrecipes.layers.rrelu import RReLU
