"""Updates taken from Telegram and not yet applied: what confirming them to Telegram waits for.

Telegram forgets an update once the bot confirms it: in polling, by asking for the updates after
it (python-telegram-bot does so at once, before the update is handled); with a webhook, by
answering 200. A process killed in between loses the update for good: the person's press was
taken and is never answered. So the bot confirms an update only once it is applied, that is,
saved with the reply it owes (bot.storage.outbox), or handled, or dropped; then a crash loses
nothing that an outbox sweep cannot answer.

Confirming waits at most a few seconds (:data:`CONFIRM_WAIT`): an update that takes longer (a
store that does not answer) is confirmed anyway and counted. An update queued behind another of
its chat (bot.telegram.updates) is confirmed without waiting, so that one person's flood does not
hold up polling for everyone: a second tap made while the first is being answered can still be
lost to a crash. Only update ids are held here, never a chat or a person.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable

__all__ = ["CONFIRM_WAIT", "Intake"]

#: The longest a confirmation waits for the updates it confirms to be applied, in seconds.
CONFIRM_WAIT = 5.0


class Intake:
    """The update ids taken and not yet applied, and the ones being handled right now."""

    def __init__(self, on_early: Callable[[int], None] = lambda n: None) -> None:
        """``on_early`` is told how many updates a confirmation gave up waiting for."""
        self._waiting: dict[int, asyncio.Future[None]] = {}
        self.on_early = on_early
        #: Updates between the first and the last handler: their replies are this process's to send.
        self.handling: set[int] = set()

    def take(self, update_ids: Iterable[int]) -> None:
        """Note updates received from Telegram and not yet confirmed."""
        loop = asyncio.get_running_loop()
        for update_id in update_ids:
            if update_id not in self._waiting:
                self._waiting[update_id] = loop.create_future()

    def applied(self, update_id: int) -> None:
        """The update is applied, handled or dropped: Telegram may forget it."""
        future = self._waiting.pop(update_id, None)
        if future is not None and not future.done():
            future.set_result(None)

    @property
    def waiting(self) -> int:
        """How many updates are taken and not yet applied."""
        return len(self._waiting)

    async def confirmable(self, below: int | None = None, *, only: int | None = None) -> None:
        """Wait until the updates taken with ids below ``below`` (or the update ``only``) are applied.

        Returns after :data:`CONFIRM_WAIT` seconds at most; what is still waiting then is given up
        on (and counted: ``on_early``).
        """
        if only is not None:
            waiting = {only: self._waiting[only]} if only in self._waiting else {}
        else:
            waiting = {i: f for i, f in self._waiting.items() if below is None or i < below}
        if not waiting:
            return
        _, late = await asyncio.wait(waiting.values(), timeout=CONFIRM_WAIT)
        if late:
            for update_id, future in waiting.items():
                if future in late:
                    self._waiting.pop(update_id, None)
                    future.cancel()
            self.on_early(len(late))
