"""What a `helsestat build` that changed nothing loads: the kept reference snapshot without
its classifications, and neither the database layer nor pandas (SYNTHETIC claims). A warm
build is a few hundredths of a second of work; what it imports and unpickles is most of its
cost as a command (docs/benchmarks-before-after.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helsestat.cli import main

#: Run `helsestat build` in a fresh process and report what it loaded.
PROBE = """
import json, sys
import helsestat.reference.classifications as classifications
loaded = []
lookup = classifications.Registry.__getattr__
def recording(self, name):
    loaded.append(name)
    return lookup(self, name)
classifications.Registry.__getattr__ = recording
from helsestat.cli import main
code = main(["build"])
heavy = ["sqlalchemy", "alembic", "pandas"]
print(json.dumps({"code": code, "modules": [m for m in heavy if m in sys.modules],
                  "registry": loaded}))
"""


@pytest.mark.slow
def test_a_warm_build_loads_no_database_layer_pandas_or_classifications(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HELSESTAT_DEMO_MODE", "1")
    claims = tmp_path / "claims.csv"
    assert main(["synth", "claims", "--rows", "3000", "--out", str(claims)]) == 0
    assert main(["ingest", "claims", str(claims)]) == 0
    assert main(["build"]) == 0  # the snapshot kept, every cache entry written
    env = {k: v for k, v in os.environ.items()}
    run = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, check=False
    )
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report == {"code": 0, "modules": [], "registry": []}
