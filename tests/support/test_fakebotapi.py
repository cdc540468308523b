"""The fake Bot API is faithful enough to test a bot against: the real python-telegram-bot talks to it.

Everything runs on 127.0.0.1: the fake server, and the bot's own webhook server in webhook mode.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
import telegram
from telegram import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from tests.support.fakebotapi import (
    NOT_MODIFIED,
    FakeBotApi,
    FakeChat,
    FakeUser,
    HtmlError,
    RateLimits,
    free_port,
    parse_html,
)
from tests.support.tgclient import BotDidNotAnswer, TelegramUser

pytestmark = pytest.mark.asyncio

AZIZ = FakeUser(42, "Aziz", "aziz_m", "uz")
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("Ha", callback_data="yes")]])


@pytest.fixture(autouse=True)
def _timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """python-telegram-bot 22 warns when RetryAfter is built unless it may use timedelta (errors here)."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        server.add_chat(FakeChat.private(AZIZ))
        yield server


def make_bot(api: FakeBotApi, token: str | None = None) -> telegram.Bot:
    """A plain telegram.Bot for the fake; the Application tests below use python-telegram-bot's defaults.

    The fake speaks plain http, so the requests skip loading CA certificates (some 50 ms a client).
    """
    return telegram.Bot(
        token or api.token,
        base_url=f"{api.base_url}/bot",
        base_file_url=f"{api.base_url}/file/bot",
        request=HTTPXRequest(httpx_kwargs={"verify": False}),
        get_updates_request=HTTPXRequest(httpx_kwargs={"verify": False}),
    )


@pytest_asyncio.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[telegram.Bot]:
    async with make_bot(api) as client:
        yield client


