"""The handlers: each reads an update top to bottom as decode → transaction → render → send.

Every handler is given a :class:`Turn`, made once per update: the runtime as it was when the update
came and the person's language. The session is the only conversation state (bot.telegram.transaction
keeps it exactly once); nothing here logs a user id, a name, an answer, message text or the token.
A little over 300 lines, kept whole: the handlers and the Turn they share read as one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.core.languages import language_for
from bot.core.moves import INVALID, STALE_BUTTON, Press, plan_command, plan_press, plan_start, plan_text
from bot.storage.base import StoreUnavailable
from bot.telegram import screens
from bot.telegram.callbacks import decode
from bot.telegram.render import plain
from bot.telegram.reply import Shown, reply, settle
from bot.telegram.runtime import Context, Runtime, snapshot
from bot.telegram.send import retrying, send
from bot.telegram.transaction import Applied, Decide, ReplyTo, transact

__all__ = [
    "SESSION_COMMANDS",
    "Turn",
    "app_language",
    "handler",
    "on_button",
    "on_command",
    "on_error",
    "on_not_private",
    "on_other_message",
    "on_start",
    "on_unknown_command",
]

# The adapter's handlers logged as bot.telegram.application before it was split into modules, and
# operators' log filters still name that logger.
log = logging.getLogger("bot.telegram.application")

#: The commands on_command handles (besides /start, and the operators' commands).
SESSION_COMMANDS = ("back", "restart", "language", "help", "about", "privacy", "forget")
#: Commands that show something without needing the person's session.
READ_ONLY_COMMANDS = frozenset({"help", "about", "privacy"})

#: A handler as python-telegram-bot calls it.
UpdateCallback = Callable[[Update, Context], Coroutine[Any, Any, None]]


def app_language(update: object) -> str:
    """The bot's language nearest the person's Telegram app: for someone without a session, and notices."""
    user = update.effective_user if isinstance(update, Update) else None
    return language_for(user.language_code if user else None)


@dataclass(frozen=True)
class Turn:
    """One update being handled: the update, the runtime as it was when it came, and the person's language."""

    update: Update
    context: Context
    rt: Runtime
    lang: str  # app_language(update): resolved once, for a new session and for notices outside one

    @classmethod
    def of(cls, update: Update, context: Context) -> Turn:
        """The turn of ``update``, with a snapshot of the runtime (see bot.telegram.runtime.snapshot)."""
        return cls(update, context, snapshot(context), app_language(update))

    @property
    def chat_id(self) -> int | None:
        """The chat the update came from, if any."""
        chat = self.update.effective_chat
        return chat.id if chat else None

    @property
    def command(self) -> str:
        """The command sent, without its slash or the bot's name: ``/Help@maslahat_bot`` is ``help``."""
        assert self.update.effective_message is not None
        return (self.update.effective_message.text or "").split()[0].lstrip("/").split("@")[0].lower()

    async def transact(self, decide: Decide, pressed: Message | None = None) -> Applied | None:
        """Apply the update to the person's record exactly once, with the reply it owes; None if applied before.

        ``pressed`` is the message whose button was pressed: the reply may take its place.
        """
        user = self.update.effective_user
        assert user is not None
        chat_id = self.chat_id
        to = None if chat_id is None else ReplyTo(chat_id, pressed.message_id if pressed else None)
        return await transact(self.rt, user.id, self.update.update_id, self.lang, decide, to)

    async def show(self, applied: Applied, pressed: Message | None = None, *, notice_on_top: bool = True) -> None:
        """Show what the plan says (in place of the ``pressed`` message where it says so), then settle what it owed.

        ``notice_on_top``: whether the plan's notice, if any, opens the first screen (see bot.telegram.reply).
        """
        chat_id = self.chat_id
        if chat_id is None:
            return
        to = ReplyTo(chat_id, pressed.message_id if pressed else None)
        try:
            shown = await reply(self.context, self.rt, applied.plan, to, notice_on_top=notice_on_top)
        except TelegramError as exc:
            if applied.owed is None:
                raise
            if isinstance(exc, BadRequest | Forbidden):
                await self._settle(applied, chat_id)  # sending again will not help: on_error tells the person
                raise
            # The update is saved and its reply owed: the outbox sweep sends it once Telegram answers.
            # "Something went wrong" would be untrue, and would not get through either.
            log.warning("could not show a reply (%s); it is left to the outbox", type(exc).__name__)
            return
        await self._settle(applied, chat_id, shown)

    async def _settle(self, applied: Applied, chat_id: int, shown: Shown | None = None) -> None:
        """The reply ``applied`` owed needs no more sending (see bot.telegram.reply.settle)."""
        if applied.owed is None:
            return
        try:
            await settle(self.context, self.rt, applied.key, applied.owed.update_id, chat_id, shown or Shown())
        except StoreUnavailable as exc:
            # Still owed as far as the store knows: the outbox sweep may show it once more.
            self.store_unavailable(exc)

    async def say(self, notice: str) -> None:
        """Send a notice (an English msgid) in the person's language, as its own message."""
        if self.chat_id is not None:
            await send(self.context, self.chat_id, plain(self.rt.t(self.lang).gettext(notice)))

    def store_unavailable(self, exc: StoreUnavailable) -> None:
        """Count and log a store that cannot be used; the update can be retried."""
        self.rt.metrics["store_unavailable"] += 1
        log.warning("session store unavailable: %s", exc)


