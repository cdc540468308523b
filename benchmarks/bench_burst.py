"""Bursts within Telegram's limits: 1,000 people press /start within 10 seconds.

Telegram lets a bot send about 30 messages a second overall and about 1 a second per chat; beyond
that it answers 429 with ``retry_after``. This runs the real bot — ``build_application`` with its
AIORateLimiter, a Runtime over the shipped rule table and catalogs, an SQLite store in a temporary
directory, behind ``bot.service.app.Service`` in **webhook mode** (``--mode polling`` for the other) —
against ``tests/support/fakebotapi.FakeBotApi`` with ``RateLimits(per_second=30, per_chat_per_second=1)``,
on 127.0.0.1 only. Distinct people press /start, spread evenly over the window or all at once
(a burst); each update is POSTed to the bot's webhook as Telegram would deliver it.

It reports, per pattern: whether every person got exactly the welcome message (count per chat),
how many sendMessage calls the fake refused with 429 (and which window refused them), how many
retries the bot's two retry layers made, whether anything was lost, and the time from the first
press until the last person was answered against the theoretical minimum at 30 messages a second.
A baseline in the same run (no rate limiter, fake without limits) shows how fast the bot answers
when only its own work counts; ``--before`` (default: the burst) runs the same people once more
with the rate limiter as it was configured before this benchmark (``AIORateLimiter(max_retries=3)``:
a burst of 30, then 30 a second), for a before/after in one run.

    .venv/bin/python -m benchmarks.bench_burst            # --full: 1,000 people, 10 s, both patterns
    .venv/bin/python -m benchmarks.bench_burst --smoke    # a few people, a few seconds

The whole run is bounded: every scenario has a deadline, the run as a whole ``--hard-timeout``
seconds (170 by default), after which the process exits even if something hangs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import faulthandler
import itertools
import logging
import math
import re
import shlex
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from benchmarks.common import machine, write_results  # noqa: E402
from bot.core.languages import language_for  # noqa: E402
from bot.service.app import Service  # noqa: E402
from bot.service.content import Content, load_content  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.storage.base import MemoryStore  # noqa: E402
from bot.storage.sqlite import SQLiteStore  # noqa: E402
from bot.telegram import application as telegram_bot  # noqa: E402
from bot.telegram import screens  # noqa: E402
from bot.telegram.application import Runtime, build_application, handled_updates  # noqa: E402
from support.fakebotapi import JSON, FakeBotApi, FakeUser, RateLimits, free_port  # noqa: E402

RULES = ROOT / "rules" / "decree-821.yaml"
LOCALES = ROOT / "locales"
RESULTS = ROOT / "benchmarks" / "results" / "burst.json"
#: Telegram's flood limits for a bot (core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
PER_SECOND = 30
PER_CHAT_PER_SECOND = 1
#: Telegram app languages the people use (each maps to one of the bot's languages).
LANGUAGE_CODES = ("ru", "uz", "tg", "ky", "en", "uz-UZ", "de", None)
FIRST_USER_ID = 700_000_001
WEBHOOK_SECRET = "bench-burst-secret"  # noqa: S105 - a throwaway secret for a loopback webhook

log = logging.getLogger("bench_burst")


# Counting what the fake Telegram does ----------------------------------------------------------


@dataclass
class CountingLimits(RateLimits):
    """Telegram's flood limits, remembering every message let through and every 429."""

    accepted: dict[Any, list[float]] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)
    accepted_times: list[float] = field(default_factory=list)

    def check(self, chat_id: Any, now: float) -> int | None:
        wait = super().check(chat_id, now)
        if wait is None:
            self.accepted.setdefault(chat_id, []).append(now)
            self.accepted_times.append(now)
        else:
            # Which window was full: this chat's (1 a second) or the bot's (30 a second).
            chat_full = len(self._per_chat.get(chat_id, ())) >= self.per_chat_per_second
            self.refused["per_chat" if chat_full else "overall"] += 1
        return wait


