"""Shared fixtures: the shipped rule table, an engine over it, a redis-server, a phone; and the log scan.

Logging is set up as `maslahat run` sets it up (bot.service.logs: every record redacted as it is
made, libraries capped at warning), and every record of the whole run is kept; the run fails if
one of them holds an id, name, username or text a test sent as a person (tests.support.logscan).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
from hypothesis import settings

from bot.core.engine import Engine
from bot.core.table import Table
from bot.ruletable.loader import load_table
from bot.service.logs import CAPPED_LOGGERS, redact_personal_data
from tests.support.logscan import PERSONAL, PROCESS_LOGS, LogScan
from tests.support.redis_server import RedisServer
from tests.support.shipped import RULES

if TYPE_CHECKING:
    from tests.support.phone import Phone  # imported when used: playwright takes half a second to import

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


@pytest.fixture(scope="session")
def phone() -> Iterator[Phone]:
    """One headless Chromium at phone width for the session (tests.support.phone), started on first use."""
    from tests.support.phone import Phone

    with Phone() as started:
        yield started


_scan = LogScan()


def pytest_configure(config: pytest.Config) -> None:
    """Log as the bot does, and keep every record for the scan at the end."""
    redact_personal_data()
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for name in CAPPED_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    root.addHandler(_scan)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if any record holds what a person sent."""
    logging.getLogger().removeHandler(_scan)
    leaks = _scan.leaks()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write("\n")
    if reporter is not None and not leaks:
        scanned = f"{len(_scan.lines)} records and {sum(map(len, PROCESS_LOGS)):,} bytes of bot processes' logs"
        reporter.write_line(f"log scan: {scanned}, {len(PERSONAL)} personal values sent, none logged")
    if leaks:
        if reporter is not None:
            reporter.write_line(f"log scan: {len(leaks)} record(s) hold personal data", red=True)
            for token, line in leaks[:20]:
                reporter.write_line(f"  {token!r} in: {line[:300]}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
