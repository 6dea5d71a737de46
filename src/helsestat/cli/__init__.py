"""The ``helsestat`` command line: one click group (:mod:`.commands`), one module per area
(:mod:`.units`, :mod:`.reference`).

>>> cli.name
'cli'
"""

from helsestat.cli.commands import cli, main, run

__all__ = ["cli", "main", "run"]
