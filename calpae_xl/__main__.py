"""``python -m calpae_xl``: the same command line as ``calpae-xl`` (for a
machine where the scripts folder is not on the PATH)."""
import sys

from .cli import main

sys.exit(main())
