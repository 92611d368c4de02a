"""Integration fixtures: a harness on each event store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.settings import Settings
from tests.conftest import FakeClock
from tests.integration.helpers import Harness


@pytest.fixture(params=["sqlite", "postgres"])
def h(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Harness]:
    """A process's runtime with recording channels, on SQLite and on PostgreSQL."""
    if request.param == "postgres":
        settings = Settings(data_dir=tmp_path, database_url=request.getfixturevalue("pg_url"))
    else:
        settings = Settings(data_dir=tmp_path)
    harness = Harness(settings, clock)
    yield harness
    harness.rt.stop()
