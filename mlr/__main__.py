import sys

from mlr.cli import main

sys.exit(main(exiting=True))
