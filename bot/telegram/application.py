"""The Telegram adapter: python-telegram-bot handlers around the engine, thin and stateless.

The engine's :class:`~bot.core.engine.Session` is the only conversation state. Each update is applied
as a small transaction: read the person's record (under a keyed hash of the user id), skip the
update if it was already applied, decide the move (:mod:`bot.core.moves`, pure), save it with
compare-and-set — deciding again if another process wrote first — and only then talk to
Telegram. Nothing here logs a user id, a name, an answer, message text or the token.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any, Protocol
from urllib.parse import quote

from telegram import BotCommand, Message, Update
from telegram.constants import ChatType, FloodLimit
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.core import moves
from bot.core.engine import Decision, Engine, Question, Session
from bot.core.languages import DEFAULT_LANGUAGE, LANGUAGES, Translator, language_for
from bot.core.moves import Plan, Show, plan_command, plan_press, plan_start, plan_text
from bot.core.present import outcome_view
from bot.i18n.catalogs import Catalogs
from bot.metrics import Metrics
from bot.settings import Settings
from bot.storage.base import Conflict, Record, SessionStore, StatsStore, StoreUnavailable, person_key
from bot.telegram import screens
from bot.telegram.callbacks import decode, version_tag
from bot.telegram.http import AiohttpRequest
from bot.telegram.screens import Screen
from bot.telegram.send import edit, retrying, send
from bot.telegram.updates import PerChatUpdateProcessor

__all__ = [
    "Runtime",
    "build_application",
    "handled_updates",
    "purge_expired",
    "register_menus",
    "start_background",
    "stop_background",
]

# Opt in to python-telegram-bot's coming behaviour (durations as timedelta), which retrying()
# already handles; without it, every flood-limit error also raises a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")

log = logging.getLogger(__name__)
PRIVATE = filters.ChatType.PRIVATE
#: Telegram's menu languages; Uzbek Cyrillic readers get the Uzbek (Latin) menu.
MENU_LANGUAGES = ("ru", "uz", "tg", "ky", "en")
#: Commands that show something without needing the person's session.
READ_ONLY_COMMANDS = frozenset({"help", "about", "privacy"})
#: How often a transaction is decided again when other writers keep winning.
ATTEMPTS = 5


class Store(SessionStore, StatsStore, Protocol):
    """A backend that keeps both sessions and anonymous counters."""


@dataclass
class Runtime:
    """What the handlers use. Replaced as a whole when content is reloaded."""

    engine: Engine
    catalogs: Catalogs
    store: Store
    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    started: dict[int, float] = field(default_factory=dict)  # id(update) -> when handling began

    @property
    def version(self) -> str:
        return version_tag(self.engine.table.version_tag)

    def t(self, lang: str) -> Translator:
        return self.catalogs.translator(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def _runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    """A snapshot of the runtime: one update is handled with one rule table and one set of catalogs,
    even if a reload swaps them meanwhile (store, settings and metrics are shared)."""
    runtime: Runtime = context.application.bot_data["runtime"]
    return dataclasses.replace(runtime)


def handled_updates(application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """How many updates the bot has finished handling (each counted once, errors included)."""
    runtime: Runtime = application.bot_data["runtime"]
    return runtime.metrics["updates_handled"]


# Transactions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Applied:
    """A plan that was saved (or needed no saving), with the session it started from."""

    plan: Plan
    before: Session


async def _transact(rt: Runtime, update: Update, decide: Callable[[Session, bool], Plan]) -> _Applied | None:
    """Apply one update to the person's record exactly once; None if it was applied before.

    Raises:
        StoreUnavailable: the store cannot be used, or other writers kept winning.
    """
    user = update.effective_user
    assert user is not None
    key = person_key(rt.settings.session_secret, user.id)
    for _ in range(ATTEMPTS):
        record = await rt.store.get(key)
        if record is not None and record.applied(update.update_id):
            rt.metrics["updates_duplicate"] += 1
            return None
        if record is None:
            record = Record(rt.engine.new_session(language_for(user.language_code)))
        session = record.session
        if session.version != rt.engine.table.version_tag:
            session = rt.engine.replay(session)  # saved under an older rule table
        plan = decide(session, record.version == 0)
        if plan.forget:
            await rt.store.delete(key)
            return _Applied(plan, session)
        if not plan.save:
            return _Applied(plan, session)
        try:
            await rt.store.put(key, record.after(plan.session, update.update_id, time.time()), expected=record.version)
        except Conflict:
            rt.metrics["store_conflicts"] += 1
            continue
        await _count_progress(rt, session, plan.session)
        return _Applied(plan, session)
    raise StoreUnavailable("other writers kept changing this record")


async def _count_progress(rt: Runtime, before: Session, after: Session) -> None:
    """Anonymous statistics: conversations started and finished, per language, outcome, verdict."""
    day = datetime.now(UTC).date().isoformat()
    if before.answers and not after.answers:
        return
    if not before.answers and after.answers:
        await rt.store.count(day, "started", after.lang)
    step = rt.engine.step(after)
    if isinstance(step, Decision) and not isinstance(rt.engine.step(before), Decision):
        await rt.store.count(day, "finished", after.lang)
        rt.metrics.outcomes.labels(after.lang, step.outcome.verdict).inc()
        await rt.store.count(day, "outcome", step.outcome.id)
        await rt.store.count(day, "verdict", step.outcome.verdict)


# Showing ------------------------------------------------------------------------------------


def _share_url(context: ContextTypes.DEFAULT_TYPE, t: Translator) -> str:
    bot_link = f"https://t.me/{context.bot.username}"
    return f"https://t.me/share/url?url={quote(bot_link)}&text={quote(t.gettext(screens.SHARE_TEXT))}"


def _screens_for(context: ContextTypes.DEFAULT_TYPE, rt: Runtime, session: Session) -> list[Screen]:
    """The screens that show where the person is: the current question, or the outcome."""
    t = rt.t(session.lang)
    step = rt.engine.step(session)
    if isinstance(step, Question):
        return [screens.question_screen(step, t, rt.version, can_go_back=bool(session.answers))]
    view = outcome_view(rt.engine.table, step, session, t)
    return screens.outcome_screens(view, t, rt.version, _share_url(context, t))


def _text(message: str) -> Screen:
    return Screen(escape(message))


async def _show(
    context: ContextTypes.DEFAULT_TYPE, rt: Runtime, chat_id: int, applied: _Applied, message: Message | None = None
) -> None:
    """Show what the plan says: in place of the pressed ``message`` where it says so."""
    plan, session = applied.plan, applied.plan.session
    t = rt.t(session.lang)
    show = plan.show
    if message is None:
        show = {Show.IN_PLACE: Show.CURRENT, Show.MENU_IN_PLACE: Show.MENU, Show.WELCOME_IN_PLACE: Show.WELCOME}.get(
            show, show
        )
    if show is Show.CURRENT:
        for screen in _screens_for(context, rt, session):
            await send(context, chat_id, screen)
    elif show is Show.IN_PLACE:
        assert message is not None
        if isinstance(rt.engine.step(session), Question):
            await edit(context, message, _screens_for(context, rt, session)[0])
        else:
            await edit(context, message, screens.answers_screen(rt.engine.table, session, t))
            for screen in _screens_for(context, rt, session):
                await send(context, chat_id, screen)
    elif show in {Show.WELCOME, Show.WELCOME_IN_PLACE}:
        screen = screens.welcome_screen(t, rt.version)
        await (
            edit(context, message, screen)
            if show is Show.WELCOME_IN_PLACE and message
            else send(context, chat_id, screen)
        )
    elif show in {Show.MENU, Show.MENU_IN_PLACE}:
        screen = screens.language_screen(t, rt.version)
        await (
            edit(context, message, screen) if show is Show.MENU_IN_PLACE and message else send(context, chat_id, screen)
        )
    elif show is Show.HELP:
        await send(context, chat_id, screens.help_screen(t))
    elif show is Show.ABOUT:
        await send(context, chat_id, screens.about_screen(rt.engine.table, t))
    elif show is Show.PRIVACY:
        await send(context, chat_id, screens.privacy_screen(t, rt.settings.retention_days))
    elif show is Show.FORGOTTEN:
        await send(context, chat_id, _text(t.gettext(screens.FORGOTTEN)))


# Handlers -----------------------------------------------------------------------------------

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def _store_unavailable(rt: Runtime, exc: StoreUnavailable) -> None:
    rt.metrics["store_unavailable"] += 1
    log.warning("session store unavailable: %s", exc)


def _guarded(handler: Handler) -> Handler:
    """If the store is unavailable, say so in the person's language; the update can be retried."""

    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await handler(update, context)
        except StoreUnavailable as exc:
            rt = _runtime(context)
            _store_unavailable(rt, exc)
            user = update.effective_user
            notice = rt.t(language_for(user.language_code if user else None)).gettext(screens.STORE_UNAVAILABLE)
            if update.effective_chat is not None:
                await send(context, update.effective_chat.id, _text(notice))

    return wrapper


