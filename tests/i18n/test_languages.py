"""Whole conversations in every language: every outcome and question shown with no English leaking through.

Parametrized over the catalogs in locales/, so a new language is tested by adding its catalog.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bot.cli.terminal import run_chat
from bot.core.engine import Decision, Engine, Question
from bot.core.languages import LANGUAGES, SOURCE_LANGUAGE
from bot.core.present import outcome_view, question_view
from bot.i18n.catalogs import Catalogs, catalog_path
from bot.i18n.checkers import check_catalogs, load_expected, template_problems
from bot.i18n.translation import SAME
from tests.support.shipped import ROOT

LOCALES = ROOT / "locales"
TRANSLATED = sorted(p.parent.parent.name for p in LOCALES.glob("*/LC_MESSAGES/messages.po"))


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs.load(LOCALES)


@pytest.fixture(scope="module")
def english() -> set[str]:
    """Every English text the bot can show."""
    return {msgid for msgid, _ in load_expected(ROOT / "bot", ROOT / "rules")}


def test_every_supported_language_but_english_has_a_catalog() -> None:
    assert sorted(code for code in LANGUAGES if code != SOURCE_LANGUAGE) == TRANSLATED


def _same_on_purpose(catalogs: Catalogs, lang: str) -> set[str]:
    catalog = catalogs.catalogs[lang]
    return {m.id for m in catalog if isinstance(m.id, str) and m.id and any(SAME in c for c in m.user_comments)}


def _texts(value: Any) -> Iterator[str]:
    """Every human-readable string in a view (ids, urls, dates and answers are not)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in {"id", "url", "date", "checked", "verdict", "confidence", "rules", "answers"}:
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, str):
        yield value


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_conversation_reaches_its_outcome_with_no_english(
    lang: str, engine: Engine, catalogs: Catalogs, english: set[str]
) -> None:
    t = catalogs.translator(lang)
    allowed = _same_on_purpose(catalogs, lang)
    leaked: set[str] = set()
    verdicts: set[str] = set()
    for session, decision in engine.conversations():
        view = outcome_view(engine.table, decision, session, t)
        verdicts.add(view.verdict)
        leaked |= {text for text in _texts(view.to_json()) if text in english and text not in allowed}
        replay = engine.new_session(lang)
        for fact, option in session.answers.items():
            step = engine.step(replay)
            assert isinstance(step, Question)
            leaked |= {
                text for text in _texts(question_view(step, t).to_json()) if text in english and text not in allowed
            }
            replay = engine.answer(replay, fact, option)
    assert not leaked, f"English shown in {lang}: {sorted(leaked)[:5]}"
    assert verdicts == {"not_affected", "affected", "requirement_met", "unclear"}


@pytest.mark.parametrize("lang", TRANSLATED)
def test_terminal_conversation_speaks_the_language(lang: str, engine: Engine, catalogs: Catalogs) -> None:
    t = catalogs.translator(lang)
    replies = iter(["1", "2", "6", "x", "1", "3", "b", "1", "1", "4", "q"])
    shown: list[str] = []
    assert run_chat(engine, t, read=lambda _: next(replies), write=shown.append) == 0
    transcript = "\n".join(shown)
    for english_ui in ("Question", "Type a number", "Why", "Sources", "Please type", "Where to get help"):
        assert english_ui not in transcript, f"{english_ui!r} in the {lang} transcript"
    assert t.gettext("What satisfies the requirement") in transcript
    assert t.gettext("Question {number} of about {total}").format(number=6, total=6) in transcript


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_file_is_where_operators_expect_it(lang: str) -> None:
    assert catalog_path(LOCALES, lang).is_file()


def test_decision_type_is_language_independent(engine: Engine, catalogs: Catalogs) -> None:
    """Translating never changes logic: the same answers give the same outcome id in every language."""
    answers = {"sex": "male", "age": "18_64", "citizenship": "kyrgyzstan", "application": "other"}
    outcomes = set()
    for lang in LANGUAGES:
        session, _ = engine.from_answers(answers, lang)
        step = engine.step(session)
        assert isinstance(step, Decision)
        outcomes.add(outcome_view(engine.table, step, session, catalogs.translator(lang)).id)
    assert outcomes == {"not_affected_not_applying"}


def test_shipped_catalogs_pass_the_release_check() -> None:
    """No fallback ever happens in a release: every text translated, reviewed and well-formed."""
    expected = load_expected(ROOT / "bot", ROOT / "rules")
    problems, _warnings, statuses = check_catalogs(LOCALES, expected)
    problems += template_problems(LOCALES / "messages.pot", expected)
    assert [str(p) for p in problems] == []
    assert {s.lang: s.percent for s in statuses} == dict.fromkeys(TRANSLATED, 100.0)