def handler(body: Callable[[Turn], Awaitable[None]]) -> UpdateCallback:
    """The python-telegram-bot callback that runs ``body`` on the update's turn, and says so if the store is down."""

    async def callback(update: Update, context: Context) -> None:
        if update.effective_user is None:
            # No sender (a channel post, an anonymous admin): no session can be kept or answered.
            log.info("ignored an update without a sender")
            return
        turn = Turn.of(update, context)
        try:
            await body(turn)
        except StoreUnavailable as exc:
            turn.store_unavailable(exc)
            await turn.say(screens.STORE_UNAVAILABLE)

    # Named after the body, so python-telegram-bot's handler reprs and tracebacks say which one it is.
    callback.__doc__, callback.__name__, callback.__qualname__ = body.__doc__, body.__name__, body.__qualname__
    return callback


@handler
async def on_start(turn: Turn) -> None:
    """/start [language]: the welcome, in the language a deep link names."""
    payload = turn.context.args[0] if turn.context.args else ""
    applied = await turn.transact(lambda session, _new: plan_start(turn.rt.engine, session, payload))
    if applied is not None:
        await turn.show(applied)


@handler
async def on_command(turn: Turn) -> None:
    """/back, /restart, /language, /help, /about, /privacy, /forget."""
    engine, command = turn.rt.engine, turn.command
    try:
        applied = await turn.transact(lambda session, new: plan_command(engine, session, command, new=new))
    except StoreUnavailable as exc:
        if command not in READ_ONLY_COMMANDS:
            raise
        # Help, about and privacy need no memory: show them in the Telegram app's language.
        turn.store_unavailable(exc)
        session = engine.new_session(turn.lang)
        applied = Applied(plan_command(engine, session, command, new=True), session)
    if applied is not None:
        await turn.show(applied)


@handler
async def on_other_message(turn: Turn) -> None:
    """Text, stickers, photos, voice… where a button is expected: a hint and the current screen."""
    applied = await turn.transact(lambda session, new: plan_text(turn.rt.engine, session, new=new))
    if applied is not None:
        # One reply per message, the hint on top of the question: 1,000 texts made 2,001 messages.
        await turn.show(applied)


@handler
async def on_unknown_command(turn: Turn) -> None:
    """A command the bot does not have: say so, and point to /help."""
    await turn.say(screens.UNKNOWN_COMMAND)


@handler
async def on_not_private(turn: Turn) -> None:
    """Groups and channels: point to the private chat; ask and store nothing."""
    await _point_to_private_chat(turn)


