"""Training callbacks: what Keras's own callbacks lack, and the recipe one-liner.

`Monitor` (a watched metric: direction, min_delta, best, resumable state) and
`Resumable` (state that survives a killed run) are the bases every callback
here is written on; subclass them for your own (README, "Extending").
"""

from kerasrecipes.callbacks._monitor import Monitor, Resumable, improves, infer_mode
from kerasrecipes.callbacks.backup import AtomicBackupAndRestore
from kerasrecipes.callbacks.ensemble import CheckpointEnsemble, EnsembleMember
from kerasrecipes.callbacks.plateau import EarlyStopping, HalveLROnPlateau
from kerasrecipes.callbacks.recipe import recipe
from kerasrecipes.callbacks.stats import BatchLossRecorder, LayerStats
from kerasrecipes.callbacks.swa import SWA, recalibrate_batchnorm
