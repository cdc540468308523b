"""An update python-telegram-bot cannot read is skipped, not fetched again and again.

python-telegram-bot parses a whole ``getUpdates`` batch at once; one update it cannot read (a
poll without ``persistent_id``, as a self-hosted Bot API server older than 9.6 sends) fails the
batch, the offset never moves past it, and the same batch is fetched and fails hundreds of times a
second: nobody else is answered. :class:`TolerantBot` reads such a batch again one update at a
time, and hands on each unreadable update as an empty one with its ``update_id`` only, so that the
offset moves past it; it is counted (``maslahat_events{event="updates_unreadable"}``) and logged in
one line that names no one. The webhook does the same with :func:`read_update`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from telegram import Bot, Update
from telegram.ext import ExtBot

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

    def __init__(self, *args: Any, on_unreadable: Callable[[], None] = lambda: None, **kwargs: Any) -> None:
        """python-telegram-bot's arguments, and ``on_unreadable``: called once for each update skipped."""
        super().__init__(*args, **kwargs)
        with self._unfrozen():  # python-telegram-bot objects are read-only once built
            self._on_unreadable = on_unreadable

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: Any = None,
        allowed_updates: Sequence[str] | None = None,
        **kwargs: Any,
    ) -> tuple[Update, ...]:
        try:
            return await super().get_updates(offset, limit, timeout, allowed_updates, **kwargs)
        except PARSE_ERRORS:
            pass  # python-telegram-bot has logged it (redacted: bot.service.logs); read them one by one
        data = {"offset": offset, "limit": limit, "timeout": 0, "allowed_updates": allowed_updates}
        raw = await self._post("getUpdates", data)
        updates = (read_update(item, self, self._on_unreadable) for item in raw if isinstance(raw, list))
        return tuple(u for u in updates if u is not None)
