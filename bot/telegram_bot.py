"""The Telegram adapter: python-telegram-bot handlers around the engine, thin and stateless.

The engine's :class:`~bot.engine.Session` is the only conversation state; it lives in a
:class:`~bot.store.SessionStore` under a keyed hash of the user id. Handlers load it, apply
one move, save it and show the result. Nothing here logs a user id, a name, an answer,
message text or the token.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from html import escape
from typing import Any, TypeVar
from urllib.parse import quote

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
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

from bot import screens
from bot.callbacks import INVALID, decode, version_tag
from bot.catalogs import Catalogs
from bot.engine import Decision, Engine, EngineError, Question, Session
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, language_for
from bot.present import outcome_view
from bot.screens import Screen
from bot.settings import Settings
from bot.store import SessionStore, person_key

__all__ = ["Runtime", "build_application", "handled_updates"]

# Opt in to python-telegram-bot's coming behaviour (durations as timedelta), which _retrying
# already handles; without it, every flood-limit error also raises a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")

log = logging.getLogger(__name__)
T = TypeVar("T")
PRIVATE = filters.ChatType.PRIVATE
#: Telegram's menu languages; Uzbek Cyrillic readers get the Uzbek (Latin) menu.
MENU_LANGUAGES = ("ru", "uz", "tg", "ky", "en")


@dataclass
class Runtime:
    """What the handlers use. Replaced as a whole when content is reloaded."""

    engine: Engine
    catalogs: Catalogs
    store: SessionStore
    settings: Settings
    metrics: Counter[str] = field(default_factory=Counter)

    @property
    def version(self) -> str:
        return version_tag(self.engine.table.version_tag)

    def t(self, lang: str) -> Translator:
        return self.catalogs.translator(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def _runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    runtime: Runtime = context.application.bot_data["runtime"]
    return runtime


def handled_updates(application: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """How many updates the bot has finished handling (each counted once, errors included)."""
    runtime: Runtime = application.bot_data["runtime"]
    return runtime.metrics["updates_handled"]


# Talking to Telegram ------------------------------------------------------------------------


async def _retrying(call: Callable[[], Awaitable[T]], attempts: int = 4) -> T:
    """Retry a Bot API call on network trouble and flood limits; never on a bad request."""
    for attempt in range(attempts):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == attempts - 1:
                raise
            delay = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
            log.warning("Telegram asked to slow down; retrying in %.1f s", delay)
            await asyncio.sleep(delay)
        except BadRequest:
            raise
        except NetworkError as exc:
            if attempt == attempts - 1:
                raise
            log.warning("Telegram call failed (%s); retrying", type(exc).__name__)
            await asyncio.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


def _markup(screen: Screen) -> InlineKeyboardMarkup | None:
    if not screen.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.data)
                for b in row
            ]
            for row in screen.buttons
        ]
    )


async def _send(context: ContextTypes.DEFAULT_TYPE, chat_id: int, screen: Screen) -> Message:
    return await _retrying(
        lambda: context.bot.send_message(
            chat_id, screen.text, parse_mode=ParseMode.HTML, reply_markup=_markup(screen), disable_web_page_preview=True
        )
    )


async def _edit(context: ContextTypes.DEFAULT_TYPE, message: Message, screen: Screen) -> None:
    """Show ``screen`` in place of ``message``; send it anew if the message cannot be edited."""
    try:
        await _retrying(
            lambda: context.bot.edit_message_text(
                screen.text,
                chat_id=message.chat_id,
                message_id=message.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=_markup(screen),
                disable_web_page_preview=True,
            )
        )
    except BadRequest as exc:
        text = str(exc).lower()
        if "not modified" in text:
            return
        log.info("message could not be edited (%s); sending it anew", type(exc).__name__)
        await _send(context, message.chat_id, screen)


# Showing the conversation -------------------------------------------------------------------


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


async def _show(context: ContextTypes.DEFAULT_TYPE, chat_id: int, rt: Runtime, session: Session) -> None:
    for screen in _screens_for(context, rt, session):
        await _send(context, chat_id, screen)


async def _show_in_place(context: ContextTypes.DEFAULT_TYPE, message: Message, rt: Runtime, session: Session) -> None:
    """Edit the pressed message into the current question; an outcome gets new messages."""
    step = rt.engine.step(session)
    if isinstance(step, Question):
        await _edit(context, message, _screens_for(context, rt, session)[0])
        return
    await _edit(context, message, screens.answers_screen(rt.engine.table, session, rt.t(session.lang)))
    await _show(context, message.chat_id, rt, session)


# Sessions -----------------------------------------------------------------------------------


def _load(rt: Runtime, update: Update) -> tuple[str, Session, bool]:
    """The person's key, session (resumed under the current table) and whether it is new."""
    user = update.effective_user
    assert user is not None
    key = person_key(rt.settings.session_secret, user.id)
    stored = rt.store.get(key)
    if stored is None:
        return key, rt.engine.new_session(language_for(user.language_code)), True
    if stored.version != rt.engine.table.version_tag:
        stored = rt.engine.replay(stored)
    return key, stored, False


