import sys

from hcc_utils.cli import main

sys.exit(main())
