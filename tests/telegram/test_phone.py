"""The screens on a 360×640 phone, measured in a real headless Chromium (tests.support.phone).

First that the measure can fail: a long label in a row of three is cut, a long message is taller
than the chat. Then every question of the shipped rule table in every language: what a person sees
is recorded (printed under ``pytest -s``, and written as JSON to $MASLAHAT_PHONE_REPORT if set), and
only what is true today and must stay true is asserted.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.engine import Decision, Engine, Question, Session
from bot.core.languages import LANGUAGES, SourceLanguage
from bot.core.present import outcome_sections, outcome_view
from bot.i18n.catalogs import Catalogs
from bot.resources import shipped_locales
from bot.telegram.callbacks import Press, decode, version_tag
from bot.telegram.phone import phone_page, telegram_html
from bot.telegram.screens import Button, Screen, outcome_screens, question_screen, section_screen
from tests.support.phone import CHAT_HEIGHT, WIDTH, MessageBox, Phone

SHARE = "https://t.me/share/url?url=https%3A//t.me/maslahat_bot"


def _row(*labels: str) -> tuple[Button, ...]:
    return tuple(Button(label, data=f"x{i}") for i, label in enumerate(labels))


# The harness can fail ---------------------------------------------------------------------------


def test_a_long_label_in_a_row_of_three_is_cut_and_a_short_one_is_not(phone: Phone) -> None:
    long = "A label of sixty characters, far too long for a third of it."
    assert len(long) == 60
    [box] = phone.measure([Screen("Choose:", (_row("Yes", long, "No"),))])
    assert [(b.label, b.cut) for b in box.buttons] == [("Yes", False), (long, True), ("No", False)]


def test_a_long_label_alone_on_its_row_is_cut_only_past_the_phone_width(phone: Phone) -> None:
    fits, too_long = "A label that fits on its own row", "A label of many words that no phone shows whole on one row"
    boxes = phone.measure([Screen("Choose:", (_row(fits),)), Screen("Choose:", (_row(too_long),))])
    assert [b.cut for box in boxes for b in box.buttons] == [False, True]


def test_forty_lines_are_taller_than_the_chat_and_one_line_is_not(phone: Phone) -> None:
    one, forty = phone.measure([Screen("One line."), Screen("\n".join(f"Line {n}" for n in range(40)))])
    assert one.height < 60
    assert forty.height > CHAT_HEIGHT


def test_a_message_is_as_tall_as_its_bubble_and_keyboard(phone: Phone) -> None:
    """Rows are 44 px tall and 4 px apart, 4 px under the bubble, as in Telegram for Android."""
    bare, keyed = phone.measure([Screen("Text"), Screen("Text", (_row("A"), _row("B"), _row("C", "D")))])
    assert keyed.bubble == bare.height
    assert keyed.height == pytest.approx(bare.height + 3 * 48, abs=0.5)
    assert keyed.height_to_row(1) == pytest.approx(bare.height + 2 * 48, abs=0.5)


def test_the_page_keeps_only_telegrams_tags() -> None:
    html = telegram_html(
        '<b>bold</b> <i>it</i> <a href="https://x.org/?a=1&amp;b=2">link</a> <a href="javascript:alert(1)">bad</a>'
        " <script>alert(1)</script> <img src=x onerror=alert(1)> &lt;b&gt; <b><i>open"
    )
    assert html == (
        '<b>bold</b> <i>it</i> <a href="https://x.org/?a=1&amp;b=2">link</a> <a>bad</a>'
        " alert(1)  &lt;b&gt; <b><i>open</i></b>"
    )
    page = phone_page([Screen("<b>x</b>\nline", (_row("<Back>"),))], title="<Bot>", lang="uz_Cyrl")
    assert 'lang="uz-Cyrl"' in page
    assert "&lt;Bot&gt;" in page
    assert "&lt;Back&gt;" in page
    assert "<script" not in page
    assert "://" not in page  # self-contained: nothing to load


# Every question, in every language -------------------------------------------------------------


def _questions(engine: Engine) -> Iterator[tuple[Question, bool]]:
    """Each question the engine can ask, as a walk of every conversation first meets it; and whether Back shows."""
    seen: set[str] = set()
    visited: set[object] = set()
    stack = [engine.new_session()]
    while stack:
        session = stack.pop()
        step = engine.step(session)
        key = engine.state_key(session)
        if not isinstance(step, Question) or key in visited:
            continue
        visited.add(key)
        if step.fact.id not in seen:
            seen.add(step.fact.id)
            yield step, bool(session.answers)
        stack.extend(engine.answer(session, step.fact.id, o.id) for o in reversed(step.fact.options))


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs.load(shipped_locales())


@pytest.fixture(scope="module")
def question_boxes(engine: Engine, catalogs: Catalogs, phone: Phone) -> dict[str, list[tuple[str, MessageBox]]]:
    """Every question's screen on the phone, in every language: (fact id, box) in the order first asked."""
    version = version_tag(engine.table.version_tag)
    questions = list(_questions(engine))
    boxes: dict[str, list[tuple[str, MessageBox]]] = {}
    for lang in LANGUAGES:
        t = catalogs.translator(lang)
        screens = [question_screen(q, t, version, can_go_back=back) for q, back in questions]
        boxes[lang] = [(q.fact.id, box) for (q, _), box in zip(questions, phone.measure(screens, lang), strict=True)]
    return boxes


