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
from bot.telegram.screens import LIMIT, outcome_screens, question_screen, split_html, welcome_screen
from tests.support.shipped import TAJIK, play

T = SourceLanguage()
V = version_tag("decree-821@2026.11.21")
SHARE = "https://t.me/share/url?url=https%3A//t.me/bot"


def _visible(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def test_question_buttons_carry_ids_and_labels(engine: Engine) -> None:
    step = engine.step(engine.new_session())
    assert isinstance(step, Question)
    screen = question_screen(step, T, V, can_go_back=False)
    first, second, navigation = screen.buttons
    assert (first[0].label, decode(first[0].data).args) == ("A man", ("sex", "male"))
    assert (second[0].label, decode(second[0].data).args) == ("A woman", ("sex", "female"))
    assert [decode(b.data).kind for b in navigation] == [Press.START_OVER, Press.MENU]
    assert "Question 1 of about 6" in screen.text


def test_hints_are_shown_under_the_question(engine: Engine) -> None:
    session, _ = engine.from_answers({"sex": "male", "age": "18_64", "citizenship": "uzbekistan"})
    step = engine.step(session)
    assert isinstance(step, Question)
    screen = question_screen(step, T, V, can_go_back=True)
    assert "apply for nothing" in screen.text
    assert [decode(b.data).kind for b in screen.buttons[-1]] == [Press.BACK, Press.START_OVER, Press.MENU]


def test_outcome_text_is_escaped_for_html(engine: Engine) -> None:
    _, decision, session = play(engine, TAJIK)
    view = replace(outcome_view(engine.table, decision, session, T), headline="Fish & <chips> > 5")
    screens = outcome_screens(view, T, V, SHARE)
    text = "\n".join(s.text for s in screens)
    assert "Fish &amp; &lt;chips&gt; &gt; 5" in text
    assert "<chips>" not in text


def test_the_affected_outcome_fits_and_puts_its_buttons_on_the_last_message(engine: Engine) -> None:
    _, decision, session = play(engine, TAJIK)
    screens = outcome_screens(outcome_view(engine.table, decision, session, T), T, V, SHARE)
    assert all(len(s.text) <= LIMIT for s in screens)
    assert all(not s.buttons for s in screens[:-1])
    labels = [b.label for row in screens[-1].buttons for b in row]
    assert labels == ["◀ Back", "↺ Start over", "🌐 Language", "Share the bot"]
    assert screens[-1].buttons[-1][-1].url == SHARE


def test_a_long_outcome_is_split_at_section_boundaries(engine: Engine) -> None:
    _, decision, session = play(engine, TAJIK)
    view = outcome_view(engine.table, decision, session, T)
    view = replace(view, explanation="A long explanation sentence. " * 200)  # about 5,800 characters
    screens = outcome_screens(view, T, V, SHARE)
    assert len(screens) >= 2
    for screen in screens:
        assert len(screen.text) <= LIMIT
        assert screen.text.count("<b>") == screen.text.count("</b>"), "no tag is cut in half"
        assert screen.text.count("<i>") == screen.text.count("</i>")
    joined = "\n\n".join(_visible(s.text) for s in screens)
    for heading in ("Why", "What satisfies the requirement", "Sources", "Where to get help"):
        assert heading in joined


def test_every_section_of_every_outcome_is_shown_in_order(engine: Engine) -> None:
    for session, decision in engine.conversations():
        view = outcome_view(engine.table, decision, session, T)
        text = "\n\n".join(s.text for s in outcome_screens(view, T, V, SHARE))
        titles = [f"<b>{escape(s.title)}</b>" for s in outcome_sections(view, T) if s.title]
        positions = [text.index(title) for title in titles]
        assert positions == sorted(positions), decision.outcome.id
        assert text.startswith(f"<b>{escape(view.verdict_label)}</b>\n\n<b>{escape(view.headline)}</b>\n\n")
        assert text.endswith(f"<i>{escape(view.disclaimer)}</i>"), "the disclaimer comes last"


def test_a_section_added_to_the_outcome_is_shown(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Telegram lays out whatever present.outcome_sections gives; it keeps no list of its own."""

    def with_a_new_section(view: OutcomeView, t: Translator) -> list[Section]:
        sections = outcome_sections(view, t)
        new = Section("new", "A <new> section", (Bullet("Something new.", "And why."),))
        return [*sections[:-1], new, sections[-1]]

    monkeypatch.setattr("bot.telegram.screens.outcome_sections", with_a_new_section)
    _, decision, session = play(engine, TAJIK)
    text = "\n\n".join(s.text for s in outcome_screens(outcome_view(engine.table, decision, session, T), T, V, SHARE))
    assert "\n\n<b>A &lt;new&gt; section</b>\n• Something new.\n   <i>And why.</i>\n\nChecked on " in text


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
    html = "\n".join(s.text for s in outcome_screens(view, T, V, SHARE))
    assert f'<a href="{escape(contact.url)}">{escape(contact.name)}</a>' in html
    assert contact.url not in _visible(html), "the address is behind the name"