@_guarded
async def _on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = _runtime(context)
    payload = context.args[0] if context.args else ""
    applied = await _transact(rt, update, lambda session, _new: plan_start(rt.engine, session, payload))
    if applied is not None and update.effective_chat is not None:
        await _show(context, rt, update.effective_chat.id, applied)


@_guarded
async def _on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/back, /restart, /language, /help, /about, /privacy, /forget."""
    rt = _runtime(context)
    assert update.effective_message is not None
    command = (update.effective_message.text or "").split()[0].lstrip("/").split("@")[0].lower()
    try:
        applied = await _transact(rt, update, lambda session, new: plan_command(rt.engine, session, command, new=new))
    except StoreUnavailable as exc:
        if command not in READ_ONLY_COMMANDS:
            raise
        # Help, about and privacy need no memory: show them in the Telegram app's language.
        _store_unavailable(rt, exc)
        user = update.effective_user
        session = rt.engine.new_session(language_for(user.language_code if user else None))
        applied = _Applied(plan_command(rt.engine, session, command, new=True), session)
    if applied is not None and update.effective_chat is not None:
        await _show(context, rt, update.effective_chat.id, applied)


@_guarded
async def _on_operator(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats, /reload, /version for the configured operators; to anyone else, an unknown command."""
    rt = _runtime(context)
    user = update.effective_user
    if user is None or user.id not in rt.settings.operator_ids:
        await _on_unknown_command(update, context)
        return
    assert update.effective_message is not None
    assert update.effective_chat is not None
    command = (update.effective_message.text or "").split()[0].lstrip("/").split("@")[0].lower()
    if command == "stats":
        lines = [f"{day} {name} {label or '-'}: {count}" for day, name, label, count in await rt.store.totals()]
        text = "\n".join(
            ["Anonymous statistics (day, counter, label: count):", *lines] if lines else ["No statistics yet."]
        )
    elif command == "version":
        text = operator_version(rt)
    else:
        reload: Callable[[], Awaitable[list[str]]] | None = context.application.bot_data.get("reload")
        problems = await reload() if reload else ["reload works only in a bot started with `maslahat run`"]
        current = context.application.bot_data["runtime"].engine.table.version_tag
        text = (
            f"Reloaded: rules {current}, catalogs checked."
            if not problems
            else "\n".join([f"Reload refused; still running {current}. Problems:", *problems])
        )
    for chunk in screens.split_html(escape(text).split("\n\n")):
        await send(context, update.effective_chat.id, Screen(chunk))


