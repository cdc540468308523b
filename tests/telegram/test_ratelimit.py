"""The per-chat rate limiter: one chat's limit, or its 429, never holds up another chat."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.telegram.ratelimit import PerChatRateLimiter


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    """RetryAfter.retry_after as python-telegram-bot 23 gives it (22 warns when it is read as seconds)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "1")


class Recorder:
    """Stands in for the Bot API call: records the order calls complete in; can answer 429 first."""

    def __init__(self) -> None:
        self.done: list[str] = []
        self.refuse: dict[str, int] = {}

    def call(self, name: str) -> Any:
        async def callback() -> bool:
            if self.refuse.get(name):
                self.refuse[name] -= 1
                raise RetryAfter(dt.timedelta(seconds=1))
            self.done.append(name)
            return True

        return callback


async def _send(limiter: PerChatRateLimiter, recorder: Recorder, name: str, chat: int | None, endpoint: str) -> None:
    data = {"chat_id": chat} if chat is not None else {}
    await limiter.process_request(recorder.call(name), (), {}, endpoint, data, None)


async def test_a_chat_sending_fast_is_spaced_while_another_chat_goes_at_once() -> None:
    limiter = PerChatRateLimiter(overall_per_second=1000, per_chat_per_second=20, burst=2)
    recorder = Recorder()
    flood = [_send(limiter, recorder, f"a{n}", 1, "sendMessage") for n in range(6)]
    other = _send(limiter, recorder, "b", 2, "sendMessage")
    await asyncio.gather(*flood, other)
    assert [n for n in recorder.done if n.startswith("a")] == [f"a{n}" for n in range(6)], "in order"
    assert recorder.done.index("b") < recorder.done.index("a2"), "chat 2 did not wait behind chat 1's flood"


async def test_a_429_for_one_chat_pauses_that_chat_only() -> None:
    """Before (AIORateLimiter): a 429 for one chat paused every request of the bot for retry_after."""
    limiter = PerChatRateLimiter(overall_per_second=1000, per_chat_per_second=1000, burst=1)
    recorder = Recorder()
    recorder.refuse["flooder"] = 1
    flooder = asyncio.create_task(_send(limiter, recorder, "flooder", 1, "sendMessage"))
    await asyncio.sleep(0.05)  # the flooder has been told to wait about a second
    others = [_send(limiter, recorder, f"other{n}", 100 + n, "sendMessage") for n in range(5)]
    await asyncio.wait_for(asyncio.gather(*others), timeout=0.5)  # long before the flooder's retry
    assert recorder.done == [f"other{n}" for n in range(5)]
    await asyncio.wait_for(flooder, timeout=5)
    assert recorder.done[-1] == "flooder", "and the flooder's message still goes out, once"


async def test_a_429_with_no_chat_pauses_everything() -> None:
    limiter = PerChatRateLimiter(overall_per_second=1000, per_chat_per_second=1000, burst=1)
    recorder = Recorder()
    recorder.refuse["global"] = 1
    first = asyncio.create_task(_send(limiter, recorder, "global", None, "setMyCommands"))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(_send(limiter, recorder, "chat", 5, "sendMessage"))
    third = asyncio.create_task(_send(limiter, recorder, "edit", 5, "editMessageText"))
    await asyncio.sleep(0.5)
    assert recorder.done == [], "Telegram's bot-wide wait (a second) holds every request, edits too"
    await asyncio.wait_for(asyncio.gather(first, second, third), timeout=5)
    assert sorted(recorder.done) == ["chat", "edit", "global"]


async def test_edits_and_button_answers_are_not_counted_against_a_chat() -> None:
    limiter = PerChatRateLimiter(overall_per_second=1000, per_chat_per_second=1, burst=1)
    recorder = Recorder()
    calls = [_send(limiter, recorder, f"edit{n}", 7, "editMessageText") for n in range(5)]
    await asyncio.wait_for(asyncio.gather(*calls), timeout=0.5)
    assert len(recorder.done) == 5


async def test_only_new_messages_keep_the_bots_pace() -> None:
    """Before: every request took a slot of the pace, so a start-up's menu calls and each press's
    button answer and edit waited their turn behind one another."""
    limiter = PerChatRateLimiter(overall_per_second=10, per_chat_per_second=1000, burst=1)
    recorder = Recorder()
    others = [("setMyCommands", None), ("answerCallbackQuery", None), ("editMessageText", 3), ("getUpdates", None)]
    calls = [_send(limiter, recorder, f"{endpoint}{n}", chat, endpoint) for n in range(5) for endpoint, chat in others]
    await asyncio.wait_for(asyncio.gather(*calls), timeout=0.3)  # 20 requests; paced at 10 a second: 2 s
    assert len(recorder.done) == 20
    messages = [_send(limiter, recorder, f"message{n}", 100 + n, "sendMessage") for n in range(4)]
    copies = [_send(limiter, recorder, f"copy{n}", 200 + n, "copyMessage") for n in range(2)]
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*messages, *copies)
    assert loop.time() - started >= 0.45, "six new messages at 10 a second take half a second"


async def test_retries_end_with_the_last_429() -> None:
    limiter = PerChatRateLimiter(overall_per_second=1000, per_chat_per_second=1000, burst=1, max_retries=0)
    recorder = Recorder()
    recorder.refuse["x"] = 1
    with pytest.raises(RetryAfter):
        await _send(limiter, recorder, "x", 9, "sendMessage")


async def test_idle_chats_are_forgotten_past_a_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bot.telegram.ratelimit._FORGET_ABOVE", 50)
    now = [0.0]
    limiter = PerChatRateLimiter(overall_per_second=1e9, per_chat_per_second=1, burst=1, clock=lambda: now[0])
    recorder = Recorder()
    for chat in range(50):
        await _send(limiter, recorder, "m", chat, "sendMessage")
    now[0] = 10.0  # every one of them idle for ten seconds
    await _send(limiter, recorder, "m", 999, "sendMessage")
    assert limiter.chats_scheduled <= 2, "a chat's schedule is held only while it matters"
