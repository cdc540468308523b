"""Which updates run at once (bot/telegram/updates.py): chats side by side, each chat's in order."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from telegram import Chat, Message, Update, User
from telegram.ext import Application

from bot.core.engine import Engine
from bot.i18n.catalogs import Catalogs
from bot.ruletable.loader import load_table
from bot.settings import Settings
from bot.storage.base import MemoryStore
from bot.telegram import screens
from bot.telegram.application import Runtime, build_application, handled_updates
from bot.telegram.updates import CHAT_QUEUE_LIMIT, PerChatUpdateProcessor
from tests.support.fakebotapi import FakeBotApi
from tests.support.shipped import ROOT, RULES
from tests.support.tgclient import TelegramUser

pytestmark = pytest.mark.e2e

CATALOGS = Catalogs.load(ROOT / "locales")
RU = CATALOGS.translator("ru")


@contextlib.asynccontextmanager
async def bot_polling(**settings: Any) -> AsyncIterator[tuple[FakeBotApi, Application[Any, Any, Any, Any, Any, Any]]]:
    """The bot, as shipped but for ``settings``, polling a fake Bot API."""
    async with FakeBotApi() as api:
        configured = Settings(
            token=api.token, api_base_url=api.base_url, session_secret=b"a test secret, 32 bytes long...", **settings
        )
        runtime = Runtime(Engine(load_table(RULES)), CATALOGS, MemoryStore(ttl=86400), configured)
        app = build_application(runtime)
        async with app:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            await app.start()
            yield api, app
            await app.updater.stop()
            await app.stop()


@pytest.fixture
async def running() -> AsyncIterator[tuple[FakeBotApi, Application[Any, Any, Any, Any, Any, Any]]]:
    async with bot_polling() as (api, app):
        yield api, app


def person(api: FakeBotApi, app: Application[Any, Any, Any, Any, Any, Any], user_id: int) -> TelegramUser:
    return TelegramUser(api, lambda: handled_updates(app), user_id=user_id, language_code="ru")


async def until(condition: Any, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting"
        await asyncio.sleep(0.002)


async def test_one_person_waiting_for_telegram_does_not_hold_up_another(running: Any) -> None:
    api, app = running
    slow, quick = person(api, app, 1), person(api, app, 2)
    api.fail_next("sendMessage", "timeout", seconds=1.5)  # Telegram is slow to answer the first message
    api.message_update(slow.user, slow.chat, "/start")
    await until(lambda: api.calls_to("sendMessage"))
    metrics = app.bot_data.runtime.metrics.registry
    assert metrics.get_sample_value("maslahat_chats_in_flight") == 1  # what /metrics shows operators
    api.message_update(quick.user, quick.chat, "/start")
    await until(lambda: handled_updates(app) == 1, seconds=1.0)  # well before the slow answer comes
    assert RU.gettext(screens.WELCOME) in (quick.last_message().text or "")
    await slow.wait()
    assert handled_updates(app) == 2
    await until(lambda: metrics.get_sample_value("maslahat_chats_in_flight") == 0)


async def test_one_persons_messages_are_answered_one_at_a_time_in_order(running: Any) -> None:
    api, app = running
    aziz, other = person(api, app, 1), person(api, app, 2)
    api.fail_next("sendMessage", "timeout", seconds=1.0)
    api.message_update(aziz.user, aziz.chat, "/start")
    api.message_update(aziz.user, aziz.chat, "/help")
    await until(lambda: api.calls_to("sendMessage"))
    api.message_update(other.user, other.chat, "/start")
    await until(lambda: handled_updates(app) == 1, seconds=0.9)  # the bot serves other chats meanwhile...
    assert len(aziz.messages) == 1  # ...but Aziz's /help waits for his /start
    await aziz.wait()
    texts = [m.text or "" for m in aziz.messages]
    assert len(texts) == 2
    assert RU.gettext(screens.WELCOME) in texts[0]
    assert texts[1] == screens.help_screen(RU, "aaaaaa").text
    processor = app.update_processor
    assert isinstance(processor, PerChatUpdateProcessor)
    assert processor.chats_in_flight == 0  # nobody's chat id is kept once their updates are done


# The processor alone ------------------------------------------------------------------------------


def update(update_id: int, chat_id: int | None) -> Update:
    if chat_id is None:
        return Update(update_id)
    chat = Chat(chat_id, Chat.PRIVATE)
    user = User(chat_id, "Test", is_bot=False)
    return Update(update_id, message=Message(update_id, dt.datetime.now(dt.UTC), chat, from_user=user, text="x"))


async def test_a_chats_updates_run_in_arrival_order_and_chats_interleave() -> None:
    processor = PerChatUpdateProcessor(8)
    log: list[str] = []

    async def work(name: str, pause: float) -> None:
        log.append(f"{name} start")
        await asyncio.sleep(pause)
        log.append(f"{name} end")

    await asyncio.gather(
        processor.process_update(update(1, 10), work("a1", 0.05)),
        processor.process_update(update(2, 10), work("a2", 0)),
        processor.process_update(update(3, 20), work("b1", 0.01)),
        processor.process_update(update(4, 10), work("a3", 0)),
    )
    assert [e for e in log if e.startswith("a")] == ["a1 start", "a1 end", "a2 start", "a2 end", "a3 start", "a3 end"]
    assert log.index("b1 end") < log.index("a1 end")  # chat 20 did not wait for chat 10
    assert processor.chats_in_flight == 0


async def test_a_chat_takes_one_place_however_much_it_sends() -> None:
    processor = PerChatUpdateProcessor(2)
    running: list[int] = []

    async def work(chat: int) -> None:
        running.append(chat)
        await asyncio.sleep(0.01)

    many = [processor.process_update(update(i, 10), work(10)) for i in range(5)]
    await asyncio.wait_for(asyncio.gather(*many, processor.process_update(update(9, 20), work(20))), 5)
    assert running.index(20) == 1  # chat 20 started while chat 10's first update was running
    assert running.count(10) == 5


async def test_a_failure_outside_the_handlers_does_not_lose_the_chats_next_updates(
    caplog: pytest.LogCaptureFixture,
) -> None:
    processor = PerChatUpdateProcessor(4)
    done: list[int] = []

    async def fail() -> None:
        await asyncio.sleep(0.01)
        raise RuntimeError("boom")

    async def work(n: int) -> None:
        done.append(n)

    await asyncio.gather(
        processor.process_update(update(1, 10), fail()),
        processor.process_update(update(2, 10), work(2)),
        processor.process_update(update(3, None), work(3)),  # no chat: runs at once
    )
    assert sorted(done) == [2, 3]
    assert "an update could not be processed" in caplog.text


async def test_a_replica_keeps_to_its_share_of_telegrams_messages_per_second() -> None:
    async with bot_polling(messages_per_second=5) as (api, app):  # e.g. one of six replicas
        people = [person(api, app, user_id) for user_id in range(1, 7)]
        started = asyncio.get_running_loop().time()
        for someone in people:
            api.message_update(someone.user, someone.chat, "/start")
        await people[-1].wait()
        took = asyncio.get_running_loop().time() - started
        assert all(RU.gettext(screens.WELCOME) in (someone.last_message().text or "") for someone in people)
    assert took >= 0.9  # six welcomes at 5 a second: the last no sooner than 1 s after the first


async def test_a_chats_queue_is_bounded_and_what_is_dropped_is_counted() -> None:
    """Before: one person's flood queued without limit (1,000 texts held 1,000 coroutines and chat ids)."""
    dropped: list[int] = []
    queued: list[int] = []
    processor = PerChatUpdateProcessor(
        4,
        on_drop=lambda u: dropped.append(u.update_id),  # type: ignore[attr-defined]
        on_queued=lambda u: queued.append(u.update_id),  # type: ignore[attr-defined]
    )
    release = asyncio.Event()
    done: list[int] = []

    async def work(n: int) -> None:
        if n == 0:
            await release.wait()
        done.append(n)

    first = asyncio.create_task(processor.process_update(update(0, 10), work(0)))
    await asyncio.sleep(0)
    floods = [processor.process_update(update(n, 10), work(n)) for n in range(1, 101)]
    other = processor.process_update(update(500, 20), work(500))
    await asyncio.gather(*floods, other)
    assert done == [500], "another chat is served while the flood waits"
    release.set()
    await asyncio.wait_for(first, 5)
    assert done == [500, 0, *range(1, CHAT_QUEUE_LIMIT + 1)], "the first CHAT_QUEUE_LIMIT, in order"
    assert dropped == list(range(CHAT_QUEUE_LIMIT + 1, 101)), "each update dropped is named, to be confirmed"
    assert queued == list(range(1, CHAT_QUEUE_LIMIT + 1)), "each update queued is named, to be confirmed"
    assert processor.chats_in_flight == 0
