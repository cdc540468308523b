"""Bursts within Telegram's limits: 1,000 people press /start within 10 seconds.

Telegram lets a bot send about 30 messages a second overall and about 1 a second per chat; beyond
that it answers 429 with ``retry_after``. This runs Maslahat as shipped (``harness.bots.maslahat_service``:
its PerChatRateLimiter, the shipped rules and catalogs, an SQLite store in a temporary directory, webhook
mode; ``--mode polling`` for the other) in this process, so that its metrics and logs can be read,
against the fake Bot API enforcing those limits, on 127.0.0.1 only. Distinct people press /start,
spread evenly over the window or all at once (a burst), each POSTed to the webhook as Telegram would.

Per pattern: whether every person got exactly the welcome, how many 429s (and which window refused
them), the retries of the bot's two retry layers, and the time from the first press to the last
answer against the minimum at 30 messages a second. Baseline in the same run: the same bot without a
rate limiter against a fake without limits. Every scenario has a deadline; the whole run stops after
``hard_timeout_s``.

    .venv/bin/python -m benchmarks.bench_burst            # --full: 1,000 people, 10 s, both patterns
    .venv/bin/python -m benchmarks.bench_burst --smoke    # a few people, a few seconds
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from benchmarks.harness.bots import maslahat_service, wait_ready
from benchmarks.harness.fakeapi import CountingLimits, FakeUser, TimedApi, free_port
from benchmarks.harness.load import post
from benchmarks.harness.measure import percentile, summary
from benchmarks.harness.results import parse, run_benchmark

TITLE = "Bursts within Telegram's limits: people pressing /start at once"
PER_SECOND, PER_CHAT_PER_SECOND = 30, 1  # core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
LANGUAGE_CODES = ("ru", "uz", "tg", "ky", "en", "uz-UZ", "de", None)  # Telegram app languages people use
FIRST_USER_ID = 700_000_001
FULL: dict[str, Any] = {"people": 1000, "window": 10.0, "hard_timeout_s": 170.0}
SMOKE: dict[str, Any] = {"people": 12, "window": 0.3, "hard_timeout_s": 170.0}
#: Log messages counted instead of printed (a run can have hundreds): (logger's message prefix, name).
COUNTED = (
    ("Rate limit hit. Retrying", "ptb_limiter_retries"),
    ("Rate limit hit after maximum", "ptb_limiter_gave_up"),
    ("Telegram asked to slow down", "bot_retrying_flood"),
)
LOGGERS = ("bot.telegram.ratelimit", "bot.telegram.send", "bot.telegram.application", "telegram.ext.Application")


class LogTally(logging.Filter):
    """Counts the retry messages of python-telegram-bot's rate limiter and of the bot, and errors."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Count ``record``; let warnings and errors through, retries not."""
        message = record.getMessage()
        for prefix, name in COUNTED:
            if message.startswith(prefix):
                self.counts[name] += 1
                return False
        self.counts["errors_logged"] += record.levelno >= logging.ERROR
        return record.levelno >= logging.WARNING


@contextlib.contextmanager
def tallying() -> Iterator[LogTally]:
    """A LogTally on the bot's and the rate limiter's loggers, at INFO, while inside."""
    tally, loggers = LogTally(), [logging.getLogger(name) for name in LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.addFilter(tally)
        lg.setLevel(logging.INFO)
    try:
        yield tally
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.removeFilter(tally)
            lg.setLevel(level)


@dataclass(frozen=True)
class Scenario:
    """One run of the people against one bot: how they arrive and which limits apply."""

    name: str
    pattern: str  # "even" or "burst"
    people: int
    window: float  # seconds over which the presses arrive ("even")
    limited: bool  # the fake applies Telegram's flood limits, and the bot its rate limiter


def _max_in_window(times: Sequence[float], width: float = 1.0) -> int:
    """The most messages the fake let through within any ``width``-second window (its own rule: (t-1, t])."""
    ordered, best, start = sorted(times), 0, 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - width:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run_scenario(scenario: Scenario, *, mode: str, store: str, workdir: Path, deadline: float) -> dict[str, Any]:
    """Start a fake Telegram and the bot, let the people press /start, and count what they got."""
    unlimited = 10**9
    limits = CountingLimits(*((PER_SECOND, PER_CHAT_PER_SECOND) if scenario.limited else (unlimited, unlimited)))
    async with TimedApi(rate_limits=limits) as api:
        port = free_port()
        url = f"sqlite:///{workdir / scenario.name}.db" if store == "sqlite" else "memory://"
        webhook = mode == "webhook"
        service = maslahat_service(
            api.base_url, api.token, port, webhook=webhook, storage=url, rate_limit=scenario.limited
        )
        task = asyncio.create_task(service.run(), name=f"bot {scenario.name}")
        try:
            if not await wait_ready(f"http://127.0.0.1:{port}/readyz", deadline, lambda: not task.done()):
                raise RuntimeError(
                    f"{scenario.name}: the bot did not start ({task.exception() if task.done() else ''})"
                )
            return await _drive(scenario, api, limits, service, f"http://127.0.0.1:{port}/telegram", deadline)
        finally:
            service.stopping.set()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=max(5.0, deadline - time.monotonic()))


