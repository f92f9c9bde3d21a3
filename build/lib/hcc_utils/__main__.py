import sys

from hcc_utils.pipeline.cli import main

sys.exit(main())