# Handlers -----------------------------------------------------------------------------------


async def _on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = _runtime(context)
    key, session, _ = _load(rt, update)
    payload = context.args[0] if context.args else ""
    lang = next((code for code in LANGUAGES if code.lower() == payload.lower()), session.lang)
    session = rt.engine.restart(session.in_language(lang))
    rt.store.put(key, session)
    rt.metrics["conversations_started"] += 1
    assert update.effective_chat is not None
    await _send(context, update.effective_chat.id, screens.welcome_screen(rt.t(lang), rt.version))


async def _on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/back, /restart, /language, /help, /about, /privacy, /forget."""
    rt = _runtime(context)
    assert update.effective_message is not None
    assert update.effective_chat is not None
    command = (update.effective_message.text or "").split()[0].lstrip("/").split("@")[0].lower()
    key, session, new = _load(rt, update)
    t = rt.t(session.lang)
    chat_id = update.effective_chat.id
    if command == "forget":
        rt.store.delete(key)
        await _send(context, chat_id, Screen(escape(t.gettext(screens.FORGOTTEN))))
        return
    if command == "help":
        await _send(context, chat_id, screens.help_screen(t))
    elif command == "about":
        await _send(context, chat_id, screens.about_screen(rt.engine.table, t))
    elif command == "privacy":
        await _send(context, chat_id, screens.privacy_screen(t, rt.settings.retention_days))
    elif command == "language":
        await _send(context, chat_id, screens.language_screen(t, rt.version))
    elif command in {"back", "restart"}:
        session = rt.engine.back(session) if command == "back" else rt.engine.restart(session)
        await _show(context, chat_id, rt, session)
    if not new or command in {"back", "restart", "language"}:
        rt.store.put(key, session)


async def _on_unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rt = _runtime(context)
    _, session, _ = _load(rt, update)
    assert update.effective_chat is not None
    await _send(context, update.effective_chat.id, Screen(escape(rt.t(session.lang).gettext(screens.UNKNOWN_COMMAND))))


async def _on_other_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text, stickers, photos, voice… where a button is expected: a hint and the current screen."""
    rt = _runtime(context)
    key, session, new = _load(rt, update)
    assert update.effective_chat is not None
    chat_id = update.effective_chat.id
    t = rt.t(session.lang)
    if new:
        rt.store.put(key, session)
        await _send(context, chat_id, screens.welcome_screen(t, rt.version))
        return
    at_outcome = isinstance(rt.engine.step(session), Decision)
    await _send(context, chat_id, Screen(escape(t.gettext(screens.AT_OUTCOME if at_outcome else screens.FREE_TEXT))))
    if not at_outcome:
        await _show(context, chat_id, rt, session)


async def _on_not_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Groups and channels: point to the private chat; ask and store nothing."""
    rt = _runtime(context)
    chat = update.effective_chat
    assert chat is not None
    user = update.effective_user
    t = rt.t(language_for(user.language_code if user else None))
    link = f"https://t.me/{context.bot.username}"
    if update.callback_query:
        await update.callback_query.answer(t.gettext(screens.PRIVATE_ONLY).format(link=link))
        return
    if chat.type == ChatType.CHANNEL:
        return  # a bot cannot usefully reply in a channel it was added to; nothing is stored
    await _send(context, chat.id, Screen(escape(t.gettext(screens.PRIVATE_ONLY).format(link=link))))


async def _on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every button press; the callback query is always answered, exactly once."""
    query = update.callback_query
    assert query is not None
    rt = _runtime(context)
    if update.effective_chat is not None and update.effective_chat.type != ChatType.PRIVATE:
        await _on_not_private(update, context)
        return
    notice = ""
    try:
        notice = await _press(update, context, rt)
    finally:
        await _retrying(lambda: query.answer(notice or None))


