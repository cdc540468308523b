"""Shared fixtures: the shipped rule table, an engine over it, a redis-server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from bot.core.engine import Engine
from bot.core.table import Table
from bot.ruletable.loader import load_table
from tests.support.redis_server import RedisServer
from tests.support.shipped import RULES

# No per-example deadline: the properties are about behaviour, and a machine busy with other
# tests (2 cores in CI) made a 200 ms deadline fail a pure round trip now and then. Performance is
# measured in benchmarks/, never timed in tests.
settings.register_profile("maslahat", deadline=None)
settings.load_profile("maslahat")


@pytest.fixture(scope="session")
def table() -> Table:
    return load_table(RULES)


@pytest.fixture(scope="session")
def engine(table: Table) -> Engine:
    return Engine(table)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One real redis-server for the session; tests keep apart by key prefix. Started on first use."""
    with RedisServer() as server:
        yield server
