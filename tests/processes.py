"""Run `maslahat run` as a real process against a fake Bot API, and wait for things to happen."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from conftest import ROOT
from fakebotapi import FakeBotApi

__all__ = ["start_bot", "wait_for"]

# Settings from the developer's environment that must not leak into a test process.
_OWN_SETTINGS = ("MASLAHAT_", "WEBHOOK_", "BOT_", "STORAGE_", "SESSION_", "OPERATOR_", "LOG_", "PORT")


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def start_bot(api: FakeBotApi, state: Path, *args: str, **settings: str) -> asyncio.subprocess.Process:
    """Start `maslahat run` talking to ``api``, with its SQLite store and session key under ``state``.

    ``settings`` are environment variables (e.g. PORT="8090", LOG_LEVEL="DEBUG") over these
    defaults; standard error is piped, so read it with ``communicate()``.
    """
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(_OWN_SETTINGS)},
        "BOT_TOKEN": api.token,
        "STORAGE_URL": f"sqlite:///{state}/maslahat.db",
        "SESSION_SECRET_FILE": str(state / "session.key"),
        **settings,
    }
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot.cli", "run", "--api-base-url", api.base_url, *args),
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
