"""The bot as a long-running service: one HTTP server, signals, graceful stop and hot reload.

One aiohttp server on LISTEN:PORT serves, in both modes, ``/healthz`` (alive), ``/readyz``
(storage reachable, rules and catalogs loaded) and ``/metrics`` (Prometheus); in webhook mode
it also receives Telegram's updates on the webhook path, refusing requests without the secret
(python-telegram-bot's custom-webhook pattern: updates go into ``application.update_queue``).
SIGTERM and SIGINT stop it gracefully: no new updates, those in flight finished, the store
closed. SIGHUP re-reads the rule table and catalogs and swaps them in only if they are valid.

The HTTP server starts first. If the Bot API cannot be reached (Telegram down, the network not up
yet at boot), the service keeps trying with exponential backoff and jitter, alive (``/healthz``
200) but not ready (``/readyz`` 503, saying why), and starts serving as soon as Telegram answers.
A token Telegram refuses is not retried: :class:`telegram.error.InvalidToken` is raised.
Over 300 lines, kept whole: one class, the service's life (serve, connect, run, reload, stop).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import logging
import random
import signal
from collections.abc import Callable
from json import JSONDecodeError
from pathlib import Path
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from telegram import Update
from telegram.error import NetworkError, RetryAfter, TelegramError
from telegram.ext import Application

from bot.problems import ProblemsError
from bot.service.content import load_content
from bot.storage.base import StoreUnavailable
from bot.telegram.application import Runtime, start_background, stop_background
from bot.telegram.send import retry_seconds
from bot.telegram.tolerant import read_update

__all__ = ["Service", "backoff"]

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - the header name, not a secret


def _freeze_heap() -> None:
    """Take what is alive now (rules, catalogs, libraries) out of the cyclic collector's way.

    A full collection walks every tracked object: ~80,000 once the catalogs and python-telegram-bot
    are loaded, 13-29 ms per collection measured in the bot, paid by whichever update happens to
    trigger it; frozen, 2 ms (benchmarks/FINDINGS.md). Frozen objects are never walked again;
    reference counting still frees them as usual (:func:`gc.freeze`).
    """
    gc.collect()
    gc.freeze()


def backoff(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, …): doubling up to ``cap``, jittered."""
    # Between half and all of the doubled delay: replicas that lost Telegram together do not all
    # come back in the same instant, and no wait shrinks to nothing.
    ceiling = min(cap, base * 2 ** min(attempt - 1, 32))
    return ceiling / 2 + rand() * ceiling / 2


