"""Start-up: from process start to ready, for the real `maslahat run` process and for bare bots.

"Ready" is ``/readyz`` answering 200: for ``maslahat run``, the rule table loaded and checked (every
conversation explored), every catalog loaded and checked, the store opened, the bot initialised
against the Bot API and polling. The process is the installed ``maslahat`` console script (or
``python -m bot.cli``), started with ``BOT_TOKEN``, ``--api-base-url`` pointing at the fake Bot API on
127.0.0.1, ``STORAGE_URL`` an SQLite file in a temporary directory and a free ``--port``, by
``benchmarks/harness/bots.launch`` (``/readyz`` polled every 5 ms; stopped with SIGTERM, must exit 0).

Baselines in the same run: a bare python-telegram-bot bot and a bare aiogram bot started the same
way (``benchmarks/harness/bots.py``: getMe, then serving), and ``python -c`` of ``pass``, ``import
telegram``, ``import aiogram``, ``import bot.telegram.application`` and ``import bot.cli``. Where the
time goes, each in a fresh process: the phases up to the first Bot API call, ``python -X importtime``
of ``bot.cli`` and a cProfile of ``load_content``. (For a before/after, run it on both checkouts.)

    .venv/bin/python -m benchmarks.bench_startup            # --full: 10 starts of each
    .venv/bin/python -m benchmarks.bench_startup --smoke    # 1 of each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.harness.bots import bot_command, launch
from benchmarks.harness.fakeapi import TimedApi, free_port
from benchmarks.harness.measure import spread
from benchmarks.harness.results import ROOT, parse, run_benchmark

TITLE = "Start-up: process start to /readyz 200 for `maslahat run`"
TARGET_S = 1.0
FULL: dict[str, Any] = {"repeats": 10, "baseline_repeats": 10, "phase_repeats": 5, "profile": True}
SMOKE: dict[str, Any] = {"repeats": 1, "baseline_repeats": 1, "phase_repeats": 1, "profile": False}
IMPORTS = ("pass", "import telegram", "import aiogram", "import bot.telegram.application", "import bot.cli")

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
import asyncio, tempfile
from bot.settings import settings_from
from bot.storage import open_store
from bot.telegram.application import Runtime, build_application
tmp = tempfile.mkdtemp(prefix="bench-startup-phases-")
env = {"BOT_TOKEN": "123456789:AAHfakeTokenForMaslahatTests_0123456", "STORAGE_URL": f"sqlite:///{tmp}/m.db"}
settings = settings_from(env, secret_file_default=Path(tmp) / "session.key", api_base_url="http://127.0.0.1:9")
t4 = time.perf_counter()
store = open_store(settings.storage_url, settings.retention_days * 86400)
asyncio.run(store.ping())
t5 = time.perf_counter()
app = build_application(Runtime(loaded.engine, loaded.catalogs, store, settings))
t6 = time.perf_counter()
print(json.dumps({"import bot.cli": t1 - t0, "load_content": t3 - t2, "load_content parts": parts,
    "open store + ping": t5 - t4, "build_application": t6 - t5, "first Engine.step after load_content": first_step}))
import shutil
shutil.rmtree(tmp, ignore_errors=True)
"""

PROFILE = r"""
import cProfile, json, pstats
import bot.cli
from bot.service.content import load_content
profile = cProfile.Profile()
profile.enable()
load_content(bot.cli.default_rules_path(), bot.cli.default_locales_path())
profile.disable()
stats = pstats.Stats(profile)
rows = [{"function": f"{path.split('site-packages/')[-1]}:{line}({name})", "calls": nc, "tottime_s": round(tt, 4),
         "cumtime_s": round(ct, 4)} for (path, line, name), (cc, nc, tt, ct, callers) in stats.stats.items()]
rows.sort(key=lambda r: -r["cumtime_s"])
print(json.dumps({"total_s": round(stats.total_tt, 4), "top_cumulative": rows[:15]}))
"""


def _maslahat_command() -> list[str]:
    """The installed console script, else ``python -m bot.cli``."""
    script = Path(sys.executable).with_name("maslahat")
    found = str(script) if script.exists() else shutil.which("maslahat")
    return [found] if found else [sys.executable, "-m", "bot.cli"]


def _clean_env() -> dict[str, str]:
    """This environment without any setting of the bot's (a developer's .env must not leak in)."""
    prefixes = ("MASLAHAT_", "WEBHOOK_", "BOT_", "STORAGE_", "SESSION_", "REDIS_", "LOG_", "PORT", "LISTEN")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


def _python(code: str, *options: str) -> subprocess.CompletedProcess[str]:
    """``python [options] -c code`` in a fresh interpreter, from the checkout."""
    return subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, *options, "-c", code], cwd=ROOT, env=_clean_env(), check=True, capture_output=True, text=True
    )


