"""The bots under test, each in a process of its own, and the launcher that starts one and waits until it is ready.

``python -m benchmarks.harness.bots KIND API_URL TOKEN PORT`` serves one bot (``KINDS``) in webhook mode on
127.0.0.1 until SIGTERM, answering ``/readyz`` once the Bot API answered. The echo bots import nothing of Maslahat.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

from benchmarks.harness.results import ROOT

if TYPE_CHECKING:
    from bot.service.app import Service

__all__ = ["KINDS", "SECRET", "SECRET_HEADER", "BotProcess", "bot_command", "launch", "maslahat_service", "wait_ready"]

SECRET = "bench_secret_0123456789"  # noqa: S105 - a fixed webhook secret, for loopback only
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - the header's name
WEBHOOK_PATH = "telegram"
KINDS: dict[str, str] = {  # what each bot is, for the results
    "bare": "python-telegram-bot's defaults (HTTPXRequest, one update at a time): an echo MessageHandler and "
    "CallbackQueryHandler (+ answer_callback_query) behind a minimal aiohttp webhook",
    "aiogram": "aiogram 3's defaults (AiohttpSession, SimpleRequestHandler: each update its own task, no order per "
    "chat) with the same two handlers",
    "maslahat": "build_application(rate_limit=False), shipped rules and catalogs, a memory store, run by Service",
}


@dataclass
class BotProcess:
    """A bot process that answered /readyz: its pid, port, when it was started and ready (monotonic), its webhook."""

    kind: str
    pid: int
    port: int
    started: float
    ready: float
    webhook: str  # where updates are POSTed


def bot_command(kind: str, api_url: str, token: str, port: int) -> list[str]:
    """The command that serves bot ``kind`` against the Bot API at ``api_url``."""
    return [sys.executable, "-m", "benchmarks.harness.bots", kind, api_url, token, str(port)]


async def wait_ready(url: str, deadline: float, alive: Callable[[], bool], step: float = 0.01) -> float:
    """Poll ``url`` until it answers 200: the monotonic time it did, or 0.0 once ``alive()`` fails or time is up."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline and alive():
            with contextlib.suppress(aiohttp.ClientError, OSError, TimeoutError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return time.monotonic()
            await asyncio.sleep(step)
    return 0.0


@contextlib.asynccontextmanager
async def launch(
    command: Sequence[str], port: int, *, kind: str = "", env: dict[str, str] | None = None, step: float = 0.01
) -> AsyncIterator[BotProcess]:
    """Start ``command``, wait up to 30 s for ``/readyz`` on ``port``; then SIGTERM it, failing unless it exits 0."""
    name, devnull = kind or command[0], asyncio.subprocess.DEVNULL
    with tempfile.TemporaryFile() as stderr:
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            *command, cwd=ROOT, env=env, stdin=devnull, stdout=devnull, stderr=stderr
        )

        def said() -> str:
            stderr.seek(0)
            return stderr.read().decode(errors="replace")[-3000:]

        try:
            # /readyz, not /healthz: Maslahat answers /healthz while it still connects to Telegram.
            url = f"http://127.0.0.1:{port}/readyz"
            ready = await wait_ready(url, started + 30, lambda: process.returncode is None, step)
            if not ready:
                raise RuntimeError(f"{name} not ready in 30 s (exit {process.returncode}): {said()}")
            yield BotProcess(kind, process.pid, port, started, ready, f"http://127.0.0.1:{port}/{WEBHOOK_PATH}")
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        if process.returncode != 0:
            raise RuntimeError(f"{name} exited {process.returncode} after SIGTERM: {said()}")


