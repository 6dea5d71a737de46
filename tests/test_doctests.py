"""Every usage example in every module's docstrings runs (``python -m doctest`` style, with
``...`` allowed in expected output)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import helsestat

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(helsestat.__path__, "helsestat.")
    if ".migrations" not in m.name  # Alembic scripts, imported by Alembic only
)


def test_modules_are_found() -> None:
    assert {"helsestat.build", "helsestat.protect.engine", "helsestat.api"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
