"""``python -m hcc_utils``: the README's commands (``setup``, ``book``, ``test``, ``lab``) from a fresh clone, and
every ``hcc-study`` command (:mod:`hcc_utils.setup_commands`; standard library only until a command needs more)."""
import sys

from hcc_utils.setup_commands import main

if __name__ == "__main__":
    sys.exit(main())
