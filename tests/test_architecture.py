"""The stages never import the entry points (cli, api, web); only __all__ names are public."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import helsestat.errors
import helsestat.model

SRC = Path(__file__).parents[1] / "src" / "helsestat"
STAGES = (
    "reference",
    "ingest",
    "validate",
    "store",
    "aggregate",
    "protect",
    "publish",
    "statistics",
    "synth",
)
ENTRY_POINTS = ("helsestat.cli", "helsestat.api", "helsestat.web")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def _stage_files() -> list[Path]:
    files = [p for stage in STAGES for p in (SRC / stage).rglob("*.py")]
    core = ("pipeline.py", "incremental.py", "model.py", "settings.py", "errors.py")
    return [*files, *(SRC / name for name in core)]


@pytest.mark.parametrize("path", _stage_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_stage_does_not_import_entry_points(path: Path) -> None:
    bad = {m for m in _imports(path) if m.startswith(ENTRY_POINTS)}
    assert not bad, f"{path.relative_to(SRC)} imports {sorted(bad)}"


def test_the_check_itself_catches_an_offending_import(tmp_path: Path) -> None:
    offending = tmp_path / "x.py"
    offending.write_text("from helsestat.api import create_app\nimport helsestat.cli\n")
    assert {m for m in _imports(offending) if m.startswith(ENTRY_POINTS)} == {
        "helsestat.api",
        "helsestat.cli",
    }


def test_stage_folders_exist() -> None:
    for stage in STAGES:
        assert (SRC / stage / "__init__.py").is_file()


@pytest.mark.parametrize("module", [helsestat.errors, helsestat.model])
def test_all_names_exist(module: object) -> None:
    for name in module.__all__:  # type: ignore[attr-defined]
        assert hasattr(module, name)


def test_no_utils_module() -> None:
    assert not list(SRC.rglob("utils*")), "house style: no utils/ grab-bag"
