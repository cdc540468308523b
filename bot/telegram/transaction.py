"""The exactly-once session transaction: each update changes a person's record at most once.

Read the person's record (under a keyed hash of the user id), skip the update if it was already
applied, decide the move (:mod:`bot.core.moves`, pure), and save it with compare-and-set,
deciding again if another process wrote first. Only after that does the handler talk to Telegram,
so a retried or redelivered update is never applied twice, and a lost race is never shown.

The same write records the reply the update is owed (bot.storage.outbox), which the handler
settles once it is sent; and only then is the update released to be confirmed to Telegram
(bot.telegram.intake). A crash at any point leaves either an update Telegram delivers again or a
reply the outbox sweep sends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.engine import Decision, Session
from bot.core.moves import Plan, Show
from bot.storage.base import Conflict, Record, StoreUnavailable, person_key
from bot.storage.outbox import Owed, seal
from bot.telegram.runtime import Runtime

__all__ = ["ATTEMPTS", "Applied", "Decide", "ReplyTo", "transact"]

#: How often a transaction is decided again when other writers keep winning.
ATTEMPTS = 5

#: Decides the move from the stored session; the flag is True for a person the bot has stored nothing about.
Decide = Callable[[Session, bool], Plan]


@dataclass(frozen=True)
class ReplyTo:
    """Where the reply goes: the chat, and the pressed message it may take the place of (None: none)."""

    chat: int
    message: int | None = None


@dataclass(frozen=True)
class Applied:
    """A plan that was saved (or needed no saving), with the session it started from.

    ``owed`` is the reply recorded as owed under ``key``, to settle once it is sent; None if none was.
    """

    plan: Plan
    before: Session
    key: str = ""
    owed: Owed | None = None


async def transact(
    rt: Runtime, user_id: int, update_id: int, lang: str, decide: Decide, reply_to: ReplyTo | None = None
) -> Applied | None:
    """Apply one update to the person's record exactly once; None if it was applied before.

    ``lang`` is the language of a session the bot starts for someone it does not know yet. With
    ``reply_to``, what the plan shows there is recorded as owed in the same write. Either way the
    update is released to be confirmed to Telegram once this returns or raises.

    Raises:
        StoreUnavailable: the store cannot be used, or other writers kept winning.
    """
    try:
        return await _transact(rt, user_id, update_id, lang, decide, reply_to)
    finally:
        rt.intake.applied(update_id)


async def _transact(
    rt: Runtime, user_id: int, update_id: int, lang: str, decide: Decide, reply_to: ReplyTo | None
) -> Applied | None:
    key = person_key(rt.settings.session_secret, user_id)
    for _ in range(ATTEMPTS):
        record = await rt.store.get(key)
        if record is not None and record.applied(update_id):
            rt.metrics["updates_duplicate"] += 1
            return None
        if record is None:
            record = Record(rt.engine.new_session(lang))
        session = record.session
        if session.version != rt.engine.table.version_tag:
            session = rt.engine.replay(session)  # saved under an older rule table
        plan = decide(session, record.version == 0)
        if plan.forget:
            await rt.store.delete(key)  # and what was owed: nothing of the person is kept, not even that
            return Applied(plan, session, key)
        owed = _owed(rt, key, update_id, plan, reply_to)
        if not plan.save:
            if owed is not None and not await rt.store.owe(key, owed):
                owed = None  # nothing is stored about this person, not even that
            return Applied(plan, session, key, owed)
        try:
            await rt.store.put(
                key, record.after(plan.session, update_id, time.time()), expected=record.version, owed=owed
            )
        except Conflict:
            rt.metrics["store_conflicts"] += 1
            continue
        await _count_progress(rt, session, plan.session)
        return Applied(plan, session, key, owed)
    raise StoreUnavailable("other writers kept changing this record")


def _owed(rt: Runtime, key: str, update_id: int, plan: Plan, reply_to: ReplyTo | None) -> Owed | None:
    """The reply ``plan`` owes at ``reply_to``; None if it shows nothing or has nowhere to go."""
    if reply_to is None or (plan.show is Show.NOTHING and not plan.notice):
        return None
    return Owed(
        update_id,
        seal(rt.settings.session_secret, key, reply_to.chat),
        # After a notice the current screen comes as a new message (bot.telegram.handlers).
        None if plan.notice else reply_to.message,
        plan.show.value,
        plan.notice,
        plan.session.lang,
        time.time(),
        plan.section,
    )


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
