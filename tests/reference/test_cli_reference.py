"""``helsestat reference load`` and ``helsestat klass export`` (registered by cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from helsestat.cli.reference import COMMANDS
from helsestat.errors import ReferenceError_
from helsestat.reference.classification_store import read_registry
from helsestat.store.db.database import create_engine_for, session_factory


def _cli() -> click.Group:
    group = click.Group("helsestat")
    for command in COMMANDS:
        group.add_command(command)
    return group


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HELSESTAT_DEMO_MODE", "1")
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(tmp_path / "var"))
    return tmp_path


def test_export_then_load_an_edited_bundle(env: Path) -> None:
    runner = CliRunner()
    out = env / "bundles"
    exported = runner.invoke(_cli(), ["klass", "export", "--out", str(out), "--id", "609"])
    assert exported.exit_code == 0, exported.output
    path = out / "klass_609.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["versions"][1]["classificationItems"][0]["name"] = "Fødestue 1 (renamed)"
    path.write_text(json.dumps(doc), encoding="utf-8")
    loaded = runner.invoke(_cli(), ["reference", "load", str(path)])
    assert loaded.exit_code == 0, loaded.output
    assert "classifications: 22" in loaded.output and "data sources: 14" in loaded.output
    engine = create_engine_for(f"sqlite:///{(env / 'var' / 'reference.db').as_posix()}")
    try:
        with session_factory(engine)() as session:
            latest = read_registry(session).classification(609).versions[-1]
    finally:
        engine.dispose()
    assert latest.codes[0].name == "Fødestue 1 (renamed)"


def test_a_bad_bundle_is_refused_naming_the_field(env: Path) -> None:
    bad = env / "klass_9.json"
    bad.write_text('{"classification": {"name": "x"}}', encoding="utf-8")
    result = CliRunner().invoke(_cli(), ["reference", "load", str(bad)])
    assert isinstance(result.exception, ReferenceError_)
    assert "klass_9.json: classification._links.self.href: missing" in str(result.exception)
