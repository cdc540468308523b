"""Nothing taken is left unanswered: updates confirmed only once applied, owed replies sent by the sweep.

The bot runs in process, polling the fake Bot API; the kill -9 runs are in test_crash.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from bot.storage.base import MemoryStore
from bot.storage.outbox import OWED_GRACE, OWED_TTL, Owed
from bot.telegram import intake as intake_module
from bot.telegram import screens
from bot.telegram.application import handled_updates
from bot.telegram.intake import Intake
from bot.telegram.outbox import send_owed
from tests.support.bot import Harness, answer, running_bot, t
from tests.support.fakebotapi import FakeBotApi, FakeMessage
from tests.support.processes import wait_for
from tests.support.stores import GatedStore
from tests.support.tgclient import TelegramUser

pytestmark = pytest.mark.e2e


@pytest.fixture
async def gated() -> AsyncIterator[tuple[Harness, GatedStore]]:
    store = GatedStore()
    async with FakeBotApi() as api, running_bot(api, store=store, rate_limit=False) as harness:
        try:
            yield harness, store
        finally:
            store.gate.set()  # a failed test must not leave the bot's shutdown waiting on it


def owed_of(harness: Harness) -> list[tuple[str, Owed]]:
    store = harness.runtime.store
    assert isinstance(store, MemoryStore)
    return [(key, owed) for key, (owed, _due) in store._owed.items()]


def labels(message: FakeMessage) -> list[str]:
    return [label for row in message.buttons for label in row]


# Confirming an update only once it is applied -------------------------------------------------


async def test_polling_confirms_an_update_to_telegram_only_once_it_is_saved(gated: tuple[Harness, GatedStore]) -> None:
    """Before: python-telegram-bot confirmed a batch by asking for the next one at once, before handling it."""
    harness, store = gated
    user = harness.user("ru", user_id=501)
    store.gate.clear()
    update = harness.api.message_update(user.user, text="/start")
    await wait_for(lambda: harness.runtime.intake.waiting == 1, "the update to be taken")
    await asyncio.sleep(0.5)
    assert harness.api.confirmed_below <= update["update_id"], "confirmed while not yet saved"
    store.gate.set()
    await wait_for(lambda: harness.api.confirmed_below > update["update_id"], "the confirmation")
    await user.wait()
    assert t("ru").gettext(screens.WELCOME) in (user.last_message().text or "")
    assert harness.runtime.metrics["updates_confirmed_early"] == 0


async def test_a_store_that_does_not_answer_holds_confirmation_a_few_seconds_at_most(
    gated: tuple[Harness, GatedStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(intake_module, "CONFIRM_WAIT", 0.3)
    harness, store = gated
    user = harness.user("ru", user_id=502)
    store.gate.clear()
    update = harness.api.message_update(user.user, text="/start")
    await wait_for(lambda: harness.api.confirmed_below > update["update_id"], "the confirmation", timeout=5)
    assert harness.runtime.metrics["updates_confirmed_early"] == 1
    store.gate.set()
    await user.wait()  # and it is still answered
    assert t("ru").gettext(screens.WELCOME) in (user.last_message().text or "")


async def test_intake_waits_for_the_updates_below_the_offset_or_the_one_named() -> None:
    early: list[int] = []
    intake = Intake(on_early=early.append)
    intake.take([1, 2, 3])
    intake.applied(1)
    waiter = asyncio.create_task(intake.confirmable(below=3))
    await asyncio.sleep(0.05)
    assert not waiter.done(), "update 2 is not applied"
    intake.applied(2)
    await asyncio.wait_for(waiter, 1)
    await asyncio.wait_for(intake.confirmable(only=1), 1)  # applied already
    assert intake.waiting == 1
    intake.applied(3)
    intake.applied(3)  # twice is harmless
    assert intake.waiting == 0
    assert early == []


# The outbox sweep ------------------------------------------------------------------------------


@pytest.fixture
async def memory_bot() -> AsyncIterator[Harness]:
    async with FakeBotApi() as api, running_bot(api, rate_limit=False) as harness:
        yield harness


async def _at_first_question(harness: Harness, user_id: int) -> TelegramUser:
    user = harness.user("en", user_id=user_id)
    await user.send("/start")
    await user.click("Start")
    assert "Are you a man or a woman?" in (user.last_message().text or "")
    return user


async def test_a_press_whose_reply_could_not_be_sent_is_answered_by_the_sweep_once_telegram_answers(
    memory_bot: Harness,
) -> None:
    """Before: the press was saved, "Something went wrong… /restart" was tried, and the question never came."""
    harness = memory_bot
    user = await _at_first_question(harness, 503)
    question = user.last_message()
    harness.api.fail_next("editMessageText", "server_error", times=4)  # every retry of the edit
    await user.click("A man")
    unanswered = harness.api.message(user.user.id, question.message_id)
    assert unanswered is not None
    assert "Are you a man or a woman?" in (unanswered.text or ""), "the edit failed"
    assert [key for key, _ in owed_of(harness)], "the reply is owed"
    assert await send_owed(harness.app, now=time.time() + 1) == 0, "not before the grace"
    assert await send_owed(harness.app, now=time.time() + OWED_GRACE + 1) == 1
    shown = harness.api.message(user.user.id, question.message_id)
    assert shown is not None
    assert "How old are you?" in (shown.text or ""), "the question the press led to, in place"
    texts = [m.text or "" for m in harness.api.messages(user.user.id) if m.outgoing]
    assert not any(t("en").gettext(screens.SOMETHING_WRONG) in text for text in texts)
    assert owed_of(harness) == []
    assert harness.runtime.metrics["replies_owed_sent"] == 1
    await user.click("18 to 64")  # the conversation goes on from there
    assert "Which country's citizen are you?" in (user.last_message().text or "")


async def test_a_section_whose_edit_failed_is_shown_by_the_sweep_not_the_card(memory_bot: Harness) -> None:
    """Before: the sweep showed the card again, and the person had to press the section once more."""
    harness = memory_bot
    user = harness.user("en", user_id=508)
    await user.send("/start")
    await answer(user, "en", {"sex": "male", "age": "over_65"})
    card = user.last_message()
    sources = t("en").gettext(screens.SECTION_BUTTONS["sources"])
    assert sources in labels(card), "the card offers the sources"
    harness.api.fail_next("editMessageText", "server_error", times=4)  # every retry of the edit
    await user.click(sources)
    assert await send_owed(harness.app, now=time.time() + OWED_GRACE + 1) == 1
    shown = harness.api.message(user.user.id, card.message_id)
    assert shown is not None
    assert labels(shown) == [t("en").gettext(screens.BACK_TO_CARD)], "the sources, in place of the card"
    assert sources in (shown.text or "").split("\n")[0], "under the section's title"
    await user.click(t("en").gettext(screens.BACK_TO_CARD))  # and the way back works
    assert sources in labels(user.last_message())


async def test_a_reply_telegram_refuses_for_good_is_dropped_and_one_too_old_is_not_sent(memory_bot: Harness) -> None:
    harness = memory_bot
    user = await _at_first_question(harness, 504)

    async def text_failing(text: str) -> None:
        harness.api.fail_next("sendMessage", "server_error", times=4)  # Telegram down: left owed
        handled = handled_updates(harness.app)
        harness.api.message_update(user.user, text=text)
        await wait_for(lambda: handled_updates(harness.app) > handled, "the text handled")
        assert len(owed_of(harness)) == 1

    await text_failing("hello")
    harness.api.blocked.add(user.user.id)  # meanwhile the person blocked the bot: sending answers 403
    assert await send_owed(harness.app, now=time.time() + OWED_GRACE + 1) == 0
    assert owed_of(harness) == [], "not tried again and again"
    assert harness.runtime.metrics["replies_owed_dropped"] == 1

    harness.api.blocked.clear()
    await text_failing("hello again")
    sent_before = len(harness.api.messages(user.user.id))
    assert await send_owed(harness.app, now=time.time() + OWED_TTL + 60) == 0, "an hour late is too late"
    assert owed_of(harness) == []
    assert len(harness.api.messages(user.user.id)) == sent_before
    assert harness.runtime.metrics["replies_owed_dropped"] == 2


async def test_a_reply_to_someone_who_blocked_the_bot_is_not_left_owed(memory_bot: Harness) -> None:
    harness = memory_bot
    user = await _at_first_question(harness, 507)
    harness.api.blocked.add(user.user.id)
    handled = handled_updates(harness.app)
    harness.api.message_update(user.user, text="hello")
    await wait_for(lambda: handled_updates(harness.app) > handled, "the text handled")
    assert owed_of(harness) == [], "sending again would not help"


async def test_the_sweep_leaves_a_reply_to_the_handler_still_sending_it(memory_bot: Harness) -> None:
    harness = memory_bot
    user = await _at_first_question(harness, 505)
    harness.api.fail_next("editMessageText", "server_error", times=4)
    await user.click("A man")
    [(_, owed)] = owed_of(harness)
    harness.runtime.intake.handling.add(owed.update_id)  # as if its handler were in a long flood wait
    assert await send_owed(harness.app, now=time.time() + OWED_GRACE + 1) == 0
    harness.runtime.intake.handling.discard(owed.update_id)
    assert await send_owed(harness.app, now=time.time() + 2 * OWED_GRACE + 2) == 1


async def test_a_reply_shown_at_once_is_settled_and_forget_leaves_nothing_owed(memory_bot: Harness) -> None:
    harness = memory_bot
    user = await _at_first_question(harness, 506)
    await user.click("A man")
    await user.send("some text")
    assert owed_of(harness) == [], "each reply shown was settled"
    harness.api.fail_next("editMessageText", "server_error", times=4)
    await user.click("18 to 64")
    assert len(owed_of(harness)) == 1
    await user.send("/forget")
    assert owed_of(harness) == [], "forgetting a person forgets what was owed to them"