async def raw(api: FakeBotApi, method: str, *, http: str = "POST", **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """Calls the fake without python-telegram-bot, to see Telegram's raw answers."""
    async with (
        aiohttp.ClientSession() as session,
        session.request(http, f"{api.base_url}/bot{api.token}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


# --------------------------------------------------------------------------------------------------
# Calls through telegram.Bot


async def test_get_me_describes_the_bot(bot: telegram.Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456789, True, "maslahat_test_bot")
    assert me.can_join_groups is True
    assert me.supports_inline_queries is False


async def test_send_message_parses_html_and_echoes_the_inline_keyboard(api: FakeBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(
        AZIZ.id,
        "  <b>Salom</b>, <i>do‘st</i> &lt;3 <a href='https://gov.ru'>manba</a>\n",
        "HTML",
        reply_markup=KEYBOARD,
    )
    assert sent.text == "Salom, do‘st <3 manba"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 5),
        ("italic", 7, 5),
        ("text_link", 16, 5),
    ]
    assert sent.entities[2].url == "https://gov.ru"
    assert sent.reply_markup == KEYBOARD
    assert sent.from_user is not None
    assert sent.from_user.is_bot
    assert (sent.chat.id, sent.chat.type) == (AZIZ.id, "private")
    second = await bot.send_message(AZIZ.id, "Keyingi")
    assert second.message_id == sent.message_id + 1
    shown = api.messages(AZIZ.id)
    assert [m.text for m in shown] == ["Salom, do‘st <3 manba", "Keyingi"]
    assert shown[0].parse_mode == "HTML"
    assert shown[0].raw_text is not None
    assert "<b>" in shown[0].raw_text
    assert shown[0].buttons == [["Ha"]]
    assert api.calls_to("sendMessage")[0]["reply_markup"] == KEYBOARD.to_dict()


async def test_media_are_sent_as_multipart_and_come_back_as_messages(api: FakeBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_photo(AZIZ.id, b"\x89PNG fake", caption="<i>Namuna</i>", parse_mode="HTML")
    assert sent.photo
    assert sent.caption == "Namuna"
    assert [e.type for e in sent.caption_entities] == ["italic"]
    assert api.calls_to("sendPhoto")[0]["photo"]["size"] == len(b"\x89PNG fake")
    assert api.messages(AZIZ.id)[-1].text == "Namuna"


async def test_only_inline_keyboards_belong_to_the_message(api: FakeBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(AZIZ.id, "Tanlang", reply_markup=telegram.ReplyKeyboardMarkup([["A", "B"]]))
    assert sent.reply_markup is None
    assert api.messages(AZIZ.id)[-1].reply_markup == {"keyboard": [[{"text": "A"}, {"text": "B"}]]}


async def test_edits_keep_a_history_and_fail_like_telegram(api: FakeBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(AZIZ.id, "Savol", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text(
        "<b>Javob</b>", AZIZ.id, sent.message_id, parse_mode="HTML", reply_markup=KEYBOARD
    )
    assert isinstance(edited, telegram.Message)
    assert edited.text == "Javob"
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message is not modified: specified new message content"):
        await bot.edit_message_text("<b>Javob</b>", AZIZ.id, sent.message_id, parse_mode="HTML", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(AZIZ.id, sent.message_id, reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", AZIZ.id, 999)
    # Editing the text without reply_markup drops the keyboard, as on Telegram.
    plain = await bot.edit_message_text("Javob", AZIZ.id, sent.message_id)
    assert isinstance(plain, telegram.Message)
    assert plain.reply_markup is None
    message = api.message(AZIZ.id, sent.message_id)
    assert message is not None
    assert [old.text for old in message.history] == ["Savol", "Javob"]
    assert [old.buttons for old in message.history] == [[["Ha"]], [["Ha"]]]
    assert await bot.delete_message(AZIZ.id, sent.message_id) is True
    assert api.messages(AZIZ.id) == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(AZIZ.id, sent.message_id)


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<p>x</p>", 'Unsupported start tag "p" at byte offset 0'),
        ("a <b>b", 'Can\'t find end tag corresponding to start tag "b"'),
        ("ё</b>", "Unexpected end tag at byte offset 2"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x <b", "Unclosed start tag at byte offset 2"),
        ("1 < 2", 'Unsupported start tag "" at byte offset 2'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
async def test_invalid_html_is_refused_with_telegrams_words(html: str, error: str) -> None:
    with pytest.raises(HtmlError) as parsed:
        parse_html(html)
    assert str(parsed.value) == error


async def test_the_html_subset_makes_telegrams_entities() -> None:
    text, entities = parse_html(
        "<strong>b</strong><em>i</em><u>u</u><ins>u</ins><s>s</s><strike>s</strike><del>s</del>"
        '<tg-spoiler>p</tg-spoiler><span class="tg-spoiler">p</span><code>c</code>'
        '<pre><code class="language-python">x = 1</code></pre><blockquote>q</blockquote>'
        "<blockquote expandable>e</blockquote>&quot;&amp;&#39;&nbsp;😀<b>z</b>"
    )
    assert text == "biuusssppcx = 1qe\"&'&nbsp;😀z"
    assert [(e["type"], e["offset"], e["length"]) for e in entities] == [
        ("bold", 0, 1),
        ("italic", 1, 1),
        ("underline", 2, 1),
        ("underline", 3, 1),
        ("strikethrough", 4, 1),
        ("strikethrough", 5, 1),
        ("strikethrough", 6, 1),
        ("spoiler", 7, 1),
        ("spoiler", 8, 1),
        ("code", 9, 1),
        ("pre", 10, 5),
        ("blockquote", 15, 1),
        ("expandable_blockquote", 16, 1),
        ("bold", 28, 1),  # after the emoji, which is two UTF-16 code units
    ]
    assert entities[10]["language"] == "python"


async def test_text_length_is_counted_after_parsing(bot: telegram.Bot) -> None:
    sent = await bot.send_message(AZIZ.id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    assert len(sent.text or "") == 4096
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(AZIZ.id, "a" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(AZIZ.id, "<b> </b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match='Can\'t parse entities: unsupported start tag "p" at byte offset 2'):
        await bot.send_message(AZIZ.id, "a <p>", parse_mode="HTML")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "hello")


async def test_inline_buttons_are_checked(api: FakeBotApi, bot: telegram.Bot) -> None:
    def keyboard(**button: Any) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("Go", **button)]])

    await bot.send_message(AZIZ.id, "ok", reply_markup=keyboard(callback_data="ё" * 32))  # 64 bytes
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(AZIZ.id, "x", reply_markup=keyboard(callback_data="ё" * 33))
    with pytest.raises(BadRequest, match=r"(?i)can't parse InlineKeyboardButton: Text buttons are not allowed"):
        await bot.send_message(AZIZ.id, "x", reply_markup=keyboard())
    status, body = await raw(
        api,
        "sendMessage",
        json={"chat_id": AZIZ.id, "text": "x", "reply_markup": {"inline_keyboard": [[{"callback_data": "a"}]]}},
    )
    assert (status, body["description"]) == (
        400,
        "Bad Request: can't parse InlineKeyboardButton: Can't find field \"text\"",
    )


async def test_callback_queries_are_answered_once(api: FakeBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(AZIZ.id, "Savol", reply_markup=KEYBOARD)
    update = Update.de_json(api.callback_update(AZIZ, sent.message_id, "yes"), bot)
    assert update.callback_query is not None
    assert update.callback_query.data == "yes"
    assert update.callback_query.message is not None
    assert update.callback_query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(update.callback_query.id, "Qabul qilindi", show_alert=True) is True
    answer = api.callback_answers[update.callback_query.id]
    assert (answer["text"], answer["show_alert"]) == ("Qabul qilindi", True)
    with pytest.raises(BadRequest, match="Query is too old and response timeout expired or query id is invalid"):
        await bot.answer_callback_query(update.callback_query.id)


async def test_commands_and_descriptions_are_kept_per_language_and_scope(api: FakeBotApi, bot: telegram.Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Start")])
    await bot.set_my_commands([BotCommand("start", "Boshlash")], language_code="uz")
    await bot.set_my_commands(
        [BotCommand("help", "Yordam")], scope=BotCommandScopeAllPrivateChats(), language_code="uz"
    )
    assert await bot.get_my_commands(language_code="uz") == (BotCommand("start", "Boshlash"),)
    assert await bot.get_my_commands() == (BotCommand("start", "Start"),)
    assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="uz") == (
        BotCommand("help", "Yordam"),
    )
    assert api.commands_for("uz") == [{"command": "start", "description": "Boshlash"}]
    await bot.delete_my_commands(language_code="uz")
    assert await bot.get_my_commands(language_code="uz") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "x")])

    await bot.set_my_description("Farmon 821 haqida", language_code="uz")
    await bot.set_my_short_description("Qisqa", language_code="uz")
    assert (await bot.get_my_description(language_code="uz")).description == "Farmon 821 haqida"
    assert (await bot.get_my_description()).description == ""
    assert (await bot.get_my_short_description(language_code="uz")).short_description == "Qisqa"
    assert api.descriptions == {"uz": "Farmon 821 haqida"}
    assert api.short_descriptions == {"uz": "Qisqa"}


async def test_a_wrong_token_is_refused(api: FakeBotApi) -> None:
    for token in ("123456789:wrong", "not-a-token"):
        with pytest.raises(InvalidToken, match="was rejected by the server"):
            async with make_bot(api, token):
                pass
    status, body = await raw(api, "getMe", http="GET")
    assert status == 200
    assert body["result"]["username"] == "maslahat_test_bot"
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{api.base_url}/bot123456789:wrong/getMe") as response,
    ):
        assert (response.status, await response.json()) == (
            401,
            {"ok": False, "error_code": 401, "description": "Unauthorized"},
        )


async def test_unknown_methods_are_not_found_and_others_are_recorded(api: FakeBotApi, bot: telegram.Bot) -> None:
    assert await raw(api, "sendTelepathy") == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    assert await bot.pin_chat_message(AZIZ.id, 1) is True
    assert await bot.send_chat_action(AZIZ.id, "typing") is True
    assert api.calls[-2:] == [
        ("pinChatMessage", {"chat_id": AZIZ.id, "message_id": 1}),
        ("sendChatAction", {"chat_id": AZIZ.id, "action": "typing"}),
    ]
    assert api.chat_actions == [(AZIZ.id, "typing")]


async def test_json_and_query_string_requests_are_understood(api: FakeBotApi) -> None:
    markup = {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    status, body = await raw(api, "sendMessage", json={"chat_id": str(AZIZ.id), "text": "123", "reply_markup": markup})
    assert status == 200
    assert body["result"]["text"] == "123"
    assert body["result"]["reply_markup"] == markup
    status, body = await raw(api, "sendmessage", http="GET", params={"chat_id": str(AZIZ.id), "text": "true"})
    assert status == 200
    assert body["result"]["text"] == "true"
    assert [name for name, _ in api.calls] == ["sendMessage", "sendMessage"]


# --------------------------------------------------------------------------------------------------
# Updates


async def test_injected_updates_have_telegrams_shapes(api: FakeBotApi, bot: telegram.Bot) -> None:
    group = FakeChat(-4000000001, "group", title="Migrantlar")
    channel = FakeChat(-1001234567890, "channel", title="Yangiliklar", username="yangiliklar")
    raw_updates = [
        api.message_update(AZIZ, text="/start@maslahat_test_bot ru"),
        api.message_update(AZIZ, sticker=True),
        api.message_update(AZIZ, photo=True, caption="pasport"),
        api.message_update(AZIZ, voice=True),
        api.message_update(AZIZ, document=True),
        api.message_update(AZIZ, location=(55.75, 37.61)),
        api.message_update(AZIZ, contact=True),
        api.message_update(AZIZ, group, text="salom /help"),
        api.message_update(None, channel, text="Yangilik"),
    ]
    updates = await bot.get_updates(timeout=0)
    assert [u.update_id for u in updates] == [u["update_id"] for u in raw_updates]
    assert api.updates_sent == len(raw_updates)
    start, sticker, photo, voice, document, location, contact, in_group, post = updates
    assert start.message is not None
    assert start.message.from_user == AZIZ_TG
    assert start.message.parse_entities(["bot_command"]).popitem()[1] == "/start@maslahat_test_bot"
    assert start.message.text == "/start@maslahat_test_bot ru"
    assert sticker.message is not None
    assert sticker.message.sticker is not None
    assert photo.message is not None
    assert photo.message.photo
    assert photo.message.caption == "pasport"
    assert voice.message is not None
    assert voice.message.voice is not None
    assert document.message is not None
    assert document.message.document is not None
    assert location.message is not None
    assert location.message.location is not None
    assert contact.message is not None
    assert contact.message.contact is not None
    assert in_group.message is not None
    assert in_group.message.chat.type == "group"
    assert in_group.message.parse_entities(["bot_command"]) == {in_group.message.entities[0]: "/help"}
    assert post.channel_post is not None
    assert post.channel_post.from_user is None
    assert post.channel_post.sender_chat is not None
    assert post.channel_post.sender_chat.id == channel.id
    # Message ids grow per chat, in both directions.
    assert [u.message.message_id for u in updates[:7] if u.message] == [1, 2, 3, 4, 5, 6, 7]
    assert in_group.message.message_id == 1


AZIZ_TG = telegram.User(42, "Aziz", False, username="aziz_m", language_code="uz")


async def test_get_updates_long_polls_and_confirms_with_offset(api: FakeBotApi, bot: telegram.Bot) -> None:
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, lambda: api.message_update(AZIZ, text="kech"))
    started = time.monotonic()
    updates = await bot.get_updates(timeout=5)
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates if u.message] == ["kech"]
    api.message_update(AZIZ, text="ikkinchi")
    # Not confirmed yet: the same update comes again, and limit takes the oldest.
    assert [u.update_id for u in await bot.get_updates(limit=1)] == [updates[0].update_id]
    after = await bot.get_updates(offset=updates[0].update_id + 1)
    assert [u.message.text for u in after if u.message] == ["ikkinchi"]
    assert len(api.pending_updates) == 1
    api.message_update(AZIZ, text="uchinchi")
    assert [u.message.text for u in await bot.get_updates(offset=-1) if u.message] == ["uchinchi"]
    assert [u.message.text for u in await bot.get_updates() if u.message] == ["uchinchi"]
    await bot.get_updates(offset=updates[0].update_id + 3)
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == ()
    assert time.monotonic() - started >= 0.9


async def test_allowed_updates_filter_what_polling_gets(api: FakeBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(AZIZ.id, "Savol", reply_markup=KEYBOARD)
    api.message_update(AZIZ, text="matn")
    api.callback_update(AZIZ, sent.message_id, "yes")
    updates = await bot.get_updates(allowed_updates=["callback_query"])
    assert [u.callback_query.data for u in updates if u.callback_query] == ["yes"]
    assert len(updates) == 1


async def test_a_newer_get_updates_terminates_the_older_one(api: FakeBotApi) -> None:
    older = asyncio.create_task(raw(api, "getUpdates", json={"timeout": 5}))
    while not api.calls_to("getUpdates"):
        await asyncio.sleep(0.001)
    assert await raw(api, "getUpdates", json={"timeout": 0}) == (200, {"ok": True, "result": []})
    status, body = await older
    assert status == 409
    assert body["description"] == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    )


async def test_a_webhook_blocks_get_updates(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.message_update(AZIZ, text="kutmoqda")
    port = free_port()  # nothing listens there: deliveries fail and the update stays pending
    assert await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret") is True
    with pytest.raises(Conflict, match="can't use getUpdates method while webhook is active"):
        await bot.get_updates()
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (f"http://127.0.0.1:{port}/hook", 1)
    with pytest.raises(BadRequest, match="Bad webhook"):
        await bot.set_webhook("https://example.com/hook")
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert await bot.get_updates() == ()
    assert (await bot.get_webhook_info()).url == ""


# --------------------------------------------------------------------------------------------------
# Failures


async def test_retry_after_becomes_retry_after(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.fail_next("sendMessage", "retry_after", retry_after=3)
    with pytest.raises(RetryAfter, match="Retry in 0:00:03"):
        await bot.send_message(AZIZ.id, "x")
    assert (await bot.send_message(AZIZ.id, "x")).text == "x"
    api.fail_next("getMe", "retry_after", retry_after=2)
    assert await raw(api, "getMe") == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 2",
            "parameters": {"retry_after": 2},
        },
    )


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_become_network_errors(api: FakeBotApi, bot: telegram.Bot, status: int) -> None:
    api.fail_next("getMe", "server_error", status=status, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError):
            await bot.get_me()
    assert (await bot.get_me()).is_bot


async def test_other_injected_failures(api: FakeBotApi, bot: telegram.Bot) -> None:
    sent = await bot.send_message(AZIZ.id, "x")
    api.fail_next("editMessageText", "not_modified")
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("y", AZIZ.id, sent.message_id)
    api.fail_next("editMessageText", "not_found")
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("y", AZIZ.id, sent.message_id)
    api.fail_next("sendMessage", "forbidden")
    with pytest.raises(Forbidden, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(AZIZ.id, "x")
    api.blocked.add(AZIZ.id)
    with pytest.raises(Forbidden):
        await bot.send_message(AZIZ.id, "x")
    assert NOT_MODIFIED.startswith("message is not modified")


async def test_a_slow_answer_times_out_although_the_call_took_effect(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.fail_next("sendMessage", "timeout", seconds=5)
    started = time.monotonic()
    with pytest.raises(TimedOut):
        await bot.send_message(AZIZ.id, "sekin", read_timeout=0.2)
    assert time.monotonic() - started < 2
    assert [m.text for m in api.messages(AZIZ.id)] == ["sekin"]


async def test_optional_rate_limits(api: FakeBotApi, bot: telegram.Bot) -> None:
    api.rate_limits = RateLimits(per_second=3, per_chat_per_second=1)
    others = [FakeChat(100 + n) for n in range(4)]
    for chat in others:
        api.add_chat(chat)
    await bot.send_message(AZIZ.id, "bir")
    with pytest.raises(RetryAfter):
        await bot.send_message(AZIZ.id, "ikki")
    await bot.send_message(others[0].id, "a")
    await bot.send_message(others[1].id, "b")
    with pytest.raises(RetryAfter):  # three a second over all chats
        await bot.send_message(others[2].id, "c")


# --------------------------------------------------------------------------------------------------
# A real Application, driven by TelegramUser


def echo_app(api: FakeBotApi) -> tuple[Application[Any, Any, Any, Any, Any, Any], Callable[[], int]]:
    """A tiny bot: echoes text with a button; the button edits the message and answers the press."""
    builder = ApplicationBuilder().token(api.token)
    app = builder.base_url(f"{api.base_url}/bot").base_file_url(f"{api.base_url}/file/bot").build()
    handled = 0

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        assert update.effective_chat is not None
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yana", callback_data="again")]])
        text = f"<b>{update.effective_message.text}</b>"
        await context.bot.send_message(update.effective_chat.id, text, "HTML", reply_markup=markup)

    async def press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(f"bosildi: {query.data}")
        await query.edit_message_text("Bosildi")

    async def count(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        nonlocal handled
        handled += 1

    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(press))
    app.add_handler(TypeHandler(object, count), group=99)
    return app, lambda: handled


@asynccontextmanager
async def polling(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    async with app:
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0)
        await app.start()
        try:
            yield
        finally:
            await app.updater.stop()
            await app.stop()


async def test_a_polling_bot_answers_messages_and_buttons(api: FakeBotApi) -> None:
    app, handled = echo_app(api)
    user = TelegramUser(api, handled, user_id=AZIZ.id, first_name="Aziz")
    async with polling(app):
        await user.send("Salom")
        assert user.last_message().text == "Salom"
        assert user.last_message().buttons == [["Yana"]]
        assert user.last_message().parse_mode == "HTML"
        await user.click("Yana")
        assert user.last_message().text == "Bosildi"
        assert user.last_message().buttons == []
        answer = user.last_callback_answer()
        assert answer is not None
        assert answer["text"] == "bosildi: again"
        await user.send_sticker()  # not text: no answer, but handled
        await user.click_data("forged")
        assert [m.text for m in user.messages] == ["Bosildi"]
        with pytest.raises(AssertionError, match=r"no button .Yo'q. in chat 42; no message there has inline buttons"):
            await user.click("Yo'q")
    assert api.updates_sent == handled() == 4


async def test_a_group_member_talks_to_the_bot(api: FakeBotApi) -> None:
    app, handled = echo_app(api)
    member = TelegramUser(api, handled, user_id=7, first_name="Dilnoza", chat_type="supergroup")
    async with polling(app):
        await member.send("Guruhda")
        await member.click("Yana")
    assert member.chat.id < 0
    assert [m.text for m in member.messages] == ["Bosildi"]
    assert [m.sender.id if m.sender else None for m in member.chat_history] == [7, api.bot.id]


async def test_the_user_says_clearly_when_the_bot_does_not_answer(api: FakeBotApi) -> None:
    user = TelegramUser(api, lambda: 0, timeout=0.1)
    with pytest.raises(BotDidNotAnswer, match=r"the bot handled 0 of 1 updates within 0\.1 s"):
        await user.send("/start")


async def test_a_webhook_bot_gets_updates_and_refuses_strangers(api: FakeBotApi) -> None:
    app, handled = echo_app(api)
    user = TelegramUser(api, handled, user_id=AZIZ.id, first_name="Aziz", chat_type="private")
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram"
    async with app:
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1", port=port, url_path="telegram", secret_token="s3cret_Token", webhook_url=url
        )
        await app.start()
        try:
            assert api.webhook_url == url
            await user.send("Veb")
            assert user.last_message().text == "Veb"
            assert [a.status for a in api.webhook_attempts] == [200]
            stranger = api.message_update(AZIZ, text="soxta", enqueue=False)
            assert await api.post_to_webhook(stranger, secret=None) == 403
            assert await api.post_to_webhook(stranger, secret="wrong") == 403
            assert await api.post_to_webhook(stranger, secret="s3cret_Token") == 200
            await user.wait()
            assert user.last_message().text == "soxta"
        finally:
            await app.updater.stop()
            await app.stop()


async def test_failed_webhook_deliveries_are_retried_and_reported() -> None:
    async with FakeBotApi(webhook_retry_delays=[0.01], webhook_max_attempts=3) as api:
        app, handled = echo_app(api)
        port = free_port()
        url = f"http://127.0.0.1:{port}/telegram"
        async with app:
            assert app.updater is not None
            await app.updater.start_webhook(
                listen="127.0.0.1", port=port, url_path="telegram", secret_token="right", webhook_url=url
            )
            await app.bot.set_webhook(url, secret_token="wrong")  # Telegram now sends a secret the bot refuses
            await app.start()
            try:
                update = api.message_update(AZIZ, text="yetib bormaydi")
                while len(api.webhook_attempts) < 3:
                    await asyncio.sleep(0.005)
                assert [(a.update_id, a.status) for a in api.webhook_attempts] == [(update["update_id"], 403)] * 3
                info = await app.bot.get_webhook_info()
                assert info.last_error_message == "Wrong response from the webhook: 403 Forbidden"
                assert info.pending_update_count == 0  # given up, as Telegram does at last
                assert handled() == 0
            finally:
                await app.updater.stop()
                await app.stop()
