"""Training callbacks: what Keras's own callbacks lack, and the recipe one-liner."""

from kerasrecipes.callbacks.ensemble import CheckpointEnsemble, EnsembleMember
from kerasrecipes.callbacks.plateau import EarlyStopping, HalveLROnPlateau
from kerasrecipes.callbacks.recipe import recipe
from kerasrecipes.callbacks.stats import BatchLossRecorder, LayerStats
from kerasrecipes.callbacks.swa import SWA, recalibrate_batchnorm