async def _point_to_private_chat(turn: Turn) -> None:
    """Answer a message or a button outside a private chat with a link to the private chat."""
    chat = turn.update.effective_chat
    assert chat is not None
    link = f"https://t.me/{turn.context.bot.username}"
    notice = turn.rt.t(turn.lang).gettext(screens.PRIVATE_ONLY).format(link=link)
    query = turn.update.callback_query
    if query is not None:
        await _answer(turn, notice)
        return
    message, user = turn.update.message, turn.update.effective_user
    # Edits, other bots and anonymous admins get nothing: only a person's new message is answered once.
    if message is None or user is None or user.is_bot or message.sender_chat is not None:
        return
    if chat.type != ChatType.CHANNEL:  # a bot cannot usefully reply in a channel; nothing is stored
        await send(turn.context, chat.id, plain(notice))


async def _answer(turn: Turn, notice: str) -> None:
    """Answer the button press (stop its spinner), with ``notice`` as a pop-up if there is one.

    A press Telegram no longer accepts an answer for (older than about 15 s, or the answer already
    lost to a network fault) is not the person's problem: it is counted, and never reported to them
    as an error, since the screen they asked for has been shown.
    """
    query = turn.update.callback_query
    assert query is not None
    try:
        await retrying(lambda: query.answer(notice or None))
    except TelegramError as exc:
        turn.rt.metrics["callback_answers_failed"] += 1
        log.info("could not answer a button press: %s", type(exc).__name__)


@handler
async def on_button(turn: Turn) -> None:
    """Every button press; the callback query is always answered, exactly once."""
    query = turn.update.callback_query
    assert query is not None
    chat = turn.update.effective_chat
    if chat is not None and chat.type != ChatType.PRIVATE:
        await _point_to_private_chat(turn)
        return
    rt = turn.rt
    message = query.message if isinstance(query.message, Message) else None
    pressed = decode(query.data)
    if pressed is INVALID:
        log.info("rejected a malformed button")
        rt.metrics["buttons_rejected"] += 1
    on_welcome = _is_welcome(message)
    notice = ""
    duplicate = False
    try:
        applied = await turn.transact(
            lambda session, _new: plan_press(rt.engine, session, pressed, rt.version, on_welcome=on_welcome), message
        )
        if applied is None:
            duplicate = True  # this press was handled and answered already
            return
        notice = rt.t(applied.plan.session.lang).gettext(applied.plan.notice) if applied.plan.notice else ""
        if applied.plan.notice == STALE_BUTTON:
            rt.metrics["buttons_stale"] += 1
        # After a notice (stale or broken button, a pop-up) the current screen comes as a new message.
        await turn.show(applied, message, notice_on_top=False)
    except StoreUnavailable as exc:
        turn.store_unavailable(exc)
        notice = rt.t(turn.lang).gettext(screens.STORE_UNAVAILABLE)
    finally:
        if not duplicate:
            await _answer(turn, notice)


def _is_welcome(message: Message | None) -> bool:
    """Whether the pressed message is the welcome (it alone has a Start button)."""
    if message is None or message.reply_markup is None:
        return False
    return any(
        isinstance(button.callback_data, str) and decode(button.callback_data).kind is Press.BEGIN
        for row in message.reply_markup.inline_keyboard
        for button in row
    )


async def on_error(update: object, context: Context) -> None:
    """Log the kind of failure, never its content, and tell the person what to do."""
    error = context.error
    kind = type(error).__name__ if error else "unknown"
    log.error(
        "error while handling an update: %s", kind, exc_info=error if not isinstance(error, TelegramError) else None
    )
    rt = snapshot(context)
    rt.metrics.errors.labels(kind).inc()
    if (
        not isinstance(update, Update)
        or update.effective_chat is None
        or update.effective_chat.type != ChatType.PRIVATE
    ):
        return
    notice = rt.t(app_language(update)).gettext(screens.SOMETHING_WRONG)
    try:
        await send(context, update.effective_chat.id, plain(notice))
    except TelegramError as exc:
        log.warning("could not tell the person about the error: %s", type(exc).__name__)
