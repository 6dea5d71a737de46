"""Fixtures of the validation tests (see :mod:`sob_world`)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sob_world import SobWorld, world_maker


@pytest.fixture(scope="session")
def sob_world(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], SobWorld]:
    """``sob_world(seed)``: the world of a unit-plan seed, made once per session."""
    return world_maker(tmp_path_factory)
