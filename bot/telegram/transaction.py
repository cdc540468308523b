"""The exactly-once session transaction: each update changes a person's record at most once.

Read the person's record (under a keyed hash of the user id), skip the update if it was already
applied, decide the move (:mod:`bot.core.moves`, pure), and save it with compare-and-set,
deciding again if another process wrote first. Only after that does the handler talk to Telegram,
so a retried or redelivered update is never applied twice, and a lost race is never shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.engine import Decision, Session
from bot.core.moves import Plan
from bot.storage.base import Conflict, Record, StoreUnavailable, person_key
from bot.telegram.runtime import Runtime

__all__ = ["ATTEMPTS", "Applied", "Decide", "transact"]

#: How often a transaction is decided again when other writers keep winning.
ATTEMPTS = 5

#: Decides the move from the stored session; the flag is True for a person the bot has stored nothing about.
Decide = Callable[[Session, bool], Plan]


@dataclass(frozen=True)
class Applied:
    """A plan that was saved (or needed no saving), with the session it started from."""

    plan: Plan
    before: Session


async def transact(rt: Runtime, user_id: int, update_id: int, lang: str, decide: Decide) -> Applied | None:
    """Apply one update to the person's record exactly once; None if it was applied before.

    ``lang`` is the language of a session the bot starts for someone it does not know yet.

    Raises:
        StoreUnavailable: the store cannot be used, or other writers kept winning.
    """
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
            await rt.store.delete(key)
            return Applied(plan, session)
        if not plan.save:
            return Applied(plan, session)
        try:
            await rt.store.put(key, record.after(plan.session, update_id, time.time()), expected=record.version)
        except Conflict:
            rt.metrics["store_conflicts"] += 1
            continue
        await _count_progress(rt, session, plan.session)
        return Applied(plan, session)
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
