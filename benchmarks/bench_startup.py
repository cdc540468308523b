"""Start-up: from process start to ready, for the real `maslahat run` process and for bare bots.

Ready is ``/readyz`` answering 200 (rules and catalogs checked, store open, the bot polling the Bot API),
for this environment's ``maslahat run`` against the fake Bot API on 127.0.0.1, SQLite in a temporary
directory. Baselines of the same run: bare python-telegram-bot and aiogram bots, ``python -c`` of imports.
Where the time goes, in fresh processes: the phases up to the first Bot API call, ``-X importtime``.

    .venv/bin/python -m benchmarks.bench_startup            # --full: 10 starts of each
    .venv/bin/python -m benchmarks.bench_startup --smoke    # 1 of each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
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
from benchmarks.harness.measure import ratio, spread
from benchmarks.harness.results import ROOT, parse, run_benchmark

TITLE = "Start-up: process start to /readyz 200 for `maslahat run`"
TARGET_S = 1.0
FULL: dict[str, Any] = {"repeats": 10, "baseline_repeats": 10, "phase_repeats": 5}
SMOKE: dict[str, Any] = {"repeats": 1, "baseline_repeats": 1, "phase_repeats": 1}
IMPORTS = ("pass", "import telegram", "import aiogram", "import bot.telegram.application", "import bot.cli")
MASLAHAT = Path(sys.executable).with_name("maslahat")  # the console script
SETTINGS = ("MASLAHAT_", "WEBHOOK_", "BOT_", "STORAGE_", "SESSION_", "REDIS_", "LOG_", "PORT", "LISTEN")
ENV = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS)}  # a developer's .env must not leak in
PHASES = r"""# In a fresh interpreter: what `maslahat run` does before its first Bot API call, each part timed.
import asyncio, json, tempfile, time
start = time.perf_counter()
import bot.cli  # everything `maslahat run` imports
phases = {"import bot.cli": time.perf_counter() - start}
import bot.service.content as content
from bot.settings import settings_from
from bot.storage import open_store
from bot.telegram.application import Runtime, build_application
def timed(name, fn):
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        result = fn(*args, **kwargs)
        phases[name] = phases.get(name, 0.0) + time.perf_counter() - start
        return result
    return wrapper
for name in ("check_file", "expected_messages", "check_catalogs"):  # check_file: load_table + check_table
    setattr(content, name, timed(f"load_content: {name}", getattr(content, name)))
content.Catalogs.load = timed("load_content: Catalogs.load", content.Catalogs.load)
loaded = timed("load_content", content.load_content)(bot.cli.default_rules_path(), bot.cli.default_locales_path())
with tempfile.TemporaryDirectory(prefix="bench-startup-phases-") as tmp:
    env = {"BOT_TOKEN": "123456789:AAHfakeTokenForMaslahatTests_0123456", "STORAGE_URL": f"sqlite:///{tmp}/m.db"}
    settings = settings_from(env, secret_file_default=f"{tmp}/session.key", api_base_url="http://127.0.0.1:9")
    store = open_store(settings.storage_url, settings.retention_days * 86400)  # it connects on first use
    timed("open store + ping", asyncio.run)(store.ping())
    timed("build_application", build_application)(Runtime(loaded.engine, loaded.catalogs, store, settings))
print(json.dumps(phases))
"""


def _python(code: str, *options: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """``python [options] -c code`` in a fresh interpreter, from the checkout; and its seconds."""
    argv, started = [sys.executable, *options, "-c", code], time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=ENV, check=True, capture_output=True, text=True)  # noqa: S603 - ours
    return done, time.perf_counter() - started


async def _ready_once(kind: str) -> dict[str, float]:
    """Start one bot, time it to /readyz 200 and to its first Bot API call."""
    async with TimedApi() as api:
        port = free_port()
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
            argv, env = bot_command(kind, api.base_url, api.token, port), dict(ENV)
            if kind == "maslahat":
                argv = [str(MASLAHAT), "run", "--api-base-url", api.base_url, "--port", str(port)]
                env.update(BOT_TOKEN=api.token, STORAGE_URL=f"sqlite:///{tmp}/maslahat.db", LISTEN="127.0.0.1")
                env["SESSION_SECRET_FILE"] = f"{tmp}/session.key"
            async with launch(argv, port, kind=kind, env=env, step=0.005) as bot:
                return {"ready_s": bot.ready - bot.started, "first_bot_api_call_s": api.first_call - bot.started}


def _importtime(top: int = 15) -> dict[str, Any]:
    """``python -X importtime -c "import bot.cli"``: the heaviest top-level packages by cumulative time."""
    stderr = _python("import bot.cli", "-X", "importtime")[0].stderr
    rows = [(int(s), int(c), m) for s, c, m in re.findall(r"^import time: *(\d+) \| *(\d+) \| *(\S+)$", stderr, re.M)]
    heaviest = sorted(((m, c) for _, c, m in rows if "." not in m), key=lambda row: -row[1])[:top]
    return {
        "total_self_s": round(sum(s for s, _, _ in rows) / 1e6, 4),
        "bot_modules_self_s": round(sum(s for s, _, m in rows if m == "bot" or m.startswith("bot.")) / 1e6, 4),
        "heaviest_top_level_cumulative_s": {module: round(us / 1e6, 4) for module, us in heaviest},
        "note": "cumulative includes whatever a package imported first; importtime adds its own overhead",
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start-ups of `maslahat run` and of each baseline; where the time goes."""
    s, n = args.sizes, args.sizes["baseline_repeats"]
    runs = [asyncio.run(_ready_once("maslahat")) for _ in range(s["repeats"])]
    ready = spread([r["ready_s"] for r in runs])
    print(f"{MASLAHAT} run, ready (/readyz 200): {ready}", flush=True)
    bots = {f"{k} bot ready": [asyncio.run(_ready_once(k))["ready_s"] for _ in range(n)] for k in ("bare", "aiogram")}
    imports = {f"python -c {code!r}": [_python(code)[1] for _ in range(n)] for code in IMPORTS}
    baselines = {name: spread(seconds) for name, seconds in {**bots, **imports}.items()}
    runs_of_phases = [json.loads(_python(PHASES)[0].stdout) for _ in range(s["phase_repeats"])]
    phases = {k: round(statistics.median(r[k] for r in runs_of_phases), 4) for k in runs_of_phases[0]}
    print(f"baselines: {baselines}\nphases, median of {s['phase_repeats']}: {phases}", flush=True)
    return {
        "setup": {
            "process": f"{MASLAHAT} run --api-base-url http://127.0.0.1:PORT --port PORT, SQLite in <tmp>",
            "bot_api": "FakeBotApi on 127.0.0.1 (maslahat: polling; bare bots, harness.bots bare|aiogram: webhook)",
            "ready": "GET /readyz answers 200, polled every 5 ms from the moment the process is spawned",
        },
        "ready_s": ready,
        "first_bot_api_call_s": spread([r["first_bot_api_call_s"] for r in runs]),
        "baselines_s": baselines,
        "ratios": {f"ready / {name}": ratio(ready["median"], f["median"], 2) for name, f in baselines.items()},
        "phases_s": {**phases, "runs": s["phase_repeats"]},
        "importtime": _importtime(),
        "target": f"ready in under {TARGET_S} s",
        "target_met": ready["median"] < TARGET_S,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    return run_benchmark("startup", TITLE, parse("startup", __doc__ or "", FULL, SMOKE, argv), run)


if __name__ == "__main__":
    main()
