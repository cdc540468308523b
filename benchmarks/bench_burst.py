"""Bursts within Telegram's limits: 1,000 people press /start within 10 seconds.

Maslahat as shipped (``maslahat_service(rate_limit=True)``: webhook, SQLite, PerChatRateLimiter) runs in
this process against the fake Bot API enforcing Telegram's limits (30 messages a second, 1 a second per
chat, else 429); distinct people press /start evenly over the window, or all at once. Per pattern: did
everyone get exactly the welcome, 429s, the bot's retries, and first press to last answer against the
minimum at 30 a second and against the baseline of the same run (no rate limiter, no flood limits).

    .venv/bin/python -m benchmarks.bench_burst            # --full: 1,000 people, 10 s, both patterns
    .venv/bin/python -m benchmarks.bench_burst --smoke    # a few people; --set patterns=burst: one pattern
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import logging
import tempfile
import time
from collections import Counter
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
PER_SECOND, PER_CHAT_PER_SECOND = 30, 1  # core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this
LANGUAGE_CODES = ("ru", "uz", "tg", "ky", "en", "uz-UZ", "de", None)  # Telegram app languages people use
FIRST_USER_ID = 700_000_001
FULL: dict[str, Any] = {"people": 1000, "window": 10.0, "patterns": "even,burst", "hard_timeout_s": 170.0}
SMOKE: dict[str, Any] = {**FULL, "people": 12, "window": 0.3}
BASELINE = "baseline-unlimited"  # all at once, no rate limiter, no flood limits


def _max_in_window(times: Sequence[float], width: float = 1.0) -> int:
    """The most messages the fake let through within any ``width``-second window (its own rule: (t-1, t])."""
    ordered = sorted(times)
    return max((i + 1 - bisect.bisect_right(ordered, t - width) for i, t in enumerate(ordered)), default=0)


async def run_scenario(name: str, sizes: dict[str, Any], storage: str, deadline: float) -> dict[str, Any]:
    """Start a fake Telegram and the bot, let the people press /start, and count what they got."""
    limited = name != BASELINE
    limits = CountingLimits(*((PER_SECOND, PER_CHAT_PER_SECOND) if limited else (10**9, 10**9)))
    async with TimedApi(rate_limits=limits) as api:
        port = free_port()
        service = maslahat_service(api.base_url, api.token, port, webhook=True, storage=storage, rate_limit=limited)
        task = asyncio.create_task(service.run(), name=f"bot {name}")
        try:
            if not await wait_ready(f"http://127.0.0.1:{port}/readyz", deadline, lambda: not task.done()):
                raise RuntimeError(f"{name}: the bot did not start ({task.exception() if task.done() else ''})")
            return await _drive(name, sizes, api, limits, service, deadline)
        finally:
            service.stopping.set()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, timeout=max(5.0, deadline - time.monotonic()))


async def _drive(
    name: str, sizes: dict[str, Any], api: TimedApi, limits: CountingLimits, service: Any, deadline: float
) -> dict[str, Any]:
    """The presses, then what each chat shows, and every figure of the scenario."""
    runtime, app, n, limited = service.runtime, service.application, sizes["people"], name != BASELINE
    window = sizes["window"] if name == "even" else 0.0
    people = [FakeUser(FIRST_USER_ID + i, f"Person {i}", language_code=LANGUAGE_CODES[i % 8]) for i in range(n)]
    arrived: dict[int, float] = {}
    statuses: Counter[int | str] = Counter()
    t0 = time.monotonic()
    # Telegram delivers to a webhook over at most max_connections (40 by default) connections.
    connector, timeout = aiohttp.TCPConnector(limit=40), aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def press(i: int) -> None:
            """Person ``i``'s /start, at its moment of the window."""
            await asyncio.sleep(max(0.0, t0 + i * window / n - time.monotonic()))
            update = api.message_update(people[i], text="/start", enqueue=False)
            status = await post(http, runtime.settings.webhook_url, update, attempts=5)
            statuses[status] += 1
            if status == 200:
                arrived[people[i].id] = time.monotonic()

        await asyncio.gather(*(press(i) for i in range(n)))
    while time.monotonic() < deadline and (len(limits.accepted) < n or handled_updates(app) < len(arrived)):
        await asyncio.sleep(0.01)
    finished = time.monotonic() < deadline
    await asyncio.sleep(0.2)  # anything more the bot might still send (it should not) has a moment to show

    def counted(metric: Any, label: str) -> dict[str, int]:
        """One of the bot's counters, by ``label``."""
        return {s.labels[label]: int(s.value) for s in metric.collect()[0].samples if s.name.endswith("_total")}

    welcome = {c: screens.welcome_screen(runtime.t(language_for(c)), runtime.version).text for c in LANGUAGE_CODES}
    sent = {p.id: [m.raw_text for m in api.messages(p.id) if m.outgoing] for p in people}
    wrong = [p.id for p in people if sent[p.id] != [welcome[p.language_code]]]
    per_chat = Counter(len(texts) for texts in sent.values())
    answered = {p.id: min(limits.accepted[p.id]) for p in people if p.id in limits.accepted}
    first = min(arrived.values(), default=t0)
    elapsed = max(answered.values(), default=float("nan")) - first
    arrival_span = max(arrived.values(), default=first) - first
    result: dict[str, Any] = {
        "people": n,
        "window_s": window,
        "flood_limits": {"per_second": PER_SECOND, "per_chat_per_second": PER_CHAT_PER_SECOND} if limited else None,
        "rate_limiter": type(app.bot.rate_limiter).__name__ if app.bot.rate_limiter else None,
        "finished_before_deadline": finished,
        "webhook_statuses": {str(k): v for k, v in sorted(statuses.items(), key=str)},
        "updates_handled": handled_updates(app),
        "people_answered": len(answered),
        "people_with_exactly_the_welcome": n - len(wrong),
        "messages_per_chat": {str(k): v for k, v in sorted(per_chat.items())},
        "messages_lost": n - len(answered),
        "duplicate_messages": sum((k - 1) * v for k, v in per_chat.items() if k > 1),
        "examples_wrong": {str(chat): [t and t[:40] for t in sent[chat]] for chat in wrong[:5]},
        "http_429": sum(limits.refused.values()),
        "http_429_by_window": dict(limits.refused),
        "max_messages_in_any_1s_window": _max_in_window(limits.accepted_times),
        "bot_retries_metric": counted(runtime.metrics.retries, "reason"),
        "bot_errors_metric": counted(runtime.metrics.errors, "kind"),
        "arrival_span_s": round(arrival_span, 3),
        "last_answer_after_first_press_s": round(elapsed, 3),
        "throughput_msgs_per_s": round(len(answered) / elapsed, 2) if elapsed > 0 else None,
        "latency_s": summary([at - arrived[chat] for chat, at in answered.items() if chat in arrived], digits=3),
    }
    if limited:  # n messages at 30 a second need n/30 s, and no answer comes before its press
        minimum = max(n / PER_SECOND, arrival_span)
        result.update(theoretical_min_s=round(minimum, 3), ratio_actual_to_theoretical=ratio(elapsed, minimum))
    return result


