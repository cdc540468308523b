"""Telegram screens: escaped HTML, buttons with ids, outcomes split under Telegram's limit."""

from __future__ import annotations

import re
from dataclasses import replace
from html import escape

import pytest

from bot.core.engine import Engine, Question
from bot.core.languages import SourceLanguage, Translator
from bot.core.present import Bullet, OutcomeView, Section, outcome_sections, outcome_view
from bot.telegram.callbacks import Press, decode, version_tag
from bot.telegram.html import cut_html
from bot.telegram.screens import (
    LIMIT,
    SECTION_BUTTONS,
    VERDICT_MARKERS,
    Screen,
    outcome_screens,
    question_screen,
    section_screen,
    split_html,
    welcome_screen,
)
from tests.support.shipped import TAJIK, checked_in_words, play

T = SourceLanguage()
V = version_tag("decree-821@2026.11.21")
SHARE = "https://t.me/share/url?url=https%3A//t.me/bot"
CHECKED, _ = checked_in_words()


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_question_buttons_carry_ids_and_labels(engine: Engine) -> None:
    step = engine.step(engine.new_session())
    assert isinstance(step, Question)
    screen = question_screen(step, T, V, can_go_back=False)
    (man, woman), navigation = screen.buttons  # two short answers share a row
    assert (man.label, decode(man.data).args) == ("A man", ("sex", "male"))
    assert (woman.label, decode(woman.data).args) == ("A woman", ("sex", "female"))
    assert [decode(b.data).kind for b in navigation] == [Press.START_OVER, Press.MENU]
    assert "Question 1 of about 6" in screen.text


def test_hints_open_in_place_from_an_info_button(engine: Engine) -> None:
    session, _ = engine.from_answers({"sex": "male", "age": "18_64", "citizenship": "uzbekistan"})
    step = engine.step(session)
    assert isinstance(step, Question)
    screen = question_screen(step, T, V, can_go_back=True)
    assert "apply for nothing" not in screen.text, "behind ℹ️: the answers stay on screen"
    kinds = [decode(b.data).kind for row in screen.buttons for b in row]
    assert kinds[-4:] == [Press.HINTS, Press.BACK, Press.START_OVER, Press.MENU]
    explained = question_screen(step, T, V, can_go_back=True, hints=True)
    assert "apply for nothing" in explained.text
    assert Press.HINTS not in [decode(b.data).kind for row in explained.buttons for b in row]
    assert [row for row in explained.buttons] == [
        row for row in screen.buttons if decode(row[0].data).kind is not Press.HINTS
    ]


def test_outcome_text_is_escaped_for_html(engine: Engine) -> None:
    _, decision, session = play(engine, TAJIK)
    view = replace(outcome_view(engine.table, decision, session, T), headline="Fish & <chips> > 5")
    screens = outcome_screens(view, T, V)
    text = "\n".join(s.text for s in screens)
    assert "Fish &amp; &lt;chips&gt; &gt; 5" in text
    assert "<chips>" not in text


def _opened(screen: Screen) -> list[str]:
    """The section ids the card's buttons open, in order."""
    return [decode(b.data).args[0] for row in screen.buttons for b in row if decode(b.data).kind is Press.SECTION]


def test_the_outcome_arrives_as_one_card_with_the_answer_first_and_the_sections_on_buttons(engine: Engine) -> None:
    _, decision, session = play(engine, TAJIK)
    view = outcome_view(engine.table, decision, session, T)
    [card] = outcome_screens(view, T, V)
    assert card.text == (
        f"⚠️ <b>{escape(view.headline)}</b>\n\n<i>This is information, not legal advice. Checked on {CHECKED}.</i>"
    )
    assert _opened(card) == ["why", "satisfies", "options", "notes", "sources", "help"]
    labels = [b.label for row in card.buttons for b in row]
    assert labels[:2] == ["Why · how sure", "What counts"]
    assert labels[-2:] == ["◀ Back", "↺ Start over"]
    assert all(len(row) <= 2 for row in card.buttons)


@pytest.mark.parametrize("verdict", ["not_affected", "affected", "requirement_met", "unclear"])
def test_each_verdict_has_its_own_marker(engine: Engine, verdict: str) -> None:
    session, decision = next((s, d) for s, d in engine.conversations() if d.outcome.verdict == verdict)
    [card] = outcome_screens(outcome_view(engine.table, decision, session, T), T, V)
    assert card.text.startswith(f"{VERDICT_MARKERS[verdict]} <b>")
    assert len(set(VERDICT_MARKERS.values())) == 4


def test_every_section_of_every_outcome_is_one_tap_from_its_card_and_leads_back(engine: Engine) -> None:
    for session, decision in engine.conversations():
        view = outcome_view(engine.table, decision, session, T)
        [card] = outcome_screens(view, T, V)
        opened = {button: section_screen(view, button, T, V, SHARE) for button in _opened(card)}
        shown = "\n".join(screen.text for screen in opened.values())
        for section in outcome_sections(view, T):
            if section.title and section.id != "verdict":
                assert f"<b>{escape(section.title)}</b>" in shown or section.id in SECTION_BUTTONS, section.id
            for item in section.items:
                text = str(getattr(item, "text", None) or getattr(item, "title", None) or getattr(item, "name", ""))
                assert escape(text) in shown + card.text, (decision.outcome.id, section.id)
        for button, screen in opened.items():
            assert len(screen.text) <= LIMIT
            pressed = [decode(b.data) for row in screen.buttons for b in row if b.data]
            assert [(p.kind, p.args) for p in pressed] == [(Press.SECTION, ("card",))], button
        assert opened["sources"].text.endswith(f"<i>{escape(view.disclaimer)}</i>"), "the disclaimer is whole"
        assert [b.url for row in opened["help"].buttons for b in row if b.url] == [SHARE]
        assert section_screen(view, "card", T, V, SHARE) == card
        assert section_screen(view, "no_such_section", T, V, SHARE) == card


