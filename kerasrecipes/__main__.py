import sys

from kerasrecipes.cli import main

sys.exit(main())
