"""A version loaded with ``helsestat reference load`` into a running server's reference
database is what the KLASS API, the tariff endpoints, the catalogue and preflight use from
the next request on: the server reads the database, not the packaged files (real HTTP)."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import click
import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from helsestat.api import create_app
from helsestat.cli.reference import COMMANDS
from helsestat.errors import ReferenceError_
from helsestat.reference.holder import ReferenceHolder
from helsestat.settings import Settings
from helsestat.statistics.preflight import preflight

Serve = Callable[[FastAPI], AbstractContextManager[str]]
TARIFFS = Path(__file__).parents[2] / "src" / "helsestat" / "data" / "tariffs"


def _cli() -> click.Group:
    group = click.Group("helsestat")
    for command in COMMANDS:
        group.add_command(command)
    return group


def _invoke(args: list[str]) -> str:
    result = CliRunner().invoke(_cli(), args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def _edited_bundle(out: Path) -> Path:
    """KLASS 630 as the database holds it, its version ending on 1 July 2025 and its first
    area renamed."""
    _invoke(["klass", "export", "--out", str(out), "--id", "630"])
    path = out / "klass_630.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    # the latest (630 has one version per kommune structure)
    version = max(doc["versions"], key=lambda v: v["validFrom"])
    version["validTo"] = "2025-07-01"
    version["classificationItems"][0]["name"] = "Opptaksområde (endret navn)"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def _edited_takstkoder(out: Path) -> Path:
    """The takstkoder with one more code, 9zz, valid from 2025."""
    lines = (TARIFFS / "takstkoder.csv").read_text(encoding="utf-8").splitlines()
    fields = lines[1].split(",")
    fields[0], fields[1], fields[3], fields[4] = "99999", "9zz", "2025-01-01", ""
    path = out / "takstkoder.csv"
    path.write_text("\n".join([*lines, ",".join(fields)]) + "\n", encoding="utf-8")
    return path


def test_a_loaded_version_is_served_and_checked_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, serve: Serve
) -> None:
    data_dir = tmp_path / "var"
    monkeypatch.setenv("HELSESTAT_DEMO_MODE", "1")
    monkeypatch.setenv("HELSESTAT_DATA_DIR", str(data_dir))
    app = create_app(Settings(demo_mode=True, data_dir=data_dir))
    codes_at = "/api/klass/v1/classifications/630/codesAt?date=2025-03-01"
    # a generous timeout: the first request migrates and seeds the database (slow on a busy machine)
    with serve(app) as base, httpx.Client(base_url=base, timeout=120) as http:
        before = http.get(codes_at).json()["codes"][0]["name"]  # seeds the new database
        assert before != "Opptaksområde (endret navn)"
        assert http.get("/v1/takstkoder?takstkode=9zz").json() == []
        assert preflight(2025, app.state.reference.get(), runs=("speshelse",)).ok
        _invoke(["preflight", "--year", "2025", "--run", "speshelse"])

        files = tmp_path / "files"
        files.mkdir()
        loaded = _invoke(
            ["reference", "load", str(_edited_bundle(files)), str(_edited_takstkoder(files))]
        )
        assert "classifications from files: 1" in loaded
        assert "takstkoder rows from files:" in loaded

        # the next requests: the KLASS API and the tariff endpoints serve the new content
        assert http.get(codes_at).json()["codes"][0]["name"] == "Opptaksområde (endret navn)"
        versions = http.get("/api/klass/v1/classifications/630").json()["versions"]
        version = max(versions, key=lambda v: v["validFrom"])
        assert version["validTo"] == "2025-07-01"
        ended = http.get("/api/klass/v1/classifications/630/codesAt?date=2025-08-01")
        assert (ended.status_code, ended.json()["code"]) == (400, "reference.no_version")
        (new,) = http.get("/v1/takstkoder?takstkode=9zz&gyldigdato=2025-06-01").json()
        assert (new["takst_id"], new["fradato"], new["tildato"]) == (99999, "2025-01-01", None)
        page = http.get("/dashboard/classifications/630?date=2025-03-01").text
        assert "Opptaksområde (endret navn)" in page

        # preflight, as a library call on the server's snapshot and as the CLI
        report = preflight(2025, app.state.reference.get(), runs=("speshelse",))
        failed = {c.subject.split(" (")[0]: c.detail for c in report.failures}
        assert failed.keys() == {
            "KLASS 630 Kodeliste for opptaksområder i spesialisthelsetjenesten",
            "correspondence KLASS 630 → 131",
        }
        assert "no version valid from 2025-07-01 until 2026-01-01" in failed.values()
        with pytest.raises(ReferenceError_, match="KLASS 630"):
            _invoke(["preflight", "--year", "2025", "--run", "speshelse"])


def test_the_packaged_files_are_loaded_again_on_request(tmp_path: Path) -> None:
    """``helsestat reference load`` without files writes the packaged registries over what
    was loaded (here: a tariff list), and a holder on the database sees it."""
    url = f"sqlite:///{(tmp_path / 'reference.db').as_posix()}"
    holder = ReferenceHolder(url)
    try:
        packaged = holder.get().tariffs.fagomraader
        path = tmp_path / "no_kuhr_fagomrader.csv"
        path.write_text("fagomrade_kode,beskrivelse\nLE,Lege\n", encoding="utf-8")
        env = {"HELSESTAT_DATABASE_URL": url, "HELSESTAT_DATA_DIR": str(tmp_path)}
        runner = CliRunner(env=env)
        assert runner.invoke(_cli(), ["reference", "load", str(path)]).exit_code == 0
        assert list(holder.get().tariffs.fagomraader) == ["LE"]
        assert runner.invoke(_cli(), ["reference", "load"]).exit_code == 0
        assert holder.get().tariffs.fagomraader == packaged
    finally:
        holder.dispose()