def test_why_opens_the_explanation_how_sure_and_what_is_not_known(engine: Engine) -> None:
    _, decision, session = play(engine, TAJIK)
    view = outcome_view(engine.table, decision, session, T)
    why = section_screen(view, "why", T, V, SHARE).text
    assert why.startswith(f"⚠️ <b>Why · how sure</b>\n{escape(view.explanation)}\n<i>How sure we are: ")
    assert f"\n\n<b>What is not known</b>\n• {escape(view.unknown[0].text)}" in why


def test_a_screen_over_one_message_is_cut_and_logged_without_what_would_hint_at_the_answers(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    """Content like this is refused by `maslahat check` and a reload (test_fit.py); a start-up does not look."""
    _, decision, session = play(engine, TAJIK)
    view = replace(outcome_view(engine.table, decision, session, T), explanation="A long text. " * 400)
    with caplog.at_level("WARNING", logger="bot.telegram.screens"):
        why = section_screen(view, "why", T, V, SHARE)
    assert LIMIT - 40 < len(why.text) <= LIMIT, "as much as fits"
    assert why.text.startswith("⚠️ <b>Why · how sure</b>\nA long text. ")
    assert why.text.rsplit(" ", 1)[-1] in ("A…", "long…", "text.…"), "in whole words, and marked as cut"
    assert [b.label for row in why.buttons for b in row] == ["◀ Back to the answer"], "the way back stays"
    [record] = caplog.records
    assert record.getMessage() == "a 'why' screen was cut to fit one message; `maslahat check` says which"
    assert view.id not in record.getMessage()


def test_a_section_added_to_the_outcome_opens_from_the_card(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Telegram lays out whatever present.outcome_sections gives; it keeps no list of its own."""

    def with_a_new_section(view: OutcomeView, t: Translator) -> list[Section]:
        sections = outcome_sections(view, t)
        new = Section("new", "A <new> section", (Bullet("Something new.", "And why."),))
        return [*sections[:-1], new, sections[-1]]

    monkeypatch.setattr("bot.telegram.screens.outcome_sections", with_a_new_section)
    _, decision, session = play(engine, TAJIK)
    view = outcome_view(engine.table, decision, session, T)
    [card] = outcome_screens(view, T, V)
    assert _opened(card)[-1] == "new"
    assert "A <new> section" in [b.label for row in card.buttons for b in row]
    opened = section_screen(view, "new", T, V, SHARE)
    assert opened.text == "⚠️ <b>A &lt;new&gt; section</b>\n• Something new.\n   <i>And why.</i>"


def test_split_keeps_sections_whole_and_in_order() -> None:
    sections = ["a" * 3000, "b" * 1000, "c" * 100, "d" * 4000]
    chunks = split_html(sections)
    assert chunks == ["a" * 3000 + "\n\n" + "b" * 1000, "c" * 100, "d" * 4000]


def test_a_section_longer_than_a_message_is_split_between_lines() -> None:
    section = "\n".join(f"line {i} " + "x" * 90 for i in range(100))
    chunks = split_html([section])
    assert all(len(c) <= LIMIT for c in chunks)
    assert "\n".join(chunks) == section


def test_a_paragraph_longer_than_a_message_is_split_between_words_keeping_tags_whole() -> None:
    words = " ".join(f"word{i}" for i in range(1500))
    line = f'<i>{words}</i> and <a href="https://x.org">a link</a>'
    chunks = split_html([line])
    assert len(chunks) >= 3
    for chunk in chunks:
        assert len(chunk) <= LIMIT
        assert chunk.count("<i>") == chunk.count("</i>")
    assert " ".join(_visible(c).strip() for c in chunks).split() == _visible(line).split()


def test_a_cut_keeps_whole_words_and_closes_the_tags_open_at_it() -> None:
    text = "<b>Title</b>\n<i>" + "word " * 1000 + "</i>"
    cut = cut_html(text)
    assert len(cut) <= LIMIT
    assert cut.endswith("word word</i>…")
    assert cut.count("<i>") == cut.count("</i>") == 1
    assert cut_html("short <b>text</b>") == "short <b>text</b>"


def test_a_single_word_longer_than_a_message_is_refused() -> None:
    with pytest.raises(ValueError, match="longer than a Telegram message"):
        split_html(["x" * (LIMIT + 1)])


def test_welcome_marks_the_current_language() -> None:
    screen = welcome_screen(T, V)
    labels = [b.label for row in screen.buttons for b in row]
    assert "✓ English" in labels
    assert labels[-1] == "Start"


def test_a_help_contact_with_an_address_is_a_named_link_not_a_raw_address(engine: Engine) -> None:
    """Before: the address itself was shown (an 88-character raw URL to a news article, wrapping badly)."""
    _, decision, session = play(engine, TAJIK)
    view = outcome_view(engine.table, decision, session, T)
    (contact,) = [h for h in view.help if h.url]
    assert contact.url is not None
    html = section_screen(view, "help", T, V, SHARE).text
    assert f'<a href="{escape(contact.url)}">{escape(contact.name)}</a>' in html
    assert contact.url not in _visible(html), "the address is behind the name"
