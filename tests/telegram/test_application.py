"""The Telegram bot end to end: the real python-telegram-bot Application over HTTP against a fake Bot API.

Conversations are played button by button, as a person would, in every language.
"""

from __future__ import annotations

import asyncio
import logging
import time

import pytest

from bot.core import moves
from bot.core.engine import Decision, Engine
from bot.core.languages import LANGUAGES
from bot.ruletable.cases import Case
from bot.storage.base import MemoryStore, person_key
from bot.storage.outbox import OWED_GRACE
from bot.telegram import screens
from bot.telegram.application import build_application, handled_updates
from bot.telegram.callbacks import version_tag
from bot.telegram.outbox import send_owed
from tests.support.bot import TABLE, Harness, answer, answer_from_here, make_runtime, running_bot, t
from tests.support.fakebotapi import FakeBotApi
from tests.support.golden import CASES, asked_in_order
from tests.support.shipped import TAJIK, checked_in_words
from tests.support.tgclient import TelegramUser

pytestmark = pytest.mark.e2e

# First contact ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language_code", "lang"),
    [("ru", "ru"), ("uz", "uz"), ("tg", "tg"), ("ky", "ky"), ("en", "en"), ("de", "ru"), (None, "ru")],
)
async def test_start_greets_in_the_detected_language(bot: Harness, language_code: str | None, lang: str) -> None:
    user = bot.user(language_code)
    await user.send("/start")
    welcome = user.last_message()
    assert t(lang).gettext(screens.WELCOME) in (welcome.text or "")
    labels = [label for row in welcome.buttons for label in row]
    assert set(LANGUAGES.values()) <= {label.removeprefix("✓ ") for label in labels}
    assert f"✓ {LANGUAGES[lang]}" in labels
    assert labels[-1] == t(lang).gettext(screens.START)


async def test_deep_link_chooses_the_language(bot: Harness) -> None:
    user = bot.user("ru")
    await user.send("/start tg")
    assert t("tg").gettext(screens.WELCOME) in (user.last_message().text or "")


async def test_deep_link_for_uzbek_cyrillic(bot: Harness) -> None:
    user = bot.user("uz")
    await user.send("/start uz_Cyrl")
    assert t("uz_Cyrl").gettext(screens.WELCOME) in (user.last_message().text or "")


# Whole conversations, button by button, in every language -------------------------------------

LANGS = list(LANGUAGES)


def _stories() -> list[tuple[Case, str]]:
    """Every case of the shipped table (each outcome, each example of the brief, and whatever the
    operators add) in two languages, three apart in the picker; and each verdict in every language."""
    n = len(LANGS)
    chosen = [(case, lang) for i, case in enumerate(CASES) for lang in (LANGS[i % n], LANGS[(i + 3) % n])]
    engine = Engine(TABLE)

    def verdict(case: Case) -> str:
        step = engine.step(engine.from_answers(case.answers)[0])
        assert isinstance(step, Decision)
        return step.outcome.verdict

    covered = {(verdict(case), lang) for case, lang in chosen}
    for case in CASES:
        chosen += [(case, lang) for lang in LANGS if (verdict(case), lang) not in covered]
        covered |= {(verdict(case), lang) for lang in LANGS}
    return chosen


STORIES = [pytest.param(case, lang, id=f"{lang}: {case.name}") for case, lang in _stories()]


