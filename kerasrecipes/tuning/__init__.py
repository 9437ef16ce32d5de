"""Hyperparameter search on keras-tuner: log-space ranges, coarse-to-fine stages, results and plots."""

from kerasrecipes.tuning.cli import add_search_parser
from kerasrecipes.tuning.cli import cli_main
from kerasrecipes.tuning.cli import run_search
from kerasrecipes.tuning.parallel import Parallel
from kerasrecipes.tuning.plots import plot_search
from kerasrecipes.tuning.pruning import MedianStoppingRule
from kerasrecipes.tuning.pruning import median_stopping_threshold
from kerasrecipes.tuning.search import FunctionHyperModel
from kerasrecipes.tuning.search import RecipeHyperband
from kerasrecipes.tuning.search import RecipeRandomSearch
from kerasrecipes.tuning.search import Results
from kerasrecipes.tuning.search import Search
from kerasrecipes.tuning.search import SpaceHyperModel
from kerasrecipes.tuning.search import make_optimizer
from kerasrecipes.tuning.search import print_progress
from kerasrecipes.tuning.search import random_search
from kerasrecipes.tuning.search import recipe_callbacks
from kerasrecipes.tuning.space import Choice
from kerasrecipes.tuning.space import Fixed
from kerasrecipes.tuning.space import IntUniform
from kerasrecipes.tuning.space import LogUniform
from kerasrecipes.tuning.space import Param
from kerasrecipes.tuning.space import SearchSpace
from kerasrecipes.tuning.space import Uniform
from kerasrecipes.tuning.space import default_mlp_space
from kerasrecipes.tuning.space import default_vgg_space
