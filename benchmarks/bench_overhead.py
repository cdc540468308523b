"""Framework overhead: Maslahat against bare python-telegram-bot and aiogram echo bots, same load, webhook mode.

    .venv/bin/python -m benchmarks.bench_overhead            # about 5 minutes on 2 cores
    .venv/bin/python -m benchmarks.bench_overhead --smoke    # tiny sizes, ~15 seconds

Each bot in its own process (``harness/bots.py``); this one drives the fake Bot API and the load
(``harness/load.py``) on one loop and one clock. Saturation rounds (bots in turn, ABC… then …CBA, as
the machine drifts; a ratio is the median over neighbouring rounds), latency at a fixed rate
(``load`` × the lowest saturation throughput), then each bot with every Bot API call answered
``rtt_ms`` late, as over the network to Telegram, and once more under py-spy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import tempfile
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness.bots import KINDS
from benchmarks.harness.load import Slice, driving, fixed_rate, latency_figures, saturation
from benchmarks.harness.measure import ratio
from benchmarks.harness.profiling import function, has, is_bot_frame, start_py_spy, summarize, wait_py_spy
from benchmarks.harness.results import parse, run_benchmark

TITLE = "Framework overhead: Maslahat against bare python-telegram-bot and aiogram echo bots (webhook)"
COMPARED = ("bare", "aiogram", "maslahat")  # side by side, in turn
PAIRS = (("maslahat", "bare"), ("aiogram", "bare"), ("maslahat", "aiogram"))
MEDIANS = ("updates_per_s", "bot_cpu_ms_per_update", "driver_cpu_ms_per_update", "bot_api_calls_per_update")
FULL: dict[str, Any] = {
    "loops": 32,  # saturation: people-loops at once
    "per_loop": 3,  # … each over this many people (who come and go)
    "prime": 3.0,  # seconds of unmeasured load first, to spread people over their conversations
    "warmup": 1.5,  # saturation: seconds before measuring, each round
    "seconds": 6.0,  # saturation: seconds measured, each round
    "rounds": 6,
    "load": 0.4,  # the fixed rate, as a share of the lowest saturation throughput of the run
    "slices": 4,  # fixed rate: stretches per bot, in turn
    "slice_warmup": 1.0,
    "slice_seconds": 6.0,
    "rtt_ms": 50.0,  # the round-trip experiment (0: left out)
    "rtt_loops": 64,
    "rtt_seconds": 5.0,
    "profile_seconds": 10.0,  # 0: no profile
    "hard_timeout_s": 1800.0,
}
SMOKE = {**FULL, "loops": 4, "prime": 0.5, "warmup": 0.5, "seconds": 1.0, "rounds": 1, "slices": 1}
SMOKE.update(slice_warmup=0.3, slice_seconds=1.0, rtt_ms=0.0, profile_seconds=0.0)


def _in_bot_api_call(frames: list[str]) -> bool:
    """Inside a framework's Bot method (send_message, answer_callback_query…), transport included."""
    return any(has(frames, x) for x in ("(telegram/_bot.py:", "(telegram/ext/_extbot.py:", "(aiogram/client/"))


#: bot/ functions that only wrap library work: their time is the library's.
WRAPPERS = ("retrying", "_webhook", "send", "edit", "do_request", "_body", "do_process_update")
AREAS = (
    ("idle: waiting in epoll", lambda fs: fs[-1].startswith(("EpollSelector.select (", "select (selectors"))),
    ("Bot API calls: the framework's method, transport (httpx, aiohttp), socket, the answer parsed", _in_bot_api_call),
    ("webhook: aiohttp server, request.json, Update.de_json", lambda fs: has(fs, "aiohttp/web")),
    (
        "bot/ own code (not in a Bot API call)",
        lambda fs: any(is_bot_frame(f) and function(f) not in WRAPPERS for f in fs),
    ),
    ("framework dispatch: update processor or dispatcher, handlers, filters", lambda fs: has(fs, "(telegram/")),
    ("… the same in aiogram (and its pydantic models)", lambda fs: has(fs, "(aiogram/") or has(fs, "(pydantic")),
    ("event loop and other", lambda fs: True),
)