@pytest.mark.parametrize(("case", "lang"), STORIES)
async def test_each_case_button_by_button(bot: Harness, case: Case, lang: str) -> None:
    user = bot.user(lang if lang != "uz_Cyrl" else "uz")
    await user.send(f"/start {lang}")
    assert await answer(user, lang, dict(case.answers)) == asked_in_order(case)
    decided = Engine(TABLE).from_answers(case.answers)[0]
    step = Engine(TABLE).step(decided)
    assert isinstance(step, Decision)
    assert case.expect.outcome in (None, step.outcome.id)
    outcome = step.outcome
    tr = t(lang)
    # The newest message is the card: the answer first, and it alone (the questions were edited in
    # place: the welcome is now the record of answers).
    assert len(user.messages) == 2
    assert tr.gettext(screens.YOUR_ANSWERS) in (user.messages[0].text or "")
    card = user.last_message()
    assert (card.text or "").startswith(f"{screens.VERDICT_MARKERS[outcome.verdict]} {tr.gettext(outcome.headline)}")
    if lang != "en":
        assert outcome.headline not in (card.text or ""), "the outcome is in the person's language"
    labels = [label for row in card.buttons for label in row]
    assert labels[-2:] == [tr.gettext(screens.BACK), tr.gettext(screens.START_OVER)]
    # Each part of the outcome opens in place of the card and leads back to it.
    opening = labels[:-2]
    assert opening[0] == tr.gettext(screens.SECTION_BUTTONS["why"])
    for label in opening:
        await user.click(label)
        opened = user.last_message()
        assert opened.message_id == card.message_id, "edited in place"
        assert next(label for row in opened.buttons for label in row) == tr.gettext(screens.BACK_TO_CARD)
        if label == tr.gettext(screens.SECTION_BUTTONS["sources"]):
            assert tr.gettext(TABLE.meta.disclaimer) in (opened.text or ""), "the disclaimer, whole"
        await user.click(tr.gettext(screens.BACK_TO_CARD))
        assert user.last_message().text == card.text
    assert len(user.messages) == 2, "nothing was sent anew"
    assert all(len(m.text or "") <= 4096 for m in user.messages)


async def test_outcome_links_its_sources(bot: Harness) -> None:
    user = bot.user("ru")
    await user.send("/start")
    await answer(user, "ru", TAJIK)
    await user.click(t("ru").gettext(screens.SECTION_BUTTONS["sources"]))
    links = {e.get("url") for m in user.messages for e in m.entities if e["type"] == "text_link"}
    assert {
        s.url for s in TABLE.sources.values() if s.id in {"mvd_2025_12", "systema_2025_12", "vyborg_2025_01"}
    } <= links


# Moving around ------------------------------------------------------------------------------


async def test_back_goes_to_the_previous_question_and_start_over_to_the_first(bot: Harness) -> None:
    user = bot.user("en")
    await user.send("/start")
    await user.click("Start")
    await user.click("A man")
    await user.click("18 to 64")
    assert "Which country's citizen are you?" in (user.last_message().text or "")
    await user.click("◀ Back")
    assert "How old are you?" in (user.last_message().text or "")
    await user.click("↺ Start over")
    assert "Are you a man or a woman?" in (user.last_message().text or "")
    assert "◀ Back" not in [label for row in user.last_message().buttons for label in row]


async def test_changing_language_keeps_answers_and_shows_the_current_question_again(bot: Harness) -> None:
    user = bot.user("ru")
    await user.send("/start")
    await user.click(t("ru").gettext(screens.START))
    await user.click(t("ru").gettext("A man"))
    await user.click(t("ru").gettext(screens.CHANGE_LANGUAGE))
    await user.click(LANGUAGES["ky"])
    assert t("ky").gettext("How old are you?") in (user.last_message().text or "")
    await user.click(t("ky").gettext("18 to 64"))
    assert t("ky").gettext("Which country's citizen are you?") in (user.last_message().text or "")


async def test_language_command_works_at_the_outcome(bot: Harness) -> None:
    user = bot.user("ru")
    await user.send("/start")
    await answer(user, "ru", {"sex": "female"})
    await user.send("/language")
    await user.click(LANGUAGES["tg"])
    assert t("tg").gettext(TABLE.outcomes["not_affected_woman"].headline) in "\n".join(
        m.text or "" for m in user.messages[-3:]
    )


async def test_back_and_restart_commands(bot: Harness) -> None:
    user = bot.user("en")
    await user.send("/start")
    await answer(user, "en", {"sex": "male", "age": "over_65"})
    await user.send("/back")
    assert "How old are you?" in (user.last_message().text or "")
    await user.send("/restart")
    assert "Are you a man or a woman?" in (user.last_message().text or "")


