"""Training callbacks: what Keras's own callbacks lack, and the recipe one-liner."""

from kerasrecipes.callbacks.stats import BatchLossRecorder, LayerStats
