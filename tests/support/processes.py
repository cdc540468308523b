"""Run `maslahat run` as a real process against a fake Bot API, and wait for things to happen."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp

from tests.support.fakebotapi import FakeBotApi, free_port
from tests.support.logscan import PROCESS_LOGS
from tests.support.shipped import ROOT

__all__ = ["eventually", "http_get", "relay", "reserved_port", "start_bot", "wait_for"]

# Settings from the developer's environment that must not leak into a test process.
_OWN_SETTINGS = ("MASLAHAT_", "WEBHOOK_", "BOT_", "STORAGE_", "SESSION_", "OPERATOR_", "LOG_", "PORT")


async def wait_for(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def eventually(check: Callable[[], Awaitable[bool]], what: str, timeout: float = 20.0) -> None:
    """Await ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def http_get(url: str) -> tuple[int, str] | None:
    """GET ``url``: the status and the body, or None if nothing answers there."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http,
            http.get(url) as response,
        ):
            return response.status, await response.text()
    except (aiohttp.ClientError, TimeoutError):
        return None


@contextlib.contextmanager
def reserved_port() -> Iterator[socket.socket]:
    """A socket bound to a port on 127.0.0.1, not listening: connections are refused, and the port stays ours."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        yield sock
    finally:
        sock.close()


@contextlib.asynccontextmanager
async def relay(sock: socket.socket, port: int) -> AsyncIterator[None]:
    """Listen on ``sock`` (from :func:`reserved_port`), relaying each connection to 127.0.0.1:``port``."""
    # What a bot sees of a Bot API that comes up at last on the address it has been trying all along.
    handlers: set[asyncio.Task[None]] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()  # one side gone: the connection is over for the other too

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
            finally:
                upstream_writer.close()
        except OSError:
            pass  # the client sees the connection closed, as with a server that went away
        finally:
            writer.close()
            handlers.discard(task)

    server = await asyncio.start_server(connection, sock=sock)
    try:
        yield
    finally:
        server.close()
        for task in list(handlers):
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()


async def start_bot(
    api: FakeBotApi, state: Path, *args: str, api_base_url: str | None = None, **settings: str
) -> asyncio.subprocess.Process:
    """Start `maslahat run` against ``api`` (or ``api_base_url``), its store and session key under ``state``.

    ``settings`` are environment variables (e.g. PORT="8090", LOG_LEVEL="DEBUG") over these
    defaults; standard error is piped, so read it with ``communicate()``. The HTTP port is a free
    one unless ``PORT`` is given: two suites on one machine must not meet on the default 8080.
    """
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(_OWN_SETTINGS)},
        "PORT": str(free_port()),
        "BOT_TOKEN": api.token,
        "STORAGE_URL": f"sqlite:///{state}/maslahat.db",
        "SESSION_SECRET_FILE": str(state / "session.key"),
        **settings,
    }
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "bot.cli", "run", "--api-base-url", api_base_url or api.base_url, *args),
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _copy_stderr(process)
    return process


_copying: set[asyncio.Task[None]] = set()


def _copy_stderr(process: asyncio.subprocess.Process) -> None:
    """Copy what ``process`` writes on standard error to the suite's log scan (tests.support.logscan).

    The test still reads it from ``process.stderr`` (and ``communicate()``), as before.
    """
    source = process.stderr
    assert source is not None
    copy = asyncio.StreamReader()

    async def pump() -> None:
        try:
            while chunk := await source.read(65536):
                PROCESS_LOGS.append(chunk)
                copy.feed_data(chunk)
        finally:
            copy.feed_eof()

    task = asyncio.create_task(pump(), name="copy a bot process's standard error")
    _copying.add(task)
    task.add_done_callback(_copying.discard)
    process.stderr = copy
