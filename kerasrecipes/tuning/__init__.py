"""Hyperparameter search on keras-tuner: log-space ranges, coarse-to-fine stages, results and plots.

Split by role, as keras-tuner splits oracle from tuner: `space` (the ranges),
`hypermodels` (what a trial builds), `oracles` and `tuners` (our keras-tuner
subclasses), `results` (the table, read through the oracle's API), `stage`
(`StageSpec`, `run_stage`), `runners` (in-process, local workers, cluster),
`search` (the stages and their refinement); the `kerasrecipes search` command is `kerasrecipes.cli.search`.
"""

from kerasrecipes.tuning.hypermodels import FunctionHyperModel
from kerasrecipes.tuning.hypermodels import RecipeHyperModel
from kerasrecipes.tuning.hypermodels import SpaceHyperModel
from kerasrecipes.tuning.parallel import Parallel
from kerasrecipes.tuning.plots import plot_search
from kerasrecipes.tuning.pruning import MedianStoppingRule
from kerasrecipes.tuning.pruning import median_stopping_threshold
from kerasrecipes.tuning.results import Results
from kerasrecipes.tuning.runners import ClusterRunner
from kerasrecipes.tuning.runners import InProcessRunner
from kerasrecipes.tuning.runners import LocalWorkersRunner
from kerasrecipes.tuning.runners import Runner
from kerasrecipes.tuning.search import Search
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
from kerasrecipes.tuning.space import default_recipe_space
from kerasrecipes.tuning.space import recipe_space
from kerasrecipes.tuning.space import default_vgg_space
from kerasrecipes.tuning.stage import SearchError
from kerasrecipes.tuning.stage import StageJob
from kerasrecipes.tuning.stage import StageSpec
from kerasrecipes.tuning.stage import run_stage
from kerasrecipes.tuning.tuners import RecipeHyperband
from kerasrecipes.tuning.tuners import RecipeRandomSearch
from kerasrecipes.tuning.tuners import print_progress
