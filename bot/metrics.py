"""Prometheus metrics: updates by kind, handling latency, outcomes, errors, Telegram retries.

Nothing here carries a person: labels are update kinds, languages, verdicts, error types, event
names and the code and rule table versions.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.core.languages import LANGUAGES
from bot.core.table import VERDICTS

__all__ = ["ERROR_KINDS", "EVENTS", "RETRY_REASONS", "UPDATE_KINDS", "Metrics", "package_version"]

#: What ``_kind`` in bot/telegram/application.py calls an update.
UPDATE_KINDS = ("button", "command", "text", "media", "other")
#: Why bot/telegram/send.py retries a Bot API call.
RETRY_REASONS = ("flood", "network")
#: The errors Telegram calls can end in once retrying gives up (others appear when they happen).
ERROR_KINDS = ("BadRequest", "Forbidden", "NetworkError", "RetryAfter", "TimedOut")
#: Every ``metrics["event"]`` the bot tallies.
EVENTS = (
    "buttons_rejected",
    "buttons_stale",
    "callback_answers_failed",
    "send_outcome_unknown",
    "reloads",
    "reloads_refused",
    "replies_owed_dropped",
    "replies_owed_sent",
    "store_conflicts",
    "store_unavailable",
    "updates_dropped",
    "updates_duplicate",
    "updates_confirmed_early",
    "updates_handled",
    "updates_unreadable",
)


def package_version() -> str:
    """The installed maslahat package's version, or "unknown" when run from a bare checkout."""
    try:
        return version("maslahat")
    except PackageNotFoundError:
        return "unknown"


class _Events(Collector):
    """Exposes the internal event tally (stale buttons, store conflicts, …) as one counter family."""

    def __init__(self, events: Tally[str]) -> None:
        self._events = events

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily("maslahat_events", "Things the bot noticed, by event", labels=["event"])
        # Known events at 0 too: rate() and alerts need a series before the first occurrence.
        for event in sorted(set(EVENTS) | set(self._events)):
            family.add_metric([event], self._events[event])
        yield family


class Metrics:
    """Every metric of one bot process, in its own registry; ``metrics["event"] += 1`` tallies events."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        # CPU, memory, open files and start time (Linux /proc), Python version, GC: cheap to read per scrape.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.events: Tally[str] = Tally()
        self.version = package_version()
        self.build_info = Gauge(
            "maslahat_build_info",
            "Always 1: the running code version and rule table (id and version)",
            ["version", "rules", "rules_version"],
            registry=self.registry,
        )
        self.updates = Counter("maslahat_updates", "Updates handled, by kind", ["kind"], registry=self.registry)
        self.latency = Histogram(
            "maslahat_update_seconds",
            "Time from receiving an update to finishing it",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=self.registry,
        )
        self.outcomes = Counter(
            "maslahat_outcomes",
            "Conversations finished, by language and verdict",
            ["lang", "verdict"],
            registry=self.registry,
        )
        self.errors = Counter(
            "maslahat_errors", "Errors while handling updates, by kind", ["kind"], registry=self.registry
        )
        self.retries = Counter(
            "maslahat_telegram_retries", "Bot API calls retried, by reason", ["reason"], registry=self.registry
        )
        self.chats_in_flight = Gauge(
            "maslahat_chats_in_flight",
            "Chats with an update being handled or waiting now (at CONCURRENT_CHATS, more wait their turn)",
            registry=self.registry,
        )
        self.registry.register(_Events(self.events))
        # Every known series at 0 from the start, so rate() and alerts work before the first event.
        for kind in UPDATE_KINDS:
            self.updates.labels(kind)
        for lang in LANGUAGES:
            for verdict in VERDICTS:
                self.outcomes.labels(lang, verdict)
        for kind in ERROR_KINDS:
            self.errors.labels(kind)
        for reason in RETRY_REASONS:
            self.retries.labels(reason)

    def set_content(self, table_id: str, table_version: str) -> None:
        """Name the rule table now in use in ``maslahat_build_info``, replacing the one before."""
        # Clearing first: a reload must not leave the old table's series at 1 beside the new one.
        self.build_info.clear()
        self.build_info.labels(self.version, table_id, table_version).set(1)

    def __getitem__(self, event: str) -> int:
        return self.events[event]

    def __setitem__(self, event: str, count: int) -> None:
        self.events[event] = count

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)
