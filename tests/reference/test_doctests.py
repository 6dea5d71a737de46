"""The usage examples in the reference modules' docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "helsestat.reference.classifications",
    "helsestat.reference.klass_json",
    "helsestat.reference.klass_data",
    "helsestat.reference.klass_build",
    "helsestat.reference.klass_synthetic",
    "helsestat.reference.recode",
    "helsestat.reference.preflight",
    "helsestat.reference.tariff_lists",
    "helsestat.reference.catalog",
    "helsestat.reference.dcat",
    "helsestat.reference.serialize",
    "helsestat.reference.persist",
    "helsestat.store.reference_schema",
    "helsestat.synth.tariffs",
]


@pytest.mark.parametrize("module", MODULES)
def test_doctests(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
