"""The aiohttp transport python-telegram-bot uses to reach the Bot API (bot/telegram/http.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import time
import traceback
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from bot.telegram.http import AiohttpRequest, NotSent
from tests.support.fakebotapi import FakeBotApi, FakeChat, FakeUser, free_port

pytestmark = pytest.mark.e2e

AZIZ = FakeUser(42, "Aziz", language_code="uz")


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        server.add_chat(FakeChat.private(AZIZ))
        yield server


def make_bot(base_url: str, token: str, request: AiohttpRequest | None = None) -> telegram.Bot:
    return telegram.Bot(
        token,
        base_url=f"{base_url}/bot",
        base_file_url=f"{base_url}/file/bot",
        request=request or AiohttpRequest(8),
        get_updates_request=AiohttpRequest(1),
    )


async def test_a_message_with_html_and_buttons_goes_out_and_comes_back_parsed(api: FakeBotApi) -> None:
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Ha", callback_data="a:yes")]])
    async with make_bot(api.base_url, api.token) as bot:
        sent = await bot.send_message(AZIZ.id, "<b>Savol</b> — ҷавоб", parse_mode=ParseMode.HTML, reply_markup=keyboard)
    assert sent.text == "Savol — ҷавоб"
    assert sent.reply_markup == keyboard
    assert api.messages(AZIZ.id)[-1].buttons == [["Ha"]]


async def test_telegram_errors_keep_their_meaning(api: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # retry_after as a timedelta, with no deprecation warning
    async with make_bot(api.base_url, api.token) as bot:
        api.fail_next("sendMessage", "retry_after", retry_after=3)
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(AZIZ.id, "salom")
        with pytest.raises(BadRequest, match=r"[Cc]hat not found"):
            await bot.send_message(999, "salom")
    assert flood.value.retry_after == dt.timedelta(seconds=3)


async def test_a_slow_answer_times_out_although_telegram_carried_the_call_out(api: FakeBotApi) -> None:
    api.fail_next("sendMessage", "timeout", seconds=2.0)
    async with make_bot(api.base_url, api.token, AiohttpRequest(2, read_timeout=0.2)) as bot:
        started = time.monotonic()
        with pytest.raises(TimedOut) as caught:
            await bot.send_message(AZIZ.id, "salom")
        assert time.monotonic() - started < 1.5
        assert not isinstance(caught.value, NotSent), "sent, and carried out: repeating it would send it twice"
        # The call can set its own, longer read timeout.
        api.fail_next("sendMessage", "timeout", seconds=0.3)
        await bot.send_message(AZIZ.id, "yana", read_timeout=2)
    assert [m.text for m in api.messages(AZIZ.id)] == ["salom", "yana"]


async def test_waiting_for_a_busy_pool_times_out(api: FakeBotApi) -> None:
    api.fail_next("sendMessage", "timeout", seconds=1.0)
    request = AiohttpRequest(1, pool_timeout=0.1, connect_timeout=0.1)
    async with make_bot(api.base_url, api.token, request) as bot:
        slow = asyncio.create_task(bot.send_message(AZIZ.id, "first"))
        await asyncio.sleep(0.2)  # the only connection is now waiting for the slow answer
        with pytest.raises(TimedOut) as caught:
            await bot.send_message(AZIZ.id, "second")
        assert isinstance(caught.value, NotSent), "waiting for a connection: the call never left"
        assert (await slow).text == "first"


@pytest.mark.parametrize("address", ["127.0.0.1:{free}", "127.0.0.1:99999"], ids=["nothing-listening", "bad-port"])
async def test_transport_failures_are_network_errors_that_never_show_the_token(address: str) -> None:
    token = "123456789:AAHsecretTokenThatMustNotLeak_0000000"
    request = AiohttpRequest(1)
    bot = make_bot(f"http://{address.format(free=free_port())}", token, request)
    await request.initialize()  # telegram.Bot.initialize would call getMe first
    try:
        with pytest.raises(NetworkError) as caught:
            await bot.send_message(AZIZ.id, "salom")
    finally:
        await request.shutdown()
    assert not isinstance(caught.value, TimedOut)
    assert isinstance(caught.value, NotSent), "nothing listened: the call provably never reached Telegram"
    assert caught.value.message.startswith("aiohttp.")
    shown = "".join(traceback.format_exception(caught.value))
    assert "AAHsecret" not in shown


async def test_files_go_as_multipart_with_the_other_parameters() -> None:
    received: dict[str, Any] = {}

    async def send_document(request: web.Request) -> web.Response:
        form = await request.post()
        document = form["document"]
        assert isinstance(document, web.FileField)
        received.update(
            chat_id=form["chat_id"], caption=form["caption"], name=document.filename, body=document.file.read()
        )
        message = {"message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"}, "caption": form["caption"]}
        return web.json_response({"ok": True, "result": message})

    app = web.Application()
    app.router.add_post("/bot{token}/sendDocument", send_document)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    request = AiohttpRequest(1)
    await request.initialize()
    try:
        bot = make_bot(f"http://127.0.0.1:{port}", "1:abc", request)
        sent = await bot.send_document(42, io.BytesIO(b"hujjat"), filename="ariza.txt", caption="Ariza — ҳужжат")
    finally:
        await request.shutdown()
        await runner.cleanup()
    assert sent.caption == "Ariza — ҳужжат"
    assert received == {"chat_id": "42", "caption": "Ariza — ҳужжат", "name": "ariza.txt", "body": b"hujjat"}


async def test_it_must_be_initialized_and_can_be_shut_down_and_opened_again(api: FakeBotApi) -> None:
    request = AiohttpRequest(1)
    url = f"{api.base_url}/bot{api.token}/getMe"
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(url)
    for _ in range(2):
        await request.initialize()
        assert (await request.post(url))["username"] == "maslahat_test_bot"  # type: ignore[index,call-overload]
        await request.shutdown()
        await request.shutdown()
    with pytest.raises(NetworkError, match="not initialized"):
        await request.post(url)


def test_a_pool_needs_a_connection() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        AiohttpRequest(0)


async def test_a_proxy_named_in_the_environment_carries_the_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    request_lines: list[bytes] = []

    async def proxy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        request_lines.append(head.split(b"\r\n", 1)[0])
        length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
        await reader.readexactly(length)
        body = b'{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"Via proxy","username":"proxied_bot"}}'
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
        writer.write(body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(proxy, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    request = AiohttpRequest(1)
    await request.initialize()
    try:
        bot = make_bot("http://api.telegram.invalid", "1:abc", request)
        me = await bot.get_me()
    finally:
        await request.shutdown()
        server.close()
        await server.wait_closed()
    assert me.username == "proxied_bot"
    assert request_lines == [b"POST http://api.telegram.invalid/bot1:abc/getMe HTTP/1.1"]


async def test_no_proxy_sends_the_calls_directly(api: FakeBotApi, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with make_bot(api.base_url, api.token) as bot:
        assert (await bot.get_me()).username == "maslahat_test_bot"
