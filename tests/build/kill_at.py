"""Run a ``helsestat`` command and kill its process with SIGKILL at a chosen point: just before
the k-th call of ``os.replace`` (a file or directory about to be committed) or ``os.link``
(a release linking a part) whose target path contains a pattern.

    python tests/build/kill_at.py replace period= 2 ingest claims claims.csv

kills the ingest before its second month file is renamed into place. With k = 0 nothing is
killed (the command just runs).
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    name, pattern, k, argv = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    real = getattr(os, name)
    seen = 0

    def wrapped(source: object, target: object, *args: object, **kwargs: object) -> object:
        nonlocal seen
        if pattern in os.fspath(target):  # type: ignore[arg-type]
            seen += 1
            if seen == k:
                os.kill(os.getpid(), signal.SIGKILL)
        return real(source, target, *args, **kwargs)

    setattr(os, name, wrapped)
    from helsestat.cli import main as helsestat

    sys.exit(helsestat(argv))


if __name__ == "__main__":
    main()