def _ratios(m: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """``m`` over ``b``: each round's figure over the one measured beside it, then the median over rounds."""
    pairs = list(zip(m["saturation"]["rounds"], b["saturation"]["rounds"], strict=True))
    per_round = [ratio(x["updates_per_s"], y["updates_per_s"]) for x, y in pairs]
    cpu = [ratio(x["bot_cpu_ms_per_update"], y["bot_cpu_ms_per_update"]) for x, y in pairs]
    m_lat, b_lat = m["fixed_rate"]["latency_ms"], b["fixed_rate"]["latency_ms"]
    return {
        "throughput": round(statistics.median(per_round), 3),
        "throughput_per_round": per_round,
        "bot_cpu_per_update": round(statistics.median(cpu), 3),
        "latency_p50": ratio(m_lat["p50"], b_lat["p50"]),
        "latency_p99": ratio(m_lat["p99"], b_lat["p99"]),
    }


async def _compared(s: dict[str, Any]) -> dict[str, Any]:
    """Saturation rounds, then fixed-rate slices, every bot in COMPARED in turn."""
    sat: dict[str, list[dict[str, Any]]] = {k: [] for k in COMPARED}
    slices: dict[str, list[Slice]] = {k: [] for k in COMPARED}
    async with contextlib.AsyncExitStack() as stack:
        drivers = {kind: await stack.enter_async_context(driving(kind)) for kind in COMPARED}
        groups = {k: d.groups(s["loops"], s["per_loop"], seed=100) for k, d in drivers.items()}
        for kind, driver in drivers.items():
            await saturation(driver, groups[kind], warmup=0.0, seconds=s["prime"])  # unmeasured
        for number in range(s["rounds"]):
            for kind in COMPARED[:: 1 if number % 2 == 0 else -1]:
                sat[kind].append(
                    await saturation(drivers[kind], groups[kind], warmup=s["warmup"], seconds=s["seconds"])
                )
                print(f"saturation {kind:15} round {number + 1}: {sat[kind][-1]['updates_per_s']:6.1f}/s", flush=True)
        rate = max(1.0, round(s["load"] * min(statistics.median(r["updates_per_s"] for r in sat[k]) for k in COMPARED)))
        idle = {k: deque(p for group in groups[k] for p in group) for k in COMPARED}
        for number in range(s["slices"]):
            for kind in COMPARED[:: 1 if number % 2 == 0 else -1]:
                window = {"warmup": s["slice_warmup"], "seconds": s["slice_seconds"]}
                slices[kind].append(await fixed_rate(drivers[kind], idle[kind], rate=rate, **window))
    found: dict[str, Any] = {}  # each bot: its medians over the rounds, every round, the fixed rate
    for kind in COMPARED:
        medians = {key: round(statistics.median(r[key] for r in sat[kind]), 3) for key in MEDIANS}
        found[kind] = {
            "saturation": {**medians, "rounds": sat[kind]},
            "fixed_rate": latency_figures(slices[kind], rate),
        }
        if drivers[kind].failures:  # why updates failed (none should)
            found[kind]["failures"] = dict(drivers[kind].failures)
        lat = found[kind]["fixed_rate"]["latency_ms"]
        print(f"latency    {kind:15} at {rate:.0f}/s: p50 {lat['p50']} ms, p99 {lat['p99']} ms", flush=True)
    return found


async def _round_trip(kind: str, s: dict[str, Any]) -> dict[str, Any]:
    """One bot at saturation, ``rtt_loops`` people of one each, every Bot API call answered ``rtt_ms`` late."""
    async with driving(kind) as driver:
        people = driver.groups(s["rtt_loops"], 1, seed=300)
        await saturation(driver, people, warmup=0.0, seconds=s["prime"])  # primed without the delay
        driver.api.delay = s["rtt_ms"] / 1000
        figures = await saturation(driver, people, warmup=s["warmup"], seconds=s["rtt_seconds"])
    print(f"{kind:15} with {s['rtt_ms']:.0f} ms a Bot API call: {figures['updates_per_s']:6.1f} updates/s", flush=True)
    return figures


async def _profile(kind: str, s: dict[str, Any], work: Path) -> dict[str, Any]:
    """One bot at saturation once more, sampled from outside by py-spy."""
    rate, raw = 250, work / f"{kind}.pyspy.txt"
    async with driving(kind) as driver:
        groups = driver.groups(s["loops"], s["per_loop"], seed=7)
        await saturation(driver, groups, warmup=0.0, seconds=s["prime"])
        spy = start_py_spy(driver.bot.pid, s["profile_seconds"], rate, raw)
        await asyncio.sleep(1.0)  # py-spy attaching
        figures = await saturation(driver, groups, warmup=0.0, seconds=s["profile_seconds"] - 2.0)
        text = await asyncio.to_thread(wait_py_spy, spy, raw)
    updates = int(figures["updates_per_s"] * s["profile_seconds"])  # estimated over the sampled span
    summary = summarize(text, AREAS, updates, 1 / rate, wrappers=WRAPPERS, library_call=_in_bot_api_call)
    tool = f"py-spy record --format raw -r {rate} (sampling from outside the bot process)"
    return {"tool": tool, "raw_file": str(raw), "updates_per_s_while_sampled": figures["updates_per_s"], **summary}


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """The few figures a reader wants first."""
    summary: dict[str, Any] = {}
    for kind, data in result["figures"].items():
        sat, lat = data["saturation"], data["fixed_rate"]["latency_ms"]
        figures = [sat["updates_per_s"], sat["bot_cpu_ms_per_update"], lat["p50"], lat["p99"]]
        summary[f"{kind}: updates/s, bot CPU ms per update, latency p50 and p99 ms"] = figures
    for pair, r in result["ratios"].items():
        summary[f"{pair}: throughput, bot CPU per update, p99"] = [
            r[k] for k in ("throughput", "bot_cpu_per_update", "latency_p99")
        ]
    if trips := result.get("round_trip_experiment"):
        summary["updates_per_s_with_slow_bot_api"] = {k: v["updates_per_s"] for k, v in trips.items() if k != "what"}
    return summary


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every phase the sizes ask for; the figures, ratios and targets."""
    s = args.sizes
    figures = asyncio.run(_compared(s))
    ratios = {f"{a}_over_{b}": _ratios(figures[a], figures[b]) for a, b in PAIRS}
    result: dict[str, Any] = {
        "setup": {
            "processes": "driver (fake Bot API + load, one event loop) | each bot under test in its own process",
            **{kind: KINDS[kind] for kind in COMPARED},
            "latency": "POST start -> first sendMessage/editMessageText of that update at the fake API",
            "done": "answerCallbackQuery of a press; the sendMessage of a message (for Maslahat the one with buttons)",
        },
        "figures": figures,
        "ratios": ratios,
        "targets": {
            "throughput_at_least_0.8_of_bare": ratios["maslahat_over_bare"]["throughput"] >= 0.8,
            "p99_at_most_2x_bare": ratios["maslahat_over_bare"]["latency_p99"] <= 2.0,
        },
    }
    if s["rtt_ms"]:
        trips = {kind: asyncio.run(_round_trip(kind, s)) for kind in COMPARED}
        result["round_trip_experiment"] = {"what": f"every Bot API call answered {s['rtt_ms']:.0f} ms late", **trips}
    if s["profile_seconds"]:
        work = Path(tempfile.mkdtemp(prefix="bench_overhead_"))  # the raw profiles stay there
        result["profile"] = {kind: asyncio.run(_profile(kind, s, work)) for kind in COMPARED}
    return {"summary": _summary(result), **result}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    return run_benchmark("overhead", TITLE, parse("overhead", __doc__ or "", FULL, SMOKE, argv), run)


if __name__ == "__main__":
    main()
