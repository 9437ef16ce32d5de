"""Model factories: VGG-style CNNs, MLPs, and fine-tuning of pretrained networks."""

from kerasrecipes.models.augmented import Augmented
from kerasrecipes.models.augmented import inference_model
from kerasrecipes.models.flops import count_flops
from kerasrecipes.models.mlp import mlp
from kerasrecipes.models.transfer import STRATEGIES as FINE_TUNE_STRATEGIES
from kerasrecipes.models.transfer import blocks
from kerasrecipes.models.transfer import fine_tune
from kerasrecipes.models.vgg import ARCHS as VGG_ARCHS
from kerasrecipes.models.vgg import vgg
