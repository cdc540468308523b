"""Framework overhead: Maslahat against bare python-telegram-bot and aiogram echo bots, same load, webhook mode.

Run from the repository root (about 8 minutes on 2 cores)::

    .venv/bin/python -m benchmarks.bench_overhead            # --full, the default
    .venv/bin/python -m benchmarks.bench_overhead --smoke    # tiny sizes, ~20 seconds

Each bot runs in its own process (``benchmarks/harness/bots.py`` says what each is); this process is
the driver: the fake Bot API and the load (``benchmarks/harness/load.py``) on one event loop, so
that the load reads the buttons each person sees and latency is measured on one clock.

* **saturation**: ``loops`` people-loops of ``per_loop`` people each, primed first; updates done
  per second in each window; the bots take turns (ABC… CBA…) since the machine's load drifts, and
  a throughput ratio is the median of the ratios of neighbouring rounds.
* **latency**: updates started at a fixed rate (``load`` × the lowest saturation throughput), each
  for an idle person, in alternating slices; from the POST to the first sendMessage or
  editMessageText of that update at the fake, the driver's garbage collector paused.
* **round trips**: every Bot API call answered ``rtt_ms`` late, as over the network to Telegram:
  then whether a bot handles updates side by side, not its CPU, bounds its throughput.
* **the shipped rate limiter**: Maslahat as shipped (30 messages a second, a cap by design).
* **profile**: each bot at saturation once more, sampled by py-spy from outside.

The bot's CPU per update (from /proc over each window) is the steadiest figure of overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness.bots import KINDS
from benchmarks.harness.load import (
    Slice,
    collector_paused,
    driving,
    fixed_rate,
    latency_figures,
    prime,
    saturation,
)
from benchmarks.harness.measure import ratio
from benchmarks.harness.profiling import has, is_bot_frame, py_spy, start_py_spy, summarize, wait_py_spy
from benchmarks.harness.results import parse, run_benchmark

TITLE = "Framework overhead: Maslahat against bare python-telegram-bot and aiogram echo bots (webhook)"
#: Measured side by side: saturation rounds and latency slices in turn.
COMPARED = ("bare", "aiogram", "maslahat", "maslahat_before", "bare_same_stack")
RTT_KINDS = ("bare", "bare_concurrent", "aiogram", "maslahat_before", "maslahat")
#: (numerator, denominator) of the ratios reported.
PAIRS = (
    ("maslahat", "bare"),
    ("aiogram", "bare"),
    ("maslahat", "aiogram"),
    ("maslahat_before", "bare"),
    ("maslahat", "maslahat_before"),
    ("maslahat", "bare_same_stack"),
)
FULL: dict[str, Any] = {
    "loops": 32,  # saturation: people-loops at once
    "per_loop": 3,  # … each over this many people (who come and go)
    "prime": 3.0,  # seconds of unmeasured load first, to spread people over their conversations
    "warmup": 1.5,  # saturation: seconds before measuring, each round
    "seconds": 6.0,  # saturation: seconds measured, each round
    "rounds": 6,
    "load": 0.4,  # the fixed rate, as a share of the lowest saturation throughput of the run
    "rate": 0.0,  # … or this rate (updates/s), if not 0
    "slices": 4,  # fixed rate: stretches per bot, in turn
    "slice_warmup": 1.0,
    "slice_seconds": 6.0,
    "rtt_ms": 50.0,  # the round-trip experiment (0: left out)
    "rtt_loops": 64,
    "rtt_seconds": 5.0,
    "rate_limited": True,
    "profile": True,
    "profile_seconds": 10.0,
    "hard_timeout_s": 1800.0,
}
SMOKE = {**FULL, "loops": 4, "prime": 0.5, "warmup": 0.5, "seconds": 1.0, "rounds": 1, "slices": 1}
SMOKE.update(slice_warmup=0.3, slice_seconds=1.0, rtt_ms=0.0, rate_limited=False, profile=False)


def _in_bot_api_call(frames: list[str]) -> bool:
    """Inside a framework's Bot method (send_message, answer_callback_query…), transport included."""
    return any(has(frames, x) for x in ("(telegram/_bot.py:", "(telegram/ext/_extbot.py:", "(aiogram/client/"))


