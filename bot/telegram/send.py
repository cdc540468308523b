"""Talking to Telegram: send and edit messages, retrying what can be retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import ContextTypes

from bot.telegram.screens import Screen

__all__ = ["edit", "markup", "retrying", "send"]

log = logging.getLogger(__name__)
T = TypeVar("T")


def _ignore(reason: str) -> None:
    return None


def _on_retry(context: ContextTypes.DEFAULT_TYPE) -> Callable[[str], None]:
    """The application's retry listener (bot_data["on_retry"]), which counts retries by reason."""
    listener: Callable[[str], None] = context.application.bot_data.get("on_retry", _ignore)
    return listener


async def retrying(call: Callable[[], Awaitable[T]], attempts: int = 4, on_retry: Callable[[str], None] = _ignore) -> T:
    """Retry a Bot API call on network trouble and flood limits; never on a bad request."""
    for attempt in range(attempts):
        try:
            return await call()
        except RetryAfter as exc:
            if attempt == attempts - 1:
                raise
            delay = exc.retry_after if isinstance(exc.retry_after, int | float) else exc.retry_after.total_seconds()
            log.warning("Telegram asked to slow down; retrying in %.1f s", delay)
            on_retry("flood")
            await asyncio.sleep(delay)
        except BadRequest:
            raise
        except NetworkError as exc:
            if attempt == attempts - 1:
                raise
            log.warning("Telegram call failed (%s); retrying", type(exc).__name__)
            on_retry("network")
            await asyncio.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")


def markup(screen: Screen) -> InlineKeyboardMarkup | None:
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


async def send(context: ContextTypes.DEFAULT_TYPE, chat_id: int, screen: Screen) -> Message:
    return await retrying(
        lambda: context.bot.send_message(
            chat_id, screen.text, parse_mode=ParseMode.HTML, reply_markup=markup(screen), disable_web_page_preview=True
        ),
        on_retry=_on_retry(context),
    )


async def edit(context: ContextTypes.DEFAULT_TYPE, message: Message, screen: Screen) -> None:
    """Show ``screen`` in place of ``message``; send it anew if the message cannot be edited."""
    try:
        await retrying(
            lambda: context.bot.edit_message_text(
                screen.text,
                chat_id=message.chat_id,
                message_id=message.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=markup(screen),
                disable_web_page_preview=True,
            ),
            on_retry=_on_retry(context),
        )
    except BadRequest as exc:
        text = str(exc).lower()
        if "not modified" in text:
            return
        log.info("message could not be edited (%s); sending it anew", type(exc).__name__)
        await send(context, message.chat_id, screen)