async def _run(sizes: dict[str, Any], patterns: list[str]) -> dict[str, Any]:
    """The baseline, then each pattern as shipped: each scenario's figures, by name."""
    deadline = time.monotonic() + sizes["hard_timeout_s"]
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-burst-") as tmp:
        for name in (BASELINE, *patterns):
            # Each scenario gets what is left, but at most enough for its own messages several times over.
            own = min(deadline, time.monotonic() + 30 + 4 * sizes["people"] / PER_SECOND)
            r = results[name] = await run_scenario(name, sizes, f"sqlite:///{tmp}/{name}.db", own)
            print(f"{name}:", {k: v for k, v in r.items() if not isinstance(v, dict | list)}, flush=True)
    for name in patterns:
        r, baseline = results[name], results[BASELINE]["last_answer_after_first_press_s"]
        r["ratio_to_unlimited_baseline"] = ratio(r["last_answer_after_first_press_s"], baseline, 2)
    return results


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every scenario; the targets over those with Telegram's limits and the shipped rate limiter."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    patterns = args.sizes["patterns"].split(",")
    if not set(patterns) <= {"even", "burst"}:
        raise SystemExit(f"--set patterns: even, burst or even,burst; not {args.sizes['patterns']!r}")
    results = asyncio.run(asyncio.wait_for(_run(args.sizes, patterns), timeout=args.sizes["hard_timeout_s"]))
    shipped = [results[name] for name in patterns]
    ratios = {name: results[name]["ratio_actual_to_theoretical"] for name in patterns}
    return {
        "setup": {
            "bot": "maslahat_service in process: webhook (POSTs over <= 40 connections), SQLite, PerChatRateLimiter",
            "fake": f"{PER_SECOND} messages a second, {PER_CHAT_PER_SECOND} per chat; 429 with retry_after >= 1 s",
            "retries": "429: the rate limiter's (not counted), then bot.telegram.send's (bot_retries_metric flood)",
            "theoretical_min": "max(people / 30 per s, arrival span), from the first press",
        },
        "scenarios": results,
        "targets": {
            "every person gets every reply, nothing lost": all(
                r["people_answered"] == r["people"] == r["people_with_exactly_the_welcome"] for r in shipped
            ),
            "few or no 429s (at most 1 per 100 messages)": all(r["http_429"] <= r["people"] / 100 for r in shipped),
            "last answer / theoretical minimum at 30 messages/s": ratios,
        },
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    return run_benchmark("burst", TITLE, parse("burst", __doc__ or "", FULL, SMOKE, argv), run)


if __name__ == "__main__":
    main()