class LogTally(logging.Filter):
    """Counts the retry messages of python-telegram-bot's rate limiter and of the bot, and errors.

    Retry messages are counted instead of printed (a run can have hundreds); errors still print.
    """

    LOGGERS = (
        "telegram.ext.AIORateLimiter",
        "bot.telegram.send",
        "bot.telegram.application",
        "telegram.ext.Application",
    )

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith("Rate limit hit. Retrying"):
            self.counts["ptb_limiter_retries"] += 1
            return False
        if message.startswith("Rate limit hit after maximum"):
            self.counts["ptb_limiter_gave_up"] += 1
            return False
        if message.startswith("Telegram asked to slow down"):
            self.counts["bot_retrying_flood"] += 1
            return False
        if record.levelno >= logging.ERROR:
            self.counts["errors_logged"] += 1
        return record.levelno >= logging.WARNING


@contextlib.contextmanager
def tallying() -> Iterator[LogTally]:
    tally = LogTally()
    loggers = [logging.getLogger(name) for name in LogTally.LOGGERS]
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


# One scenario ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    pattern: str  # "even" or "burst"
    people: int
    window: float  # seconds over which the presses arrive ("even")
    limited: bool  # the fake applies Telegram's flood limits
    limiter: str = "app"  # "app": as build_application configures it; "ptb-default": AIORateLimiter(max_retries=3)


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def _max_in_window(times: Sequence[float], width: float = 1.0) -> int:
    """The most messages the fake let through within any ``width``-second window (its own rule: (t-1, t])."""
    ordered = sorted(times)
    best = start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - width:
            start += 1
        best = max(best, end - start + 1)
    return best


def _build(runtime: Runtime, limiter: str) -> Any:
    """The bot's Application with the rate limiter ``limiter`` names.

    "app": whatever ``build_application`` configures; "none": no rate limiter (the baseline);
    "ptb-default": ``AIORateLimiter(max_retries=3)``, python-telegram-bot's leaky bucket of 30 with
    30 a second; "smooth:R": ``AIORateLimiter(overall_max_rate=1, overall_time_period=1 / R, max_retries=3)``,
    one message every 1/R s and no burst.
    """
    if limiter == "app":
        return build_application(runtime)
    if limiter == "none":
        return build_application(runtime, rate_limit=False)
    original = telegram_bot.AIORateLimiter
    if limiter == "ptb-default":
        configured = original(max_retries=3)
    elif limiter.startswith("smooth:"):
        configured = original(overall_max_rate=1, overall_time_period=1 / float(limiter[7:]), max_retries=3)
    else:
        raise ValueError(f"unknown limiter {limiter!r}")

    def factory(*args: Any, **kwargs: Any) -> Any:
        return configured

    with mock.patch.object(telegram_bot, "AIORateLimiter", factory):
        return build_application(runtime)


def _limiter_config(application: Any) -> dict[str, Any] | None:
    """The bot's overall leaky bucket as configured (None without a rate limiter)."""
    limiter = application.bot.rate_limiter
    if limiter is None:
        return None
    bucket = getattr(limiter, "_base_limiter", None)
    return {
        "class": type(limiter).__name__,
        "overall_max_rate": getattr(bucket, "max_rate", None),
        "overall_time_period_s": getattr(bucket, "time_period", None),
        "max_retries": getattr(limiter, "_max_retries", None),
    }


async def _wait_until(condition: Any, deadline: float, step: float = 0.01) -> bool:
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


