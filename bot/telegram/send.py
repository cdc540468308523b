"""Talking to Telegram: send and edit messages, retrying what can be retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.telegram.http import NotSent
from bot.telegram.runtime import Context
from bot.telegram.screens import Screen

__all__ = ["edit", "markup", "retry_seconds", "retrying", "send"]

log = logging.getLogger(__name__)
T = TypeVar("T")


def _ignore(reason: str) -> None:
    """A retry listener that counts nothing."""
    return None


def retry_seconds(exc: RetryAfter) -> float:
    """How long Telegram asked to wait, in seconds.

    From python-telegram-bot 22.2, ``retry_after`` is a number of seconds (read with a deprecation
    warning) unless the environment sets ``PTB_TIMEDELTA``, and a timedelta if it does, as it always
    will be from the next major version. The bot leaves the environment alone and reads both.
    """
    retry_after = exc.retry_after
    return retry_after if isinstance(retry_after, int | float) else retry_after.total_seconds()


#: What python-telegram-bot raises when Telegram's answer is not valid JSON (cut off, mangled): the
#: call may have been carried out. A plain TelegramError, told apart by its message.
_INVALID_ANSWER = "Invalid server response"


def _outcome_unknown(exc: TelegramError) -> bool:
    """Whether Telegram may have done what was asked although the call failed: the answer was lost."""
    if isinstance(exc, NotSent):
        return False
    if isinstance(exc, TimedOut):
        return True
    if type(exc) is TelegramError and _INVALID_ANSWER in exc.message:
        return True
    # A dropped connection or a broken answer body (bot.telegram.http); Telegram's own 5xx answers
    # are NetworkErrors too, but say the call failed: python-telegram-bot words them "Bad Gateway" etc.
    return isinstance(exc, NetworkError) and exc.message.startswith("aiohttp.")


async def retrying(
    call: Callable[[], Awaitable[T]],
    attempts: int = 4,
    on_retry: Callable[[str], None] = _ignore,
    *,
    repeatable: bool = True,
) -> T:
    """Retry a Bot API call on network trouble and flood limits; never on a bad request.

    ``repeatable``: doing the call twice does no harm (an edit, answering a button). A call that is
    not (sending a new message) is repeated only when it provably never reached Telegram, or
    Telegram said it was not done (flood limit, a 5xx answer): when its answer was lost instead
    (a timeout, a dropped connection, a cut-off answer), repeating it would show the screen twice.
    """
    for attempt in range(attempts):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == attempts - 1:
                raise
            delay = retry_seconds(exc)
            log.warning("Telegram asked to slow down; retrying in %.1f s", delay)
            on_retry("flood")
            await asyncio.sleep(delay)
        except BadRequest:
            raise
        except TelegramError as exc:
            unknown = _outcome_unknown(exc)
            retry = isinstance(exc, NetworkError) or unknown
            if attempt == attempts - 1 or not retry or (unknown and not repeatable):
                raise
            log.warning("Telegram call failed (%s); retrying", type(exc).__name__)
            on_retry("network")
            await asyncio.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


def markup(screen: Screen) -> InlineKeyboardMarkup | None:
    """The screen's buttons as Telegram's inline keyboard; None if it has none."""
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


async def send(context: Context, chat_id: int, screen: Screen) -> Message | None:
    """Send ``screen`` as a new message to the chat; None if whether it arrived cannot be known.

    A send whose answer was lost (see :func:`retrying`) is neither repeated nor reported to the
    person as an error: Telegram has most likely shown it, and a second copy or "something went
    wrong" under it would mislead. It is counted (``send_outcome_unknown``) and logged.
    """
    try:
        return await retrying(
            lambda: context.bot.send_message(
                chat_id,
                screen.text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(screen),
                disable_web_page_preview=True,
            ),
            on_retry=context.bot_data.on_retry,
            repeatable=False,
        )
    except TelegramError as exc:
        if not _outcome_unknown(exc):
            raise
        context.bot_data.runtime.metrics["send_outcome_unknown"] += 1
        log.warning("a message's answer was lost (%s); not sending it again", type(exc).__name__)
        return None


async def edit(context: Context, chat_id: int, message_id: int, screen: Screen) -> None:
    """Show ``screen`` in place of message ``message_id``; send it anew if the message cannot be edited."""
    try:
        await retrying(
            lambda: context.bot.edit_message_text(
                screen.text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(screen),
                disable_web_page_preview=True,
            ),
            on_retry=context.bot_data.on_retry,
        )
    except BadRequest as exc:
        text = str(exc).lower()
        if "not modified" in text:
            return
        log.info("message could not be edited (%s); sending it anew", type(exc).__name__)
        await send(context, chat_id, screen)