def _web_app(running: Callable[[web.Application], AsyncIterator[None]]) -> web.Application:
    """A webhook server with /healthz and /readyz that serves only once ``running`` is through its start."""

    async def ok(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    web_app = web.Application()
    web_app.router.add_get("/healthz", ok)
    web_app.router.add_get("/readyz", ok)
    web_app.cleanup_ctx.append(running)  # aiohttp serves once every start-up is through
    return web_app


def _bare(api: str, token: str) -> web.Application:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        assert update.effective_message is not None
        await context.bot.send_message(update.effective_chat.id, update.effective_message.text or "?")

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, f"pressed {update.callback_query.data}")
        await context.bot.answer_callback_query(update.callback_query.id)

    app = ApplicationBuilder().token(token).base_url(f"{api}/bot").base_file_url(f"{api}/file/bot").build()
    app.add_handlers([MessageHandler(filters.ALL, on_message), CallbackQueryHandler(on_button)])

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != SECRET:
            return web.Response(status=403)
        await app.update_queue.put(Update.de_json(await request.json(), app.bot))
        return web.Response(text="ok\n")

    async def running(web_app: web.Application) -> AsyncIterator[None]:
        async with app:  # getMe first, as Maslahat's start
            await app.start()
            yield
            await app.stop()

    web_app = _web_app(running)
    web_app.router.add_post(f"/{WEBHOOK_PATH}", webhook)
    return web_app


def _aiogram(api: str, token: str, port: int) -> web.Application:
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import CallbackQuery, Message
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application

    # aiogram's documented way to another Bot API server ("Use Custom API server").
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def on_message(message: Message) -> None:
        await message.answer(message.text or "?")

    @dispatcher.callback_query()
    async def on_button(query: CallbackQuery) -> None:
        assert query.message is not None
        await bot.send_message(query.message.chat.id, f"pressed {query.data}")
        await query.answer()

    async def running(web_app: web.Application) -> AsyncIterator[None]:
        await bot.get_me()  # as python-telegram-bot's initialize, before the bot is ready
        url, allowed = f"http://127.0.0.1:{port}/{WEBHOOK_PATH}", dispatcher.resolve_used_update_types()
        await bot.set_webhook(url, secret_token=SECRET, allowed_updates=allowed)
        yield

    web_app = _web_app(running)
    SimpleRequestHandler(dispatcher, bot, secret_token=SECRET).register(web_app, path=f"/{WEBHOOK_PATH}")
    setup_application(web_app, dispatcher, bot=bot)  # closes the bot's session at shutdown
    return web_app


def maslahat_service(
    api: str,
    token: str,
    port: int,
    *,
    storage: str = "memory://",
    rate_limit: bool = False,
) -> Service:
    """Maslahat as ``maslahat run`` builds it."""
    from bot.service.app import Service
    from bot.service.content import load_content
    from bot.settings import Settings
    from bot.storage import open_store
    from bot.telegram.application import Runtime, build_application

    settings = Settings(
        token=token,
        api_base_url=api,
        webhook_url=f"http://127.0.0.1:{port}/{WEBHOOK_PATH}",  # the fake allows loopback
        webhook_secret=SECRET,
        port=port,
        session_secret=b"bench secret, 32 bytes long.....",
        storage_url=storage,
    )
    content = load_content(ROOT / "rules" / "decree-821.yaml", ROOT / "locales")  # loaded and checked, as at start
    if isinstance(content, list):
        raise SystemExit("\n".join(content))
    runtime = Runtime(content.engine, content.catalogs, open_store(storage, settings.retention_days * 86400), settings)
    application = build_application(runtime, rate_limit=rate_limit)
    return Service(application, runtime, ROOT / "rules" / "decree-821.yaml", ROOT / "locales")


def main(argv: Sequence[str] | None = None) -> None:
    """``python -m benchmarks.harness.bots KIND API_URL TOKEN PORT``: serve one bot until SIGTERM."""
    kind, api, token, port = argv or sys.argv[1:]
    if kind == "maslahat":
        from bot.service.logs import configure_logging

        configure_logging("INFO", [token, SECRET])  # as `maslahat run` does
        asyncio.run(maslahat_service(api, token, int(port)).run())
        return
    web_app = _bare(api, token) if kind == "bare" else _aiogram(api, token, int(port)) if kind == "aiogram" else None
    if web_app is None:
        raise SystemExit(f"no such bot: {kind}; one of {', '.join(KINDS)}")
    web.run_app(web_app, host="127.0.0.1", port=int(port), access_log=None, print=None)  # until SIGTERM


if __name__ == "__main__":
    main()
