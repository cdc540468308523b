"""A fake Telegram Bot API server on 127.0.0.1, for running the real python-telegram-bot stack in tests.

Telegram's servers cannot be reached from the test machines, so tests point a bot at this server
instead::

    async with FakeBotApi() as api:
        app = (
            ApplicationBuilder()
            .token(api.token)
            .base_url(f"{api.base_url}/bot")
            .base_file_url(f"{api.base_url}/file/bot")
            .build()
        )
        api.message_update(FakeUser(42, "Aziz"), text="/start")
        ...

It answers with Telegram's request and response shapes and error texts (``core.telegram.org/bots/api``),
keeps what a chat shows (``api.messages(chat_id)``), records every call (``api.calls``), injects updates
for polling (``getUpdates``) or webhook delivery, and fails on demand (``api.fail_next``). It only ever
talks to loopback addresses.

Long (~1,200 lines) for a reason: it is one server, its state and the Bot API methods it answers,
each a short handler over that state. Telegram's HTML parser is apart, in telegram_html.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import json
import math
import re
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import telegram
from aiohttp import ClientError, ClientSession, ClientTimeout, web

from tests.support.logscan import note_personal
from tests.support.telegram_html import HtmlError, parse_html, trim, utf16_len

JSON = dict[str, Any]

#: Every Bot API method name, in Telegram's spelling. python-telegram-bot has a camelCase alias for each.
BOT_API_METHODS: frozenset[str] = frozenset(
    {name for name in dir(telegram.Bot) if re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)+", name)} | {"close"}
)
#: A well-formed token that only this fake knows.
TEST_TOKEN = "123456789:AAHfakeTokenForMaslahatTests_0123456"
_CANONICAL = {name.lower(): name for name in BOT_API_METHODS}
_TOKEN_FORMAT = re.compile(r"\d+:[\w-]+")

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
BLOCKED = "Forbidden: bot was blocked by the user"
_NGINX_502 = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    "</center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
)


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


#: Parameters that are strings even when they look like JSON ("123", "true"); the rest are JSON-decoded
#: when they arrive form-encoded, as python-telegram-bot JSON-encodes every non-string value.
_STRING_PARAMS = _names(
    "text caption parse_mode description short_description name secret_token url ip_address "
    "callback_query_id inline_message_id language_code action data query emoji title first_name "
    "last_name phone_number address business_connection_id message_effect_id custom_emoji_id file_id "
    "sticker photo document voice audio video animation video_note thumbnail certificate"
)
#: Update types getUpdates and webhooks deliver when allowed_updates is empty or was never given.
_DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_CHAT_ACTIONS = _names(
    "typing upload_photo record_video upload_video record_voice upload_voice upload_document "
    "choose_sticker find_location record_video_note upload_video_note"
)
_BUTTON_ACTIONS = _names(
    "url callback_data web_app login_url switch_inline_query switch_inline_query_current_chat "
    "switch_inline_query_chosen_chat copy_text callback_game pay"
)
_COMMAND_FORMAT = re.compile(r"[a-z0-9_]{1,32}")
_BOT_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
#: Methods that send a message, for the optional rate limits and the "blocked" state of a chat.
_SENDING = frozenset(
    name.lower()
    for name in BOT_API_METHODS
    if (name.startswith("send") and name not in {"sendChatAction", "sendMessageDraft"})
    or name in {"copyMessage", "forwardMessage"}
)


# --------------------------------------------------------------------------------------------------
# Errors


class ApiError(Exception):
    """An error answer: ``{"ok": false, "error_code": code, "description": ..., "parameters": ...}``."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def response(self) -> web.Response:
        """The HTTP response Telegram sends for this error (a 502 comes from nginx, as HTML)."""
        if self.code == HTTPStatus.BAD_GATEWAY:
            return web.Response(status=502, text=_NGINX_502, content_type="text/html")
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return web.json_response(body, status=self.code)


def bad_request(detail: str) -> ApiError:
    """A 400 answer, ``"Bad Request: <detail>"``."""
    return ApiError(400, f"Bad Request: {detail}")


def retry_after(seconds: int) -> ApiError:
    """A 429 answer asking to wait ``seconds``."""
    return ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})


