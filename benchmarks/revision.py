"""The package as it was at another git revision, for a benchmark's before/after runs: the
benchmark is this checkout's in both, the code under test is the revision's for *before*
(``PYTHONPATH`` pointing at what :func:`package_at` extracted)."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def package_at(ref: str, into: Path) -> Path:
    """Extract ``src/helsestat`` of git revision ``ref`` under ``into``; returns the folder
    to put on ``PYTHONPATH`` (the one holding ``helsestat``)."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ref, "src/helsestat"],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into / "src"


__all__ = ["ROOT", "package_at"]
