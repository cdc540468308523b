"""Which updates run at the same time: different chats concurrently, each chat's one at a time, in order.

python-telegram-bot handles one update at a time by default, so each one waits for every Bot API
call of the one before it: with Telegram ~50 ms away, a bot making two calls per update answers
fewer than 10 updates a second however idle its CPU is (``benchmarks/bench_overhead.py``, the
round-trip experiment). Its ``concurrent_updates`` lifts that but gives up order, and a person who
taps twice must see the answers to both taps in the order they tapped.

:class:`PerChatUpdateProcessor` runs the first update of a chat at once; an update of a chat that
already has one running is queued behind it, and the running one handles its chat's queue before
it gives its place back. So ``max_concurrent_updates`` bounds the chats served at once, a chat that
sends a lot takes one place, not many, and a chat's id is held only while it has updates in hand.

A chat's queue is bounded (:data:`CHAT_QUEUE_LIMIT`): updates beyond it are dropped and counted, so
that one person sending thousands of messages holds a bounded amount of memory, and their own
later button presses are not stuck behind a backlog of minutes. A person tapping fast never gets
near the limit; the flooder's earlier messages are answered, the surplus is not.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

__all__ = ["CHAT_QUEUE_LIMIT", "PerChatUpdateProcessor"]

#: The most updates of one chat waiting behind the one being handled.
CHAT_QUEUE_LIMIT = 10

log = logging.getLogger(__name__)


def _chat_of(update: object) -> Any:
    """The chat (or, for updates without one, the user) whose updates must stay in order; None if neither."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Up to ``max_concurrent_updates`` chats served at once; each chat's updates one at a time, in order.

    "In order" is the order python-telegram-bot takes updates from its queue: it starts a task per
    update in that order, and asyncio runs new tasks and wakes semaphore waiters first come, first
    served.
    """

    __slots__ = ("_on_drop", "_on_queued", "_queues")

    def __init__(
        self,
        max_concurrent_updates: int,
        on_drop: Callable[[object], None] = lambda update: None,
        on_queued: Callable[[object], None] = lambda update: None,
    ) -> None:
        """``on_drop`` and ``on_queued`` are told of each update dropped, or queued behind another."""
        super().__init__(max_concurrent_updates)
        self._queues: dict[Any, deque[Awaitable[Any]]] = {}
        self._on_drop = on_drop
        self._on_queued = on_queued

    @property
    def chats_in_flight(self) -> int:
        """How many chats have an update running or waiting right now."""
        return len(self._queues)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run ``coroutine`` now, or queue it behind the update of its chat that is running."""
        chat = _chat_of(update)
        if chat is None:
            await coroutine
            return
        queued = self._queues.get(chat)
        if queued is not None:
            if len(queued) >= CHAT_QUEUE_LIMIT:
                getattr(coroutine, "close", lambda: None)()  # never awaited: close it, or Python warns
                self._on_drop(update)
                return
            queued.append(coroutine)
            self._on_queued(update)
            return
        queued = self._queues[chat] = deque()
        try:
            while True:
                try:
                    await coroutine
                except Exception:
                    # Application.process_update hands handler errors to the error handler; this is
                    # anything else. The chat's later updates still run.
                    log.exception("an update could not be processed")
                if not queued:
                    return
                coroutine = queued.popleft()
        finally:
            del self._queues[chat]
            for left in queued:  # only when cancelled
                getattr(left, "close", lambda: None)()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: python-telegram-bot has already waited for the updates in flight."""
