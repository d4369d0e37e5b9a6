"""`python -m skin_segmentation.cli`: the same as `skinseg`."""

import sys

from skin_segmentation.cli import main

sys.exit(main())
