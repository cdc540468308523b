"""Showing what a plan says: render its screens and send them, in place of the pressed message where it says so.

One live keyboard per chat: the store notes which message shows the person's buttons, and when a
newer one does, the older one's buttons are taken away (:func:`take_buttons_away`), so a question
shown again after a typed message or /help is not left pressable twice above it.

The handlers reply this way to the update in hand, and the outbox sweep (bot.telegram.outbox) to
an update whose reply a crash or a failed send left owed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram.error import TelegramError

from bot.core.moves import Plan
from bot.telegram.render import render, with_notice
from bot.telegram.runtime import Context, Runtime
from bot.telegram.send import edit, retrying, send
from bot.telegram.transaction import ReplyTo

__all__ = ["Shown", "reply", "settle", "take_buttons_away"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Shown:
    """What a reply left on screen: the message showing buttons now, and the pressed message if it was edited."""

    live: int | None = None  # None: no message shows buttons, or whether one arrived is not known
    edited: int | None = None


async def reply(context: Context, rt: Runtime, plan: Plan, to: ReplyTo, *, notice_on_top: bool = True) -> Shown:
    """Send what ``plan`` shows to ``to``; after a notice, as new messages, the notice opening the first.

    ``notice_on_top``: False where the notice was shown otherwise (a button's pop-up).

    Raises:
        telegram.error.TelegramError: a screen could not be sent (see bot.telegram.send).
    """
    pressed = to.message if not plan.notice else None
    replies = render(rt, plan, pressed=pressed is not None, bot_username=context.bot.username)
    if plan.notice and notice_on_top:
        replies = with_notice(replies, rt.t(plan.session.lang).gettext(plan.notice))
    live: int | None = None
    edited: int | None = None
    for each in replies:
        shown: int | None
        if each.in_place and pressed is not None:
            await edit(context, to.chat, pressed, each.screen)
            shown = edited = pressed
        else:
            message = await send(context, to.chat, each.screen)
            shown = message.message_id if message is not None else None
        if each.screen.buttons:
            live = shown
    return Shown(live, edited)


async def settle(context: Context, rt: Runtime, key: str, update_id: int, chat: int, shown: Shown) -> None:
    """The reply owed for ``update_id`` was shown: forget it, and take the buttons away from the message
    that showed them before, unless it was edited just now (it has the right ones).

    Raises:
        StoreUnavailable: the store cannot be used (the outbox may then show the reply once more).
    """
    replaced = await rt.store.settle(key, update_id, screen=shown.live)
    if replaced is not None and replaced != shown.edited:
        await take_buttons_away(context, chat, replaced)


async def take_buttons_away(context: Context, chat: int, message: int) -> None:
    """Remove the buttons of an older message, so that only the newest screen can be pressed.

    Best effort: a message Telegram no longer lets the bot edit keeps its buttons, and pressing them
    still gets the notice "That button is from an earlier question" and the current screen.
    """
    try:
        await retrying(lambda: context.bot.edit_message_reply_markup(chat, message, reply_markup=None), attempts=2)
    except TelegramError as exc:
        log.info("could not take an older message's buttons away (%s)", type(exc).__name__)