async def _ready_once(kind: str, command: Sequence[str] = ()) -> dict[str, float]:
    """Start one bot (``maslahat`` runs ``command``), time it to /readyz 200 and to its first Bot API call."""
    async with TimedApi() as api:
        port = free_port()
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
            env = _clean_env()
            if kind == "maslahat":
                env.update(BOT_TOKEN=api.token, STORAGE_URL=f"sqlite:///{tmp}/maslahat.db", LISTEN="127.0.0.1")
                env["SESSION_SECRET_FILE"] = str(Path(tmp) / "session.key")
                argv = [*command, "run", "--api-base-url", api.base_url, "--port", str(port)]
            else:
                argv = bot_command(kind, api.base_url, api.token, port)
            async with launch(argv, port, kind=kind, env=env, step=0.005) as bot:
                return {"ready_s": bot.ready - bot.started, "first_bot_api_call_s": api.first_call - bot.started}


def _phases(repeats: int) -> dict[str, Any]:
    """The median of each phase before the first Bot API call, each run in a fresh process."""
    runs = [json.loads(_python(PHASES).stdout.strip().splitlines()[-1]) for _ in range(repeats)]
    found: dict[str, Any] = {k: round(statistics.median(r[k] for r in runs), 4) for k in runs[0] if " parts" not in k}
    parts = runs[0]["load_content parts"]
    found["load_content parts"] = {
        k: round(statistics.median(r["load_content parts"].get(k, 0.0) for r in runs), 4) for k in parts
    }
    return {**found, "runs": repeats}


def _importtime(top: int = 15) -> dict[str, Any]:
    """``python -X importtime -c "import bot.cli"``: the heaviest top-level packages by cumulative time."""
    packages: dict[str, int] = {}
    total = bot_self = 0
    for line in _python("import bot.cli", "-X", "importtime").stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        self_us, cumulative_us, module = (part.strip() for part in parts)
        total += int(self_us)
        bot_self += int(self_us) if module == "bot" or module.startswith("bot.") else 0
        if "." not in module and module not in packages:
            packages[module] = int(cumulative_us)
    heaviest = sorted(packages.items(), key=lambda kv: -kv[1])[:top]
    return {
        "total_self_s": round(total / 1e6, 4),
        "bot_modules_self_s": round(bot_self / 1e6, 4),
        "heaviest_top_level_cumulative_s": {name: round(us / 1e6, 4) for name, us in heaviest},
        "note": "cumulative includes whatever a package imported first; importtime adds its own overhead",
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start-ups of `maslahat run` and of each baseline; where the time goes."""
    s, command = args.sizes, _maslahat_command()
    load_at_start = [round(x, 2) for x in os.getloadavg()]
    print(f"… start-up of {' '.join(command)} run, {s['repeats']} times", flush=True)
    runs = [asyncio.run(_ready_once("maslahat", command)) for _ in range(s["repeats"])]
    ready = spread([r["ready_s"] for r in runs])
    print(f"ready (/readyz 200): {ready}", flush=True)
    bare_bots = {
        f"{kind} bot ready": spread([asyncio.run(_ready_once(kind))["ready_s"] for _ in range(s["baseline_repeats"])])
        for kind in ("bare", "aiogram")
    }
    imports = {}
    for code in IMPORTS:
        times = []
        for _ in range(s["baseline_repeats"]):
            started = time.perf_counter()
            _python(code)
            times.append(time.perf_counter() - started)
        imports[f"python -c {code!r}"] = spread(times)
    baselines = {**bare_bots, **imports}
    for name, figures in baselines.items():
        print(f"baseline {name}: {figures}", flush=True)
    parts = _phases(s["phase_repeats"])
    print(f"phases (fresh process, median of {s['phase_repeats']}): {json.dumps(parts)}", flush=True)
    profile = json.loads(_python(PROFILE).stdout.strip().splitlines()[-1]) if s["profile"] else {"skipped": True}
    median = ready["median"]
    return {
        "setup": {
            "process": " ".join([*command, "run", "--api-base-url", "http://127.0.0.1:PORT", "--port", "PORT"]),
            "bot_api": "tests/support/fakebotapi.FakeBotApi on 127.0.0.1 (maslahat: polling; bare bots: webhook)",
            "storage": "STORAGE_URL=sqlite:///<temporary directory>/maslahat.db",
            "ready": "GET /readyz answers 200, polled every 5 ms from the moment the process is spawned",
            "bare bots": "python -m benchmarks.harness.bots bare|aiogram: getMe (and setWebhook), then serving",
        },
        "load_average_1_5_15": {"at_start": load_at_start, "at_end": [round(x, 2) for x in os.getloadavg()]},
        "ready_s": ready,
        "first_bot_api_call_s": spread([r["first_bot_api_call_s"] for r in runs]),
        "baselines_s": baselines,
        "ratios": {f"ready / {name}": round(median / f["median"], 2) for name, f in baselines.items() if f["median"]},
        "phases_s": parts,
        "importtime": _importtime(),
        "profile_load_content": profile,
        "target": f"ready in under {TARGET_S} s",
        "target_met": median < TARGET_S,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    return run_benchmark("startup", TITLE, parse("startup", __doc__ or "", FULL, SMOKE, argv), run)


if __name__ == "__main__":
    main()