async def run_scenario(
    scenario: Scenario, content: Content, *, mode: str, store_kind: str, workdir: Path, deadline: float
) -> dict[str, Any]:
    """Starts a fake Telegram and the bot, lets the people press /start, and counts what they got."""
    per_second = PER_SECOND if scenario.limited else 10**9
    per_chat = PER_CHAT_PER_SECOND if scenario.limited else 10**9
    limits = CountingLimits(per_second=per_second, per_chat_per_second=per_chat)
    async with FakeBotApi(rate_limits=limits) as api:
        port = free_port()
        webhook = f"http://127.0.0.1:{port}/telegram-webhook" if mode == "webhook" else None
        store: Any
        if store_kind == "sqlite":
            store = SQLiteStore(workdir / f"{scenario.name}.db", ttl=7 * 86400)
        else:
            store = MemoryStore(ttl=7 * 86400)
        settings = Settings(
            token=api.token,
            api_base_url=api.base_url,
            webhook_url=webhook,
            webhook_secret=WEBHOOK_SECRET if webhook else None,
            listen="127.0.0.1",
            port=port,
            session_secret=b"benchmark secret: 32 bytes long.",
            storage_url=f"sqlite:///{workdir / scenario.name}.db" if store_kind == "sqlite" else "memory://",
        )
        runtime = Runtime(content.engine, content.catalogs, store, settings)
        application = _build(runtime, scenario.limiter)
        configured = _limiter_config(application)
        service = Service(application, runtime, RULES, LOCALES)
        task = asyncio.create_task(service.run(), name=f"bot {scenario.name}")
        try:
            result = await _drive(scenario, api, limits, runtime, service, task, mode, deadline)
            result["limiter_config"] = configured
            return result
        finally:
            service.stopping.set()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=max(5.0, deadline - time.monotonic()))


