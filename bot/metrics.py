"""Prometheus metrics: updates by kind, handling latency, outcomes, errors, Telegram retries.

Nothing here carries a person: labels are update kinds, languages, verdicts and error types.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

__all__ = ["Metrics"]


class _Events(Collector):
    """Exposes the internal event tally (stale buttons, store conflicts, …) as one counter family."""

    def __init__(self, events: Tally[str]) -> None:
        self._events = events

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily("maslahat_events", "Things the bot noticed, by event", labels=["event"])
        for event, count in sorted(self._events.items()):
            family.add_metric([event], count)
        yield family


class Metrics:
    """Every metric of one bot process, in its own registry; ``metrics["event"] += 1`` tallies events."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events: Tally[str] = Tally()
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

    def __getitem__(self, event: str) -> int:
        return self.events[event]

    def __setitem__(self, event: str, count: int) -> None:
        self.events[event] = count

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric."""
        return generate_latest(self.registry)