def _report(boxes: dict[str, list[tuple[str, MessageBox]]]) -> dict[str, Any]:
    return {
        "phone": {"width": WIDTH, "chat_height": CHAT_HEIGHT},
        "languages": {
            lang: [
                {
                    "question": fact,
                    "height": round(box.height),
                    "fits": box.height <= CHAT_HEIGHT,
                    "height_to_second_answer": round(box.height_to_row(1)),
                    "second_answer_fits": box.height_to_row(1) <= CHAT_HEIGHT,
                    "cut": [b.label for b in box.cut],
                }
                for fact, box in rows
            ]
            for lang, rows in boxes.items()
        },
    }


def _table(report: dict[str, Any]) -> str:
    lines = [f"Question screens on a {WIDTH} px phone, chat {CHAT_HEIGHT} px tall (question + 2 answers = q+2):"]
    for lang, rows in report["languages"].items():
        lines.append(f"  {lang}:")
        for row in rows:
            fits = "fits" if row["second_answer_fits"] else "DOES NOT FIT"
            cut = ", ".join(row["cut"]) or "-"
            heights = f"{row['height']:>5} px  q+2 {row['height_to_second_answer']:>4} px {fits:<12}"
            lines.append(f"    {row['question']:<18} {heights}  cut: {cut}")
    return "\n".join(lines)


def test_every_question_screen_is_recorded(
    question_boxes: dict[str, list[tuple[str, MessageBox]]], engine: Engine
) -> None:
    report = _report(question_boxes)
    print("\n" + _table(report))
    if path := os.environ.get("MASLAHAT_PHONE_REPORT"):
        Path(path).write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for lang, rows in question_boxes.items():
        assert [fact for fact, _ in rows] == [fact for fact, _ in question_boxes["en"]], lang
        for fact, box in rows:
            assert box.buttons, f"{lang} {fact}: a question with no button"
    assert {fact for fact, _ in question_boxes["en"]} == {f.id for f in engine.table.facts}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_navigation_buttons_are_not_cut(lang: str, engine: Engine, catalogs: Catalogs, phone: Phone) -> None:
    """Back / Start over / Language, under every question after the first, show each label whole.

    Before: in one row of three, "↺ Start over" was cut in Russian, Tajik and Kyrgyz.
    """
    session, _ = engine.from_answers({"sex": "male"})
    step = engine.step(session)
    assert isinstance(step, Question)
    screen = question_screen(step, catalogs.translator(lang), version_tag(engine.table.version_tag), can_go_back=True)
    kinds = [decode(b.data).kind for row in screen.buttons for b in row]
    assert kinds[-3:] == [Press.BACK, Press.START_OVER, Press.MENU]
    [box] = phone.measure([screen], lang)
    assert [b.label for b in box.buttons[-3:] if b.cut] == []


# Every outcome's card and sections, in every language -------------------------------------------------


def _outcomes(engine: Engine) -> Iterator[tuple[Session, Decision]]:
    """One conversation for each distinct card: outcome and the sections it has (notes, help vary)."""
    seen: set[tuple[str, ...]] = set()
    for session, decision in engine.conversations():
        t = SourceLanguage()
        ids = tuple(s.id for s in outcome_sections(outcome_view(engine.table, decision, session, t), t))
        if (decision.outcome.id, *ids) not in seen:
            seen.add((decision.outcome.id, *ids))
            yield session, decision


@pytest.fixture(scope="module")
def card_boxes(engine: Engine, catalogs: Catalogs, phone: Phone) -> dict[str, list[tuple[str, MessageBox, MessageBox]]]:
    """Every distinct card on the phone in every language, with its tallest section: (outcome, card, section)."""
    version = version_tag(engine.table.version_tag)
    conversations = list(_outcomes(engine))
    boxes: dict[str, list[tuple[str, MessageBox, MessageBox]]] = {}
    for lang in LANGUAGES:
        t = catalogs.translator(lang)
        cards, tallest = [], []
        for session, decision in conversations:
            view = outcome_view(engine.table, decision, session, t)
            [card] = outcome_screens(view, t, version)
            cards.append(card)
            opened = [
                decode(b.data).args[0] for row in card.buttons for b in row if decode(b.data).kind is Press.SECTION
            ]
            tallest.append([section_screen(view, button, t, version, SHARE) for button in opened])
        measured_cards = phone.measure(cards, lang)
        rows = []
        for (_session, decision), card_box, sections in zip(conversations, measured_cards, tallest, strict=True):
            highest = max(phone.measure(sections, lang), key=lambda box: box.height)
            rows.append((decision.outcome.id, card_box, highest))
        boxes[lang] = rows
    return boxes


def test_every_card_fits_one_screen_in_every_language_with_no_label_cut(
    card_boxes: dict[str, list[tuple[str, MessageBox, MessageBox]]],
) -> None:
    """The answer a person came for is on one screen when it arrives (issue 14: it was 1 to 8 screens)."""
    lines = [f"Outcome cards on a {WIDTH} px phone, chat {CHAT_HEIGHT} px tall (tallest card; tallest section):"]
    for lang, rows in card_boxes.items():
        top_card = max(rows, key=lambda row: row[1].height)
        top_section = max(rows, key=lambda row: row[2].height)
        lines.append(
            f"  {lang:<8} card {top_card[1].height:>4.0f} px ({top_card[0]}); "
            f"section {top_section[2].height:>5.0f} px ({top_section[0]})"
        )
    print("\n" + "\n".join(lines))
    for lang, rows in card_boxes.items():
        for outcome, card, section in rows:
            assert card.height <= CHAT_HEIGHT, f"{lang} {outcome}: the card is {card.height:.0f} px tall"
            assert card.cut == (), f"{lang} {outcome}: cut {[b.label for b in card.cut]}"
            assert section.cut == (), f"{lang} {outcome}: cut {[b.label for b in section.cut]}"
            assert card.buttons
            assert section.buttons, "every screen has a way on"
