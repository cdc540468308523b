"""The outbox sweep: replies owed and not settled in time are sent by whichever process finds them.

Every :data:`SWEEP_EVERY` seconds the bot takes from the store the owed replies that are due (see
bot.storage.outbox: :data:`~bot.storage.outbox.OWED_GRACE` after the update, and again each time
a lease ends), leased so that another replica does not take them too, and shows each person the
screen the plan owed them, from their session as it is stored now. That answers the presses a
killed process had saved and not answered, and the replies a failed send left owed once Telegram
can be reached again. A reply this process is still handling is left to its handler; one that
cannot be sent for good (the person blocked the bot, Telegram refuses it) or is older than
:data:`~bot.storage.outbox.OWED_TTL` is dropped.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram.error import BadRequest, Forbidden, InvalidToken, TelegramError
from telegram.ext import CallbackContext

from bot.core.moves import Plan, Show
from bot.storage.base import StoreUnavailable
from bot.storage.outbox import OWED_GRACE, OWED_TTL, Owed, unseal
from bot.telegram.reply import reply, settle
from bot.telegram.runtime import BotApplication, Context, Runtime
from bot.telegram.transaction import ReplyTo

__all__ = ["SWEEP_EVERY", "send_owed", "sweep_outbox"]

log = logging.getLogger(__name__)

#: Seconds between two looks at the outbox: one indexed query, nothing found as a rule.
SWEEP_EVERY = 2.0
#: Telegram errors that sending again will not cure.
_FOR_GOOD = (BadRequest, Forbidden, InvalidToken)


async def send_owed(application: BotApplication, now: float | None = None) -> int:
    """Send the owed replies that are due now; return how many were sent.

    Raises:
        StoreUnavailable: the store cannot be read; the sweep tries again later.
    """
    rt = application.bot_data.runtime
    now = time.time() if now is None else now
    sent = 0
    for key, owed in await rt.store.due(now, now + OWED_GRACE):
        if owed.update_id in rt.intake.handling:
            continue  # its handler is still at it (a long flood wait); it settles it
        if now - owed.taken > OWED_TTL:
            await _drop(rt, key, owed, "older than an hour")
            continue
        try:
            await _send(application, rt, key, owed)
        except _FOR_GOOD as exc:
            await _drop(rt, key, owed, type(exc).__name__)
            continue
        except TelegramError as exc:
            log.warning("could not send an owed reply (%s); trying again later", type(exc).__name__)
            continue
        rt.metrics["replies_owed_sent"] += 1
        sent += 1
    if sent:
        log.info("sent %d owed repl%s", sent, "y" if sent == 1 else "ies")
    return sent


async def _send(application: BotApplication, rt: Runtime, key: str, owed: Owed) -> None:
    """Show what ``owed`` says, from the person's session as it is stored now."""
    try:
        show = Show(owed.show)
        chat = unseal(rt.settings.session_secret, key, owed.chat)
    except ValueError as exc:  # written by another version, or with another secret
        raise BadRequest("an owed reply this bot cannot read") from exc
    record = await rt.store.get(key)
    session = record.session if record is not None else rt.engine.new_session(owed.lang)
    if session.version != rt.engine.table.version_tag:
        session = rt.engine.replay(session)
    context: Context = CallbackContext(application)
    plan = Plan(session, show, owed.notice, save=False, section=owed.section)
    shown = await reply(context, rt, plan, ReplyTo(chat, owed.message))
    await settle(context, rt, key, owed.update_id, chat, shown)


async def _drop(rt: Runtime, key: str, owed: Owed, why: str) -> None:
    """Give up on an owed reply: forget it and count it."""
    await rt.store.settle(key, owed.update_id)
    rt.metrics["replies_owed_dropped"] += 1
    log.warning("dropped an owed reply: %s", why)


async def sweep_outbox(application: BotApplication, every: float = SWEEP_EVERY) -> None:
    """Send what is owed and due every ``every`` seconds, for as long as the bot runs."""
    while True:
        try:
            await send_owed(application)
        except StoreUnavailable as exc:
            log.warning("could not look at the owed replies: %s", exc)
        except Exception:
            log.exception("the outbox sweep failed; trying again later")
        await asyncio.sleep(every)