async def _drive(
    scenario: Scenario,
    api: FakeBotApi,
    limits: CountingLimits,
    runtime: Runtime,
    service: Service,
    task: asyncio.Task[None],
    mode: str,
    deadline: float,
) -> dict[str, Any]:
    settings = runtime.settings
    # /readyz, not /healthz: the service answers /healthz while it still connects to Telegram.
    health = f"http://127.0.0.1:{settings.port}/readyz"

    async def ready() -> bool:
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline and not task.done():
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(health) as response:
                        if response.status == 200 and (mode == "polling" or api.webhook_url):
                            return True
                await asyncio.sleep(0.02)
        return False

    if not await ready():
        raise RuntimeError(f"{scenario.name}: the bot did not start ({task.exception() if task.done() else 'timeout'})")

    people = [
        FakeUser(FIRST_USER_ID + i, f"Person {i}", language_code=LANGUAGE_CODES[i % len(LANGUAGE_CODES)])
        for i in range(scenario.people)
    ]
    updates = [api.message_update(person, text="/start", enqueue=False) for person in people]
    arrived: dict[int, float] = {}
    statuses: Counter[int | str] = Counter()
    # Telegram delivers to a webhook over at most max_connections (40 by default) connections.
    connector = aiohttp.TCPConnector(limit=40)
    t0 = time.monotonic()

    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:

        async def press(i: int, update: JSON) -> None:
            delay = t0 + (i * scenario.window / scenario.people if scenario.pattern == "even" else 0.0)
            await asyncio.sleep(max(0.0, delay - time.monotonic()))
            if mode == "polling":
                api.queue_update(update)
                arrived[people[i].id] = time.monotonic()
                statuses[200] += 1
                return
            headers = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
            url = api.webhook_url
            for _ in range(5):  # Telegram delivers again after a failure
                try:
                    async with http.post(url, json=update, headers=headers) as response:
                        await response.read()
                        statuses[response.status] += 1
                        if response.status == 200:
                            api.updates_sent += 1
                            arrived[people[i].id] = time.monotonic()
                            return
                except (aiohttp.ClientError, TimeoutError) as exc:
                    statuses[type(exc).__name__] += 1
                await asyncio.sleep(0.1)

        await asyncio.gather(*(press(i, update) for i, update in enumerate(updates)))
    last_arrival = time.monotonic()

    def everyone_answered() -> bool:
        return handled_updates(service.application) >= len(arrived) and all(p.id in limits.accepted for p in people)

    finished = await _wait_until(everyone_answered, deadline)
    # Anything more the bot might still send (it should not) has a moment to show.
    await asyncio.sleep(0.2)

    # What each person's chat shows.
    welcome_ok = 0
    per_chat: Counter[int] = Counter()
    wrong: list[str] = []
    for person in people:
        outgoing = [m for m in api.messages(person.id) if m.outgoing]
        per_chat[len(outgoing)] += 1
        expected = screens.welcome_screen(runtime.t(language_for(person.language_code)), runtime.version).text
        if len(outgoing) == 1 and outgoing[0].raw_text == expected:
            welcome_ok += 1
        elif len(wrong) < 5:
            wrong.append(f"chat {person.id}: {[m.raw_text and m.raw_text[:40] for m in outgoing]}")

    ordered = sorted(limits.accepted_times)
    gaps = [b - a for a, b in itertools.pairwise(ordered)]
    answered_at = [min(limits.accepted[p.id]) for p in people if p.id in limits.accepted]
    latencies = [
        min(limits.accepted[p.id]) - arrived[p.id] for p in people if p.id in limits.accepted and p.id in arrived
    ]
    first = min(arrived.values()) if arrived else t0
    last_answer = max(answered_at) if answered_at else float("nan")
    elapsed = last_answer - first
    arrival_span = (max(arrived.values()) - first) if arrived else 0.0
    send_calls = len(api.calls_to("sendMessage"))
    n = scenario.people
    # At most 30 messages a second leave the bot: n of them need n/30 s (Telegram's window of the
    # fake lets the first 30 out at once, so strictly (ceil(n/30) - 1) s); no answer can come
    # before its press either.
    minimum = max(n / PER_SECOND, arrival_span) if scenario.limited else None
    minimum_plus_arrival = n / PER_SECOND + arrival_span if scenario.limited else None
    strict = max(math.ceil(n / PER_SECOND) - 1, arrival_span)
    metrics = runtime.metrics
    errors = {s.labels["kind"]: int(s.value) for s in metrics.errors.collect()[0].samples if s.name.endswith("_total")}
    retries = {
        s.labels["reason"]: int(s.value) for s in metrics.retries.collect()[0].samples if s.name.endswith("_total")
    }
    result: dict[str, Any] = {
        "pattern": scenario.pattern,
        "people": n,
        "window_s": scenario.window if scenario.pattern == "even" else 0.0,
        "flood_limits": {"per_second": PER_SECOND, "per_chat_per_second": PER_CHAT_PER_SECOND}
        if scenario.limited
        else None,
        "limiter": scenario.limiter,
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
        "send_message_calls": send_calls,
        "accepted_messages": len(limits.accepted_times),
        "http_429": sum(limits.refused.values()),
        "http_429_by_window": dict(limits.refused),
        "http_429_per_message": sum(limits.refused.values()) / n,
        "max_messages_in_any_1s_window": _max_in_window(limits.accepted_times),
        "gap_between_messages_ms": {
            "p10": round(1000 * _percentile(gaps, 0.1), 1),
            "p50": round(1000 * _percentile(gaps, 0.5), 1),
            "p90": round(1000 * _percentile(gaps, 0.9), 1),
            "max": round(1000 * max(gaps), 1) if gaps else None,
        },
        "bot_retries_metric": retries,
        "bot_errors_metric": errors,
        "arrival_span_s": round(arrival_span, 3),
        "delivery_s": round(last_arrival - t0, 3),
        "last_answer_after_first_press_s": round(elapsed, 3),
        "throughput_msgs_per_s": round(len(answered_at) / elapsed, 2) if elapsed > 0 else None,
        "latency_s": {
            "p50": round(_percentile(latencies, 0.5), 3),
            "p90": round(_percentile(latencies, 0.9), 3),
            "p99": round(_percentile(latencies, 0.99), 3),
            "max": round(max(latencies), 3) if latencies else None,
            "mean": round(statistics.fmean(latencies), 3) if latencies else None,
        },
    }
    if minimum is not None and minimum_plus_arrival is not None:
        result["theoretical_min_s"] = round(minimum, 3)
        result["ratio_actual_to_theoretical"] = round(elapsed / minimum, 3)
        result["theoretical_min_plus_arrival_s"] = round(minimum_plus_arrival, 3)
        result["ratio_actual_to_min_plus_arrival"] = round(elapsed / minimum_plus_arrival, 3)
        if strict > 0:
            result["strict_window_min_s"] = round(strict, 3)
            result["ratio_actual_to_strict_window_min"] = round(elapsed / strict, 3)
    return result