async def _drive(
    scenario: Scenario, api: TimedApi, limits: CountingLimits, service: Any, webhook: str, deadline: float
) -> dict[str, Any]:
    """The presses, then what each chat shows, and every figure of the scenario."""
    from bot.core.languages import language_for
    from bot.telegram import screens
    from bot.telegram.application import handled_updates

    runtime, n = service.runtime, scenario.people
    people = [FakeUser(FIRST_USER_ID + i, f"Person {i}", language_code=LANGUAGE_CODES[i % 8]) for i in range(n)]
    updates = [api.message_update(person, text="/start", enqueue=False) for person in people]
    arrived: dict[int, float] = {}
    statuses: Counter[int | str] = Counter()
    t0 = time.monotonic()
    # Telegram delivers to a webhook over at most max_connections (40 by default) connections.
    connector = aiohttp.TCPConnector(limit=40)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:

        async def press(i: int) -> None:
            await asyncio.sleep(
                max(0.0, t0 + (i * scenario.window / n if scenario.pattern == "even" else 0.0) - time.monotonic())
            )
            status: int | str = 200
            if service.runtime.settings.webhook_url:
                status = await post(http, webhook, updates[i], attempts=5)
            else:
                api.queue_update(updates[i])
            statuses[status] += 1
            if status == 200:
                arrived[people[i].id] = time.monotonic()

        await asyncio.gather(*(press(i) for i in range(n)))
    last_arrival = time.monotonic()
    while time.monotonic() < deadline and not (
        handled_updates(service.application) >= len(arrived) and all(p.id in limits.accepted for p in people)
    ):
        await asyncio.sleep(0.01)
    finished = time.monotonic() < deadline
    await asyncio.sleep(0.2)  # anything more the bot might still send (it should not) has a moment to show

    welcome_ok, per_chat, wrong = 0, Counter[int](), list[str]()
    for person in people:
        outgoing = [m for m in api.messages(person.id) if m.outgoing]
        per_chat[len(outgoing)] += 1
        expected = screens.welcome_screen(runtime.t(language_for(person.language_code)), runtime.version).text
        if len(outgoing) == 1 and outgoing[0].raw_text == expected:
            welcome_ok += 1
        elif len(wrong) < 5:
            wrong.append(f"chat {person.id}: {[m.raw_text and m.raw_text[:40] for m in outgoing]}")
    gaps = [b - a for a, b in itertools.pairwise(sorted(limits.accepted_times))]
    answered_at = [min(limits.accepted[p.id]) for p in people if p.id in limits.accepted]
    latencies = [
        min(limits.accepted[p.id]) - arrived[p.id] for p in people if p.id in limits.accepted and p.id in arrived
    ]
    first = min(arrived.values(), default=t0)
    elapsed = max(answered_at, default=float("nan")) - first
    arrival_span = max(arrived.values(), default=first) - first
    metrics = runtime.metrics

    def counted(metric: Any, label: str) -> dict[str, int]:
        return {s.labels[label]: int(s.value) for s in metric.collect()[0].samples if s.name.endswith("_total")}

    result: dict[str, Any] = {
        "pattern": scenario.pattern,
        "people": n,
        "window_s": scenario.window if scenario.pattern == "even" else 0.0,
        "flood_limits": {"per_second": PER_SECOND, "per_chat_per_second": PER_CHAT_PER_SECOND}
        if scenario.limited
        else None,
        "limiter_config": _limiter_config(service.application),
        "finished_before_deadline": finished,
        "updates_delivered": len(arrived),
        "webhook_statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "updates_handled": handled_updates(service.application),
        "people_answered": len(answered_at),
        "people_with_exactly_the_welcome": welcome_ok,
        "messages_per_chat": {str(k): v for k, v in sorted(per_chat.items())},
        "messages_lost": n - len(answered_at),
        "duplicate_messages": sum((k - 1) * v for k, v in per_chat.items() if k > 1),
        "examples_wrong": wrong,
        "send_message_calls": len(api.calls_to("sendMessage")),
        "accepted_messages": len(limits.accepted_times),
        "http_429": sum(limits.refused.values()),
        "http_429_by_window": dict(limits.refused),
        "http_429_per_message": sum(limits.refused.values()) / n,
        "max_messages_in_any_1s_window": _max_in_window(limits.accepted_times),
        "gap_between_messages_ms": {f"p{q}": round(1000 * percentile(gaps, q / 100), 1) for q in (10, 50, 90)},
        "bot_retries_metric": counted(metrics.retries, "reason"),
        "bot_errors_metric": counted(metrics.errors, "kind"),
        "arrival_span_s": round(arrival_span, 3),
        "delivery_s": round(last_arrival - t0, 3),
        "last_answer_after_first_press_s": round(elapsed, 3),
        "throughput_msgs_per_s": round(len(answered_at) / elapsed, 2) if elapsed > 0 else None,
        "latency_s": summary(latencies, digits=3),
    }
    if scenario.limited:  # n messages at 30 a second need n/30 s, and no answer comes before its press
        minimum = max(n / PER_SECOND, arrival_span)
        result.update(theoretical_min_s=round(minimum, 3), ratio_actual_to_theoretical=round(elapsed / minimum, 3))
        result["ratio_actual_to_min_plus_arrival"] = round(elapsed / (n / PER_SECOND + arrival_span), 3)
    return result


