"""kerasrecipes: the proven training recipes for deep CNNs as Keras 3 code.

The public face of the package: every public name lives in a subpackage and is
re-exported from it; nothing is defined here.
"""

from kerasrecipes._version import __version__

from kerasrecipes import _quiet

if _quiet.invoked_as_command():
    _quiet.park_native_stderr()  # TensorFlow's C++ start-up lines, not ours

from kerasrecipes import data
from kerasrecipes import datasets
from kerasrecipes import layers
from kerasrecipes import models
from kerasrecipes import callbacks
from kerasrecipes import ensembles
from kerasrecipes import schedules
from kerasrecipes import recipe
from kerasrecipes import presets
from kerasrecipes import runs
from kerasrecipes import sizing
from kerasrecipes import babysit
from kerasrecipes import diagnose
from kerasrecipes import proposal
from kerasrecipes import loop
from kerasrecipes import compare
from kerasrecipes import experiments
from kerasrecipes import plots
from kerasrecipes import report
from kerasrecipes import tuning
from kerasrecipes import optimizers
from kerasrecipes import precision
from kerasrecipes import execution
from kerasrecipes.lr_finder import lr_find
from kerasrecipes.memory import clear_session