def operator_version(rt: Runtime) -> str:
    """Code version, rule table version and date, and how complete each catalog is."""
    from bot import __version__

    meta = rt.engine.table.meta
    lines = [f"Maslahat {__version__}", f"Rules: {meta.id} {meta.version}, checked {meta.checked.isoformat()}"]
    for lang, catalog in sorted(rt.catalogs.catalogs.items()):
        translated = sum(1 for m in catalog if m.id and m.string and not m.fuzzy)
        total = sum(1 for m in catalog if m.id)
        lines.append(f"Catalog {lang}: {translated}/{total} translated")
    return "\n".join(lines)


async def _on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = _runtime(context)
    user = update.effective_user
    assert update.effective_chat is not None
    t = rt.t(language_for(user.language_code if user else None))
    await send(context, update.effective_chat.id, _text(t.gettext(screens.UNKNOWN_COMMAND)))


@_guarded
async def _on_other_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text, stickers, photos, voice… where a button is expected: a hint and the current screen."""
    rt = _runtime(context)
    applied = await _transact(rt, update, lambda session, new: plan_text(rt.engine, session, new=new))
    if applied is not None and update.effective_chat is not None:
        if applied.plan.notice:
            t = rt.t(applied.plan.session.lang)
            await send(context, update.effective_chat.id, _text(t.gettext(applied.plan.notice)))
        await _show(context, rt, update.effective_chat.id, applied)


async def _on_not_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Groups and channels: point to the private chat; ask and store nothing."""
    rt = _runtime(context)
    chat = update.effective_chat
    assert chat is not None
    user = update.effective_user
    t = rt.t(language_for(user.language_code if user else None))
    notice = t.gettext(screens.PRIVATE_ONLY).format(link=f"https://t.me/{context.bot.username}")
    if update.callback_query is not None:
        await retrying(lambda: update.callback_query.answer(notice))  # type: ignore[union-attr]
    elif chat.type != ChatType.CHANNEL:  # a bot cannot usefully reply in a channel; nothing is stored
        await send(context, chat.id, _text(notice))


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every button press; the callback query is always answered, exactly once."""
    query = update.callback_query
    assert query is not None
    if update.effective_chat is not None and update.effective_chat.type != ChatType.PRIVATE:
        await _on_not_private(update, context)
        return
    rt = _runtime(context)
    message = query.message if isinstance(query.message, Message) else None
    pressed = decode(query.data)
    if pressed.kind == "invalid":
        log.info("rejected a malformed button")
        rt.metrics["buttons_rejected"] += 1
    notice = ""
    duplicate = False
    try:
        applied = await _transact(
            rt,
            update,
            lambda session, _new: plan_press(rt.engine, session, pressed, rt.version, on_welcome=_is_welcome(message)),
        )
        if applied is None:
            duplicate = True  # this press was handled and answered already
            return
        notice = rt.t(applied.plan.session.lang).gettext(applied.plan.notice) if applied.plan.notice else ""
        if applied.plan.notice == moves.STALE_BUTTON:
            rt.metrics["buttons_stale"] += 1
        chat_id = message.chat_id if message else (update.effective_chat.id if update.effective_chat else None)
        if chat_id is not None:
            # After a notice (stale or broken button) the current screen comes as a new message.
            await _show(context, rt, chat_id, applied, None if notice else message)
    except StoreUnavailable as exc:
        _store_unavailable(rt, exc)
        user = update.effective_user
        notice = rt.t(language_for(user.language_code if user else None)).gettext(screens.STORE_UNAVAILABLE)
    finally:
        if not duplicate:
            await retrying(lambda: query.answer(notice or None))


def _is_welcome(message: Message | None) -> bool:
    """Whether the pressed message is the welcome (it alone has a Start button)."""
    if message is None or message.reply_markup is None:
        return False
    return any(
        isinstance(b.callback_data, str) and b.callback_data.startswith("s:")
        for row in message.reply_markup.inline_keyboard
        for b in row
    )


def _kind(update: Update) -> str:
    if update.callback_query is not None:
        return "button"
    message = update.effective_message
    if message is None:
        return "other"
    if message.text and message.text.startswith("/"):
        return "command"
    return "text" if message.text else "media"


async def _begin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt: Runtime = context.application.bot_data["runtime"]
    rt.started[id(update)] = time.monotonic()
    rt.metrics.updates.labels(_kind(update)).inc()


async def _count(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt: Runtime = context.application.bot_data["runtime"]
    began = rt.started.pop(id(update), None)
    if began is not None:
        rt.metrics.latency.observe(time.monotonic() - began)
    rt.metrics["updates_handled"] += 1


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the kind of failure, never its content, and tell the person what to do."""
    error = context.error
    kind = type(error).__name__ if error else "unknown"
    log.error(
        "error while handling an update: %s", kind, exc_info=error if not isinstance(error, TelegramError) else None
    )
    rt = _runtime(context)
    rt.metrics.errors.labels(kind).inc()
    if (
        not isinstance(update, Update)
        or update.effective_chat is None
        or update.effective_chat.type != ChatType.PRIVATE
    ):
        return
    user = update.effective_user
    t = rt.t(language_for(user.language_code if user else None))
    try:
        await send(context, update.effective_chat.id, _text(t.gettext(screens.SOMETHING_WRONG)))
    except TelegramError as exc:
        log.warning("could not tell the person about the error: %s", type(exc).__name__)