async def _press(update: Update, context: ContextTypes.DEFAULT_TYPE, rt: Runtime) -> str:
    """Apply one button press; return the notice to show, if any."""
    query = update.callback_query
    assert query is not None
    message = query.message if isinstance(query.message, Message) else None
    key, session, _ = _load(rt, update)
    t = rt.t(session.lang)
    pressed = decode(query.data)
    chat_id = message.chat_id if message else (update.effective_chat.id if update.effective_chat else None)
    if chat_id is None:
        return ""
    if pressed is INVALID:
        log.info("rejected a malformed button")
        rt.metrics["buttons_rejected"] += 1
        rt.store.put(key, session)
        await _show(context, chat_id, rt, session)
        return t.gettext(screens.INVALID_BUTTON)
    # Start over and the language buttons work whatever table version they were made under.
    if pressed.version != rt.version and pressed.kind in {"a", "b"}:
        rt.metrics["buttons_stale"] += 1
        rt.store.put(key, session)
        await _show(context, chat_id, rt, session)
        return t.gettext(screens.STALE_BUTTON)
    at_outcome = isinstance(rt.engine.step(session), Decision)
    if pressed.kind == "a":
        fact_id, option_id = pressed.args
        try:
            session = rt.engine.answer(session, fact_id, option_id)
        except EngineError:
            rt.metrics["buttons_stale"] += 1
            await _show(context, chat_id, rt, session)
            return t.gettext(screens.STALE_BUTTON)
        rt.store.put(key, session)
        if isinstance(rt.engine.step(session), Decision):
            rt.metrics["conversations_finished"] += 1
        if message:
            await _show_in_place(context, message, rt, session)
        else:
            await _show(context, chat_id, rt, session)
        return ""
    if pressed.kind in {"b", "r", "s"}:
        session = rt.engine.back(session) if pressed.kind == "b" else rt.engine.restart(session)
    elif pressed.kind == "l":
        session = session.in_language(pressed.args[0]) if pressed.args[0] in LANGUAGES else session
    rt.store.put(key, session)
    if pressed.kind == "m":
        screen = screens.language_screen(rt.t(session.lang), rt.version)
        if message and not at_outcome:
            await _edit(context, message, screen)
        else:
            await _send(context, chat_id, screen)
        return ""
    if pressed.kind == "l" and message and not session.answers and _is_welcome(message):
        await _edit(context, message, screens.welcome_screen(rt.t(session.lang), rt.version))
        return ""
    if message and not at_outcome:
        await _show_in_place(context, message, rt, session)
    else:
        await _show(context, chat_id, rt, session)
    return ""


def _is_welcome(message: Message) -> bool:
    """Whether the pressed message is the welcome (it alone has a Start button)."""
    markup = message.reply_markup
    if markup is None:
        return False
    return any(
        isinstance(b.callback_data, str) and b.callback_data.startswith("s:")
        for row in markup.inline_keyboard
        for b in row
    )


async def _count(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    _runtime(context).metrics["updates_handled"] += 1


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the kind of failure, never its content, and tell the person what to do."""
    error = context.error
    kind = type(error).__name__ if error else "unknown"
    log.error(
        "error while handling an update: %s", kind, exc_info=error if not isinstance(error, TelegramError) else None
    )
    rt = _runtime(context)
    rt.metrics[f"errors_{kind}"] += 1
    if (
        not isinstance(update, Update)
        or update.effective_chat is None
        or update.effective_chat.type != ChatType.PRIVATE
    ):
        return
    user = update.effective_user
    t = rt.t(language_for(user.language_code if user else None))
    try:
        await _send(context, update.effective_chat.id, Screen(escape(t.gettext(screens.SOMETHING_WRONG))))
    except (TelegramError, Forbidden) as exc:
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
                await _retrying(call)
            except TelegramError as exc:
                log.warning(
                    "could not register the %s for language %s: %s", what, code or "default", type(exc).__name__
                )


async def purge_expired(runtime: Runtime, every: float = 3600) -> None:
    """Forget expired sessions every ``every`` seconds, so none outlives its retention."""
    while True:
        await asyncio.sleep(every)
        removed = runtime.store.purge()
        if removed:
            log.info("forgot %d expired session(s)", removed)


async def _on_startup(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await register_menus(application)
    rt: Runtime = application.bot_data["runtime"]
    application.bot_data["purge_task"] = asyncio.create_task(purge_expired(rt), name="purge expired sessions")


async def _on_stop(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    task = application.bot_data.pop("purge_task", None)
    if task is not None:
        task.cancel()


def build_application(
    runtime: Runtime, *, rate_limit: bool = True, timeout: float | None = None
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The python-telegram-bot Application, with every handler, talking to the configured API.

    ``timeout`` bounds each Bot API request (python-telegram-bot's defaults when None).
    """
    settings = runtime.settings
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .base_url(f"{settings.api_base_url}/bot")
        .base_file_url(f"{settings.api_base_url}/file/bot")
        .post_init(_on_startup)
        .post_stop(_on_stop)
    )
    if timeout is not None:
        builder = builder.read_timeout(timeout).write_timeout(timeout).connect_timeout(timeout)
    if rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))  # type: ignore[arg-type]
    application = builder.build()
    application.bot_data["runtime"] = runtime
    not_private = (filters.ChatType.GROUPS | filters.ChatType.CHANNEL) & filters.UpdateType.MESSAGES
    application.add_handler(MessageHandler(not_private, _on_not_private))
    application.add_handler(CallbackQueryHandler(_on_button))
    private_message = PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(CommandHandler("start", _on_start, filters=private_message))
    commands = ["back", "restart", "language", "help", "about", "privacy", "forget"]
    application.add_handler(CommandHandler(commands, _on_command, filters=private_message))
    application.add_handler(MessageHandler(private_message & filters.COMMAND, _on_unknown_command))
    application.add_handler(MessageHandler(private_message & ~filters.COMMAND, _on_other_message))
    application.add_handler(TypeHandler(Update, _count), group=1)
    application.add_error_handler(_on_error)
    return application
