"""Polling that survives bad data and outages: an unreadable update is skipped, an outage ends fast.

python-telegram-bot parses a whole ``getUpdates`` batch at once; one update it cannot read (a
poll without ``persistent_id``, as a self-hosted Bot API server older than 9.6 sends) fails the
batch, the offset never moves past it, and the same batch is fetched and fails hundreds of times a
second: nobody else is answered. :class:`TolerantBot` reads such a batch again one update at a
time, and hands on each unreadable update as an empty one with its ``update_id`` only, so that the
offset moves past it; it is counted (``maslahat_events{event="updates_unreadable"}``) and logged in
one line that names no one. The webhook does the same with :func:`read_update`.

It also confirms updates only once they are applied: python-telegram-bot asks for the next batch,
which confirms the last one to Telegram, as soon as it has queued it; :class:`TolerantBot` first
waits (a few seconds at most) for the updates it confirms to be applied (bot.telegram.intake), so
that a crash does not lose them.

When Telegram cannot be reached, python-telegram-bot's polling loop waits 1.5 times longer after
each failure, up to 30 s: after a two-minute outage the bot answered 25.7 s after Telegram came
back. :class:`TolerantBot` waits itself, doubling from 0.5 s up to :attr:`TolerantBot.max_backoff`
(5 s), and hands the loop a timeout, which it retries at once: the bot is back within 5 s.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Bot, Update
from telegram.error import NetworkError, TimedOut
from telegram.ext import ExtBot

from bot.telegram.intake import Intake

__all__ = ["TolerantBot", "read_update"]

log = logging.getLogger(__name__)

#: What parsing a malformed update raises (python-telegram-bot's de_json does not wrap its errors).
PARSE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


def read_update(data: object, bot: Bot, unreadable: Callable[[], None]) -> Update | None:
    """The update in ``data``; an empty one with its id if it cannot be read; None if it has no id.

    ``unreadable`` is called once for each update that cannot be read.
    """
    if not isinstance(data, dict):
        unreadable()
        log.warning("skipped a webhook body that is not an update (%s)", type(data).__name__)
        return None
    try:
        return Update.de_json(data, bot)
    except PARSE_ERRORS as exc:
        update_id = data.get("update_id")
        unreadable()
        log.warning("skipped update %s: python-telegram-bot cannot read it (%s)", update_id, type(exc).__name__)
        return Update(update_id) if isinstance(update_id, int) else None


class TolerantBot(ExtBot[None]):
    """python-telegram-bot's bot, except that an unreadable update does not stop ``getUpdates``.

    The usual path is python-telegram-bot's own, unchanged; only when a batch fails to parse is it
    fetched again (at once, without long polling) and read one update at a time.
    """

    #: The longest wait between two polls while Telegram cannot be reached, in seconds.
    max_backoff = 5.0
    #: The first wait after a failed poll.
    min_backoff = 0.5

    def __init__(
        self,
        *args: Any,
        on_unreadable: Callable[[], None] = lambda: None,
        intake: Intake | None = None,
        **kwargs: Any,
    ) -> None:
        """python-telegram-bot's arguments; ``on_unreadable``, called once for each update skipped; and
        the ``intake`` that notes the updates fetched and tells when they may be confirmed."""
        super().__init__(*args, **kwargs)
        with self._unfrozen():  # python-telegram-bot objects are read-only once built
            self._on_unreadable = on_unreadable
            self._intake = intake or Intake()
            self._backoff = 0.0

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: Any = None,
        allowed_updates: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> tuple[Update, ...]:
        if offset is not None and offset > 0:
            await self._intake.confirmable(below=offset)  # asking from ``offset`` confirms what is below it
        updates = await self._fetch(offset, limit, timeout, allowed_updates, **kwargs)
        self._intake.take(update.update_id for update in updates)
        return updates

    async def _fetch(
        self,
        offset: int | None,
        limit: int | None,
        timeout: Any,
        allowed_updates: Sequence[str] | None,
        **kwargs: Any,
    ) -> tuple[Update, ...]:
        try:
            updates = await super().get_updates(offset, limit, timeout, allowed_updates, **kwargs)
        except PARSE_ERRORS:
            pass  # python-telegram-bot has logged it (redacted: bot.service.logs); read them one by one
        except TimedOut:
            raise  # the loop retries at once
        except NetworkError as exc:
            await self._wait_out(exc)
            raise TimedOut(f"Telegram unreachable ({type(exc).__name__}); polling again") from exc
        else:
            if self._backoff:
                log.info("Telegram answers again: polling resumed")
                with self._unfrozen():
                    self._backoff = 0.0
            return updates
        data: dict[str, Any] = {"offset": offset, "limit": limit, "timeout": 0, "allowed_updates": allowed_updates}
        raw = await self._post("getUpdates", data)
        read = (read_update(item, self, self._on_unreadable) for item in raw if isinstance(raw, list))
        return tuple(u for u in read if u is not None)

    async def _wait_out(self, error: NetworkError) -> None:
        """Wait before the next poll: 0.5 s, doubling to :attr:`max_backoff`; log the outage's start once."""
        with self._unfrozen():
            if not self._backoff:
                log.warning(
                    "cannot reach Telegram (%s); polling again within %.0f s", type(error).__name__, self.max_backoff
                )
            self._backoff = min(self.max_backoff, max(self.min_backoff, self._backoff * 2))
        await asyncio.sleep(self._backoff)
