"""A Telegram user for tests: talks to a bot through FakeBotApi, button by button.

In the style of aiogram-dialog's test tools::

    user = TelegramUser(api, handled, user_id=42, first_name="Aziz", language_code="uz")
    await user.send("/start")
    assert user.last_message().buttons == [["Oʻzbekcha", "Русский"]]
    await user.click("Oʻzbekcha")

``handled`` is a zero-argument callable giving how many updates the bot under test has finished
handling. Every action queues one update and then waits, polling briefly, until ``handled()`` has
caught up with ``api.updates_sent``: never a fixed sleep. If the bot does not catch up within
``timeout`` seconds (10 by default), the action fails and says what the bot last did.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.support.fakebotapi import FakeBotApi, FakeChat, FakeMessage, FakeUser

#: How often to look at ``handled()`` while waiting for the bot.
POLL_INTERVAL = 0.002


class BotDidNotAnswer(AssertionError):
    """The bot did not finish handling an update in time."""


class TelegramUser:
    """One user in one chat (private by default) with the bot under test."""

    def __init__(
        self,
        api: FakeBotApi,
        handled: Callable[[], int],
        *,
        user_id: int = 1001,
        first_name: str = "Test",
        username: str | None = None,
        language_code: str | None = "uz",
        chat_type: str = "private",
        chat_id: int | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.api = api
        self.handled = handled
        self.timeout = timeout
        self.user = FakeUser(user_id, first_name, username, language_code)
        if chat_type == "private":
            self.chat = FakeChat.private(self.user)
        elif chat_type in {"group", "supergroup", "channel"}:
            default_id = -user_id if chat_type == "group" else -1_000_000_000_000 - user_id
            self.chat = FakeChat(chat_id or default_id, chat_type, title=f"Test {chat_type}")
        else:
            raise ValueError(f"chat_type must be private, group, supergroup or channel, not {chat_type!r}")
        self._last_query_id: str | None = None

    # -- what the user sees ------------------------------------------------------------------------

    @property
    def messages(self) -> list[FakeMessage]:
        """The bot's messages this chat shows now, oldest first (deleted ones gone, edited ones edited)."""
        return [message for message in self.api.messages(self.chat.id) if message.outgoing]

    @property
    def chat_history(self) -> list[FakeMessage]:
        """Every message this chat shows now, the user's own too, oldest first."""
        return self.api.messages(self.chat.id)

    def last_message(self) -> FakeMessage:
        """The bot's newest visible message in this chat."""
        messages = self.messages
        if not messages:
            raise AssertionError(f"the bot shows no message in chat {self.chat.id}")
        return messages[-1]

    def last_callback_answer(self) -> dict[str, Any] | None:
        """How the bot answered this user's latest button press (answerCallbackQuery's parameters), if it did."""
        if self._last_query_id is None:
            return None
        return self.api.callback_answers.get(self._last_query_id)

    # -- what the user does ------------------------------------------------------------------------

    async def send(self, text: str) -> int:
        """Sends a text message (a command if it starts with "/"); returns its message_id."""
        return await self._send(text=text)

    async def send_sticker(self) -> int:
        """Sends a sticker."""
        return await self._send(sticker=True)

    async def send_photo(self, caption: str | None = None) -> int:
        """Sends a photo, with a caption if given."""
        return await self._send(photo=True, caption=caption)

    async def send_voice(self) -> int:
        """Sends a voice message."""
        return await self._send(voice=True)

    async def send_document(self, caption: str | None = None) -> int:
        """Sends a file."""
        return await self._send(document=True, caption=caption)

    async def send_location(self, latitude: float = 55.7558, longitude: float = 37.6173) -> int:
        """Shares a location."""
        return await self._send(location=(latitude, longitude))

    async def send_contact(self) -> int:
        """Shares a contact."""
        return await self._send(contact=True)

    async def click(self, label: str) -> None:
        """Presses the inline button labelled exactly ``label`` on the newest message that has one."""
        for message in reversed(self.messages):
            for row in message.inline_keyboard:
                for button in row:
                    if button["text"] != label:
                        continue
                    if "callback_data" not in button:
                        kind = next((key for key in button if key != "text"), "no action")
                        raise AssertionError(f"button {label!r} on message {message.message_id} is a {kind} button")
                    await self.click_data(button["callback_data"], message.message_id)
                    return
        raise AssertionError(f"no button {label!r} in chat {self.chat.id}; {self._describe_buttons()}")

    async def click_data(self, data: str, message_id: int | None = None) -> None:
        """Sends a button press with any ``data``, as a forged client could, on ``message_id`` (default: newest)."""
        if message_id is None:
            message_id = self.last_message().message_id
        update = self.api.callback_update(self.user, message_id, data, chat=self.chat)
        self._last_query_id = update["callback_query"]["id"]
        await self.wait()

    async def wait(self) -> None:
        """Waits until the bot has handled every update sent so far; fails after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout
        while self.handled() < self.api.updates_sent:
            if loop.time() >= deadline:
                raise BotDidNotAnswer(self._describe_timeout())
            await asyncio.sleep(POLL_INTERVAL)

    # -- helpers -----------------------------------------------------------------------------------

    async def _send(self, **content: Any) -> int:
        user = None if self.chat.type == "channel" else self.user
        update = self.api.message_update(user, self.chat, **content)
        await self.wait()
        return int(next(value for key, value in update.items() if key != "update_id")["message_id"])

    def _describe_buttons(self) -> str:
        with_buttons = [m for m in reversed(self.messages) if m.inline_keyboard][:3]
        if not with_buttons:
            return "no message there has inline buttons"
        return "buttons there: " + "; ".join(f"message {m.message_id}: {m.buttons}" for m in with_buttons)

    def _describe_timeout(self) -> str:
        mode = f"webhook {self.api.webhook_url}" if self.api.webhook_url else f"polling {self.api.base_url}"
        recent = [name for name, _ in self.api.calls[-5:]]
        return (
            f"the bot handled {self.handled()} of {self.api.updates_sent} updates within {self.timeout} s "
            f"(mode: {mode}; its last Bot API calls: {recent or 'none'}). Is it running, and does "
            "`handled` count every update, even one whose handler failed?"
        )
