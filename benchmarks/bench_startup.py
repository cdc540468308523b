"""Start-up: from process start to ready, for the real `maslahat run` process.

"Ready" is ``/readyz`` answering 200: the rule table loaded and checked (every conversation
explored), every catalog loaded and checked, the store opened and reachable, the bot initialised
against the Bot API and polling. The process is the installed ``maslahat`` console script (or
``python -m bot.cli`` when there is none), started with ``BOT_TOKEN`` and ``--api-base-url``
pointing at ``tests/support/fakebotapi.FakeBotApi`` on 127.0.0.1, ``STORAGE_URL`` an SQLite file in a
temporary directory and a free ``--port``; ``/readyz`` is polled every 5 ms. Each run is stopped
with SIGTERM and must exit 0.

With ``--compare DIR`` (a copy of ``bot/``, ``rules/`` and ``locales/`` from before a change), it also
starts ``python -m bot.cli run`` from DIR and from this tree alternately, and times the phases of both,
so a before/after is measured under the same conditions.

Baselines, measured in the same run: ``python -c pass``, ``python -c "import telegram"``,
``python -c "import bot.telegram.application"`` and ``python -c "import bot.cli"`` (everything `maslahat run`
imports). To show where the time goes it also records, each in a fresh process: the phases of
start-up up to the first Bot API call (imports, ``bot.service.content.load_content`` split into its parts,
opening the store, building the application), ``python -X importtime`` of ``bot.cli`` (the heaviest
packages) and a cProfile of ``load_content``.

    .venv/bin/python -m benchmarks.bench_startup            # --full: 10 starts, 10 of each baseline
    .venv/bin/python -m benchmarks.bench_startup --smoke    # 1 start, 1 of each baseline
    .venv/bin/python -m benchmarks.bench_startup --compare DIR   # also before/after, DIR the old tree
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from benchmarks.common import machine, write_results  # noqa: E402
from support.fakebotapi import FakeBotApi, free_port  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "startup.json"
TARGET_S = 1.0

# Run in a fresh interpreter: the phases of `maslahat run` up to its first Bot API call, each timed.
PHASES = r"""
import json, sys, time
t0 = time.perf_counter()
import bot.cli  # everything `maslahat run` imports
t1 = time.perf_counter()
from pathlib import Path
import bot.service.content as content
parts = {}
def timed(name, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            parts[name] = parts.get(name, 0.0) + time.perf_counter() - start
    return wrapper
content.check_file = timed("check_file (load_table + check_table)", content.check_file)
content.Catalogs.load = timed("Catalogs.load", content.Catalogs.load)
content.expected_messages = timed("expected_messages", content.expected_messages)
content.check_catalogs = timed("check_catalogs", content.check_catalogs)
content.Engine = timed("Engine()", content.Engine)
rules, locales = bot.cli.default_rules_path(), bot.cli.default_locales_path()
t2 = time.perf_counter()
loaded = content.load_content(rules, locales)
t3 = time.perf_counter()
assert not isinstance(loaded, list), loaded
t = time.perf_counter()
loaded.engine.step(loaded.engine.new_session())
first_step = time.perf_counter() - t
import asyncio, os, tempfile
from bot.settings import settings_from
from bot.storage import open_store
from bot.telegram.application import Runtime, build_application
tmp = tempfile.mkdtemp(prefix="bench-startup-phases-")
env = {"BOT_TOKEN": "123456789:AAHfakeTokenForMaslahatTests_0123456", "STORAGE_URL": f"sqlite:///{tmp}/m.db",
       "SESSION_SECRET_FILE": f"{tmp}/session.key"}
settings = settings_from(env, secret_file_default=Path(tmp) / "session.key", api_base_url="http://127.0.0.1:9")
t4 = time.perf_counter()
store = open_store(settings.storage_url, settings.retention_days * 86400)
asyncio.run(store.ping())
t5 = time.perf_counter()
app = build_application(Runtime(loaded.engine, loaded.catalogs, store, settings))
t6 = time.perf_counter()
print(json.dumps({
    "import bot.cli": t1 - t0,
    "load_content": t3 - t2,
    "load_content parts": parts,
    "open store + ping": t5 - t4,
    "build_application": t6 - t5,
    "first Engine.step after load_content": first_step,
}))
import shutil
shutil.rmtree(tmp, ignore_errors=True)
"""

PROFILE = r"""
import cProfile, io, json, pstats
import bot.cli
from bot.service.content import load_content
rules, locales = bot.cli.default_rules_path(), bot.cli.default_locales_path()
profile = cProfile.Profile()
profile.enable()
load_content(rules, locales)
profile.disable()
stats = pstats.Stats(profile)
rows = []
for (path, line, name), (cc, nc, tt, ct, callers) in stats.stats.items():
    rows.append({"function": f"{path.split('site-packages/')[-1].replace('__ROOT__/', '')}:{line}({name})",
                 "calls": nc, "tottime_s": round(tt, 4), "cumtime_s": round(ct, 4)})
rows.sort(key=lambda r: -r["cumtime_s"])
print(json.dumps({"total_s": round(stats.total_tt, 4), "top_cumulative": rows[:__TOP__]}))
"""


def _python() -> str:
    return sys.executable


def _maslahat_command() -> list[str]:
    script = Path(sys.executable).with_name("maslahat")
    if script.exists():
        return [str(script)]
    found = shutil.which("maslahat")
    return [found] if found else [_python(), "-m", "bot.cli"]


def _clean_env() -> dict[str, str]:
    prefixes = ("MASLAHAT_", "WEBHOOK_", "BOT_", "STORAGE_", "SESSION_", "REDIS_", "LOG_", "PORT", "LISTEN")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "min": round(min(values), 4),
        "median": round(statistics.median(values), 4),
        "max": round(max(values), 4),
        "runs": len(values),
    }


def time_command(argv: list[str], repeats: int) -> dict[str, Any]:
    """Wall-clock time of a short command, ``repeats`` times."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, env=_clean_env(), check=True, capture_output=True, timeout=60)  # noqa: S603
        times.append(time.perf_counter() - start)
    return _stats(times)


def _json_from(argv: list[str], cwd: Path = ROOT) -> Any:
    done = subprocess.run(argv, cwd=cwd, env=_clean_env(), check=True, capture_output=True, text=True, timeout=120)  # noqa: S603
    return json.loads(done.stdout.strip().splitlines()[-1])


def phases(repeats: int, cwd: Path = ROOT) -> dict[str, Any]:
    """The phases before the first Bot API call, each in a fresh process; the median of each.

    ``cwd``: the directory whose ``bot`` package (and rules/, locales/) to time; ``python -c`` puts it
    first on the import path.
    """
    runs = [_json_from([_python(), "-c", PHASES], cwd) for _ in range(repeats)]
    keys = [k for k in runs[0] if k != "load_content parts"]
    result: dict[str, Any] = {k: round(statistics.median(r[k] for r in runs), 4) for k in keys}
    parts = runs[0]["load_content parts"]
    result["load_content parts"] = {
        k: round(statistics.median(r["load_content parts"][k] for r in runs), 4) for k in parts
    }
    result["runs"] = repeats
    return result


def importtime(top: int = 15) -> dict[str, Any]:
    """``python -X importtime -c "import bot.cli"``: the heaviest top-level packages by cumulative time."""
    done = subprocess.run(  # noqa: S603
        [_python(), "-X", "importtime", "-c", "import bot.cli"],
        cwd=ROOT,
        env=_clean_env(),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    packages: dict[str, int] = {}
    bot_self = 0
    total = 0
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        self_us, cumulative_us, name = (part.strip() for part in parts)
        total += int(self_us)
        module = name.strip()
        if module.startswith("bot.") or module == "bot":
            bot_self += int(self_us)
        if "." not in module and module not in packages:
            packages[module] = int(cumulative_us)
    heaviest = sorted(packages.items(), key=lambda kv: -kv[1])[:top]
    return {
        "total_self_s": round(total / 1e6, 4),
        "bot_modules_self_s": round(bot_self / 1e6, 4),
        "heaviest_top_level_cumulative_s": {name: round(us / 1e6, 4) for name, us in heaviest},
        "note": "cumulative includes whatever a package imported first; importtime adds its own overhead",
    }


def profile(top: int = 15) -> dict[str, Any]:
    """cProfile of ``bot.service.content.load_content`` in a fresh process (after imports)."""
    code = PROFILE.replace("__TOP__", str(top)).replace("__ROOT__", str(ROOT))
    result: dict[str, Any] = _json_from([_python(), "-c", code])
    return result


async def _ready_once(command: list[str], deadline_s: float, cwd: Path = ROOT) -> dict[str, float]:
    """Start `maslahat run`, time until /readyz answers 200, stop it with SIGTERM."""
    async with FakeBotApi() as api:
        port = free_port()
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
            env = {
                **_clean_env(),
                "BOT_TOKEN": api.token,
                "STORAGE_URL": f"sqlite:///{tmp}/maslahat.db",
                "SESSION_SECRET_FILE": str(Path(tmp) / "session.key"),
                "LISTEN": "127.0.0.1",
            }
            url = f"http://127.0.0.1:{port}/readyz"
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
                start = time.perf_counter()
                process = await asyncio.create_subprocess_exec(
                    *command,
                    "run",
                    "--api-base-url",
                    api.base_url,
                    "--port",
                    str(port),
                    cwd=cwd,
                    env=env,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                )
                first_call = ready = 0.0
                try:
                    while time.perf_counter() - start < deadline_s:
                        if not first_call and api.calls:
                            first_call = time.perf_counter() - start
                        if process.returncode is not None:
                            break
                        with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                            async with http.get(url) as response:
                                if response.status == 200:
                                    ready = time.perf_counter() - start
                                    break
                        await asyncio.sleep(0.005)
                finally:
                    if process.returncode is None:
                        process.send_signal(signal.SIGTERM)
                    try:
                        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
                    except TimeoutError:
                        process.kill()
                        _, stderr = await process.communicate()
                if not ready:
                    raise RuntimeError(f"not ready within {deadline_s} s: {stderr.decode()[-2000:]}")
                if process.returncode != 0:
                    raise RuntimeError(f"exit {process.returncode} after SIGTERM: {stderr.decode()[-2000:]}")
                return {"ready_s": ready, "first_bot_api_call_s": first_call}


async def ready_times(command: list[str], repeats: int) -> list[dict[str, float]]:
    return [await _ready_once(command, 30.0) for _ in range(repeats)]


async def compare_ready(before: Path, repeats: int) -> dict[str, list[float]]:
    """Start `python -m bot.cli run` from ``before`` and from this tree, alternately."""
    command = [_python(), "-m", "bot.cli"]
    times: dict[str, list[float]] = {"before": [], "after": []}
    for _ in range(repeats):
        times["before"].append((await _ready_once(command, 30.0, before))["ready_s"])
        times["after"].append((await _ready_once(command, 30.0, ROOT))["ready_s"])
    return times


def compare(before: Path, repeats: int, phase_repeats: int) -> dict[str, Any]:
    """Before and after a change, measured alternately in this run: ``before`` is a copy of the tree."""
    for needed in ("bot", "rules", "locales"):
        if not (before / needed).is_dir():
            raise SystemExit(f"--compare {before}: needs a copy of bot/, rules/ and locales/ (no {needed}/)")
    for tree in (before, ROOT):  # compile the bytecode of both trees before timing anything
        subprocess.run([_python(), "-c", "import bot.cli"], cwd=tree, env=_clean_env(), check=True, timeout=60)  # noqa: S603
    times = asyncio.run(compare_ready(before, repeats))
    runs_before, runs_after = [], []
    for _ in range(phase_repeats):
        runs_before.append(phases(1, before))
        runs_after.append(phases(1, ROOT))

    def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
        keys = [k for k in runs[0] if k not in ("load_content parts", "runs")]
        result: dict[str, Any] = {k: round(statistics.median(r[k] for r in runs), 4) for k in keys}
        result["load_content parts"] = {
            k: round(statistics.median(r["load_content parts"].get(k, 0.0) for r in runs), 4)
            for k in runs[0]["load_content parts"]
        }
        return result

    before_phases, after_phases = median_of(runs_before), median_of(runs_after)
    ready_before, ready_after = _stats(times["before"]), _stats(times["after"])
    return {
        "before_tree": str(before),
        "launcher": "python -m bot.cli run (from each tree), alternately",
        "ready_s": {"before": ready_before, "after": ready_after},
        "ready_saved_median_s": round(ready_before["median"] - ready_after["median"], 4),
        "phases_s": {"before": before_phases, "after": after_phases},
        "load_content_saved_median_s": round(before_phases["load_content"] - after_phases["load_content"], 4),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    command = _maslahat_command()
    print(f"… start-up of {' '.join(command)} run, {args.repeats} times", flush=True)
    runs = asyncio.run(ready_times(command, args.repeats))
    ready = _stats([r["ready_s"] for r in runs])
    first_call = _stats([r["first_bot_api_call_s"] for r in runs])
    print(f"ready (/readyz 200): {ready}", flush=True)
    print(f"first Bot API call: {first_call}", flush=True)
    baselines = {}
    for name, code in (
        ("python -c pass", "pass"),
        ("import telegram", "import telegram"),
        ("import bot.telegram.application", "import bot.telegram.application"),
        ("import bot.cli", "import bot.cli"),
    ):
        baselines[name] = time_command([_python(), "-c", code], args.baseline_repeats)
        print(f"baseline {name}: {baselines[name]}", flush=True)
    parts = phases(args.phase_repeats)
    print(f"phases (fresh process, median of {args.phase_repeats}): {json.dumps(parts)}", flush=True)
    imports = importtime()
    print(f"importtime of bot.cli: {json.dumps(imports['heaviest_top_level_cumulative_s'])}", flush=True)
    prof = profile() if not args.smoke else {"skipped": "--smoke"}
    if "top_cumulative" in prof:
        for row in prof["top_cumulative"][:8]:
            print(f"  cProfile load_content: {row['cumtime_s']:.4f} s  {row['function']}", flush=True)
    comparison = compare(args.compare, args.repeats, args.phase_repeats) if args.compare else None
    if comparison:
        print(f"before/after: {json.dumps(comparison)}", flush=True)
    median = ready["median"]
    ratios = {
        f"ready / {name}": round(median / figures["median"], 2)
        for name, figures in baselines.items()
        if figures["median"] > 0
    }
    return {
        "benchmark": "startup",
        "title": "Start-up: process start to /readyz 200 for `maslahat run`",
        "machine": machine(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": args.command,
        "setup": {
            "process": " ".join([*command, "run", "--api-base-url", "http://127.0.0.1:PORT", "--port", "PORT"]),
            "bot_api": "tests/support/fakebotapi.FakeBotApi on 127.0.0.1 (polling mode)",
            "storage": "STORAGE_URL=sqlite:///<temporary directory>/maslahat.db",
            "ready": "GET /readyz answers 200, polled every 5 ms from the moment the process is spawned",
            "content": "rules/decree-821.yaml and locales/ as shipped",
        },
        "run_seconds": round(time.monotonic() - started, 1),
        "load_average_1_5_15": {"at_start": load_at_start, "at_end": [round(x, 2) for x in os.getloadavg()]},
        "ready_s": ready,
        "first_bot_api_call_s": first_call,
        "baselines_s": baselines,
        "ratios": ratios,
        "phases_s": parts,
        "importtime": imports,
        "profile_load_content": prof,
        "before_after": comparison,
        "target": f"ready in under {TARGET_S} s",
        "target_met": median < TARGET_S,
    }


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="10 starts, 10 of each baseline (the default)")
    mode.add_argument("--smoke", action="store_true", help="1 start, 1 of each baseline (for the test suite)")
    parser.add_argument("--repeats", type=int, help="how many times to start `maslahat run`")
    parser.add_argument("--baseline-repeats", type=int, help="how many times to run each baseline")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="DIR",
        help="also time a copy of bot/, rules/ and locales/ in DIR (the code before a change), alternately",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    args.repeats = args.repeats or (1 if args.smoke else 10)
    args.baseline_repeats = args.baseline_repeats or (1 if args.smoke else 10)
    args.phase_repeats = 1 if args.smoke else 5
    args.command = "python -m benchmarks.bench_startup " + shlex.join(argv if argv is not None else sys.argv[1:])
    return args


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    report = run(args)
    report = write_results(report, args.out)
    return report


if __name__ == "__main__":
    main()