def _limiter_config(application: Any) -> dict[str, Any] | None:
    """The bot's rate limiter as configured (None without one)."""
    limiter = application.bot.rate_limiter
    if limiter is None:
        return None
    return {
        "class": type(limiter).__name__,
        "overall_interval_s": getattr(limiter, "_overall_interval", None),
        "per_chat_interval_s": getattr(limiter, "_chat_interval", None),
        "per_chat_burst_span_s": getattr(limiter, "_burst_span", None),
        "max_retries": getattr(limiter, "_max_retries", None),
    }


def _scenarios(args: argparse.Namespace) -> list[Scenario]:
    """The baseline (no rate limiter, no flood limits), then each pattern as shipped against Telegram's limits."""
    people, window = args.sizes["people"], args.sizes["window"]
    patterns = ["even", "burst"] if args.pattern == "both" else [args.pattern]
    return [Scenario("baseline-unlimited", "burst", people, window, limited=False)] + [
        Scenario(pattern, pattern, people, window, limited=True) for pattern in patterns
    ]


async def _run(args: argparse.Namespace) -> dict[str, Any]:
    deadline = time.monotonic() + args.sizes["hard_timeout_s"]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp, tallying() as tally:
        for scenario in _scenarios(args):
            # Each scenario gets what is left, but at most enough for its own messages several times over.
            own = min(deadline, time.monotonic() + 30 + 4 * scenario.people / PER_SECOND)
            tally.counts.clear()
            print(f"… {scenario.name}: {scenario.people} people, {scenario.pattern}", flush=True)
            result = await run_scenario(scenario, mode=args.mode, store=args.store, workdir=Path(tmp), deadline=own)
            results[scenario.name] = {**result, "log_counts": dict(tally.counts)}
            r = result
            print(
                f"{scenario.name:>20}: {r['people_answered']}/{r['people']} answered, exactly the welcome "
                f"{r['people_with_exactly_the_welcome']}, lost {r['messages_lost']}, 429s {r['http_429']} "
                f"{r['http_429_by_window']}, last answer {r['last_answer_after_first_press_s']} s, ratio to minimum "
                f"{r.get('ratio_actual_to_theoretical')}",
                flush=True,
            )
    baseline = results["baseline-unlimited"]["last_answer_after_first_press_s"]
    for name, result in results.items():
        if name != "baseline-unlimited" and baseline > 0:
            result["ratio_to_unlimited_baseline"] = round(result["last_answer_after_first_press_s"] / baseline, 2)
    return results


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every scenario; the promises over those with Telegram's limits and the shipped rate limiter."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    results = asyncio.run(asyncio.wait_for(_run(args), timeout=args.sizes["hard_timeout_s"]))
    shipped = {name: r for name, r in results.items() if r["flood_limits"]}
    targets = {
        "every person gets every reply, nothing lost": all(
            r["people_answered"] == r["people"] == r["people_with_exactly_the_welcome"] for r in shipped.values()
        ),
        "few or no 429s (at most 1 per 100 messages)": all(r["http_429_per_message"] <= 0.01 for r in shipped.values()),
        "last answer / theoretical minimum at 30 messages/s": {
            name: r["ratio_actual_to_theoretical"] for name, r in shipped.items()
        },
    }
    return {
        "setup": {
            "mode": args.mode,
            "store": args.store,
            "bot": "benchmarks.harness.bots.maslahat_service (build_application, PerChatRateLimiter, Service), "
            "in process",
            "fake": f"{PER_SECOND} messages a second, {PER_CHAT_PER_SECOND} per chat; 429 with retry_after >= 1 s",
            "arrivals": "each /start POSTed to the webhook over <= 40 connections (polling: queued for getUpdates)",
            "theoretical_min": "max(people / 30 per s, arrival span), from the first press",
        },
        "scenarios": results,
        "targets": targets if shipped else {},
    }


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pattern", choices=["even", "burst", "both"], default="both")
    parser.add_argument("--mode", choices=["webhook", "polling"], default="webhook")
    parser.add_argument("--store", choices=["sqlite", "memory"], default="sqlite")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    return run_benchmark("burst", TITLE, parse("burst", __doc__ or "", FULL, SMOKE, argv, _options), run)


if __name__ == "__main__":
    main()
