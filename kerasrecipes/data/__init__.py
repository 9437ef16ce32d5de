"""Data recipes: splits, standardization, augmentation presets, tf.data pipelines,
test-time augmentation and class-imbalance tools. Layers live in kerasrecipes.layers."""

from kerasrecipes.data.augmentation import PRESETS as AUGMENTATION_PRESETS
from kerasrecipes.data.augmentation import augmentation
from kerasrecipes.data.batches import ArrayBatches
from kerasrecipes.data.imbalance import class_weights
from kerasrecipes.data.imbalance import resample
from kerasrecipes.data.pipeline import pipeline
from kerasrecipes.data.preprocessing import standardization
from kerasrecipes.data.preprocessing import to_unit_range
from kerasrecipes.data.split import train_val_split
from kerasrecipes.data.tta import tta_predict
