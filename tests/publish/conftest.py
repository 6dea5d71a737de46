"""Golden files for the publish formats.

Rewrite them after an intended change of output, then review the diff::

    .venv/bin/pytest tests/publish --update-golden
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="rewrite tests/publish/golden/ from the current renderers",
    )


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    """True when the run was asked to rewrite the golden files."""
    # Without the option registered (pytest run from a parent folder), compare only.
    return bool(request.config.getoption("--update-golden", default=False))