# --------------------------------------------------------------------------------------------------
# Users, chats, messages


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user (or the bot itself, with ``is_bot``)."""

    id: int
    first_name: str = "Test"
    username: str | None = None
    language_code: str | None = None
    last_name: str | None = None
    is_bot: bool = False

    def to_dict(self) -> JSON:
        """The ``User`` object."""
        user: JSON = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                user[key] = getattr(self, key)
        return user


@dataclass(frozen=True)
class FakeChat:
    """A chat: ``type`` is private, group, supergroup or channel."""

    id: int
    type: str = "private"
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None

    @classmethod
    def private(cls, user: FakeUser) -> FakeChat:
        """The private chat between ``user`` and the bot (its id is the user's)."""
        return cls(user.id, "private", username=user.username, first_name=user.first_name, last_name=user.last_name)

    def to_dict(self) -> JSON:
        """The ``Chat`` object."""
        chat: JSON = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if getattr(self, key) is not None:
                chat[key] = getattr(self, key)
        return chat


@dataclass
class FakeMessage:
    """A message as its chat shows it now; ``history`` holds its earlier versions, oldest first.

    ``content`` holds the fields Telegram puts in the ``Message`` for its kind (``text`` and
    ``entities``, or ``photo`` and ``caption``, ...). ``raw_text`` is the text as the bot sent it,
    before parse_mode was applied; ``text`` is what the user reads.
    """

    chat: FakeChat
    message_id: int
    date: int
    sender: FakeUser | None
    outgoing: bool
    content: JSON
    raw_text: str | None = None
    parse_mode: str | None = None
    reply_markup: JSON | None = None
    edit_date: int | None = None
    history: list[FakeMessage] = field(default_factory=list)

    @property
    def text(self) -> str | None:
        """The text (or caption) as the user reads it."""
        return self.content.get("text", self.content.get("caption"))

    @property
    def entities(self) -> list[JSON]:
        """The formatting entities of the text or caption."""
        entities: list[JSON] = self.content.get("entities") or self.content.get("caption_entities") or []
        return list(entities)

    @property
    def inline_keyboard(self) -> list[list[JSON]]:
        """The inline keyboard's rows of buttons (empty if none)."""
        return list((self.reply_markup or {}).get("inline_keyboard", []))

    @property
    def buttons(self) -> list[list[str]]:
        """The inline keyboard's labels, row by row."""
        return [[button["text"] for button in row] for row in self.inline_keyboard]

    def to_dict(self) -> JSON:
        """The ``Message`` object as Telegram returns and delivers it."""
        message: JSON = {"message_id": self.message_id}
        if self.sender is not None and self.chat.type != "channel":
            message["from"] = self.sender.to_dict()
        if self.chat.type == "channel":
            message["sender_chat"] = self.chat.to_dict()
        message["chat"] = self.chat.to_dict()
        message["date"] = self.date
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        message.update(self.content)
        # Only inline keyboards belong to a message; reply keyboards are not echoed.
        if self.inline_keyboard:
            message["reply_markup"] = {"inline_keyboard": self.inline_keyboard}
        return message


@dataclass
class _ChatState:
    chat: FakeChat
    messages: dict[int, FakeMessage] = field(default_factory=dict)
    last_message_id: int = 0


@dataclass
class WebhookAttempt:
    """One delivery of an update to the webhook: the HTTP status, or the connection error."""

    update_id: int
    status: int | None
    error: str | None = None


@dataclass
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    allowed_updates: list[str] | None
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class _Failure:
    kind: str
    times: int
    retry_after: int
    status: int
    seconds: float


@dataclass
class _RandomFaults:
    """Faults drawn at random for some methods (see FakeBotApi.fault_randomly)."""

    rate: float
    methods: set[str]
    kinds: tuple[str, ...]
    rng: Any
    seconds: float
    streak: int
    _streaks: dict[tuple[str, Any], int] = field(default_factory=dict)

    def draw(self, method: str, chat_id: Any) -> _Failure | None:
        if method not in self.methods:
            return None
        key = (method, chat_id)
        if self._streaks.get(key, 0) >= self.streak or self.rng.random() >= self.rate:
            self._streaks[key] = 0
            return None
        self._streaks[key] = self._streaks.get(key, 0) + 1
        kind = self.rng.choice(self.kinds)
        if kind == "bad_gateway":
            return _Failure("server_error", 1, 1, 502, self.seconds)
        return _Failure(kind, 1, 1, 500, self.seconds)


@dataclass
class RateLimits:
    """Telegram's flood limits for sending messages: about 30 a second overall, 1 a second per chat."""

    per_second: int = 30
    per_chat_per_second: int = 1
    _sent: deque[float] = field(default_factory=deque, init=False, repr=False)
    _per_chat: dict[Any, deque[float]] = field(default_factory=dict, init=False, repr=False)

    def check(self, chat_id: Any, now: float) -> int | None:
        """Seconds to wait before this message may go out, or None (and it is counted)."""
        chat = self._per_chat.setdefault(chat_id, deque())
        waits = []
        for window, limit in ((self._sent, self.per_second), (chat, self.per_chat_per_second)):
            while window and window[0] <= now - 1.0:
                window.popleft()
            if len(window) >= limit:
                waits.append(max(1, math.ceil(window[0] + 1.0 - now)))
        if waits:
            return max(waits)
        self._sent.append(now)
        chat.append(now)
        return None


def _note_personal(data: Any) -> None:
    """Note what an update names or quotes of a person, for the suite's log scan (tests.support.logscan)."""
    if isinstance(data, list):
        for item in data:
            _note_personal(item)
        return
    if not isinstance(data, dict):
        return
    sender = data.get("from")
    if isinstance(sender, dict) and sender.get("is_bot"):
        return  # the bot's own message, quoted under a button: nothing of the person
    for key, value in data.items():
        if key in {"first_name", "last_name", "username", "text", "caption"}:
            note_personal(value)
        elif key in {"from", "chat", "user"} and isinstance(value, dict):
            note_personal(value.get("id"))
        _note_personal(value)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _allowed(update: JSON, allowed: list[str] | None) -> bool:
    """Whether getUpdates or the webhook delivers this update, given the bot's allowed_updates."""
    kind = next(key for key in update if key != "update_id")
    return kind in allowed if allowed else kind not in _DEFAULT_EXCLUDED_UPDATES


# --------------------------------------------------------------------------------------------------
# The server


class FakeBotApi:
    """A Bot API server on 127.0.0.1 for one bot; use as ``async with FakeBotApi() as api``.

    Public state for tests: ``calls`` (method, params) in order, ``messages(chat_id)``,
    ``callback_answers``, ``commands``, ``descriptions``, ``short_descriptions``, ``chat_actions``,
    ``webhook_attempts``, ``updates_sent``.
    """

    def __init__(
        self,
        token: str = TEST_TOKEN,
        *,
        bot_username: str = "maslahat_test_bot",
        bot_first_name: str = "Maslahat",
        rate_limits: RateLimits | None = None,
        webhook_retry_delays: Iterable[float] = (0.05, 0.1, 0.2, 0.5, 1.0),
        webhook_max_attempts: int = 10,
    ) -> None:
        self.token = token
        self.bot = FakeUser(int(token.split(":", 1)[0]), bot_first_name, bot_username, is_bot=True)
        #: Flood limits; None (the default) sends without limit.
        self.rate_limits = rate_limits
        self.webhook_retry_delays = tuple(webhook_retry_delays)
        self.webhook_max_attempts = webhook_max_attempts

        self.calls: list[tuple[str, JSON]] = []
        #: (method, kind) of every fault fault_randomly injected, in order.
        self.faults_injected: list[tuple[str, str]] = []
        self.callback_answers: dict[str, JSON] = {}
        #: Commands per (scope as canonical JSON, language_code); see commands_for().
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.chat_actions: list[tuple[int | str, str]] = []
        self.webhook_attempts: list[WebhookAttempt] = []
        #: How many updates were queued for the bot (or accepted by its webhook directly).
        self.updates_sent = 0
        #: Chats whose user blocked the bot: sending there answers 403.
        self.blocked: set[int] = set()
        #: The highest offset getUpdates was asked for: every update below it is confirmed, gone for good.
        self.confirmed_below = 0
        #: Calls held (see hold()) whose client had gone when they were released: never carried out.
        self.abandoned: list[tuple[str, JSON]] = []

        self._chats: dict[int, _ChatState] = {}
        self._updates: list[JSON] = []
        self._update_ids = itertools.count(100_000_001)
        self._query_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._allowed_updates: list[str] = []
        self._webhook: _Webhook | None = None
        self._poll_serial = 0
        self._failures: dict[str, deque[_Failure]] = {}
        self._random_faults: _RandomFaults | None = None
        self._held: set[str] = set()
        self._released = asyncio.Event()
        self._wakeup = asyncio.Event()
        self._closed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: ClientSession | None = None
        self._delivery: asyncio.Task[None] | None = None
        self._port = 0
        self._handlers: dict[str, Callable[[JSON], Awaitable[Any]]] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "deletemessages": self._delete_messages,
            "answercallbackquery": self._answer_callback_query,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setmydescription": self._set_my_description,
            "getmydescription": self._get_my_description,
            "setmyshortdescription": self._set_my_short_description,
            "getmyshortdescription": self._get_my_short_description,
            "setmyname": self._set_my_name,
            "getmyname": self._get_my_name,
            "sendchataction": self._send_chat_action,
        }
        for media in ("photo", "document", "sticker", "voice", "audio", "video", "animation"):
            self._handlers[f"send{media}"] = self._media_sender(media)

    # -- lifecycle ---------------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/file/bot{token}/{path:.*}", self._handle_file)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = int(self._runner.addresses[0][1])
        self._session = ClientSession(timeout=ClientTimeout(total=10))
        self._delivery = asyncio.create_task(self._deliver_to_webhook(), name="FakeBotApi webhook delivery")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._closed.set()
        self._notify()
        if self._delivery is not None:
            self._delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivery
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; the bot's base_url is this plus ``/bot``."""
        return f"http://127.0.0.1:{self._port}"

    # -- what tests read ---------------------------------------------------------------------------

    def messages(self, chat_id: int) -> list[FakeMessage]:
        """The messages a chat shows now (deleted ones gone, edited ones edited), oldest first."""
        state = self._chats.get(chat_id)
        return list(state.messages.values()) if state else []

    def message(self, chat_id: int, message_id: int) -> FakeMessage | None:
        """One visible message, or None."""
        state = self._chats.get(chat_id)
        return state.messages.get(message_id) if state else None

    def calls_to(self, method: str) -> list[JSON]:
        """The parameters of every call to ``method``, in order."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    def commands_for(self, language_code: str = "", scope: JSON | None = None) -> list[JSON]:
        """The commands set for a scope (default: all private and group chats) and language."""
        return self.commands.get((_scope_key(scope), language_code), [])

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by getUpdates or accepted by the webhook."""
        return list(self._updates)

    @property
    def webhook_url(self) -> str:
        """The webhook's url, or "" when the bot polls."""
        return self._webhook.url if self._webhook else ""

    # -- failure injection -------------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        kind: str,
        times: int = 1,
        *,
        retry_after: int = 1,
        status: int = 500,
        seconds: float = 5.0,
    ) -> None:
        """Makes the next ``times`` calls to ``method`` fail.

        Kinds: "retry_after" (429 with ``retry_after`` seconds), "server_error" (``status`` 500 as JSON,
        or 502 as nginx's HTML page), "not_modified", "not_found", "forbidden" (blocked by the user),
        "timeout": the call is carried out, but its answer is held for ``seconds`` first, as when
        Telegram is slow; a client that gives up earlier sees a timeout although the call took effect;
        and "truncated": the call is carried out, but its answer is cut off halfway (invalid JSON), as
        when a connection breaks or a proxy mangles the body.
        """
        kinds = {"retry_after", "server_error", "not_modified", "not_found", "forbidden", "timeout", "truncated"}
        if kind not in kinds:
            raise ValueError(f"unknown failure kind {kind!r}; expected one of {sorted(kinds)}")
        if method.lower() not in _CANONICAL:
            raise ValueError(f"{method!r} is not a Bot API method")
        queue = self._failures.setdefault(method.lower(), deque())
        queue.append(_Failure(kind, times, retry_after, status, seconds))

    def fault_randomly(
        self,
        rate: float,
        methods: Iterable[str],
        kinds: Iterable[str] = ("retry_after", "server_error", "bad_gateway", "timeout", "truncated"),
        *,
        seed: int = 1,
        seconds: float = 1.5,
        streak: int = 2,
    ) -> None:
        """Fault a share ``rate`` of the calls to ``methods``, each with a kind drawn from ``kinds``.

        "bad_gateway" is "server_error" with 502. At most ``streak`` calls in a row of one method in
        one chat are faulted, so that a caller retrying a few times gets through: what is tested is
        whether a fault loses or doubles anything, not whether retries can be exhausted.
        """
        import random  # a test double: reproducible faults, not secrets

        rng = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets
        self._random_faults = _RandomFaults(rate, {m.lower() for m in methods}, tuple(kinds), rng, seconds, streak)

    def hold(self, *methods: str) -> None:
        """Hold calls to ``methods`` unanswered and not carried out, until release().

        As when Telegram cannot be reached: a call whose client has gone by the time it is released
        (the bot was killed meanwhile) is never carried out, and is listed in ``abandoned``.
        """
        self._held = {method.lower() for method in methods}
        self._released = asyncio.Event()

    def release(self) -> None:
        """Let the held calls through (see hold()); later calls are not held."""
        self._held = set()
        self._released.set()
        self._notify()

    def _take_failure(self, method: str, params: JSON | None = None) -> _Failure | None:
        if self._random_faults is not None and params is not None:
            drawn = self._random_faults.draw(method, params.get("chat_id"))
            if drawn is not None:
                self.faults_injected.append((method, drawn.kind if drawn.status != 502 else "bad_gateway"))
                return drawn
        queue = self._failures.get(method)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.popleft()
        return failure

    @staticmethod
    def _failure_error(method: str, failure: _Failure) -> ApiError:
        if failure.kind == "retry_after":
            return retry_after(failure.retry_after)
        if failure.kind == "server_error":
            return ApiError(failure.status, HTTPStatus(failure.status).phrase)
        if failure.kind == "not_modified":
            return bad_request(NOT_MODIFIED)
        if failure.kind == "forbidden":
            return ApiError(403, BLOCKED)
        if method.startswith("edit"):
            return bad_request("message to edit not found")
        if method.startswith("delete"):
            return bad_request("message to delete not found")
        if method == "answercallbackquery":
            return bad_request(QUERY_INVALID)
        return bad_request("chat not found")

    # -- injecting updates -------------------------------------------------------------------------

    def add_chat(self, chat: FakeChat) -> None:
        """Makes a chat known, as if its user had started the bot (sending there needs this)."""
        self._chats.setdefault(chat.id, _ChatState(chat))

    def queue_update(self, update: JSON) -> JSON:
        """Queues an update for getUpdates or the webhook; gives it the next update_id if it has none."""
        _note_personal(update)
        if "update_id" not in update:
            update["update_id"] = next(self._update_ids)
        self._updates.append(update)
        self.updates_sent += 1
        self._notify()
        return update

    def message_update(
        self,
        user: FakeUser | None,
        chat: FakeChat | None = None,
        text: str | None = None,
        *,
        sticker: bool = False,
        photo: bool = False,
        voice: bool = False,
        document: bool = False,
        location: tuple[float, float] | None = None,
        contact: bool = False,
        caption: str | None = None,
        enqueue: bool = True,
    ) -> JSON:
        """A message from ``user`` in ``chat`` (default: their private chat), queued unless ``enqueue`` is false.

        Give ``text`` or one kind of content. Commands get a ``bot_command`` entity as Telegram gives
        them. In a channel the update is a ``channel_post`` without ``from``.
        """
        if chat is None:
            if user is None:
                raise ValueError("a message needs a user or a chat")
            chat = FakeChat.private(user)
        content = self._incoming_content(
            text, sticker=sticker, photo=photo, voice=voice, document=document, location=location, contact=contact
        )
        if caption is not None:
            content["caption"] = caption
        channel = chat.type == "channel"
        message = self._store(chat, None if channel else user, outgoing=False, content=content, raw_text=text)
        update = {"update_id": next(self._update_ids), "channel_post" if channel else "message": message.to_dict()}
        return self.queue_update(update) if enqueue else update

    def callback_update(
        self,
        user: FakeUser,
        message_id: int,
        data: str,
        *,
        chat: FakeChat | None = None,
        enqueue: bool = True,
    ) -> JSON:
        """A press on an inline button with ``data`` under message ``message_id`` of ``chat`` (default: private)."""
        chat = chat or FakeChat.private(user)
        message = self.message(chat.id, message_id)
        if message is None:
            raise ValueError(f"chat {chat.id} shows no message {message_id}")
        query_id = str(4_000_000_000_000_000_000 + next(self._query_ids))
        self._open_queries.add(query_id)
        query = {
            "id": query_id,
            "from": user.to_dict(),
            "message": message.to_dict(),
            "chat_instance": str(-abs(chat.id) * 7919 - 1_000_000_007),
            "data": data,
        }
        update = {"update_id": next(self._update_ids), "callback_query": query}
        return self.queue_update(update) if enqueue else update

    def _incoming_content(
        self,
        text: str | None,
        *,
        sticker: bool,
        photo: bool,
        voice: bool,
        document: bool,
        location: tuple[float, float] | None,
        contact: bool,
    ) -> JSON:
        flags = {
            "sticker": sticker,
            "photo": photo,
            "voice": voice,
            "document": document,
            "location": location is not None,
            "contact": contact,
        }
        kinds = [kind for kind, given in flags.items() if given]
        if len(kinds) + (text is not None) != 1:
            raise ValueError("give a message exactly one of text, sticker, photo, voice, document, location, contact")
        if text is not None:
            content: JSON = {"text": text}
            commands = [
                {"offset": utf16_len(text[: m.start()]), "length": utf16_len(m.group()), "type": "bot_command"}
                for m in _BOT_COMMAND.finditer(text)
            ]
            if commands:
                content["entities"] = commands
            return content
        if location is not None:
            return {"location": {"latitude": location[0], "longitude": location[1]}}
        if contact:
            return {"contact": {"phone_number": "+998901234567", "first_name": "Contact"}}
        return {kinds[0]: self._media(kinds[0])}

    def _media(self, kind: str) -> Any:
        """A stub of the media object Telegram sends for ``kind``."""
        n = next(self._file_ids)
        ids = {"file_id": f"AgACAgIAAxk{kind}{n:08d}", "file_unique_id": f"AQAD{kind[:3]}{n:06d}"}
        if kind == "photo":
            return [
                {**ids, "file_id": ids["file_id"] + "s", "width": 90, "height": 67, "file_size": 1200},
                {**ids, "width": 1280, "height": 960, "file_size": 98000},
            ]
        return {
            "sticker": {
                **ids,
                **{"type": "regular", "width": 512, "height": 512, "is_animated": False, "is_video": False},
                "emoji": "👍",
            },
            "voice": {**ids, "duration": 3, "mime_type": "audio/ogg", "file_size": 9000},
            "document": {**ids, "file_name": "document.pdf", "mime_type": "application/pdf", "file_size": 20000},
            "audio": {**ids, "duration": 30, "mime_type": "audio/mpeg", "file_size": 300000},
            "video": {**ids, "width": 640, "height": 360, "duration": 5, "file_size": 500000},
            "animation": {**ids, "width": 320, "height": 240, "duration": 2, "file_size": 80000},
        }[kind]

    def _store(
        self,
        chat: FakeChat,
        sender: FakeUser | None,
        *,
        outgoing: bool,
        content: JSON,
        raw_text: str | None = None,
        parse_mode: str | None = None,
        reply_markup: JSON | None = None,
    ) -> FakeMessage:
        """Adds a message to a chat; message ids grow per chat, in both directions as in private chats."""
        state = self._chats.setdefault(chat.id, _ChatState(chat))
        state.last_message_id += 1
        message = FakeMessage(
            state.chat,
            state.last_message_id,
            int(time.time()),
            sender,
            outgoing,
            content,
            raw_text,
            parse_mode,
            reply_markup,
        )
        state.messages[message.message_id] = message
        return message

    # -- HTTP --------------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        token, method = request.match_info["token"], request.match_info["method"]
        if not _TOKEN_FORMAT.fullmatch(token):
            return ApiError(404, "Not Found").response()
        if token != self.token:
            return ApiError(401, "Unauthorized").response()
        name = method.lower()
        if name not in _CANONICAL:
            return ApiError(404, "Not Found").response()
        try:
            params = await _read_params(request)
        except ValueError as error:
            return bad_request(str(error)).response()
        self.calls.append((_CANONICAL[name], params))
        if name in self._held:
            released = self._released
            try:
                while not released.is_set() and not self._closed.is_set():
                    await self._wait_change(None)
            except asyncio.CancelledError:  # the client went away (handler_cancellation)
                self.abandoned.append((_CANONICAL[name], params))
                raise
            if request.transport is None or request.transport.is_closing():
                self.abandoned.append((_CANONICAL[name], params))
                return ApiError(599, "the client went away").response()
        failure = self._take_failure(name, params)
        try:
            if failure and failure.kind not in {"timeout", "truncated"}:
                raise self._failure_error(name, failure)
            self._check_flood(name, params)
            handler = self._handlers.get(name)
            result = await handler(params) if handler else True
        except ApiError as error:
            return error.response()
        if failure and failure.kind == "timeout":  # done, but answered late
            await self._sleep(failure.seconds)
        description = None
        if isinstance(result, _Described):
            result, description = result.result, result.description
        body: JSON = {"ok": True, "result": result}
        if description:
            body["description"] = description
        if failure and failure.kind == "truncated":  # done, but the answer breaks off
            text = json.dumps(body, ensure_ascii=False)
            return web.Response(text=text[: len(text) // 2], content_type="application/json")
        return web.json_response(body)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        return ApiError(404, "Not Found").response()

    def _check_flood(self, method: str, params: JSON) -> None:
        if method not in _SENDING:
            return
        chat_id = params.get("chat_id")
        if isinstance(chat_id, int) and chat_id in self.blocked:
            raise ApiError(403, BLOCKED)
        if self.rate_limits is not None:
            wait = self.rate_limits.check(chat_id, time.monotonic())
            if wait is not None:
                raise retry_after(wait)

    def _notify(self) -> None:
        """Wakes everything waiting for a change (new updates, a new poll, a webhook, closing)."""
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def _wait_change(self, timeout: float | None) -> None:
        """Waits until _notify() or ``timeout`` seconds."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)

    async def _sleep(self, seconds: float) -> None:
        """Sleeps, but not past closing."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closed.wait(), seconds)

    # -- chats and messages ------------------------------------------------------------------------

    def _chat(self, params: JSON) -> _ChatState:
        chat_id = _int_or_str(params.get("chat_id"))
        if chat_id in (None, "", 0):
            raise bad_request("chat_id is empty")
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            for state in self._chats.values():
                if state.chat.username and f"@{state.chat.username}".lower() == chat_id.lower():
                    return state
        elif isinstance(chat_id, int) and chat_id in self._chats:
            return self._chats[chat_id]
        raise bad_request("chat not found")

    def _message_to_edit(self, params: JSON) -> FakeMessage:
        state = self._chat(params)
        message = state.messages.get(_int_or_str(params.get("message_id")))
        if message is None:
            raise bad_request("message to edit not found")
        if not message.outgoing:
            raise bad_request("message can't be edited")
        return message

    @staticmethod
    def _formatted(params: JSON, key: str = "text", *, limit: int = 4096) -> tuple[str, list[JSON], str | None]:
        """The text as users read it, its entities, and the parse mode; validated as Telegram does."""
        raw = params.get(key)
        if raw is None or raw == "":
            if key == "caption":
                return "", [], None
            raise bad_request("message text is empty")
        raw = str(raw)
        parse_mode = params.get("parse_mode") or None
        entities: list[JSON] = _json_param(params, "entities" if key == "text" else "caption_entities") or []
        text = raw
        if parse_mode is not None and not entities:
            mode = str(parse_mode).lower()
            if mode == "html":
                try:
                    text, entities = parse_html(raw)
                except HtmlError as error:
                    raise bad_request(f"can't parse entities: {error}") from None
            elif mode not in {"markdown", "markdownv2"}:
                raise bad_request("unsupported parse_mode")
        text, entities = trim(text, entities)
        if not text and key == "text":
            raise bad_request("message text is empty")
        if len(text) > limit:
            raise bad_request("message is too long" if key == "text" else "message caption is too long")
        return text, entities, parse_mode

    async def _send_message(self, params: JSON) -> JSON:
        state = self._chat(params)
        text, entities, parse_mode = self._formatted(params)
        markup = _check_markup(params.get("reply_markup"))
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        message = self._store(
            state.chat,
            self.bot,
            outgoing=True,
            content=content,
            raw_text=str(params["text"]),
            parse_mode=parse_mode,
            reply_markup=markup,
        )
        return message.to_dict()

    def _media_sender(self, kind: str) -> Callable[[JSON], Awaitable[JSON]]:
        async def send(params: JSON) -> JSON:
            state = self._chat(params)
            caption, entities, parse_mode = self._formatted(params, "caption", limit=1024)
            markup = _check_markup(params.get("reply_markup"))
            content: JSON = {kind: self._media(kind)}
            if caption:
                content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
            message = self._store(
                state.chat,
                self.bot,
                outgoing=True,
                content=content,
                raw_text=params.get("caption"),
                parse_mode=parse_mode,
                reply_markup=markup,
            )
            return message.to_dict()

        return send

    @staticmethod
    def _edit(
        message: FakeMessage, content: JSON, raw_text: str | None, parse_mode: str | None, markup: JSON | None
    ) -> JSON:
        """Applies an edit unless it changes nothing, keeping the old version in the history."""
        old_markup = message.inline_keyboard or None
        new_markup = (markup or {}).get("inline_keyboard") or None
        if content == message.content and old_markup == new_markup:
            raise bad_request(NOT_MODIFIED)
        previous = replace(message, history=[])
        message.history.append(previous)
        message.content, message.raw_text, message.parse_mode = content, raw_text, parse_mode
        message.reply_markup = markup
        message.edit_date = int(time.time())
        return message.to_dict()

    async def _edit_message_text(self, params: JSON) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        if "text" not in message.content:
            raise bad_request("there is no text in the message to edit")
        text, entities, parse_mode = self._formatted(params)
        # Without reply_markup the edit removes the inline keyboard, as on Telegram.
        markup = _check_markup(params.get("reply_markup"))
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return self._edit(message, content, str(params["text"]), parse_mode, markup)

    async def _edit_message_reply_markup(self, params: JSON) -> JSON | bool:
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        markup = _check_markup(params.get("reply_markup"))
        return self._edit(message, dict(message.content), message.raw_text, message.parse_mode, markup)

    async def _delete_message(self, params: JSON) -> bool:
        state = self._chat(params)
        if state.messages.pop(_int_or_str(params.get("message_id")), None) is None:
            raise bad_request("message to delete not found")
        return True

    async def _delete_messages(self, params: JSON) -> bool:
        state = self._chat(params)
        for message_id in _json_param(params, "message_ids") or []:
            state.messages.pop(_int_or_str(message_id), None)
        return True

    async def _send_chat_action(self, params: JSON) -> bool:
        state = self._chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.chat_actions.append((state.chat.id, str(action)))
        return True

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_queries:
            raise bad_request(QUERY_INVALID)
        self._open_queries.discard(query_id)
        self.callback_answers[query_id] = params
        return True

    # -- the bot's profile -------------------------------------------------------------------------

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot.to_dict(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = _json_param(params, "commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands not specified" if commands is None else "too many commands")
        for command in commands:
            if not isinstance(command, dict) or "command" not in command or "description" not in command:
                raise bad_request("can't parse BotCommand: Can't find field \"description\"")
            if not _COMMAND_FORMAT.fullmatch(str(command["command"])):
                raise bad_request("BOT_COMMAND_INVALID")
            if not str(command["description"]).strip():
                raise bad_request("command description must be non-empty")
        key = (_scope_key(_json_param(params, "scope")), _language(params))
        if commands:
            self.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        else:
            self.commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return self.commands.get((_scope_key(_json_param(params, "scope")), _language(params)), [])

    async def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop((_scope_key(_json_param(params, "scope")), _language(params)), None)
        return True

    @staticmethod
    def _set_text(store: dict[str, str], params: JSON, key: str, limit: int) -> bool:
        value = str(params.get(key) or "")
        if len(value) > limit:
            # Length limits are Telegram's; the wording of this error is an approximation.
            raise bad_request(f"{key.replace('_', ' ')} is too long")
        language = _language(params)
        if value:
            store[language] = value
        else:
            store.pop(language, None)
        return True

    async def _set_my_description(self, params: JSON) -> bool:
        return self._set_text(self.descriptions, params, "description", 512)

    async def _get_my_description(self, params: JSON) -> JSON:
        return {"description": self.descriptions.get(_language(params), "")}

    async def _set_my_short_description(self, params: JSON) -> bool:
        return self._set_text(self.short_descriptions, params, "short_description", 120)

    async def _get_my_short_description(self, params: JSON) -> JSON:
        return {"short_description": self.short_descriptions.get(_language(params), "")}

    async def _set_my_name(self, params: JSON) -> bool:
        return self._set_text(self.names, params, "name", 64)

    async def _get_my_name(self, params: JSON) -> JSON:
        return {"name": self.names.get(_language(params), self.bot.first_name)}

    # -- updates: polling --------------------------------------------------------------------------

    async def _get_updates(self, params: JSON) -> list[JSON]:
        if self._webhook is not None:
            raise ApiError(409, WEBHOOK_CONFLICT)
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = _json_param(params, "allowed_updates")
        if allowed is not None:
            self._allowed_updates = list(allowed)
        self._poll_serial += 1
        serial = self._poll_serial
        self._notify()  # terminates an older long poll
        if offset < 0:
            del self._updates[: max(len(self._updates) + offset, 0)]
        elif offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            self.confirmed_below = max(self.confirmed_below, offset)
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if self._poll_serial != serial:
                raise ApiError(409, POLL_CONFLICT)
            if self._webhook is not None:
                raise ApiError(409, WEBHOOK_CONFLICT)
            # Updates of types the bot did not ask for are dropped, not kept for later.
            self._updates = [u for u in self._updates if _allowed(u, self._allowed_updates)]
            if self._updates or self._closed.is_set():
                return self._updates[:limit]
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                return []
            await self._wait_change(remaining)

    # -- updates: webhook --------------------------------------------------------------------------

    async def _set_webhook(self, params: JSON) -> _Described:
        url = str(params.get("url") or "")
        if params.get("drop_pending_updates"):
            self._updates.clear()
        if not url:
            self._webhook = None
            return _Described(True, "Webhook was deleted")
        scheme = urlsplit(url).scheme
        if scheme not in {"http", "https"}:
            raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        if not _is_loopback(url):
            # Telegram needs a public HTTPS address; this fake delivers to loopback (plain http too) only.
            raise bad_request("bad webhook: the fake Bot API delivers only to loopback addresses")
        secret = params.get("secret_token") or None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        allowed = _json_param(params, "allowed_updates")
        already = self._webhook is not None and self._webhook.url == url
        self._webhook = _Webhook(
            url,
            secret,
            int(params.get("max_connections") or 40),
            list(allowed) if allowed is not None else (self._webhook.allowed_updates if self._webhook else None),
        )
        self._notify()
        return _Described(True, "Webhook is already set" if already else "Webhook was set")

    async def _delete_webhook(self, params: JSON) -> _Described:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        existed, self._webhook = self._webhook is not None, None
        self._notify()
        return _Described(True, "Webhook was deleted" if existed else "Webhook is already deleted")

    async def _get_webhook_info(self, params: JSON) -> JSON:
        info: JSON = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        hook = self._webhook
        if hook is not None:
            info.update(max_connections=hook.max_connections, ip_address="127.0.0.1")
            if hook.last_error_date is not None:
                info.update(last_error_date=hook.last_error_date, last_error_message=hook.last_error_message)
            if hook.allowed_updates:
                info["allowed_updates"] = hook.allowed_updates
        return info

    async def post_to_webhook(self, update: JSON, *, secret: str | None = None, url: str | None = None) -> int:
        """POSTs ``update`` to the webhook (or ``url``) with ``secret`` as the secret header (None: no header).

        Returns the HTTP status. An accepted update counts in ``updates_sent``, as the bot will handle it.
        """
        _note_personal(update)
        target = url or self.webhook_url
        if not target or not _is_loopback(target):
            raise ValueError(f"no loopback webhook to post to: {target!r}")
        status, error = await self._post(target, update, secret)
        if status is None:
            raise ConnectionError(f"webhook {target} unreachable: {error}")
        if 200 <= status < 300:
            self.updates_sent += 1
        return status

    async def _post(self, url: str, update: JSON, secret: str | None) -> tuple[int | None, str | None]:
        assert self._session is not None, "use FakeBotApi as an async context manager"
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        try:
            async with self._session.post(url, json=update, headers=headers) as response:
                await response.read()
                return response.status, None
        except (ClientError, TimeoutError) as error:
            return None, f"{type(error).__name__}: {error}"

    async def _deliver_to_webhook(self) -> None:
        """Delivers queued updates to the webhook one at a time, in order, retrying failures with backoff."""
        failures = 0
        # Python 3.11's wait_for can swallow a cancellation, so the loop also ends on closing.
        while not self._closed.is_set():
            hook = self._webhook
            if hook is not None:
                self._updates = [u for u in self._updates if _allowed(u, hook.allowed_updates)]
            if hook is None or not self._updates:
                await self._wait_change(None)
                continue
            update = self._updates[0]
            status, error = await self._post(hook.url, update, hook.secret_token)
            self.webhook_attempts.append(WebhookAttempt(update["update_id"], status, error))
            if status is not None and 200 <= status < 300:
                failures = 0
                with contextlib.suppress(ValueError):
                    self._updates.remove(update)
                continue
            hook.last_error_date = int(time.time())
            hook.last_error_message = (
                f"Wrong response from the webhook: {status} {_phrase(status)}" if status is not None else str(error)
            )
            failures += 1
            if failures >= self.webhook_max_attempts:  # Telegram, too, gives up at last
                failures = 0
                with contextlib.suppress(ValueError):
                    self._updates.remove(update)
                continue
            delays = self.webhook_retry_delays or (0.0,)
            await self._sleep(delays[min(failures, len(delays)) - 1])


@dataclass
class _Described:
    """A result with Telegram's optional success description ("Webhook was set")."""

    result: Any
    description: str


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _int_or_str(value: Any) -> Any:
    """An Integer parameter that may come as a string ("42" in JSON), as Telegram accepts both."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return value


def _scope_key(scope: JSON | None) -> str:
    return json.dumps(scope or {"type": "default"}, sort_keys=True)


def _language(params: JSON) -> str:
    language = str(params.get("language_code") or "")
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("invalid language code specified")
    return language


def _json_param(params: JSON, name: str) -> Any:
    """A structured parameter, which may arrive as JSON text in either transport."""
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise bad_request(f"can't parse {name} JSON object") from None
    return value


def _check_markup(markup: Any) -> JSON | None:
    """Validates reply_markup like Telegram: inline buttons need text and one action; callback_data ≤ 64 bytes."""
    if markup is None or markup == "":
        return None
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('Field "inline_keyboard" must be of type Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or "text" not in button:
                raise bad_request("can't parse InlineKeyboardButton: Can't find field \"text\"")
            if not isinstance(button["text"], str):
                raise bad_request('can\'t parse InlineKeyboardButton: Field "text" must be of type String')
            data = button.get("callback_data")
            if data is not None and len(str(data).encode()) > 64:
                raise bad_request("BUTTON_DATA_INVALID")
            # Empty callback_data counts as no action at all.
            if not any(button.get(action) not in (None, "") for action in _BUTTON_ACTIONS):
                raise bad_request(
                    "can't parse InlineKeyboardButton: Text buttons are not allowed in the inline keyboard"
                )
    return markup


async def _read_params(request: web.Request) -> JSON:
    """The call's parameters from the query string and a form, multipart or JSON body, decoded."""
    params: JSON = {name: _decode(name, value) for name, value in request.query.items()}
    if request.method != "POST" or not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ValueError("can't parse JSON encoded request body") from None
        if not isinstance(body, dict):
            raise ValueError("request body must be a JSON object")
        params.update(body)
        return params
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            params[name] = {
                "file_name": value.filename,
                "content_type": value.content_type,
                "size": len(value.file.read()),
            }
        else:
            params[name] = _decode(name, str(value))
    return params


def _decode(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
