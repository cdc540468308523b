"""Sessions that survive restarts and scale out: end to end, through the real Telegram stack."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.cli import main
from bot.core import moves
from bot.core.engine import Engine
from bot.settings import Settings
from bot.storage.base import MemoryStore, Record, StoreUnavailable, person_key
from bot.storage.sqlite import SQLiteStore
from bot.telegram import screens
from bot.telegram.application import Runtime, Store, build_application, handled_updates
from bot.telegram.callbacks import Press, encode
from tests.support.bot import CATALOGS, TABLE, answer, answer_from_here, t
from tests.support.fakebotapi import FakeBotApi, FakeUser, free_port
from tests.support.processes import start_bot, wait_for
from tests.support.redis_server import RedisServer
from tests.support.shipped import TAJIK
from tests.support.tgclient import TelegramUser

pytestmark = pytest.mark.e2e

SECRET = b"a test secret for the session keys"
WEBHOOK_SECRET = "sessions_test_secret"


def runtime_for(api: FakeBotApi, store: Store) -> Runtime:
    settings = Settings(token=api.token, api_base_url=api.base_url, session_secret=SECRET)
    return Runtime(Engine(TABLE), CATALOGS, store, settings)


@contextlib.asynccontextmanager
async def running(
    api: FakeBotApi, store: Store, *, webhook_port: int | None = None
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """A bot over ``store``, polling, or on a webhook at ``webhook_port``."""
    app = build_application(runtime_for(api, store))
    async with app:
        assert app.updater is not None
        if webhook_port is None:
            await app.updater.start_polling(poll_interval=0, timeout=1)
        else:
            await app.updater.start_webhook(
                listen="127.0.0.1",
                port=webhook_port,
                url_path="telegram",
                secret_token=WEBHOOK_SECRET,
                webhook_url=f"http://127.0.0.1:{webhook_port}/telegram",
            )
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
            await store.close()  # post_stop, which closes it in production, runs only under run_polling/run_webhook


def key_of(user: TelegramUser) -> str:
    return person_key(SECRET, user.user.id)


# Restarts ---------------------------------------------------------------------------------------


async def _start_process(api: FakeBotApi, state: Path) -> asyncio.subprocess.Process:
    calls = len(api.calls_to("getUpdates"))
    process = await start_bot(api, state)
    await wait_for(lambda: len(api.calls_to("getUpdates")) > calls, "the bot to poll")
    return process


async def test_kill_9_in_the_middle_of_a_conversation_loses_nothing(tmp_path: Path) -> None:
    async with FakeBotApi() as api:
        user = FakeUser(3131, "Rustam", None, "en")
        process = await _start_process(api, tmp_path)

        async def press(label: str) -> None:
            shown = api.messages(user.id)[-1]
            data = next(b["callback_data"] for row in shown.inline_keyboard for b in row if b["text"] == label)
            answers = len(api.callback_answers)
            api.callback_update(user, shown.message_id, data)
            await wait_for(lambda: len(api.callback_answers) > answers, f"the press on {label!r}")

        try:
            api.message_update(user, text="/start")
            await wait_for(lambda: bool(api.messages(user.id)) and api.messages(user.id)[-1].outgoing, "the welcome")
            await press("Start")
            await press("A man")
            await press("18 to 64")
            process.kill()  # SIGKILL: no shutdown, no flush
            await process.wait()
            process = await _start_process(api, tmp_path)
            await press("Tajikistan")
            assert "What are you applying for now?" in (api.messages(user.id)[-1].text or "")
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
                await asyncio.wait_for(process.wait(), timeout=20)
    store = SQLiteStore(tmp_path / "maslahat.db", ttl=3600)
    key = person_key((tmp_path / "session.key").read_text().strip().encode(), user.id)
    record = await store.get(key)
    await store.close()
    assert record is not None
    assert dict(record.session.answers) == {"sex": "male", "age": "18_64", "citizenship": "tajikistan"}


# Two processes, one store ------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
async def shared(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Callable[[], Store]]:
    """A way to open a store that several bot instances share."""
    if request.param == "sqlite":
        yield lambda: SQLiteStore(tmp_path / "shared.db", ttl=3600)
        return
    server = request.getfixturevalue("redis_server")
    from bot.storage.redis import RedisStore

    prefix = f"test{time.monotonic_ns()}"
    yield lambda: RedisStore(server.url, ttl=3600, prefix=prefix)


@dataclass
class TwoInstances:
    """Two bots sharing one store, each on its own webhook, and a person at the first question."""

    one: Application[Any, Any, Any, Any, Any, Any]
    two: Application[Any, Any, Any, Any, Any, Any]
    urls: tuple[str, str]
    user: TelegramUser

    def press_a_man(self, api: FakeBotApi, update_id: int) -> dict[str, Any]:
        """The update of pressing "A man" under the current question, not yet delivered."""
        data = encode(Press.ANSWER, self.one.bot_data.runtime.version, "sex", "male")
        update = api.callback_update(self.user.user, self.user.last_message().message_id, data, enqueue=False)
        update["update_id"] = update_id
        return update


@contextlib.asynccontextmanager
async def two_instances(api: FakeBotApi, shared: Callable[[], Store]) -> AsyncIterator[TwoInstances]:
    ports = free_port(), free_port()
    async with (
        running(api, shared(), webhook_port=ports[0]) as one,
        running(api, shared(), webhook_port=ports[1]) as two,
    ):
        user = TelegramUser(api, lambda: handled_updates(one) + handled_updates(two), language_code="en")
        await user.send("/start")
        await user.click("Start")
        yield TwoInstances(
            one, two, (f"http://127.0.0.1:{ports[0]}/telegram", f"http://127.0.0.1:{ports[1]}/telegram"), user
        )


async def test_a_double_tap_across_two_instances_records_one_answer(shared: Callable[[], Store]) -> None:
    async with FakeBotApi() as api, two_instances(api, shared) as pair:
        first, second = pair.press_a_man(api, 700_001), pair.press_a_man(api, 700_002)
        statuses = await asyncio.gather(
            api.post_to_webhook(first, secret=WEBHOOK_SECRET, url=pair.urls[0]),
            api.post_to_webhook(second, secret=WEBHOOK_SECRET, url=pair.urls[1]),
        )
        assert statuses == [200, 200]
        await pair.user.wait()
        record = await pair.one.bot_data.runtime.store.get(key_of(pair.user))
        assert dict(record.session.answers) == {"sex": "male"}
        notices = [api.callback_answers[u["callback_query"]["id"]].get("text") for u in (first, second)]
        assert sorted(n or "" for n in notices) == ["", moves.STALE_BUTTON]
        assert not [m for m in pair.user.messages if m.text == screens.SOMETHING_WRONG]


async def test_an_update_delivered_to_both_instances_is_applied_and_answered_once(shared: Callable[[], Store]) -> None:
    async with FakeBotApi() as api, two_instances(api, shared) as pair:
        update = pair.press_a_man(api, 800_001)
        for url in pair.urls:  # the same update, once to each process (a webhook redelivery)
            assert await api.post_to_webhook(update, secret=WEBHOOK_SECRET, url=url) == 200
            await pair.user.wait()
        presses = [
            p for p in api.calls_to("answerCallbackQuery") if p["callback_query_id"] == update["callback_query"]["id"]
        ]
        assert len(presses) == 1
        assert not [m for m in pair.user.messages if m.text == screens.SOMETHING_WRONG]
        duplicates = [app.bot_data.runtime.metrics["updates_duplicate"] for app in (pair.one, pair.two)]
        assert sum(duplicates) == 1


# A store that fails ----------------------------------------------------------------------------


class FlakyStore(MemoryStore):
    """A memory store that can be made unreachable, as a store that is down."""

    down = False

    async def get(self, key: str) -> Record | None:
        if self.down:
            raise StoreUnavailable("test: the store is down")
        return await super().get(key)


async def test_a_store_that_is_down_gets_a_notice_and_nothing_is_lost() -> None:
    store = FlakyStore(ttl=3600)
    async with FakeBotApi() as api, running(api, store) as app:
        user = TelegramUser(api, lambda: handled_updates(app), language_code="tg")
        await user.send("/start")
        await user.click(t("tg").gettext(screens.START))
        await user.click(t("tg").gettext("A man"))
        store.down = True
        await user.click(t("tg").gettext("18 to 64"))
        assert user.last_callback_answer()["text"] == t("tg").gettext(screens.STORE_UNAVAILABLE)  # type: ignore[index]
        await user.send("hello")
        assert user.last_message().text == t("tg").gettext(screens.STORE_UNAVAILABLE)
        store.down = False
        await user.click(t("tg").gettext("18 to 64"))
        question = t("tg").gettext("Which country's citizen are you?")
        assert any(question in (m.text or "") for m in user.messages), "the pressed question moved on"
        record = await store.get(key_of(user))
        assert record is not None
        assert dict(record.session.answers) == {"sex": "male", "age": "18_64"}
        assert app.bot_data.runtime.metrics["store_unavailable"] == 2


async def test_a_corrupt_sqlite_file_gets_a_notice_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "broken.db"
    path.write_bytes(b"this is not a database, it was overwritten by mistake" * 200)
    async with FakeBotApi() as api, running(api, SQLiteStore(path, ttl=3600)) as app:
        user = TelegramUser(api, lambda: handled_updates(app), language_code="uz")
        await user.send("/start")
        assert user.last_message().text == t("uz").gettext(screens.STORE_UNAVAILABLE)
        await user.send("/help")  # the bot is still running
        assert "/forget" in (user.last_message().text or "")


async def test_redis_going_away_mid_conversation() -> None:
    from bot.storage.redis import RedisStore

    redis_server = RedisServer()  # its own server: this test stops it
    store = RedisStore(redis_server.url, ttl=3600, prefix="away")
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(redis_server.close)
        api = await stack.enter_async_context(FakeBotApi())
        app = await stack.enter_async_context(running(api, store))
        user = TelegramUser(api, lambda: handled_updates(app), language_code="ky", timeout=30)
        await user.send("/start")
        await user.click(t("ky").gettext(screens.START))
        await user.click(t("ky").gettext("A man"))
        redis_server.stop()
        await user.click(t("ky").gettext("18 to 64"))
        assert user.last_callback_answer()["text"] == t("ky").gettext(screens.STORE_UNAVAILABLE)  # type: ignore[index]
        redis_server.start()
        await user.click(t("ky").gettext("18 to 64"))
        question = t("ky").gettext("Which country's citizen are you?")
        assert any(question in (m.text or "") for m in user.messages), "the pressed question moved on"


# Privacy ----------------------------------------------------------------------------------------


async def test_forget_deletes_the_session_in_each_backend(shared: Callable[[], Store]) -> None:
    store = shared()
    async with FakeBotApi() as api, running(api, store) as app:
        user = TelegramUser(api, lambda: handled_updates(app), language_code="ru")
        await user.send("/start")
        await user.click(t("ru").gettext(screens.START))
        await user.click(t("ru").gettext("A man"))
        assert await store.get(key_of(user)) is not None
        await user.send("/forget")
        assert user.last_message().text == t("ru").gettext(screens.FORGOTTEN)
        assert await store.get(key_of(user)) is None


async def test_what_is_stored_holds_no_id_name_or_message_text(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    async with FakeBotApi() as api, running(api, SQLiteStore(path, ttl=3600)) as app:
        user = TelegramUser(
            api,
            lambda: handled_updates(app),
            language_code="uz",
            user_id=918273645,
            first_name="Shahlo",
            username="shahlo_spb",
        )
        await user.send("/start")
        await user.send("Salom, men Samarqanddanman")  # the first question comes with the hint
        await answer_from_here(user, "uz", TAJIK)
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("private.db"))
    for private in (b"918273645", b"Shahlo", b"shahlo_spb", b"Samarqanddanman"):
        assert private not in raw
    store = SQLiteStore(path, ttl=3600)
    record = await store.get(person_key(SECRET, 918273645))
    await store.close()
    assert record is not None
    stored = json.loads(json.dumps(record.session.to_dict()))
    assert set(stored) == {"lang", "answers", "version"}


# Anonymous statistics ---------------------------------------------------------------------------


async def test_statistics_count_conversations_and_survive_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stats.db"
    async with FakeBotApi() as api, running(api, SQLiteStore(path, ttl=3600)) as app:
        for number, (lang, story) in enumerate([("tg", TAJIK), ("ru", {"sex": "female"}), ("tg", {"sex": "female"})]):
            user = TelegramUser(api, lambda: handled_updates(app), language_code=lang, user_id=5000 + number)
            await user.send("/start")
            await answer(user, lang, story)
    monkeypatch.setenv("STORAGE_URL", f"sqlite:///{path}")
    assert await asyncio.to_thread(main, ["stats", "--json"]) == 0
    rows = {(r["name"], r["label"]): r["count"] for r in json.loads(capsys.readouterr().out)}
    assert rows[("started", "tg")] == 2
    assert rows[("finished", "ru")] == 1
    assert rows[("outcome", "not_affected_woman")] == 2
    assert rows[("outcome", "affected_residence")] == 1
    assert rows[("verdict", "affected")] == 1
    assert await asyncio.to_thread(main, ["stats"]) == 0
    table = capsys.readouterr().out
    assert "finished" in table
    assert "5000" not in table  # the statistics hold days, counter names and labels only