# What bad input gets ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["text", "sticker", "photo", "voice", "document", "location", "contact"])
async def test_anything_but_a_button_gets_a_hint_and_the_question_again(bot: Harness, kind: str) -> None:
    user = bot.user("tg")
    await user.send("/start")
    await user.click(t("tg").gettext(screens.START))
    await user.click(t("tg").gettext("A man"))
    before = await answers_of(bot, user)
    sent = {
        "text": lambda: user.send("man 30 let"),
        "sticker": user.send_sticker,
        "photo": user.send_photo,
        "voice": user.send_voice,
        "document": user.send_document,
        "location": user.send_location,
        "contact": user.send_contact,
    }
    shown = len(user.messages)
    await sent[kind]()
    assert len(user.messages) == shown + 1, "one reply: the hint above the question, in one message"
    reply = user.messages[-1].text or ""
    assert reply.startswith(t("tg").gettext(moves.FREE_TEXT))
    assert t("tg").gettext("How old are you?") in reply
    assert user.messages[-1].buttons, "with the answer buttons"
    assert await answers_of(bot, user) == before


def _key(bot: Harness, user: TelegramUser) -> str:
    return person_key(bot.runtime.settings.session_secret, user.user.id)


async def answers_of(bot: Harness, user: TelegramUser) -> dict[str, str]:
    """The answers stored for this person."""
    record = await bot.runtime.store.get(_key(bot, user))
    assert record is not None
    return dict(record.session.answers)


async def test_a_button_from_an_old_message_gets_a_notice_and_changes_nothing(bot: Harness) -> None:
    user = bot.user("en")
    await user.send("/start")
    await user.click("Start")
    await user.click("A man")
    await user.send("hello")  # the question is sent again; the first question message is now old
    stale = "a:" + bot.runtime.version + ":sex:female"
    await user.click_data(stale)
    answer_ = user.last_callback_answer()
    assert answer_ is not None
    assert answer_.get("text") == moves.STALE_BUTTON
    assert "How old are you?" in (user.last_message().text or "")
    assert await answers_of(bot, user) == {"sex": "male"}


async def test_a_button_from_before_a_reload_counts_when_its_question_and_option_remain(bot: Harness) -> None:
    """Before: every press made under the previous table version was refused as "from an earlier question"."""
    user = bot.user("en")
    await user.send("/start")
    await user.click("Start")
    await user.click_data("a:" + version_tag("decree-821@2025.01.01") + ":sex:male")
    assert not user.last_callback_answer().get("text")  # type: ignore[union-attr]
    assert "How old are you?" in (user.last_message().text or "")


async def test_a_button_whose_option_was_retired_since_gets_a_notice(bot: Harness) -> None:
    user = bot.user("en")
    await user.send("/start")
    await user.click("Start")
    await user.click("A man")
    await user.click_data("a:" + version_tag("decree-821@2026.11.21") + ":age:18_65")
    assert user.last_callback_answer()["text"] == moves.STALE_BUTTON  # type: ignore[index]
    assert "How old are you?" in (user.last_message().text or "")
    assert await answers_of(bot, user) == {"sex": "male"}


