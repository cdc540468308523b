"""tests/support/fakebotapi.py's fake Bot API, timing what arrives and counting what its flood limits let through."""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from benchmarks.harness import results  # noqa: F401 - puts tests/ on the path, for the fake
from tests.support.fakebotapi import JSON, FakeBotApi, FakeUser, RateLimits, free_port

__all__ = ["JSON", "CountingLimits", "FakeUser", "Pending", "TimedApi", "free_port"]

_ARRIVED: contextvars.ContextVar[float] = contextvars.ContextVar("arrived", default=0.0)


@dataclass
class Pending:
    """One update in flight: when it was posted, and what finishes it."""

    posted: float
    query_id: str | None  # a press: done at answerCallbackQuery of this query
    needs_keyboard: bool  # a message: done at a sendMessage (with buttons, if this is set)
    done: asyncio.Future[None]
    first_reply: float = 0.0  # arrival of the first sendMessage / editMessageText
    finished: float = 0.0


class TimedApi(FakeBotApi):
    """The fake, noting when each call arrives, answering ``delay`` late, and resolving Pending updates."""

    def __init__(self, delay: float = 0.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.delay = delay  # added to every call, as the round trip to Telegram's servers
        self.first_call = 0.0  # monotonic time of the first call of all
        self.pending: dict[int, Pending] = {}  # by chat
        self.queries: dict[str, int] = {}  # open callback query -> chat
        for name in ("sendmessage", "editmessagetext", "answercallbackquery"):
            self._handlers[name] = self._timed(name, self._handlers[name])

    def expect(self, chat_id: int, pending: Pending) -> None:
        """Watch for the calls that finish ``pending``, an update of this chat."""
        self.pending[chat_id] = pending
        if pending.query_id is not None:
            self.queries[pending.query_id] = chat_id

    def abandon(self, chat_id: int) -> None:
        """Stop watching this chat's update (it failed or timed out)."""
        pending = self.pending.pop(chat_id, None)
        if pending is not None and pending.query_id is not None:
            self.queries.pop(pending.query_id, None)

    def take_calls(self) -> int:
        """How many Bot API calls arrived since the last time, forgetting them (nothing reads them later)."""
        count = len(self.calls)
        self.calls.clear()
        self.callback_answers.clear()
        return count

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        now = time.monotonic()
        _ARRIVED.set(now)
        self.first_call = self.first_call or now
        if self.delay:
            await asyncio.sleep(self.delay)
        return await super()._handle(request)

    def _timed(self, name: str, handler: Callable[[JSON], Awaitable[Any]]) -> Callable[[JSON], Awaitable[Any]]:
        async def timed(params: JSON) -> Any:
            arrived = _ARRIVED.get()
            if name == "answercallbackquery":
                chat_id = self.queries.pop(str(params.get("callback_query_id")), 0)
            else:
                chat_id = int(params.get("chat_id") or 0)
            pending = self.pending.get(chat_id)
            if pending is not None and not pending.first_reply and name != "answercallbackquery":
                pending.first_reply = arrived
            try:
                return await handler(params)  # the chat shows the message before the driver looks
            finally:
                finishes = name == "answercallbackquery" or (
                    name == "sendmessage"
                    and pending is not None
                    and pending.query_id is None
                    and (bool(params.get("reply_markup")) or not pending.needs_keyboard)
                )
                if pending is not None and finishes:
                    self.pending.pop(chat_id, None)
                    pending.finished = arrived
                    if not pending.done.done():
                        pending.done.set_result(None)

        return timed


@dataclass
class CountingLimits(RateLimits):
    """Telegram's flood limits, remembering every message let through and every 429 with its window."""

    accepted: dict[Any, list[float]] = field(default_factory=dict)
    refused: Counter[str] = field(default_factory=Counter)
    accepted_times: list[float] = field(default_factory=list)

    def check(self, chat_id: Any, now: float) -> int | None:
        """As RateLimits.check, counting."""
        wait = super().check(chat_id, now)
        if wait is None:
            self.accepted.setdefault(chat_id, []).append(now)
            self.accepted_times.append(now)
        else:  # which window was full: this chat's (1 a second) or the bot's (30 a second)
            chat_full = len(self._per_chat.get(chat_id, ())) >= self.per_chat_per_second
            self.refused["per_chat" if chat_full else "overall"] += 1
        return wait
