"""``python -m helsestat.cli``: the same as the ``helsestat`` command."""

import sys

from helsestat.cli.commands import main

if __name__ == "__main__":
    sys.exit(main())
