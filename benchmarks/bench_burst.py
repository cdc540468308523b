"""Bursts within Telegram's limits: 1,000 people press /start spread over 10 seconds, or all at once.

Maslahat as shipped (webhook, SQLite, its rate limiter) in this process, against the fake Bot API enforcing Telegram's
limits (30 messages a second, 1 per chat, else 429). Per scenario: did everyone get exactly the welcome, 429s, the
bot's retries, and first press to last answer against the minimum at 30/s and against the unlimited baseline.

    .venv/bin/python -m benchmarks.bench_burst            # 1,000 people, a 10 s window
    .venv/bin/python -m benchmarks.bench_burst --smoke    # a few people, a few seconds
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import tempfile
import time
from collections.abc import Sequence
from typing import Any

import aiohttp

from benchmarks.harness.bots import maslahat_service, wait_ready
from benchmarks.harness.fakeapi import CountingLimits, FakeUser, TimedApi, free_port
from benchmarks.harness.load import post
from benchmarks.harness.measure import ratio, summary
from benchmarks.harness.results import parse, run_benchmark
from bot.core.languages import language_for
from bot.telegram import screens
from bot.telegram.application import handled_updates

TITLE = "Bursts within Telegram's limits: people pressing /start at once"
PER_SECOND = 30  # and 1 a second per chat: core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
LANGUAGE_CODES = ("ru", "uz", "tg", "ky", "en", "uz-UZ", "de", None)  # Telegram app languages people use
BASELINE = "baseline-unlimited"  # all at once, no rate limiter, no flood limits
LIMITED = ("even", "burst")  # spread evenly over the window, or all at once; Telegram's limits, the rate limiter
FULL: dict[str, Any] = {"people": 1000, "window": 10.0, "hard_timeout_s": 170.0}
SMOKE: dict[str, Any] = {**FULL, "people": 12, "window": 0.3}


def _max_in_window(times: Sequence[float]) -> int:
    """The most messages let through within any one second, by the fake's own rule: the window (t - 1, t]."""
    ordered = sorted(times)
    # The window ending at the i-th message holds it and those before it that are later than t - 1.
    in_window = [i + 1 - bisect.bisect_right(ordered, t - 1.0) for i, t in enumerate(ordered)]
    return max(in_window, default=0)


async def _press_start(api: TimedApi, url: str, people: list[FakeUser], window: float) -> dict[int, float]:
    """Each person's /start POSTed to the webhook at its moment of ``window``: when the webhook took each."""
    taken: dict[int, float] = {}

    async def press(http: aiohttp.ClientSession, person: FakeUser, delay: float) -> None:
        await asyncio.sleep(delay)
        update = api.message_update(person, text="/start", enqueue=False)
        if await post(http, url, update, attempts=5) == 200:
            taken[person.id] = time.monotonic()

    connector = aiohttp.TCPConnector(limit=40)  # as Telegram: a webhook's max_connections is 40 by default
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:
        await asyncio.gather(*(press(http, p, i * window / len(people)) for i, p in enumerate(people)))
    return taken