#: bot/ frames that only wrap library work: their time is the library's.
WRAPPERS = (
    *("retrying", "Service._webhook", "send", "edit", "AiohttpRequest.do_request", "_body"),
    "PerChatUpdateProcessor.do_process_update",
)
AREAS = (
    ("idle: waiting in epoll", lambda fs: fs[-1].startswith("EpollSelector.select ")),
    ("httpcore: a failed `import sniffio` on every request", lambda fs: has(fs, "current_async_library (httpcore")),
    ("Bot API calls: the framework's method, transport (httpx, aiohttp), socket, the answer parsed", _in_bot_api_call),
    ("webhook: aiohttp server, request.json, Update.de_json", lambda fs: has(fs, "aiohttp/web")),
    (
        "bot/ own code (not in a Bot API call)",
        lambda fs: any(is_bot_frame(f) and f.rpartition(" (")[0] not in WRAPPERS for f in fs),
    ),
    ("framework dispatch: update processor or dispatcher, handlers, filters", lambda fs: has(fs, "(telegram/")),
    ("… the same in aiogram (and its pydantic models)", lambda fs: has(fs, "(aiogram/") or has(fs, "(pydantic")),
    ("event loop and other", lambda fs: True),
)


def _say(text: str) -> None:
    print(text, flush=True)


def _turns(number: int) -> Sequence[str]:
    """The order of the bots in round ``number``: ABC…, then …CBA, so drift falls on all alike."""
    return COMPARED if number % 2 == 0 else COMPARED[::-1]


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


