"""Start-up: process start to ``/readyz`` 200 of `maslahat run` (the fake Bot API, SQLite in a temporary directory).

Baselines of the same run: bare PTB and aiogram bots, ``python -c`` of imports. Where the time goes: the phases up
to the first Bot API call (for a module's import time, ``python -X importtime -c "import bot.cli"``).

    .venv/bin/python -m benchmarks.bench_startup            # 10 starts of each
    .venv/bin/python -m benchmarks.bench_startup --smoke    # 1 of each
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
FULL: dict[str, Any] = {"repeats": 10, "phase_repeats": 5}  # repeats: starts of each bot, runs of each import
SMOKE: dict[str, Any] = {"repeats": 1, "phase_repeats": 1}
IMPORTS = ("pass", "import telegram", "import aiogram", "import bot.telegram.application", "import bot.cli")
MASLAHAT = Path(sys.executable).with_name("maslahat")  # the console script
SETTINGS = ("MASLAHAT_", "WEBHOOK_", "BOT_", "STORAGE_", "SESSION_", "REDIS_", "LOG_", "PORT", "LISTEN")
ENV = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS)}  # a developer's .env must not leak in
PHASES = r"""import asyncio, json, tempfile, time  # what `maslahat run` does up to its first Bot API call, timed
start = time.perf_counter()
import bot.cli  # everything `maslahat run` imports
phases = {"import bot.cli": time.perf_counter() - start}
import bot.service.content as content
from bot.cli.main import Runtime, build_application, load_content, open_store, settings_from  # what `run` calls
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
loaded = timed("load_content", load_content)(bot.cli.default_rules_path(), bot.cli.default_locales_path())
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
    argv = [sys.executable, *options, "-c", code]
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=ENV, check=True, capture_output=True, text=True)  # noqa: S603 - ours
    return done, time.perf_counter() - started


async def _ready_once(kind: str) -> dict[str, float]:
    """Start one bot, time it to /readyz 200 and to its first Bot API call."""
    async with TimedApi() as api:
        port = free_port()
        maslahat = [str(MASLAHAT), "run", "--api-base-url", api.base_url, "--port", str(port)]
        argv = maslahat if kind == "maslahat" else bot_command(kind, api.base_url, api.token, port)
        with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
            # Maslahat's store and session key; the other bots ignore them.
            store = {"STORAGE_URL": f"sqlite:///{tmp}/m.db", "SESSION_SECRET_FILE": f"{tmp}/key"}
            async with launch(argv, port, kind=kind, env={**ENV, **store, "BOT_TOKEN": api.token}, step=0.005) as bot:
                return {"ready_s": bot.ready - bot.started, "first_bot_api_call_s": api.first_call - bot.started}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Start-ups of `maslahat run` and of each baseline; where the time goes."""
    n = args.sizes["repeats"]
    starts = {kind: [asyncio.run(_ready_once(kind)) for _ in range(n)] for kind in ("maslahat", "bare", "aiogram")}
    ready = {kind: spread([r["ready_s"] for r in runs]) for kind, runs in starts.items()}
    imports = {f"python -c {code!r}": spread([_python(code)[1] for _ in range(n)]) for code in IMPORTS}
    phase_runs = [json.loads(_python(PHASES)[0].stdout) for _ in range(args.sizes["phase_repeats"])]
    return {
        "setup": "maslahat run, SQLite in <tmp>; bare bots: harness.bots; /readyz polled every 5 ms from the spawn",
        "ready_s": ready["maslahat"],
        "first_bot_api_call_s": spread([r["first_bot_api_call_s"] for r in starts["maslahat"]]),
        "baselines_s": {"bare bot ready": ready["bare"], "aiogram bot ready": ready["aiogram"], **imports},
        "phases_s": {name: spread([r[name] for r in phase_runs])["median"] for name in phase_runs[0]},
        "target": "ready in under 1 s",
        "target_met": ready["maslahat"]["median"] < 1.0,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    return run_benchmark("startup", TITLE, parse("startup", __doc__ or "", FULL, SMOKE, argv), run)


if __name__ == "__main__":
    main()