# The run -------------------------------------------------------------------------------------


def _scenarios(args: argparse.Namespace) -> list[Scenario]:
    patterns = ["even", "burst"] if args.pattern == "both" else [args.pattern]
    # The baseline: the same bot without a rate limiter against a fake without flood limits.
    chosen = [Scenario("baseline-unlimited", "burst", args.people, args.window, limited=False, limiter="none")]
    for limiter in args.limiter:
        for pattern in patterns:
            suffix = "" if limiter == "app" else f"-{limiter}"
            chosen.append(Scenario(f"{pattern}{suffix}", pattern, args.people, args.window, True, limiter))
    before = [] if args.before == "none" else ["even", "burst"] if args.before == "both" else [args.before]
    for pattern in before:
        if "ptb-default" not in args.limiter:
            chosen.append(Scenario(f"{pattern}-ptb-default", pattern, args.people, args.window, True, "ptb-default"))
    return chosen


async def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    deadline = started + args.hard_timeout
    content = load_content(RULES, LOCALES)
    if isinstance(content, list):
        raise RuntimeError("the shipped content has problems: " + "; ".join(content[:5]))
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp, tallying() as tally:
        for scenario in _scenarios(args):
            # Each scenario gets what is left, but at most enough for its own messages several times over.
            own = 30 + 4 * scenario.people / PER_SECOND
            scenario_deadline = min(deadline, time.monotonic() + own)
            tally.counts.clear()
            print(f"… {scenario.name}: {scenario.people} people, {scenario.pattern}", flush=True)
            result = await run_scenario(
                scenario, content, mode=args.mode, store_kind=args.store, workdir=Path(tmp), deadline=scenario_deadline
            )
            result["log_counts"] = dict(tally.counts)
            results[scenario.name] = result
            _print(scenario.name, result)
    baseline = results["baseline-unlimited"]
    for name, result in results.items():
        pattern_after = results.get(result["pattern"])
        if result["limiter"] == "ptb-default" and pattern_after is not None:
            pattern_after["before_change"] = {
                "scenario": name,
                "last_answer_after_first_press_s": result["last_answer_after_first_press_s"],
                "http_429": result["http_429"],
                "speedup": round(
                    result["last_answer_after_first_press_s"] / pattern_after["last_answer_after_first_press_s"], 3
                ),
            }
        if name != "baseline-unlimited" and baseline["last_answer_after_first_press_s"] > 0:
            result["ratio_to_unlimited_baseline"] = round(
                result["last_answer_after_first_press_s"] / baseline["last_answer_after_first_press_s"], 2
            )
    return {
        "benchmark": "burst",
        "title": "Bursts within Telegram's limits: people pressing /start at once",
        "machine": machine(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": args.command,
        "setup": {
            "mode": args.mode,
            "store": args.store,
            "bot": "bot.telegram.application.build_application (AIORateLimiter) behind bot.service.app.Service",
            "fake": f"tests/support/fakebotapi.FakeBotApi, RateLimits(per_second={PER_SECOND}, "
            f"per_chat_per_second={PER_CHAT_PER_SECOND}), 429 retry_after >= 1 s",
            "arrivals": "each /start POSTed to the webhook over at most 40 connections"
            if args.mode == "webhook"
            else "each /start queued for getUpdates",
            "theoretical_min": "max(people / 30 per s, arrival span), from the first press",
        },
        "run_seconds": round(time.monotonic() - started, 1),
        "scenarios": results,
        "targets": _targets(results),
    }


def _targets(results: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The issue's promises, over the scenarios with Telegram's limits and the shipped rate limiter."""
    shipped = {name: r for name, r in results.items() if r.get("limiter") == "app" and r.get("flood_limits")}
    if not shipped:
        return {}
    return {
        "every person gets every reply, nothing lost": all(
            r["people_answered"] == r["people"] == r["people_with_exactly_the_welcome"] and r["messages_lost"] == 0
            for r in shipped.values()
        ),
        "few or no 429s (at most 1 per 100 messages)": all(r["http_429_per_message"] <= 0.01 for r in shipped.values()),
        "last answer / theoretical minimum at 30 messages/s": {
            name: r.get("ratio_actual_to_theoretical") for name, r in shipped.items()
        },
    }


def _print(name: str, r: dict[str, Any]) -> None:
    line = (
        f"{name:>20}: {r['people_answered']}/{r['people']} answered, welcome exactly once: "
        f"{r['people_with_exactly_the_welcome']}, lost {r['messages_lost']}, duplicates {r['duplicate_messages']}, "
        f"429s {r['http_429']} {r['http_429_by_window']}, sendMessage calls {r['send_message_calls']}, "
        f"last answer {r['last_answer_after_first_press_s']} s ({r['throughput_msgs_per_s']}/s), "
        f"max in 1 s {r['max_messages_in_any_1s_window']}, gaps ms {r['gap_between_messages_ms']}, "
        f"p50/p99 latency {r['latency_s']['p50']}/"
        f"{r['latency_s']['p99']} s"
    )
    if "theoretical_min_s" in r:
        line += f", minimum {r['theoretical_min_s']} s, ratio {r['ratio_actual_to_theoretical']}"
    print(line, flush=True)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="1,000 people within 10 s (the default)")
    size.add_argument("--smoke", action="store_true", help="a few people, a few seconds (for the test suite)")
    parser.add_argument("--people", type=int, help="distinct people pressing /start")
    parser.add_argument("--window", type=float, help="seconds over which the presses arrive")
    parser.add_argument("--pattern", choices=["even", "burst", "both"], default="both")
    parser.add_argument("--mode", choices=["webhook", "polling"], default="webhook")
    parser.add_argument("--store", choices=["sqlite", "memory"], default="sqlite")
    parser.add_argument(
        "--limiter",
        action="append",
        help="app (default): the rate limiter build_application configures; ptb-default: AIORateLimiter("
        "max_retries=3); smooth:R: one message every 1/R s, no burst; none. Repeat to compare.",
    )
    parser.add_argument(
        "--before",
        choices=["none", "even", "burst", "both"],
        default="burst",
        help="also run these patterns with the limiter as configured before this benchmark "
        "(ptb-default), for before/after in the same run",
    )
    parser.add_argument("--hard-timeout", type=float, default=170.0, help="the whole run stops after this (s)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    args.limiter = args.limiter or ["app"]
    for limiter in args.limiter:
        if limiter not in {"app", "ptb-default", "none"} and not re.fullmatch(r"smooth:\d+(\.\d+)?", limiter):
            parser.error(f"--limiter {limiter!r}: expected app, ptb-default, none or smooth:RATE")
    if args.smoke:
        args.people = args.people or 12
        args.window = args.window if args.window is not None else 0.3
    else:
        args.people = args.people or 1000
        args.window = args.window if args.window is not None else 10.0
    args.command = "python -m benchmarks.bench_burst " + shlex.join(argv if argv is not None else sys.argv[1:])
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # The hard stop: even if something hangs where asyncio cannot cancel it, the process ends.
    watchdog = not args.smoke
    if watchdog:
        faulthandler.dump_traceback_later(args.hard_timeout + 10, exit=True)
    try:
        report = asyncio.run(asyncio.wait_for(run(args), timeout=args.hard_timeout))
    finally:
        if watchdog:
            faulthandler.cancel_dump_traceback_later()
    report = write_results(report, args.out)
    return report


if __name__ == "__main__":
    main()
