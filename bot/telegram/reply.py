"""Showing what a plan says: render its screens and send them, in place of the pressed message where it says so.

The handlers reply this way to the update in hand, and the outbox sweep (bot.telegram.outbox) to
an update whose reply a crash or a failed send left owed.
"""

from __future__ import annotations

from bot.core.moves import Plan
from bot.telegram.render import render, with_notice
from bot.telegram.runtime import Context, Runtime
from bot.telegram.send import edit, send
from bot.telegram.transaction import ReplyTo

__all__ = ["reply"]


async def reply(context: Context, rt: Runtime, plan: Plan, to: ReplyTo, *, notice_on_top: bool = True) -> None:
    """Send what ``plan`` shows to ``to``; after a notice, as new messages, the notice opening the first.

    ``notice_on_top``: False where the notice was shown otherwise (a button's pop-up).

    Raises:
        telegram.error.TelegramError: a screen could not be sent (see bot.telegram.send).
    """
    pressed = to.message if not plan.notice else None
    replies = render(rt, plan, pressed=pressed is not None, bot_username=context.bot.username)
    if plan.notice and notice_on_top:
        replies = with_notice(replies, rt.t(plan.session.lang).gettext(plan.notice))
    for each in replies:
        if each.in_place and pressed is not None:
            await edit(context, to.chat, pressed, each.screen)
        else:
            await send(context, to.chat, each.screen)
