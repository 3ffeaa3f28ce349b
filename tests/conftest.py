"""Shared fixtures: the built-in engine pinned to the date the scenarios are written for."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from policylint.builtin import builtin_pack_path
from policylint.engine import Engine, EngineOptions
from policylint.packs import Pack, load_pack

TODAY = datetime.date(2026, 12, 1)
SCENARIOS = Path(__file__).parent / "scenarios"
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def builtin_pack() -> Pack:
    return load_pack(builtin_pack_path())


@pytest.fixture(scope="session")
def engine(builtin_pack: Pack) -> Engine:
    return Engine([builtin_pack], options=EngineOptions(today=TODAY))