@pytest.mark.parametrize(
    "data",
    ["", "garbage", "a:zz:sex:male", "a:123456", "l:123456:../../etc", "x" * 64, "a:123456:sex:male:extra", "🙂" * 16],
)
async def test_forged_buttons_are_rejected_answered_and_change_nothing(
    bot: Harness, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = bot.user("en")
    await user.send("/start")
    await user.click("Start")
    await user.click("A man")
    with caplog.at_level(logging.INFO):
        await user.click_data(data)
    assert user.last_callback_answer()["text"] == moves.INVALID_BUTTON  # type: ignore[index]
    assert await answers_of(bot, user) == {"sex": "male"}
    assert "rejected a malformed button" in caplog.text
    if data:
        assert data not in caplog.text


async def test_every_button_press_is_answered_exactly_once(bot: Harness) -> None:
    user = bot.user("uz")
    await user.send("/start")
    await answer(user, "uz", TAJIK)
    await user.click_data("nonsense")
    presses = len(bot.api.calls_to("answerCallbackQuery"))
    assert presses == len(TAJIK) + 2  # Start, each answer, the forged one
    assert len(bot.api.callback_answers) == presses


async def test_unknown_command(bot: Harness) -> None:
    user = bot.user("ky")
    await user.send("/weather")
    assert user.last_message().text == t("ky").gettext(screens.UNKNOWN_COMMAND)


@pytest.mark.parametrize("chat_type", ["group", "supergroup"])
async def test_group_chats_get_a_pointer_to_the_private_chat_and_nothing_is_stored(
    bot: Harness, chat_type: str
) -> None:
    user = bot.user("ru", chat_type=chat_type)
    await user.send("/start")
    expected = t("ru").gettext(screens.PRIVATE_ONLY).format(link="https://t.me/maslahat_test_bot")
    assert user.last_message().text == expected
    await user.send("I am 30 and from Tajikistan")
    assert user.last_message().text == expected
    assert len(bot.runtime.store) == 0  # type: ignore[arg-type]


# Commands -----------------------------------------------------------------------------------


async def test_help_about_and_privacy(bot: Harness) -> None:
    user = bot.user("uz")
    await user.send("/help")
    assert "/forget" in (user.last_message().text or "")
    await user.send("/about")
    about = user.last_message().text or ""
    assert TABLE.meta.version not in about, "no version string in front of a person"
    assert TABLE.meta.checked.isoformat() not in about, "dates in words, never ISO"
    assert checked_in_words("y-'yil' d-MMMM", locale="uz")[0] in about  # e.g. 2026-yil 2-dekabr
    await user.send("/privacy")
    assert "7" in (user.last_message().text or "")
    assert len(bot.runtime.store) == 0, "reading help stores nothing"  # type: ignore[arg-type]


async def test_forget_deletes_everything_and_confirms(bot: Harness) -> None:
    user = bot.user("tg")
    await user.send("/start")
    await user.click(t("tg").gettext(screens.START))
    await user.click(t("tg").gettext("A man"))
    assert len(bot.runtime.store) == 1  # type: ignore[arg-type]
    await user.send("/forget")
    assert user.last_message().text == t("tg").gettext(screens.FORGOTTEN)
    assert len(bot.runtime.store) == 0  # type: ignore[arg-type]


async def test_command_menus_and_descriptions_in_each_language(bot: Harness) -> None:
    for code in ("ru", "uz", "tg", "ky", "en"):
        commands = bot.api.commands_for(code)
        assert [c["command"] for c in commands] == [name for name, _ in screens.COMMANDS]
        assert commands[0]["description"] == t(code).gettext("Begin")
        assert bot.api.descriptions[code] == t(code).gettext(screens.DESCRIPTION)
        assert bot.api.short_descriptions[code] == t(code).gettext(screens.SHORT_DESCRIPTION)
    assert bot.api.commands_for("")[0]["description"] == t("ru").gettext("Begin")


# Telegram errors ----------------------------------------------------------------------------


async def test_message_to_edit_not_found_sends_it_anew(bot: Harness) -> None:
    user = bot.user("en")
    await user.send("/start")
    await user.click("Start")
    bot.api.fail_next("editMessageText", "not_found")
    await user.click("A man")
    assert "How old are you?" in (user.last_message().text or "")


async def test_message_not_modified_is_harmless(bot: Harness) -> None:
    user = bot.user("en")
    await user.send("/start")
    await user.click("Start")
    bot.api.fail_next("editMessageText", "not_modified")
    await user.click("A man")
    assert user.last_callback_answer() is not None


@pytest.fixture(
    params=[
        # As the bot runs: python-telegram-bot 22.2 on gives seconds, with a deprecation warning.
        pytest.param(
            "", id="seconds", marks=pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
        ),
        # As python-telegram-bot will from its next major version, and does now with PTB_TIMEDELTA set.
        pytest.param("1", id="timedelta"),
    ]
)
def retry_after_form(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """RetryAfter.retry_after in either form python-telegram-bot gives it; the bot sets neither."""
    if request.param:
        monkeypatch.setenv("PTB_TIMEDELTA", request.param)
    else:
        monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    return str(request.param)


@pytest.mark.usefixtures("retry_after_form")
async def test_flood_limit_and_server_errors_are_retried(bot: Harness) -> None:
    user = bot.user("en")
    bot.api.fail_next("sendMessage", "retry_after")
    await user.send("/start")
    assert screens.WELCOME in (user.last_message().text or "")
    bot.api.fail_next("editMessageText", "server_error", times=2)
    await user.click("Start")
    assert "Are you a man or a woman?" in (user.last_message().text or "")


@pytest.mark.usefixtures("retry_after_form")
async def test_a_flood_limit_is_waited_out_and_counted_without_the_rate_limiter() -> None:
    """Without python-telegram-bot's rate limiter, bot.telegram.send reads retry_after itself."""
    async with FakeBotApi() as api:
        runtime = make_runtime(api)
        app = build_application(runtime, rate_limit=False)
        async with app:
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            await app.start()
            user = TelegramUser(api, lambda: handled_updates(app), language_code="en")
            api.fail_next("sendMessage", "retry_after", retry_after=1)
            started = time.monotonic()
            await user.send("/start")
            assert screens.WELCOME in (user.last_message().text or "")
            assert time.monotonic() - started >= 1
            assert len(api.calls_to("sendMessage")) == 2
            assert (
                runtime.metrics.registry.get_sample_value("maslahat_telegram_retries_total", {"reason": "flood"}) == 1
            )
            await app.updater.stop()
            await app.stop()


async def test_a_timed_out_send_is_not_repeated() -> None:
    """A timeout may come after Telegram sent the message: repeating it showed the screen twice."""
    async with FakeBotApi() as api, running_bot(api, timeout=0.5) as bot:
        user = bot.user("en")
        api.fail_next("sendMessage", "timeout", seconds=1.0)
        await user.send("/start")
        await asyncio.sleep(0.7)  # the late answer arrives after the bot gave up on it
        assert screens.WELCOME in (user.last_message().text or "")
        assert len(api.calls_to("sendMessage")) == 1


async def test_a_reply_telegram_keeps_failing_is_left_to_the_outbox_not_reported_and_the_bot_goes_on(
    bot: Harness,
) -> None:
    """Before: "Something went wrong… send /restart", though the start was saved and its reply could follow."""
    user = bot.user("en")
    bot.api.fail_next("sendMessage", "server_error", times=4)  # every retry
    await user.send("/start")
    assert not [m for m in bot.api.messages(user.user.id) if m.outgoing], "nothing got through, no error either"
    assert await send_owed(bot.app, now=time.time() + OWED_GRACE + 1) == 1  # once Telegram answers again
    assert screens.WELCOME in (user.last_message().text or "")
    await user.send("/start")
    assert screens.WELCOME in (user.last_message().text or "")


async def test_a_reply_telegram_refuses_is_reported_and_the_bot_goes_on(bot: Harness) -> None:
    user = bot.user("en")
    bot.api.fail_next("sendMessage", "not_found")  # a 400: sending it again would not help
    await user.send("/start")
    assert user.last_message().text == screens.SOMETHING_WRONG
    assert await send_owed(bot.app, now=time.time() + OWED_GRACE + 1) == 0, "told once, not owed as well"
    await user.send("/start")
    assert screens.WELCOME in (user.last_message().text or "")


async def test_expired_sessions_are_purged_in_the_background(bot: Harness) -> None:
    import asyncio

    from bot.telegram.application import purge_expired

    now = [0.0]
    bot.runtime.store = MemoryStore(ttl=60, clock=lambda: now[0])
    user = bot.user("ru")
    await user.send("/start")
    assert len(bot.runtime.store) == 1
    now[0] = 61
    task = asyncio.create_task(purge_expired(bot.runtime, every=0.01))
    for _ in range(200):
        if len(bot.runtime.store) == 0:
            break
        await asyncio.sleep(0.01)
    task.cancel()
    assert len(bot.runtime.store) == 0


# Privacy in logs ----------------------------------------------------------------------------


async def test_no_log_line_holds_the_token_or_anything_about_the_person(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.service.logs import configure_logging

    configure_logging("DEBUG", secrets=[bot.api.token])
    user = bot.user("uz", first_name="Dilshod", username="dilshod_tashkent", user_id=777123456)
    with caplog.at_level(logging.DEBUG):
        await user.send("/start")
        await user.send("Men Toshkentdan, 24 yoshdaman")  # the first question comes with the hint
        await answer_from_here(user, "uz", TAJIK)
        await user.click_data("forged-data-here")
        bot.api.fail_next("sendMessage", "server_error", times=4)
        await user.send("/help")
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert caplog.records, "the test must see the bot's logs"
    for secret in (
        bot.api.token,
        "Dilshod",
        "dilshod_tashkent",
        "777123456",
        "Toshkentdan",
        "forged-data-here",
        "tajikistan",
    ):
        assert secret not in logged, secret


@pytest.mark.parametrize("command", ["/help", "/about", "/privacy"])
async def test_reading_screens_lead_back_to_the_question(bot: Harness, command: str) -> None:
    """Before: /help, /about and /privacy were dead ends with no button."""
    user = bot.user("ky")
    await user.send("/start")
    await user.click(t("ky").gettext(screens.START))
    await user.click(t("ky").gettext("A man"))
    await user.send(command)
    await user.click(t("ky").gettext(screens.CONTINUE))
    assert t("ky").gettext("How old are you?") in (user.last_message().text or "")
    assert await answers_of(bot, user) == {"sex": "male"}, "nothing is lost on the way"


async def test_after_forget_one_button_begins_again(bot: Harness) -> None:
    """Before: /forget was a dead end: "send /start" and no button."""
    user = bot.user("ru")
    await user.send("/start")
    await user.click(t("ru").gettext(screens.START))
    await user.send("/forget")
    assert t("ru").gettext(screens.FORGOTTEN) in (user.last_message().text or "")
    await user.click(t("ru").gettext(screens.START))
    assert t("ru").gettext("Are you a man or a woman?") in (user.last_message().text or "")


@pytest.mark.parametrize("lang", list(LANGUAGES))
async def test_start_in_the_middle_of_a_conversation_asks_before_deleting_the_answers(bot: Harness, lang: str) -> None:
    """Before: /start (the first command in the menu) silently erased the answers given so far."""
    user = bot.user(lang)
    tr = t(lang)
    await user.send("/start")
    await user.click(tr.gettext(screens.START))
    await user.click(tr.gettext("A man"))
    await user.send("/start")
    asked = user.last_message()
    assert asked.text == tr.gettext(screens.CONFIRM_START)
    assert asked.buttons == [[tr.gettext(screens.CONTINUE)], [tr.gettext(screens.START_OVER)]]
    assert await answers_of(bot, user) == {"sex": "male"}, "nothing is deleted by asking"
    await user.click(tr.gettext(screens.CONTINUE))
    assert tr.gettext("How old are you?") in (user.last_message().text or "")
    assert await answers_of(bot, user) == {"sex": "male"}

    await user.send("/start")
    await user.click(tr.gettext(screens.START_OVER))
    assert tr.gettext("Are you a man or a woman?") in (user.last_message().text or "")
    assert await answers_of(bot, user) == {}, "deleted once the person said so"


async def test_only_the_newest_screen_can_be_pressed(bot: Harness) -> None:
    """Before: a typed message or /help showed the question again, and the copy above kept its buttons."""
    user = bot.user("uz")
    tr = t("uz")

    def live() -> list[int]:
        return [m.message_id for m in bot.api.messages(user.user.id) if m.outgoing and m.inline_keyboard]

    def newest() -> list[int]:
        return [user.last_message().message_id]

    await user.send("/start")
    await user.click(tr.gettext(screens.START))
    assert live() == newest()
    await user.send("Men Toshkentdanman")  # a hint and the question again, as a new message
    assert live() == newest()
    await user.send("/help")
    assert live() == newest()
    await user.click(tr.gettext(screens.CONTINUE))
    assert tr.gettext("Are you a man or a woman?") in (user.last_message().text or "")
    assert live() == newest()
    await user.click(tr.gettext("A man"))  # in place
    assert live() == newest()
    await user.send("/start")
    await user.click(tr.gettext(screens.CONTINUE))
    assert live() == newest()
    await answer_from_here(user, "uz", TAJIK)
    assert live() == newest(), "at the outcome, only its last message's buttons"