# Start-up -----------------------------------------------------------------------------------


async def register_menus(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Command menu, description and short description in each language; failures only logged."""
    rt: Runtime = application.bot_data["runtime"]
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


async def start_background(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Register the menus, start purging expired sessions."""
    await register_menus(application)
    rt: Runtime = application.bot_data["runtime"]
    application.bot_data["purge_task"] = asyncio.create_task(purge_expired(rt), name="purge expired sessions")


async def stop_background(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop purging and close the store."""
    task = application.bot_data.pop("purge_task", None)
    if task is not None:
        task.cancel()
    rt: Runtime = application.bot_data["runtime"]
    await rt.store.close()


def build_application(
    runtime: Runtime, *, rate_limit: bool = True, timeout: float | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The python-telegram-bot Application, with every handler, talking to the configured API.

    ``timeout`` bounds each Bot API request (python-telegram-bot's defaults when None).
    """
    settings = runtime.settings
    processor = PerChatUpdateProcessor(settings.concurrent_chats)
    runtime.metrics.chats_in_flight.set_function(lambda: processor.chats_in_flight)
    runtime.metrics.set_content(runtime.engine.table.meta.id, runtime.engine.table.meta.version)
    timeouts = (
        {} if timeout is None else {"read_timeout": timeout, "write_timeout": timeout, "connect_timeout": timeout}
    )
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(f"{settings.api_base_url}/bot")
        .base_file_url(f"{settings.api_base_url}/file/bot")
        # python-telegram-bot's own pool sizes: 256 connections for calls, 1 for getUpdates.
        .request(AiohttpRequest(256, **timeouts))
        .get_updates_request(AiohttpRequest(1, **timeouts))
        .concurrent_updates(processor)
    )
    if rate_limit:
        # One message every 1/30 s and no burst: the default bucket (a burst of 30, then 30 a second)
        # lets ~60 out in the first second, and each 429 then halts every chat for retry_after + 0.1 s.
        # Telegram's limit is per bot: replicas of one bot share it (MESSAGES_PER_SECOND each).
        per_message = 1 / min(settings.messages_per_second, FloodLimit.MESSAGES_PER_SECOND)
        limiter = AIORateLimiter(overall_max_rate=1, overall_time_period=per_message, max_retries=3)
        builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
    application = builder.build()
    application.bot_data["runtime"] = runtime
    application.bot_data["on_retry"] = lambda reason: runtime.metrics.retries.labels(reason).inc()
    not_private = (filters.ChatType.GROUPS | filters.ChatType.CHANNEL) & filters.UpdateType.MESSAGES
    application.add_handler(MessageHandler(not_private, _on_not_private))
    application.add_handler(CallbackQueryHandler(_on_button))
    private_message = PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", _on_start, filters=private_message))
    commands = ["back", "restart", "language", "help", "about", "privacy", "forget"]
    application.add_handler(CommandHandler(commands, _on_command, filters=private_message))
    application.add_handler(CommandHandler(["stats", "reload", "version"], _on_operator, filters=private_message))
    application.add_handler(MessageHandler(private_message & filters.COMMAND, _on_unknown_command))
    application.add_handler(MessageHandler(private_message & ~filters.COMMAND, _on_other_message))
    application.add_handler(TypeHandler(Update, _begin), group=-1)
    application.add_handler(TypeHandler(Update, _count), group=1)
    application.add_error_handler(_on_error)
    return application
