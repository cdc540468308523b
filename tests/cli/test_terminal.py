"""Whole terminal conversations, typed by a script through run_chat's read and write."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable

import pytest

from bot.cli import main
from bot.cli.terminal import format_outcome, format_question, run_chat
from bot.core.engine import Engine
from bot.core.languages import SourceLanguage, Translator
from bot.core.present import (
    Bullet,
    OptionView,
    OutcomeView,
    QuestionView,
    Section,
    outcome_sections,
    outcome_view,
)
from bot.core.table import Table
from bot.ruletable.loader import load_table
from tests.support.shipped import RULES, TAJIK, checked_in_words, play
from tests.support.shouting import Shouting

CHECKED, NEWEST = checked_in_words()

# Typed by the 24-year-old Tajik man applying for a residence permit after a year on RVP.
# sex: 1 man; age: 2 18 to 64; citizenship: 2 Tajikistan; application: 1 residence permit;
# residence_basis: 1 after a year on RVP; service: 6 none of these.
TAJIK_KEYS = ["1", "2", "2", "1", "1", "6"]

AFFECTED = "== The requirement applies to you =="
#: How many countries the citizenship question offers: counted, so that adding one breaks nothing.
COUNTRIES = len(load_table(RULES).fact_index["citizenship"].options)
NUMBER_HINT = f"Please type a number from 1 to {COUNTRIES}, or b, r or q."
#: One past the last country, in ASCII and in Arabic-Indic digits.
PAST_THE_END = str(COUNTRIES + 1)
PAST_THE_END_ARABIC = PAST_THE_END.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
WIDTH = 78


@pytest.fixture(scope="module")
def texts(table: Table) -> dict[str, str]:
    """Texts from the shipped table, so that editing a text does not break these tests."""
    return {
        **{fact.id: fact.question for fact in table.facts},
        **{outcome.id: outcome.headline for outcome in table.outcomes.values()},
        "tajikistan_law": next(n.text for n in table.notes if n.id == "tajikistan_law"),
        "checked": f"Checked on {CHECKED}. The newest source found is from {NEWEST}.",
    }


def flat(text: str) -> str:
    """The text with line breaks and indents collapsed, to find wrapped sentences."""
    return " ".join(text.split())


class Terminal:
    """Types the given replies one by one; then behaves like end of input (Ctrl-D)."""

    def __init__(self, replies: Iterable[str]) -> None:
        self.replies = list(replies)
        self.prompts = 0
        self.written: list[str] = []

    def read(self, prompt: str) -> str:
        assert prompt == "> "
        self.prompts += 1
        if not self.replies:
            raise EOFError
        return self.replies.pop(0)

    def write(self, text: str) -> None:
        self.written.append(text)

    @property
    def text(self) -> str:
        return "\n".join(self.written)

    @property
    def flat(self) -> str:
        return flat(self.text)


def converse(engine: Engine, replies: Iterable[str], t: Translator | None = None) -> tuple[int, Terminal]:
    terminal = Terminal(replies)
    code = run_chat(engine, t or SourceLanguage(), terminal.read, terminal.write)
    return code, terminal


def headings(text: str) -> list[tuple[str, str]]:
    """Question positions in the order they were shown."""
    return re.findall(r"^Question (\d+) of about (\d+)$", text, flags=re.MULTILINE)


# The whole conversation ---------------------------------------------------------------------


def test_tajik_man_on_rvp_reaches_affected_with_every_section(engine: Engine) -> None:
    code, terminal = converse(engine, [*TAJIK_KEYS, "q"])
    assert code == 0
    assert terminal.replies == [], "every reply was read"
    text = terminal.text
    assert AFFECTED in text
    _asked, decision, session = play(engine, TAJIK)
    view = outcome_view(engine.table, decision, session, SourceLanguage())
    assert view.id == "affected_residence"
    sections = [
        "Why",
        "What satisfies the requirement",
        "Your options and their risks",
        "Also important for you",
        "What is not known",
        "Sources",
        "Where to get help",
    ]
    lines = text[text.index(AFFECTED) :].splitlines()
    positions = [lines.index(title) for title in sections]
    assert positions == sorted(positions), "sections in the documented order"
    for title in sections:
        assert lines[lines.index(title) - 1] == "", f"a blank line before {title!r}"
    shown = terminal.flat
    assert flat(view.headline) in shown
    assert view.satisfies
    for item in view.satisfies:
        assert f"- {item.text}" in shown
    assert view.actions
    for action in view.actions:
        assert f"- {action.text} Risk: {action.risk}" in shown
    assert [n.id for n in view.notes] == ["tajikistan_law"]
    assert f"- {view.notes[0].text}" in shown
    for item in view.unknown:
        assert f"- {item.text}" in shown
    for source in view.sources:
        assert f"- {source.title} ({source.date_text}): {source.url}" in shown
    assert "https://migration.tj" in shown, "the Tajik state sites are offered"
    checked = f"Checked on {CHECKED}. The newest source found is from {NEWEST}."
    assert checked in lines
    assert flat(view.disclaimer) in shown
    assert shown.index(checked) < shown.index(flat(view.disclaimer))


def test_question_positions_are_shown(engine: Engine, texts: dict[str, str]) -> None:
    _code, terminal = converse(engine, TAJIK_KEYS)
    assert headings(terminal.text) == [(str(n), "6") for n in range(1, 7)]
    assert f"Question 1 of about 6\n{texts['sex']}\n  1. A man\n  2. A woman" in terminal.text


def test_a_belarusian_man_is_told_after_three_questions(engine: Engine, texts: dict[str, str]) -> None:
    _code, terminal = converse(engine, ["1", "2", "10"])
    assert headings(terminal.text) == [("1", "6"), ("2", "6"), ("3", "6")]
    assert texts["not_affected_belarus"] in terminal.flat


def test_a_woman_is_told_after_one_question(engine: Engine, texts: dict[str, str]) -> None:
    code, terminal = converse(engine, ["2"])
    assert code == 0
    assert "== The requirement does not apply to you ==" in terminal.text
    assert texts["not_affected_woman"] in terminal.flat
    assert headings(terminal.text) == [("1", "6")]
    assert terminal.written[-1] == "b = back, r = start over, q = quit"


# Replies that are not a choice ---------------------------------------------------------------


@pytest.mark.parametrize(
    "bad", ["Tajikistan", "0", PAST_THE_END, "-2", "", "1.5", "2 3", "²", PAST_THE_END_ARABIC, "9" * 5000]
)
def test_a_reply_that_is_not_a_choice_repeats_the_question(engine: Engine, texts: dict[str, str], bad: str) -> None:
    # At the citizenship question, after "man" and "18 to 64".
    code, terminal = converse(engine, ["1", "2", bad, "2", "1", "1", "6"])
    assert code == 0
    text = terminal.text
    assert text.count(NUMBER_HINT) == 1
    assert text.count(texts["citizenship"]) == 2, "the same question again"
    after_hint = text[text.index(NUMBER_HINT) :]
    assert after_hint.index("Question 3 of about 6") < after_hint.index(texts["citizenship"])
    assert text.count(texts["sex"]) == 1
    assert text.count(texts["age"]) == 1, "earlier answers are kept"
    assert AFFECTED in text, "the earlier answers still count"
    assert texts["tajikistan_law"] in terminal.flat


def test_several_bad_replies_in_a_row(engine: Engine, texts: dict[str, str]) -> None:
    _code, terminal = converse(engine, ["1", "x", "5", "y", "2", "2"])
    assert terminal.text.count("Please type a number from 1 to 4, or b, r or q.") == 3
    assert terminal.text.count(texts["age"]) == 4
    assert headings(terminal.text)[-1] == ("4", "6")


def test_numbers_in_other_scripts_and_spaces_are_accepted(engine: Engine) -> None:
    # "٢" is the Arabic-Indic digit two; replies are trimmed and case does not matter.
    _code, terminal = converse(engine, ["  1 ", "٢", "Q"])
    assert headings(terminal.text) == [("1", "6"), ("2", "6"), ("3", "6")]
    assert "Please type" not in terminal.text


def test_the_hint_and_the_questions_are_in_the_persons_language(engine: Engine, texts: dict[str, str]) -> None:
    code, terminal = converse(engine, ["1", "nine", "q"], Shouting())
    assert code == 0
    text = terminal.text
    assert "PLEASE TYPE A NUMBER FROM 1 TO 4, OR " in text
    assert "Please type" not in text
    assert "QUESTION 2 OF ABOUT 6" in text
    assert texts["age"].upper() in text
    assert "  2. 18 TO 64" in text
    assert "TYPE A NUMBER. " in text
    assert "Type a number" not in text
    assert text.startswith("MASLAHAT: A FEW QUESTIONS")


def test_the_outcome_is_in_the_persons_language(engine: Engine, texts: dict[str, str]) -> None:
    _code, terminal = converse(engine, ["2", "x"], Shouting())
    text = terminal.text
    assert "== THE REQUIREMENT DOES NOT APPLY TO YOU ==" in text
    assert texts["not_affected_woman"].upper() in terminal.flat
    for title in ("WHY", "WHAT IS NOT KNOWN", "SOURCES", "WHERE TO GET HELP"):
        assert f"\n{title}\n" in text
    assert f"CHECKED ON {CHECKED}. THE NEWEST SOURCE FOUND IS FROM {NEWEST}." in text
    assert "PLEASE TYPE " in text
    assert "Please type" not in text


# Back, restart, quit -------------------------------------------------------------------------


def test_back_returns_to_the_previous_question_keeping_earlier_answers(engine: Engine, texts: dict[str, str]) -> None:
    # man, 18 to 65, then back at citizenship: the age question again, the sex question not.
    code, terminal = converse(engine, ["1", "2", "b", "2", *TAJIK_KEYS[2:]])
    assert code == 0
    text = terminal.text
    assert headings(text) == [("1", "6"), ("2", "6"), ("3", "6"), ("2", "6"), *[(str(n), "6") for n in range(3, 7)]]
    assert text.count(texts["sex"]) == 1
    assert text.count(texts["age"]) == 2
    assert AFFECTED in text


def test_back_twice_and_change_an_answer(engine: Engine, texts: dict[str, str]) -> None:
    # man, 18 to 65, then back twice: "woman" instead.
    _code, terminal = converse(engine, ["1", "2", "b", "b", "2"])
    assert [h[0] for h in headings(terminal.text)] == ["1", "2", "3", "2", "1"]
    assert texts["not_affected_woman"] in terminal.flat


def test_back_at_the_first_question_stays_there(engine: Engine, texts: dict[str, str]) -> None:
    _code, terminal = converse(engine, ["b", "B", "2"])
    assert headings(terminal.text) == [("1", "6")] * 3
    assert texts["not_affected_woman"] in terminal.flat


def test_back_from_the_outcome_reopens_the_last_question(engine: Engine, texts: dict[str, str]) -> None:
    # From "affected", back to the service question and answer "found unfit" instead.
    _code, terminal = converse(engine, [*TAJIK_KEYS, "b", "4"])
    text = terminal.text
    assert text.count(texts["service"]) == 2
    assert text.count(texts["citizenship"]) == 1
    after_back = flat(text[text.index(AFFECTED) :])
    assert texts["requirement_met_unfit"] in after_back
    assert texts["tajikistan_law"] in after_back, "still a Tajik citizen"


def test_restart_forgets_every_answer(engine: Engine, texts: dict[str, str]) -> None:
    code, terminal = converse(engine, ["1", "2", "r", "2"])
    assert code == 0
    assert [h[0] for h in headings(terminal.text)] == ["1", "2", "3", "1"]
    assert terminal.text.count(texts["sex"]) == 2
    assert texts["not_affected_woman"] in terminal.flat


def test_restart_from_the_outcome(engine: Engine, texts: dict[str, str]) -> None:
    _code, terminal = converse(engine, ["2", "R", *TAJIK_KEYS])
    shown = terminal.flat
    assert shown.index(texts["not_affected_woman"]) < shown.index(flat(texts["affected_residence"]))
    assert terminal.text.count(texts["sex"]) == 2


def test_the_outcome_accepts_only_back_restart_or_quit(engine: Engine, texts: dict[str, str]) -> None:
    _code, terminal = converse(engine, ["2", "1", "yes"])
    assert terminal.text.count("Please type b, r or q.") == 2
    assert terminal.flat.count(texts["not_affected_woman"]) == 3, "the outcome is shown again, not lost"


@pytest.mark.parametrize("quit_key", ["q", "Q", " q "])
def test_q_quits_at_once(engine: Engine, quit_key: str) -> None:
    code, terminal = converse(engine, ["1", quit_key, "2", "2"])
    assert code == 0
    assert terminal.replies == ["2", "2"], "nothing is read after q"
    assert terminal.prompts == 2


@pytest.mark.parametrize("replies", [[], ["1", "2"], ["2"]], ids=["at-start", "mid-conversation", "at-outcome"])
def test_end_of_input_ends_the_conversation(engine: Engine, replies: list[str]) -> None:
    code, terminal = converse(engine, replies)
    assert code == 0
    assert terminal.prompts == len(replies) + 1


# Through the command ------------------------------------------------------------------------


def test_maslahat_chat_reads_standard_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, texts: dict[str, str]
) -> None:
    monkeypatch.delenv("MASLAHAT_RULES", raising=False)
    monkeypatch.delenv("MASLAHAT_LOCALES", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join([*TAJIK_KEYS, "b", "2"]) + "\n"))
    assert main(["chat", "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Maslahat: a few questions on whether Decree 821 applies to you.")
    assert AFFECTED in out
    assert flat(texts["requirement_met_service"]) in flat(out)
    assert out.count("> ") == len(TAJIK_KEYS) + 3, "prompted for every reply, then once more at end of input"


# Layout of wrapped text -----------------------------------------------------------------------


def _check_layout(text: str, urls: Iterable[str]) -> None:
    """Bullets continue two spaces in, risks four; nothing is wider than the screen but a URL."""
    kind = None  # what the previous line belongs to: "para", "bullet", "risk", or None after a blank line
    for line in text.splitlines():
        if len(line) > WIDTH:
            assert " " not in line.strip(), f"only a single long word may overflow: {line!r}"
            assert line.strip().startswith("http"), line
        if not line:
            kind = None
        elif line.startswith("- "):
            kind = "bullet"
        elif line.startswith("    Risk: "):
            assert kind in ("bullet", "risk"), line
            kind = "risk"
        elif line.startswith("    ") and not line[4].isspace():
            assert kind == "risk", f"four-space continuation only under a risk: {line!r}"
        elif line.startswith("  ") and not line[2].isspace():
            assert kind == "bullet", f"two-space continuation only under a bullet: {line!r}"
        else:
            assert not line[0].isspace(), f"unexpected indent: {line!r}"
            assert kind not in ("bullet", "risk"), f"a list item's continuation lost its indent: {line!r}"
            kind = "para"
    words = text.split()
    for url in urls:
        assert url in words, f"{url} broken across lines or run into other text"


def test_wrapped_outcome_text_keeps_its_indents_and_urls_whole(engine: Engine) -> None:
    seen: set[tuple[str, str | None]] = set()
    t = SourceLanguage()
    for session, decision in engine.conversations():
        key = (decision.outcome.id, session.answers.get("citizenship"))
        if key in seen:
            continue
        seen.add(key)
        view = outcome_view(engine.table, decision, session, t)
        text = format_outcome(view, t)
        urls = [s.url for s in view.sources] + [h.url for h in view.help if h.url]
        _check_layout(text, urls)
        shown = flat(text)
        for action in view.actions:
            assert f"- {action.text} Risk: {action.risk}" in shown
    assert {outcome_id for outcome_id, _ in seen} == set(engine.table.outcomes)


def test_long_risks_wrap_under_their_label(engine: Engine) -> None:
    _code, terminal = converse(engine, TAJIK_KEYS)
    lines = terminal.text.splitlines()
    risks = [i for i, line in enumerate(lines) if line.startswith("    Risk: ")]
    wrapped = [i for i in risks if lines[i + 1].startswith("    ") and not lines[i + 1].startswith("    Risk")]
    assert wrapped, "some risk is long enough to wrap"
    for i in wrapped:
        assert not lines[i + 1][4].isspace()
        assert len(lines[i]) <= WIDTH


def test_option_hints_wrap_under_their_label(engine: Engine, table: Table) -> None:
    _code, terminal = converse(engine, ["1", "2", "2", "1"])
    lines = terminal.text.splitlines()
    option = table.fact_index["residence_basis"].options[0]
    start = lines.index(f"  1. {option.label}")
    end = lines.index(f"  2. {table.fact_index['residence_basis'].options[1].label}")
    hint = lines[start + 1 : end]
    assert len(hint) >= 2, "the hint wraps"
    assert all(line.startswith("     ") and not line[5].isspace() and len(line) <= WIDTH for line in hint)
    assert flat(" ".join(hint)) == flat(option.hint)


def test_hints_of_options_ten_and_up_line_up_and_keep_urls_whole() -> None:
    url = "https://example.org/a-very-long-address/with-hyphens-in-it/and-more-of-them/to-be-sure.html"
    long_hint = f"A hint long enough to wrap onto a second line of the terminal, with an address: {url}"
    options = [OptionView(f"o{n}", f"Option {n}", long_hint if n == 11 else None) for n in range(1, 12)]
    view = QuestionView("f", "Which one?", 1, 1, tuple(options))
    lines = format_question(view, SourceLanguage()).splitlines()
    start = lines.index("  11. Option 11")
    hint = lines[start + 1 :]
    assert len(hint) >= 2
    assert all(line.startswith("      ") and not line[6].isspace() for line in hint), hint
    assert url in [word for line in hint for word in line.split()]


# The sections, as bot.core.present lays them out ----------------------------------------------------


def test_every_section_of_every_outcome_is_printed_in_order(engine: Engine) -> None:
    t = SourceLanguage()
    for session, decision in engine.conversations():
        view = outcome_view(engine.table, decision, session, t)
        lines = format_outcome(view, t).splitlines()
        titles = [s.title for s in outcome_sections(view, t) if s.title]
        positions = [lines.index(title) for title in titles]
        assert positions == sorted(positions), decision.outcome.id
        assert lines[0] == f"== {view.verdict_label} =="
        assert flat("\n".join(lines)).endswith(flat(view.disclaimer)), "the disclaimer comes last"


def test_a_section_added_to_the_outcome_is_printed(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The terminal lays out whatever present.outcome_sections gives; it keeps no list of its own."""

    def with_a_new_section(view: OutcomeView, t: Translator) -> list[Section]:
        sections = outcome_sections(view, t)
        return [*sections[:-1], Section("new", "A new section", (Bullet("Something new.", "And why."),)), sections[-1]]

    monkeypatch.setattr("bot.cli.terminal.outcome_sections", with_a_new_section)
    _asked, decision, session = play(engine, TAJIK)
    t = SourceLanguage()
    text = format_outcome(outcome_view(engine.table, decision, session, t), t)
    assert "\n\nA new section\n- Something new.\n    And why.\n\nChecked on " in text
