"""Telegram's flood limits kept per chat, so that one chat's limit never stops the others.

Telegram allows a bot about 30 messages a second in all, and about one a second in one chat
(short bursts pass). python-telegram-bot's ``AIORateLimiter`` keeps the first, but when Telegram
answers 429 for one chat it pauses *every* request of the bot for ``retry_after``: while one
person flooded the bot, others managed 140 presses in 40 s instead of 401, p95 3.3 s instead of
0.36 s. :class:`PerChatRateLimiter` keeps both limits itself and pauses only the chat that was
told to wait (a 429 without a chat pauses all, as Telegram means it then).

Only sending a new message counts, against its chat and against the bot's pace (Telegram's
documented limits are on messages); edits, button answers, the menus and getUpdates go at once,
unless Telegram told the whole bot to wait. Paced too, they held a start-up's eighteen menu calls
to one every 35 ms (0.7 s before the bot was ready) and every press's two calls to the pace
(about 12 presses a second for the whole bot; benchmarks/FINDINGS.md section 7).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.telegram.send import retry_seconds

__all__ = ["PerChatRateLimiter"]

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]
#: Methods that send a new message without "send" in their name.
_MESSAGES = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})
#: How many chats' schedules are kept before idle ones are forgotten (each is two floats).
_FORGET_ABOVE = 10_000


class PerChatRateLimiter(BaseRateLimiter[int]):
    """At most ``overall_per_second`` new messages in all, one after another with no burst; and per chat,
    ``per_chat_per_second`` new messages with bursts of ``burst`` (a screen and its notice pass at once).

    Scheduling is by reservation (a generic cell rate algorithm): a request takes the next free slot
    of its chat and sleeps until it, then takes the bot's next slot; so a chat waiting its turn holds
    no slot of the bot, and nothing is shared between chats but the overall pace.
    """

    def __init__(
        self,
        overall_per_second: float = 30,
        per_chat_per_second: float = 1,
        burst: int = 3,
        max_retries: int = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._overall_interval = 1 / overall_per_second
        self._chat_interval = 1 / per_chat_per_second
        self._burst_span = (burst - 1) * self._chat_interval
        self._max_retries = max_retries
        self._clock = clock
        self._next_overall = 0.0
        #: Until when Telegram told the whole bot to wait (a 429 that names no chat).
        self._paused_until = 0.0
        #: Per chat, the theoretical time its next message would be due at the steady rate.
        self._due: dict[int, float] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    @property
    def chats_scheduled(self) -> int:
        """How many chats' schedules are held (idle ones are forgotten past a bound)."""
        return len(self._due)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        """Wait for this request's slots, make it, and on a 429 wait as told: only its chat if it has one."""
        message = endpoint in _MESSAGES or (endpoint.startswith("send") and endpoint != "sendChatAction")
        chat = data.get("chat_id") if message else None
        chat = chat if isinstance(chat, int) else None
        retries = rate_limit_args if rate_limit_args is not None else self._max_retries
        for attempt in range(retries + 1):
            if chat is not None:
                await asyncio.sleep(self._reserve_chat(chat))
            if message:
                await asyncio.sleep(self._reserve_overall())
            else:
                await asyncio.sleep(max(0.0, self._paused_until - self._clock()))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == retries:
                    raise
                delay = retry_seconds(exc) + 0.1
                log.info("Telegram asked to wait %.1f s (%s)", delay, "one chat" if chat is not None else "every chat")
                self._pause(chat, delay)
        raise AssertionError("unreachable")

    def _reserve_chat(self, chat: int) -> float:
        """Take the next free slot of ``chat``; how long to wait for it."""
        now = self._clock()
        due = max(self._due.get(chat, now), now)
        start = max(now, due - self._burst_span)
        self._due[chat] = due + self._chat_interval
        if len(self._due) > _FORGET_ABOVE:
            self._forget_idle(now)
        return start - now

    def _reserve_overall(self) -> float:
        """Take the bot's next free slot; how long to wait for it."""
        now = self._clock()
        start = max(now, self._next_overall)
        self._next_overall = start + self._overall_interval
        return start - now

    def _pause(self, chat: int | None, delay: float) -> None:
        """No request of ``chat`` (or, with no chat, of the bot) before ``delay`` seconds from now."""
        until = self._clock() + delay
        if chat is None:
            self._next_overall = max(self._next_overall, until)
            self._paused_until = max(self._paused_until, until)
        else:
            self._due[chat] = max(self._due.get(chat, until), until + self._burst_span)

    def _forget_idle(self, now: float) -> None:
        """Drop the schedules of chats that are back to a full burst: they would start afresh anyway."""
        for chat in [c for c, due in self._due.items() if due <= now]:
            del self._due[chat]
