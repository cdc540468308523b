"""kill -9 with 40 people answering: every press the bot took is answered after the restart.

`maslahat run` runs as a real process against the fake Bot API, polling or on its webhook. The
fake holds the bot's sends and edits unanswered (as a Telegram that cannot be reached), 40 people
press an answer, and once every press is taken (confirmed by the next getUpdates offset, or
answered 200 on the webhook) the process is killed. Before the outbox, 30 of 31 such presses were
saved and never answered: the person saw a spinner and the old question for good.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.fakebotapi import FakeBotApi, FakeMessage, FakeUser, free_port
from tests.support.processes import eventually, http_get, start_bot, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PEOPLE = 40
WEBHOOK_SECRET = "crash_test_secret"
#: The person's first answer: Q1 becomes Q2 in place.
FIRST_QUESTION = "Are you a man or a woman?"


@dataclass
class Telegram:
    """Delivers updates as Telegram would, polling or to the webhook, and tells which were taken."""

    api: FakeBotApi
    webhook: str | None  # the bot's webhook address, or None when it polls
    posted: set[int] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def deliver(self, update: dict[str, Any]) -> None:
        if self.webhook is None:
            self.api.queue_update(update)
            return
        task = asyncio.create_task(self._post(update))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _post(self, update: dict[str, Any]) -> None:
        """Post until the bot answers 200, as Telegram retries a webhook."""
        assert self.webhook is not None
        while True:
            try:
                status = await self.api.post_to_webhook(update, secret=WEBHOOK_SECRET, url=self.webhook)
            except ConnectionError:
                status = None
            if status == 200:
                self.posted.add(update["update_id"])
                return
            await asyncio.sleep(0.1)

    def taken(self, update_id: int) -> bool:
        """Whether Telegram has forgotten the update: the bot confirmed it."""
        if self.webhook is None:
            return update_id < self.api.confirmed_below
        return update_id in self.posted

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@dataclass
class Press:
    """One person's press on a message, and what the chat looked like then."""

    user: FakeUser
    update_id: int
    message_id: int
    edits: int
    newest: int


def newest(api: FakeBotApi, user: FakeUser) -> FakeMessage:
    return [m for m in api.messages(user.id) if m.outgoing][-1]


def press(api: FakeBotApi, telegram: Telegram, user: FakeUser, label: str) -> Press:
    shown = newest(api, user)
    data = next(b["callback_data"] for row in shown.inline_keyboard for b in row if b["text"] == label)
    update = api.callback_update(user, shown.message_id, data, enqueue=False)
    telegram.deliver(update)
    return Press(user, update["update_id"], shown.message_id, len(shown.history), shown.message_id)


def answered(api: FakeBotApi, done: Press) -> bool:
    message = api.message(done.user.id, done.message_id)
    assert message is not None
    return len(message.history) > done.edits or newest(api, done.user).message_id > done.newest


@asynccontextmanager
async def bot_process(
    api: FakeBotApi, state: Path, port: int, *, webhook: bool
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``maslahat run``, polling or on a webhook, until it is ready; SIGTERM at the end if still running."""
    settings = {"PORT": str(port), "LOG_LEVEL": "INFO"}
    if webhook:
        settings |= {"WEBHOOK_URL": "https://127.0.0.1:8443/telegram", "WEBHOOK_SECRET": WEBHOOK_SECRET}
    process = await start_bot(api, state, **settings)
    try:
        await eventually(lambda: _ready(port), "the bot to be ready", timeout=30)
        yield process
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=30)


async def _ready(port: int) -> bool:
    answer = await http_get(f"http://127.0.0.1:{port}/readyz")
    return answer is not None and answer[0] == 200


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_kill_9_with_40_people_answering_every_taken_press_is_answered_after_the_restart(
    tmp_path: Path, mode: str
) -> None:
    webhook = mode == "webhook"
    port = free_port()  # the same across the restart: Telegram keeps posting to one address
    people = [FakeUser(7_700_000 + n, f"Crashtest{n}", f"crash_user_{n}", "en") for n in range(PEOPLE)]
    logs: list[str] = []
    async with FakeBotApi() as api:
        telegram = Telegram(api, f"http://127.0.0.1:{port}/telegram" if webhook else None)
        try:
            async with bot_process(api, tmp_path, port, webhook=webhook) as process:
                for person in people:
                    telegram.deliver(api.message_update(person, text="/start", enqueue=False))
                await wait_for(lambda: all(_shows(api, p, "Start") for p in people), "every welcome", timeout=30)
                starts = [press(api, telegram, person, "Start") for person in people]
                await wait_for(lambda: all(answered(api, s) for s in starts), "everyone at the first question")
                assert all(FIRST_QUESTION in (newest(api, p).text or "") for p in people)

                # Telegram stops answering the bot's sends and edits; everyone presses "A man".
                api.hold("editMessageText", "sendMessage")
                held_from = len(api.calls)
                presses = [press(api, telegram, person, "A man") for person in people]
                await wait_for(lambda: all(telegram.taken(p.update_id) for p in presses), "every press taken")
                await wait_for(lambda: len(_sends(api, held_from)) >= PEOPLE, "every reply on its way")
                process.kill()  # SIGKILL: no shutdown, no flush
                await process.wait()
                assert process.stderr is not None
                logs.append((await process.stderr.read()).decode())
            api.release()
            await asyncio.sleep(0.2)
            assert not any(answered(api, p) for p in presses), "nothing reached the people before the kill"
            assert len(api.abandoned) >= PEOPLE, "the sends in flight died with the process"

            async with bot_process(api, tmp_path, port, webhook=webhook) as restarted:
                await wait_for(lambda: all(answered(api, p) for p in presses), "every taken press answered", 40)
                # Exactly once: the pressed question became the next one in place; no second copy.
                for done in presses:
                    message = api.message(done.user.id, done.message_id)
                    assert message is not None
                    assert len(message.history) == done.edits + 1, message.history
                    assert newest(api, done.user).message_id == done.newest
                    assert "How old are you?" in (message.text or "")
                # The conversation goes on from there.
                again = [press(api, telegram, person, "18 to 64") for person in people[:5]]
                await wait_for(lambda: all(answered(api, p) for p in again), "the next press answered")
                metrics = await http_get(f"http://127.0.0.1:{port}/metrics")
                assert metrics is not None
                assert f'maslahat_events_total{{event="replies_owed_sent"}} {PEOPLE}.0' in metrics[1]
                restarted.send_signal(signal.SIGTERM)
                _, stderr = await asyncio.wait_for(restarted.communicate(), timeout=30)
                logs.append(stderr.decode())
        finally:
            await telegram.close()
    text = "\n".join(logs)
    assert re.search(r"sent \d+ owed repl", text), text[-3000:]
    for person in people:
        for secret in (str(person.id), person.first_name, person.username or ""):
            assert secret not in text, f"{secret!r} in the logs"


def _shows(api: FakeBotApi, user: FakeUser, label: str) -> bool:
    outgoing = [m for m in api.messages(user.id) if m.outgoing]
    return bool(outgoing) and any(b["text"] == label for row in outgoing[-1].inline_keyboard for b in row)


def _sends(api: FakeBotApi, since: int) -> list[tuple[str, Any]]:
    """The sends and edits the bot asked for since call number ``since``."""
    return [call for call in api.calls[since:] if call[0] in {"editMessageText", "sendMessage"}]