def _saturation_figures(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over a bot's saturation rounds, and every round."""
    keys = ("updates_per_s", "bot_cpu_ms_per_update", "driver_cpu_ms_per_update", "bot_api_calls_per_update")
    return {**{k: round(statistics.median(r[k] for r in rounds), 3) for k in keys}, "rounds": rounds}


async def _compared(s: dict[str, Any]) -> dict[str, Any]:
    """Saturation rounds, then fixed-rate slices, every bot in COMPARED in turn."""
    sat: dict[str, list[dict[str, Any]]] = {k: [] for k in COMPARED}
    slices: dict[str, list[Slice]] = {k: [] for k in COMPARED}
    async with contextlib.AsyncExitStack() as stack:
        drivers = {kind: await stack.enter_async_context(driving(kind)) for kind in COMPARED}
        groups = {k: d.groups(s["loops"], s["per_loop"], seed=100) for k, d in drivers.items()}
        for kind, driver in drivers.items():
            await prime(driver, groups[kind], s["prime"])
        for number in range(s["rounds"]):
            for kind in _turns(number):
                figures = await saturation(drivers[kind], groups[kind], warmup=s["warmup"], seconds=s["seconds"])
                sat[kind].append(figures)
                _say(
                    f"saturation {kind:15} round {number + 1}: {figures['updates_per_s']:6.1f} updates/s; "
                    f"bot CPU {figures['bot_cpu_ms_per_update']:.2f} ms/update; cores: bot "
                    f"{figures['bot_cpu_util']:.2f}, driver {figures['driver_cpu_util']:.2f}, "
                    f"other processes {figures['other_processes_cpu_util']:.2f}"
                )
        slowest = min(statistics.median(r["updates_per_s"] for r in sat[k]) for k in COMPARED)
        rate = s["rate"] or max(1.0, round(s["load"] * slowest))
        idle = {k: deque(p for group in groups[k] for p in group) for k in COMPARED}
        for number in range(s["slices"]):
            for kind in _turns(number):
                with collector_paused():
                    slices[kind].append(
                        await fixed_rate(
                            drivers[kind],
                            idle[kind],
                            rate=rate,
                            warmup=s["slice_warmup"],
                            seconds=s["slice_seconds"],
                        )
                    )
    figures_out = {}
    for kind in COMPARED:
        figures_out[kind] = {
            "saturation": _saturation_figures(sat[kind]),
            "fixed_rate": latency_figures(slices[kind], rate),
        }
        if drivers[kind].failures:  # why updates failed (none should)
            figures_out[kind]["failures"] = dict(drivers[kind].failures)
        lat = figures_out[kind]["fixed_rate"]["latency_ms"]
        _say(f"latency    {kind:15} at {rate:.0f}/s: p50 {lat['p50']} ms, p99 {lat['p99']} ms ({lat['n']} updates)")
    return figures_out


async def _rate_limited(s: dict[str, Any]) -> dict[str, Any]:
    """Maslahat as shipped, its rate limiter on: saturation, then latency at ``load`` of that."""
    async with driving("maslahat_rate_limited") as driver:
        few = driver.groups(s["loops"], 1, seed=300)
        await prime(driver, few, s["prime"])
        sat = await saturation(driver, few, warmup=s["warmup"], seconds=s["seconds"])
        rate = max(1.0, round(s["load"] * sat["updates_per_s"]))
        people = deque(p for group in few for p in group)
        lat = await fixed_rate(driver, people, rate=rate, warmup=s["slice_warmup"], seconds=s["slice_seconds"])
    _say(f"Maslahat with the shipped rate limiter: {sat['updates_per_s']} updates/s")
    return {"saturation": _saturation_figures([sat]), "fixed_rate": latency_figures([lat], rate)}


async def _round_trips(s: dict[str, Any]) -> dict[str, Any]:
    """Each of RTT_KINDS at saturation with every Bot API call answered ``rtt_ms`` late."""
    found: dict[str, Any] = {
        "what": f"every Bot API call answered {s['rtt_ms']:.0f} ms late, as over the network to Telegram; "
        f"saturation with {s['rtt_loops']} people-loops of one person each (primed without the delay)"
    }
    for kind in RTT_KINDS:
        async with driving(kind) as driver:
            few = driver.groups(s["rtt_loops"], 1, seed=400)
            await prime(driver, few, s["prime"])
            driver.api.delay = s["rtt_ms"] / 1000
            figures = await saturation(driver, few, warmup=s["warmup"], seconds=s["rtt_seconds"])
        keys = ("updates_per_s", "bot_api_calls_per_update", "bot_cpu_ms_per_update", "bot_cpu_util", "latency_ms")
        found[kind] = {key: figures[key] for key in (*keys, "other_processes_cpu_util", "mix")}
        _say(f"with {s['rtt_ms']:.0f} ms per Bot API call, {kind:19}: {figures['updates_per_s']:6.1f} updates/s")
    return found


async def _profile(kind: str, s: dict[str, Any], work: Path) -> dict[str, Any]:
    """One bot at saturation once more, sampled by py-spy (or by pyinstrument inside the bot)."""
    rate, raw, text = 250, work / f"{kind}.pyspy.txt", None
    if py_spy() is not None:
        async with driving(kind) as driver:
            groups = driver.groups(s["loops"], s["per_loop"], seed=7)
            await prime(driver, groups, s["prime"])
            spy = start_py_spy(driver.bot.pid, s["profile_seconds"], rate, raw)
            await asyncio.sleep(1.0)  # py-spy attaching
            figures = await saturation(driver, groups, warmup=0.0, seconds=s["profile_seconds"] - 2.0)
            try:
                text = await asyncio.to_thread(wait_py_spy, spy, raw)
            except RuntimeError as error:
                print(f"{error}; profiling with pyinstrument instead", file=sys.stderr)
    if text is not None:
        # The samples cover profile_seconds; the updates done meanwhile are estimated from the rate.
        updates = int(figures["updates_per_s"] * s["profile_seconds"])
        summary = summarize(text, AREAS, updates, 1 / rate, wrappers=WRAPPERS, library_call=_in_bot_api_call)
        tool = f"py-spy record --format raw -r {rate} (sampling from outside the bot process)"
        return {"tool": tool, "raw_file": str(raw), "updates_per_s_while_sampled": figures["updates_per_s"], **summary}
    out = work / f"{kind}.pyinstrument.txt"
    async with driving(kind, pyinstrument=out) as driver:
        groups = driver.groups(s["loops"], s["per_loop"], seed=9)
        await prime(driver, groups, s["prime"])
        figures = await saturation(driver, groups, warmup=0.0, seconds=s["profile_seconds"])
    return {"tool": "pyinstrument (inside the bot process)", "text_file": str(out), **figures}  # written at its exit


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """The few figures a reader wants first."""
    summary: dict[str, Any] = {}
    for kind, data in result["figures"].items():
        lat = data["fixed_rate"]["latency_ms"]
        summary[f"{kind}_updates_per_s"] = data["saturation"]["updates_per_s"]
        summary[f"{kind}_bot_cpu_ms_per_update"] = data["saturation"]["bot_cpu_ms_per_update"]
        summary[f"{kind}_latency_ms_p50_p99"] = [lat["p50"], lat["p99"], f"at {data['fixed_rate']['rate_per_s']}/s"]
    for pair, ratios in result["ratios"].items():
        summary[f"{pair}: throughput, bot CPU per update, p99"] = [
            ratios["throughput"],
            ratios["bot_cpu_per_update"],
            ratios["latency_p99"],
        ]
    profiles = result.get("profile", {})
    if all("areas" in profiles.get(kind, {}) for kind in COMPARED):
        # Sampled wall time per update at saturation, one figure per bot in COMPARED order, by where it went.
        areas = dict.fromkeys(area for kind in COMPARED for area in profiles[kind]["areas"])
        summary["profile_ms_per_update_" + "_".join(COMPARED)] = {
            area: [profiles[kind]["areas"].get(area, {}).get("ms_per_update", 0.0) for kind in COMPARED]
            for area in areas
        }
    if "round_trip_experiment" in result:
        trips = result["round_trip_experiment"]
        summary["updates_per_s_with_slow_bot_api"] = {k: v["updates_per_s"] for k, v in trips.items() if k != "what"}
    return summary


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every phase the sizes ask for; the figures, ratios and targets."""
    s = args.sizes
    figures = asyncio.run(_compared(s))
    if s["rate_limited"]:
        figures["maslahat_rate_limited"] = asyncio.run(_rate_limited(s))
    ratios = {f"{a}_over_{b}": _ratios(figures[a], figures[b]) for a, b in PAIRS}
    if "maslahat_rate_limited" in figures:
        ratios["maslahat_over_bare"]["throughput_with_shipped_rate_limiter"] = ratio(
            figures["maslahat_rate_limited"]["saturation"]["updates_per_s"],
            figures["bare"]["saturation"]["updates_per_s"],
        )
    result: dict[str, Any] = {
        "setup": {
            "processes": "driver (fake Bot API + load, one event loop) | each bot under test in its own process",
            **{kind: KINDS[kind] for kind in (*COMPARED, "bare_concurrent", "maslahat_rate_limited")},
            "latency": "POST start -> first sendMessage/editMessageText of that update at the fake API",
            "done": "answerCallbackQuery of a press; the sendMessage of a message (for Maslahat the one with buttons)",
            "load_from_other_processes": "the machine may be shared; see other_processes_cpu_util in each window",
        },
        "figures": figures,
        "ratios": ratios,
        "targets": {
            "throughput_at_least_0.8_of_bare": ratios["maslahat_over_bare"]["throughput"] >= 0.8,
            "p99_at_most_2x_bare": ratios["maslahat_over_bare"]["latency_p99"] <= 2.0,
        },
    }
    if s["rtt_ms"]:
        result["round_trip_experiment"] = asyncio.run(_round_trips(s))
    if s["profile"]:
        work = Path(tempfile.mkdtemp(prefix="bench_overhead_"))  # the raw profiles stay there
        result["profile"] = {kind: asyncio.run(_profile(kind, s, work)) for kind in COMPARED}
    return {"summary": _summary(result), **result}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    return run_benchmark("overhead", TITLE, parse("overhead", __doc__ or "", FULL, SMOKE, argv), run)


if __name__ == "__main__":
    main()
