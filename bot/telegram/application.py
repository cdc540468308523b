"""The Telegram adapter assembled: python-telegram-bot's Application, its handlers, menus and background jobs.

What happens to one update, module by module: bot.telegram.handlers decodes it
(bot.telegram.callbacks for a button), applies it to the person's session exactly once
(bot.telegram.transaction, which asks bot.core.moves what it does), renders what to show
(bot.telegram.render, bot.telegram.screens) and sends it (bot.telegram.send). The operators'
commands are in bot.telegram.operator; what the handlers share is in bot.telegram.runtime.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

from telegram import BotCommand, Update
from telegram.constants import FloodLimit
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core.languages import DEFAULT_LANGUAGE
from bot.storage.base import StoreUnavailable
from bot.telegram import handlers, screens
from bot.telegram.http import AiohttpRequest
from bot.telegram.intake import Intake
from bot.telegram.operator import OPERATOR_COMMANDS, on_operator, operator_version
from bot.telegram.outbox import sweep_outbox
from bot.telegram.ratelimit import PerChatRateLimiter
from bot.telegram.runtime import CONTEXT_TYPES, BotApplication, BotData, Context, Runtime, Store
from bot.telegram.send import retrying
from bot.telegram.tolerant import TolerantBot
from bot.telegram.updates import PerChatUpdateProcessor

__all__ = [
    "BotData",
    "Runtime",
    "Store",
    "build_application",
    "handled_updates",
    "operator_version",
    "purge_expired",
    "register_menus",
    "start_background",
    "stop_background",
]

log = logging.getLogger(__name__)
#: Telegram's menu languages; Uzbek Cyrillic readers get the Uzbek (Latin) menu.
MENU_LANGUAGES = ("ru", "uz", "tg", "ky", "en")
#: Any python-telegram-bot Application; the functions below are given build_application's.
AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def build_application(runtime: Runtime, *, rate_limit: bool = True, timeout: float | None = None) -> BotApplication:
    """The python-telegram-bot Application, with every handler, talking to the configured API.

    ``timeout`` bounds each Bot API request (python-telegram-bot's defaults when None).
    """
    settings = runtime.settings
    intake = runtime.intake
    processor = PerChatUpdateProcessor(
        settings.concurrent_chats, on_drop=lambda update: _count_drop(runtime, update), on_queued=_release(intake)
    )
    intake.on_early = lambda n: _count_early(runtime, n)
    runtime.metrics.chats_in_flight.set_function(lambda: processor.chats_in_flight)
    runtime.metrics.set_content(runtime.engine.table.meta.id, runtime.engine.table.meta.version)
    timeouts = (
        {} if timeout is None else {"read_timeout": timeout, "write_timeout": timeout, "connect_timeout": timeout}
    )
    limiter = None
    if rate_limit:
        # One new message every 1/30 s and no burst overall (a burst of 30 lets ~60 out in the first
        # second); about one a second per chat; a 429 pauses only the chat it names.
        # Telegram's limit is per bot: replicas of one bot share it (MESSAGES_PER_SECOND each).
        # 5 % under it: a slot the event loop wakes late for and the next on time put 31 in some
        # second (bench_burst: 32 429s in 1,000 welcomes at exactly 30/s, none at 5 % under).
        overall = 0.95 * min(settings.messages_per_second, FloodLimit.MESSAGES_PER_SECOND)
        limiter = PerChatRateLimiter(overall_per_second=overall, max_retries=3)

    def unreadable() -> None:
        runtime.metrics["updates_unreadable"] += 1

    bot = TolerantBot(
        settings.token,
        base_url=f"{settings.api_base_url}/bot",
        base_file_url=f"{settings.api_base_url}/file/bot",
        # python-telegram-bot's own pool sizes: 256 connections for calls, 1 for getUpdates.
        request=AiohttpRequest(256, **timeouts),
        get_updates_request=AiohttpRequest(1, **timeouts),
        rate_limiter=limiter,
        on_unreadable=unreadable,
        intake=intake,
    )
    built = ApplicationBuilder().context_types(CONTEXT_TYPES).bot(bot).concurrent_updates(processor).build()
    application = cast(BotApplication, built)
    application.bot_data.runtime = runtime
    _add_handlers(application)
    return application


def _count_drop(runtime: Runtime, update: object) -> None:
    """One update dropped because its chat's queue was full (bot.telegram.updates)."""
    runtime.metrics["updates_dropped"] += 1
    if isinstance(update, Update):
        runtime.intake.applied(update.update_id)


def _count_early(runtime: Runtime, n: int) -> None:
    """Updates confirmed to Telegram before they were applied (bot.telegram.intake)."""
    runtime.metrics["updates_confirmed_early"] += n


def _release(intake: Intake) -> Callable[[object], None]:
    """What releases an update queued behind another of its chat to be confirmed (bot.telegram.intake)."""

    def release(update: object) -> None:
        if isinstance(update, Update):
            intake.applied(update.update_id)

    return release


def _add_handlers(application: BotApplication) -> None:
    """Route each kind of update to its handler; every update is also counted, before and after."""
    not_private = (filters.ChatType.GROUPS | filters.ChatType.CHANNEL) & filters.UpdateType.MESSAGES
    application.add_handler(MessageHandler(not_private, handlers.on_not_private))
    application.add_handler(CallbackQueryHandler(handlers.on_button))
    private_message = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", handlers.on_start, filters=private_message))
    application.add_handler(CommandHandler(handlers.SESSION_COMMANDS, handlers.on_command, filters=private_message))
    application.add_handler(CommandHandler(OPERATOR_COMMANDS, on_operator, filters=private_message))
    application.add_handler(MessageHandler(private_message & filters.COMMAND, handlers.on_unknown_command))
    application.add_handler(MessageHandler(private_message & ~filters.COMMAND, handlers.on_other_message))
    application.add_handler(TypeHandler(Update, _begin), group=-1)
    application.add_handler(TypeHandler(Update, _count), group=1)
    application.add_error_handler(handlers.on_error)


# Counting every update ------------------------------------------------------------------------


def _kind(update: Update) -> str:
    """The kind of update, as the updates metric labels it."""
    if update.callback_query is not None:
        return "button"
    message = update.effective_message
    if message is None:
        return "other"
    if message.text and message.text.startswith("/"):
        return "command"
    return "text" if message.text else "media"


async def _begin(update: Update, context: Context) -> None:
    """Before any handler: count the update by kind and note when handling began."""
    rt = context.bot_data.runtime
    rt.started[id(update)] = time.monotonic()
    rt.intake.handling.add(update.update_id)
    rt.metrics.updates.labels(_kind(update)).inc()


async def _count(update: Update, context: Context) -> None:
    """After the handlers, errors included: the update's latency, and one more update handled."""
    rt = context.bot_data.runtime
    began = rt.started.pop(id(update), None)
    if began is not None:
        rt.metrics.latency.observe(time.monotonic() - began)
    rt.intake.handling.discard(update.update_id)
    rt.intake.applied(update.update_id)  # if no transaction did: nothing was stored
    rt.metrics["updates_handled"] += 1


def handled_updates(application: AnyApplication) -> int:
    """How many updates the bot is done with: handled (errors included) or dropped from a full chat queue."""
    metrics = _shared(application).runtime.metrics
    return metrics["updates_handled"] + metrics["updates_dropped"]


def _shared(application: AnyApplication) -> BotData:
    """The application's bot_data, which build_application made a :class:`BotData`."""
    shared = application.bot_data
    assert isinstance(shared, BotData), "not an application from build_application"
    return shared


# Start-up and background jobs -----------------------------------------------------------------


async def register_menus(application: AnyApplication) -> None:
    """Command menu, description and short description in each language; failures only logged."""
    rt = _shared(application).runtime
    bot = application.bot
    for code in (None, *MENU_LANGUAGES):
        t = rt.t(code or DEFAULT_LANGUAGE)
        commands = [BotCommand(name, t.gettext(description)) for name, description in screens.COMMANDS]
        calls: dict[str, Callable[[], Awaitable[bool]]] = {
            "commands": lambda: bot.set_my_commands(commands, language_code=code),  # noqa: B023
            "description": lambda: bot.set_my_description(t.gettext(screens.DESCRIPTION), language_code=code),  # noqa: B023
            "short description": lambda: bot.set_my_short_description(
                t.gettext(screens.SHORT_DESCRIPTION),  # noqa: B023
                language_code=code,  # noqa: B023
            ),
        }
        for what, call in calls.items():
            try:
                await retrying(call)
            except TelegramError as exc:
                log.warning(
                    "could not register the %s for language %s: %s", what, code or "default", type(exc).__name__
                )


async def purge_expired(runtime: Runtime, every: float = 3600) -> None:
    """Forget expired sessions every ``every`` seconds, so none outlives its retention."""
    while True:
        await asyncio.sleep(every)
        try:
            removed = await runtime.store.purge()
        except StoreUnavailable as exc:
            log.warning("could not purge expired sessions: %s", exc)
            continue
        if removed:
            log.info("forgot %d expired session(s)", removed)


async def start_background(application: AnyApplication) -> None:
    """Register the menus, start purging expired sessions and sending owed replies."""
    await register_menus(application)
    shared = _shared(application)
    shared.tasks = [
        asyncio.create_task(purge_expired(shared.runtime), name="purge expired sessions"),
        asyncio.create_task(sweep_outbox(cast(BotApplication, application)), name="send owed replies"),
    ]


async def stop_background(application: AnyApplication) -> None:
    """Stop the background tasks and close the store."""
    shared = _shared(application)
    for task in shared.tasks:
        task.cancel()
    await asyncio.gather(*shared.tasks, return_exceptions=True)
    shared.tasks = []
    await shared.runtime.store.close()