async def run_scenario(name: str, sizes: dict[str, Any], storage: str, deadline: float) -> dict[str, Any]:
    """Start a fake Telegram and the bot, let the people press /start, and count what they got."""
    n = sizes["people"]
    people = [FakeUser(700_000_001 + i, f"Person {i}", language_code=LANGUAGE_CODES[i % 8]) for i in range(n)]
    window = sizes["window"] if name == "even" else 0.0
    limited = name != BASELINE
    limits = CountingLimits(PER_SECOND, 1) if limited else CountingLimits(10**9, 10**9)
    async with TimedApi(rate_limits=limits) as api:
        port = free_port()
        service = maslahat_service(api.base_url, api.token, port, storage=storage, rate_limit=limited)
        task = asyncio.create_task(service.run(), name=f"bot {name}")
        try:
            if not await wait_ready(f"http://127.0.0.1:{port}/readyz", deadline, lambda: not task.done()):
                raise RuntimeError(f"{name}: the bot did not start ({task.exception() if task.done() else ''})")
            arrived = await _press_start(api, str(service.runtime.settings.webhook_url), people, window)
            app = service.application
            while time.monotonic() < deadline and (len(limits.accepted) < n or handled_updates(app) < len(arrived)):
                await asyncio.sleep(0.01)
            finished = time.monotonic() < deadline
            await asyncio.sleep(0.2)  # anything more the bot might still send (it should not) has a moment to show
        finally:
            service.stopping.set()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=max(5.0, deadline - time.monotonic()))
        sent = {p.id: [m.raw_text for m in api.messages(p.id) if m.outgoing] for p in people}
    runtime = service.runtime
    welcome = {c: screens.welcome_screen(runtime.t(language_for(c)), runtime.version).text for c in LANGUAGE_CODES}
    wrong = [p.id for p in people if sent[p.id] != [welcome[p.language_code]]]
    answered = {p.id: min(limits.accepted[p.id]) for p in people if p.id in limits.accepted}
    first = min(arrived.values(), default=0.0)
    retries = [s for family in runtime.metrics.retries.collect() for s in family.samples if s.name.endswith("_total")]
    return {
        "finished_before_deadline": finished,
        "webhook_failures": n - len(arrived),  # /start the webhook did not take (200) in 5 attempts
        "updates_handled": handled_updates(app),
        "people_with_exactly_the_welcome": n - len(wrong),
        "messages_lost": n - len(answered),
        "duplicate_messages": sum(max(0, len(texts) - 1) for texts in sent.values()),
        "examples_wrong": {str(chat): [text and text[:40] for text in sent[chat]] for chat in wrong[:5]},
        "http_429": sum(limits.refused.values()),
        "http_429_by_window": dict(limits.refused),
        "max_messages_in_any_1s_window": _max_in_window(limits.accepted_times),
        "bot_retries_metric": {s.labels["reason"]: int(s.value) for s in retries},
        "arrival_span_s": round(max(arrived.values(), default=first) - first, 3),
        "last_answer_after_first_press_s": round(max(answered.values(), default=float("nan")) - first, 3),
        "latency_s": summary([at - arrived[chat] for chat, at in answered.items() if chat in arrived], digits=3),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The baseline, then each limited scenario; the targets over the limited ones."""
    n = args.sizes["people"]
    deadline = time.monotonic() + args.sizes["hard_timeout_s"]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        for name in (BASELINE, *LIMITED):
            # Each scenario gets what is left, but at most enough for its own messages several times over.
            own_deadline = min(deadline, time.monotonic() + 30 + 4 * n / PER_SECOND)
            scenario = run_scenario(name, args.sizes, f"sqlite:///{tmp}/{name}.db", own_deadline)
            results[name] = asyncio.run(asyncio.wait_for(scenario, timeout=deadline - time.monotonic()))
            print(f"{name}: {results[name]}", flush=True)
    baseline = results[BASELINE]["last_answer_after_first_press_s"]
    for name in LIMITED:
        r = results[name]
        minimum = max(n / PER_SECOND, r["arrival_span_s"])  # n messages at 30 a second, and none before its press
        r["theoretical_min_s"] = round(minimum, 3)
        r["ratio_actual_to_theoretical"] = ratio(r["last_answer_after_first_press_s"], minimum)
        r["ratio_to_unlimited_baseline"] = ratio(r["last_answer_after_first_press_s"], baseline, 2)
    everyone = all(results[name]["people_with_exactly_the_welcome"] == n for name in LIMITED)
    few_429s = all(results[name]["http_429"] <= n / 100 for name in LIMITED)
    ratios = {name: results[name]["ratio_actual_to_theoretical"] for name in LIMITED}
    return {
        "setup": {
            "bot": "maslahat_service in process: webhook (POSTs over <= 40 connections), SQLite, PerChatRateLimiter",
            "fake": f"{PER_SECOND} messages a second, 1 per chat; 429 with retry_after >= 1 s",
            "retries": "429: the rate limiter's (not counted), then bot.telegram.send's (bot_retries_metric flood)",
            "theoretical_min": "max(people / 30 per s, arrival span), from the first press",
        },
        "scenarios": results,
        "targets": {
            "every person gets every reply, nothing lost": everyone,
            "few or no 429s (at most 1 per 100 messages)": few_429s,
            "last answer / theoretical minimum at 30 messages/s": ratios,
        },
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    return run_benchmark("burst", TITLE, parse("burst", __doc__ or "", FULL, SMOKE, argv), run)


if __name__ == "__main__":
    main()
