"""/metrics from the start: process metrics, build info that follows reloads, every known series at 0."""

from __future__ import annotations

import ast
import dataclasses
import importlib.metadata
import inspect
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

import bot.metrics
import bot.service.app
from bot.core.engine import Engine
from bot.core.languages import LANGUAGES
from bot.core.table import VERDICTS, Table
from bot.metrics import ERROR_KINDS, EVENTS, RETRY_REASONS, UPDATE_KINDS, Metrics, package_version
from bot.problems import Problem, ProblemsError
from bot.service.app import Service
from bot.service.content import Content
from bot.settings import Settings
from bot.storage.base import MemoryStore
from bot.telegram import application as telegram_bot
from bot.telegram import send as telegram_send
from bot.telegram.application import Runtime, build_application
from tests.support.bot import CATALOGS
from tests.support.shipped import ROOT, RULES


def _samples(metrics: Metrics) -> Iterator[Sample]:
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        yield from family.samples


def _series(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Each sample of ``name``: its labels (sorted) -> its value."""
    return {tuple(sorted(s.labels.items())): s.value for s in _samples(metrics) if s.name == name}


def _runtime(table: Table) -> Runtime:
    settings = Settings(token="123:abc", session_secret=b"a test secret, 32 bytes long...")
    return Runtime(Engine(table), CATALOGS, MemoryStore(ttl=3600), settings)


def test_the_process_collector_reports_cpu_memory_open_files_and_start_time() -> None:
    names = {s.name for s in _samples(Metrics())}
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "process_open_fds",
    ):
        assert name in names
    assert "python_info" in names
    assert "python_gc_collections_total" in names


def test_build_info_names_the_package_version_and_the_shipped_rule_table(table: Table) -> None:
    runtime = _runtime(table)
    assert _series(runtime.metrics, "maslahat_build_info") == {}  # no rule table claimed before one is in use
    build_application(runtime)
    assert _series(runtime.metrics, "maslahat_build_info") == {
        (
            ("rules", "decree-821"),
            ("rules_version", table.meta.version),
            ("version", importlib.metadata.version("maslahat")),
        ): 1.0
    }


def test_a_new_rule_table_replaces_the_old_series() -> None:
    metrics = Metrics()
    metrics.set_content("decree-821", "2026.11.21")
    metrics.set_content("decree-821", "2026.12.01")
    assert _series(metrics, "maslahat_build_info") == {
        (("rules", "decree-821"), ("rules_version", "2026.12.01"), ("version", package_version())): 1.0
    }


def test_the_version_is_unknown_when_the_package_is_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(bot.metrics, "version", missing)
    metrics = Metrics()
    metrics.set_content("decree-821", "2026.11.21")
    assert {dict(labels)["version"] for labels in _series(metrics, "maslahat_build_info")} == {"unknown"}


async def test_a_reload_moves_build_info_to_the_new_table_and_a_refused_one_leaves_it(
    table: Table, monkeypatch: pytest.MonkeyPatch
) -> None:
    newer = dataclasses.replace(table, meta=dataclasses.replace(table.meta, version="2026.12.01"))
    # What a reload reads, without the files: this test is about what Service.reload does with it.
    loads: list[Content | ProblemsError] = [
        Content(Engine(newer), CATALOGS),
        ProblemsError([Problem("rules.yaml", 1, "", "broken")]),
    ]

    def load(rules: Path, locales: Path, *, every_screen: bool = False) -> Content:
        loaded = loads.pop(0)
        if isinstance(loaded, ProblemsError):
            raise loaded
        return loaded

    monkeypatch.setattr(bot.service.app, "load_content", load)
    runtime = _runtime(table)
    service = Service(build_application(runtime), runtime, RULES, ROOT / "locales")
    service.refreeze_after = 3600  # the test process is not to be frozen
    try:
        assert await service.reload() == []
        assert await service.reload() == ["rules.yaml:1: broken"]
    finally:
        if service._refreeze is not None:
            service._refreeze.cancel()
    assert _series(runtime.metrics, "maslahat_build_info") == {
        (("rules", "decree-821"), ("rules_version", "2026.12.01"), ("version", package_version())): 1.0
    }


def test_every_known_series_is_there_at_zero_before_any_event() -> None:
    metrics = Metrics()
    expected = {
        "maslahat_updates_total": {(("kind", kind),) for kind in UPDATE_KINDS},
        "maslahat_outcomes_total": {(("lang", lang), ("verdict", v)) for lang in LANGUAGES for v in VERDICTS},
        "maslahat_errors_total": {(("kind", kind),) for kind in ERROR_KINDS},
        "maslahat_telegram_retries_total": {(("reason", reason),) for reason in RETRY_REASONS},
        "maslahat_events_total": {(("event", event),) for event in EVENTS},
    }
    for name, labels in expected.items():
        assert _series(metrics, name) == dict.fromkeys(labels, 0.0), name  # type: ignore[call-overload]
    assert len(_series(metrics, "maslahat_outcomes_total")) == 6 * 4
    assert {"not_affected", "affected", "requirement_met", "unclear"} == set(VERDICTS)


def test_events_tallied_are_counted_beside_the_known_ones_at_zero() -> None:
    metrics = Metrics()
    metrics["buttons_stale"] += 2
    events = _series(metrics, "maslahat_events_total")
    assert events[(("event", "buttons_stale"),)] == 2.0
    assert events[(("event", "reloads"),)] == 0.0
    assert metrics["reloads"] == 0


# The lists in bot/metrics.py against the code that uses the labels ----------------------------


def _strings_in(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def test_every_event_the_bot_tallies_is_a_known_event() -> None:
    modules = [path for path in (ROOT / "bot").rglob("*.py") if path.name != "metrics.py"]  # its docstring's example
    source = "\n".join(path.read_text(encoding="utf-8") for path in modules)
    tallied = set(re.findall(r'metrics\["(\w+)"\] \+=', source))
    assert tallied == set(EVENTS)


def test_every_update_kind_is_known() -> None:
    tree = ast.parse(inspect.getsource(telegram_bot._kind))
    returned = set().union(*(_strings_in(n.value) for n in ast.walk(tree) if isinstance(n, ast.Return) and n.value))
    assert returned == set(UPDATE_KINDS)


def test_every_retry_reason_is_known() -> None:
    tree = ast.parse(inspect.getsource(telegram_send))
    reasons = set().union(
        *(
            _strings_in(n)
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "on_retry"
        )
    )
    assert reasons == set(RETRY_REASONS)