class Service:
    """Runs one bot process until it is told to stop."""

    def __init__(
        self, application: Application[Any, Any, Any, Any, Any, Any], runtime: Runtime, rules: Path, locales: Path
    ) -> None:
        self.application = application
        self.runtime = runtime
        self.rules = rules
        self.locales = locales
        self.stopping = asyncio.Event()
        #: Seconds after a reload before what is alive is frozen again (see _freeze_heap).
        self.refreeze_after = 5.0
        self._refreeze: asyncio.TimerHandle | None = None
        #: Seconds before the second attempt to reach Telegram at start, and the most between two.
        self.retry_base, self.retry_cap = 0.5, 30.0
        #: Where the connection to Telegram stands, as /readyz shows it.
        self.telegram = "connecting"
        #: Reloads started by SIGHUP and not yet finished. Kept here because the event loop holds
        #: tasks only weakly: one nothing else refers to could be collected in the middle of its run.
        self.reloading: set[asyncio.Task[list[str]]] = set()
        #: A SIGHUP came while a reload was under way: one more reload follows it, however many came.
        self.reload_again = False
        application.bot_data.reload = self.reload

    # Content ------------------------------------------------------------------------------

    async def reload(self) -> list[str]:
        """Re-read rules and catalogs; swap them in if valid, else keep the old and return the problems."""
        try:
            loaded = await asyncio.to_thread(load_content, self.rules, self.locales, every_screen=True)
        except ProblemsError as exc:
            problems = [str(p) for p in exc.problems]
            log.error("reload refused, keeping the running content: %d problem(s)", len(problems))
            for problem in problems[:50]:
                log.error("%s", problem)
            self.runtime.metrics["reloads_refused"] += 1
            return problems
        # One assignment between two awaits: handlers see either the old pair or the new one.
        self.runtime.engine, self.runtime.catalogs = loaded.engine, loaded.catalogs
        self.runtime.metrics.set_content(loaded.engine.table.meta.id, loaded.engine.table.meta.version)
        # Updates in flight may still hold the old content: freeze again once they are done, so
        # that it is collected, cycles and all, rather than frozen for good.
        gc.unfreeze()
        if self._refreeze is not None:
            self._refreeze.cancel()
        self._refreeze = asyncio.get_running_loop().call_later(self.refreeze_after, _freeze_heap)
        self.runtime.metrics["reloads"] += 1
        log.info("reloaded rules %s and catalogs", loaded.engine.table.version_tag)
        return []

    # HTTP ---------------------------------------------------------------------------------

    def web_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        settings = self.runtime.settings
        if settings.webhook_url:
            app.router.add_post("/" + settings.webhook_path, self._webhook)
        return app

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        rt = self.runtime
        storage = "ok"
        try:
            await rt.store.ping()
        except StoreUnavailable:
            storage = "unavailable"
        body = {
            "storage": storage,
            "telegram": self.telegram,
            "rules": rt.engine.table.version_tag,
            "catalogs": sorted(rt.catalogs.catalogs),
            "stopping": self.stopping.is_set(),
        }
        ready = storage == "ok" and self.telegram == "ok" and not self.stopping.is_set()
        return web.json_response(body, status=200 if ready else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(body=self.runtime.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def _webhook(self, request: web.Request) -> web.Response:
        secret = self.runtime.settings.webhook_secret or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not given or not hmac.compare_digest(given.encode(), secret.encode()):
            return web.Response(status=403, text="forbidden\n")
        # Telegram delivers it again later.
        if self.stopping.is_set():
            return web.Response(status=503, text="stopping\n")
        if not self.application.running:
            return web.Response(status=503, text="not started yet\n")
        try:
            data = await request.json()
        except (JSONDecodeError, UnicodeDecodeError, RecursionError):
            return web.Response(status=400, text="not JSON\n")
        if not isinstance(data, dict):
            return web.Response(status=400, text="not an update\n")
        # One Telegram cannot read is recorded and answered 200: refused, it would come back forever.
        update = read_update(data, self.application.bot, self._unreadable)
        if update is not None:
            # 200 tells Telegram to forget the update: only once it is applied (bot.telegram.intake).
            intake = self.runtime.intake
            intake.take([update.update_id])
            await self.application.update_queue.put(update)
            await intake.confirmable(only=update.update_id)
        return web.Response(text="ok\n")

    def _unreadable(self) -> None:
        self.runtime.metrics["updates_unreadable"] += 1

    # Running ------------------------------------------------------------------------------

    def _on_signals(self) -> None:
        """Stop on SIGTERM and SIGINT; reload the content on SIGHUP."""
        loop = asyncio.get_running_loop()
        for stop in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(stop, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload_on_signal)

    def _reload_on_signal(self) -> None:
        """Start a reload for SIGHUP, kept in :attr:`reloading` until it is done.

        SIGHUPs that come while one is under way are folded into a single reload after it: it may
        have read the files before they changed, and twenty signals in a second need not cost twenty
        full reloads.
        """
        if self.reloading:
            self.reload_again = True
            return
        task = asyncio.get_running_loop().create_task(self.reload(), name="reload on SIGHUP")
        self.reloading.add(task)
        task.add_done_callback(self._reloaded)

    def _reloaded(self, task: asyncio.Task[list[str]]) -> None:
        """Forget a finished SIGHUP reload and log how it ended: no one awaits it to hear of a failure."""
        self.reloading.discard(task)
        if self.reload_again and not task.cancelled():
            self.reload_again = False
            self._reload_on_signal()
        if task.cancelled():
            log.info("reload on SIGHUP cancelled: the bot is stopping")
        elif (error := task.exception()) is not None:
            log.error("reload on SIGHUP failed, keeping the running content", exc_info=error)
        elif problems := task.result():
            log.info("reload on SIGHUP finished: refused, %d problem(s)", len(problems))
        else:
            log.info("reload on SIGHUP finished: the new content is in use")

    async def _bootstrap(self) -> None:
        """One attempt to reach Telegram: getMe, then set the webhook, or delete it and start polling."""
        app = self.application
        settings = self.runtime.settings
        try:
            await app.initialize()  # does nothing once it succeeded
        except BaseException:
            # python-telegram-bot up to at least 22.5 marks its Bot initialized before getMe answers,
            # so the next attempt would skip getMe and run without knowing the bot: undo that. (22.8
            # keeps the two apart; there this only closes the connections the next attempt reopens.)
            await app.bot.shutdown()
            raise
        if settings.webhook_url:
            await app.bot.set_webhook(
                settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=Update.ALL_TYPES
            )
        else:
            await app.bot.delete_webhook()
            assert app.updater is not None
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES)

    async def _connect(self) -> bool:
        """Reach Telegram, retrying while it cannot be reached; False if told to stop first."""
        token = self.runtime.settings.token
        attempt = 0
        while not self.stopping.is_set():
            attempt += 1
            trying = asyncio.ensure_future(self._bootstrap())
            stop = asyncio.ensure_future(self.stopping.wait())
            try:
                await asyncio.wait((trying, stop), return_when=asyncio.FIRST_COMPLETED)
            finally:
                stop.cancel()
                if not trying.done():
                    # A SIGTERM does not wait for a call that may hang until its timeout.
                    trying.cancel()
                    await asyncio.gather(trying, return_exceptions=True)
            if trying.cancelled():
                return False
            problem: TelegramError
            try:
                trying.result()
                return True
            except RetryAfter as exc:
                delay = max(retry_seconds(exc), backoff(attempt, self.retry_base, self.retry_cap))
                problem = exc
            except NetworkError as exc:  # unreachable, timed out, or 5xx: all may pass
                delay = backoff(attempt, self.retry_base, self.retry_cap)
                problem = exc
            self.telegram = "unreachable: retrying"
            # Errors from the transport never quote the request URL; the token is cut out all the same.
            reason = str(problem).replace(token, "«token»")
            log.warning(
                "Telegram cannot be reached (attempt %d: %s: %s); next attempt in %.1f s",
                attempt,
                type(problem).__name__,
                reason,
                delay,
            )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)
        return False

    async def run(self) -> None:
        """Serve HTTP at once; receive and handle updates once Telegram answers, until SIGTERM or SIGINT.

        Raises:
            telegram.error.InvalidToken: Telegram refused the token (nothing is left open).
            telegram.error.TelegramError: Telegram refused the webhook or another start-up call.
        """
        app = self.application
        settings = self.runtime.settings
        self._on_signals()  # first: a SIGTERM during start-up then stops gracefully
        runner = web.AppRunner(self.web_app(), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.listen, settings.port).start()
            log.debug("HTTP on %s:%d; connecting to Telegram", settings.listen, settings.port)
            if await self._connect():
                await app.start()
                await start_background(app)
                _freeze_heap()
                self.telegram = "ok"
                mode = "webhook" if settings.webhook_url else "polling"
                log.info("running in %s mode; HTTP on %s:%d", mode, settings.listen, settings.port)
                await self.stopping.wait()
                log.info("stopping: finishing the updates in flight")
            else:
                log.info("stopping before Telegram answered")
        finally:
            try:
                if app.updater is not None and app.updater.running:
                    await app.updater.stop()
                if app.running:
                    await app.stop()  # handles what is already queued, then returns
            finally:
                await runner.cleanup()
                await stop_background(app)
                # A reload still under way would swap content into a bot that no longer serves it.
                for reloading in list(self.reloading):
                    reloading.cancel()
                await asyncio.gather(*self.reloading, return_exceptions=True)
                if self._refreeze is not None:
                    self._refreeze.cancel()
                gc.unfreeze()
                await app.shutdown()
                # shutdown() leaves an application whose initialize() failed as it is: close its
                # connections here, or aiohttp complains of unclosed sessions at exit.
                await app.bot.shutdown()
        log.info("stopped")
