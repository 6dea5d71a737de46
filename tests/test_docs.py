"""The CLI reference and the settings page are generated and must be current; every page
the mkdocs nav names exists."""

from __future__ import annotations

import re
import runpy
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
GEN = runpy.run_path(str(ROOT / "scripts" / "gen_reference.py"))


def test_cli_reference_is_current() -> None:
    # In a fresh process, as the script runs: click caches each command's help option the
    # first time it is built, so a test that invoked a subcommand on its own before this one
    # would change the generated text ("--help" instead of "-h, --help").
    code = (
        "import runpy; print(runpy.run_path('scripts/gen_reference.py')['cli_reference'](), end='')"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert (ROOT / "docs" / "cli.md").read_text(encoding="utf-8") == fresh, (
        "run: .venv/bin/python scripts/gen_reference.py"
    )


def test_settings_reference_is_current() -> None:
    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == GEN[
        "settings_reference"
    ](), "run: .venv/bin/python scripts/gen_reference.py"


def test_error_code_reference_is_current() -> None:
    assert (ROOT / "docs" / "error-codes.md").read_text(encoding="utf-8") == GEN[
        "error_reference"
    ](), "run: .venv/bin/python scripts/gen_reference.py"


def test_every_error_code_is_found_by_the_generator() -> None:
    codes = GEN["error_codes"]()
    for code in (
        "ingest.missing_column",
        "query.period_too_long",
        "settings.invalid",
        "store.release_exists",
        "release.not_found",
    ):
        assert code in codes, code


def test_the_status_of_an_error_code_is_the_one_it_is_raised_with() -> None:
    codes = GEN["error_codes"]()
    assert codes["lists.incomplete_registry"][1] == 422  # InputError, raised with status=422
    assert codes["server.busy"][1] == 503  # HelsestatError, raised with status=503
    assert codes["query.period_too_long"][1] == 400  # the class's default
    # reading each call's arguments loses no code a plain search of the sources finds
    plain = re.compile(r'\b([A-Z][A-Za-z]*(?:Error_?|Denied))\(\s*"([a-z0-9_]+\.[a-z0-9_.]+)"')
    found = {
        code
        for path in (ROOT / "src" / "helsestat").rglob("*.py")
        for cls, code in plain.findall(path.read_text(encoding="utf-8"))
        if cls in GEN["_STATUS"] and code != "x.y"
    }
    assert found == set(codes)


def test_every_command_is_documented() -> None:
    from helsestat.cli import cli

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"## helsestat {name}" in text


def test_mkdocs_nav_pages_exist() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [
        line.split(":", 1)[1].strip()
        for line in nav.splitlines()
        if line.strip().startswith("- ") and line.strip().endswith(".md")
    ]
    assert pages
    for page in pages:
        assert (ROOT / "docs" / page).is_file(), page


def test_glossary_defines_domain_terms() -> None:
    text = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").lower()
    for term in (
        "takstkode",
        "fagområde",
        "praksistype",
        "kommune",
        "fylke",
        "fødselsnummer",
        "d-nummer",
        "regning",
        "refusjon",
        "egenandel",
        "resh",
        "klass",
    ):
        assert term in text, term


def test_glossary_defines_each_term_once() -> None:
    """Terms are defined once (docs written on two branches met in one glossary before)."""
    lines = (ROOT / "docs" / "glossary.md").read_text(encoding="utf-8").splitlines()
    headings = [line for line in lines if line.startswith("### ")]
    anchors = [h.rsplit("{#", 1)[-1] for h in headings if "{#" in h]
    assert len(headings) == len(set(headings)) and len(anchors) == len(set(anchors))
