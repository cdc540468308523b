"""The shipped rule table and where things are, for tests; and a helper to play a conversation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path

import pytest
from babel.dates import format_date

from bot.core.engine import Decision, Engine, Question, Session
from bot.ruletable.loader import load_table

__all__ = ["FIXTURES", "ROOT", "RULES", "TAJIK", "checked_in_words", "play"]

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules" / "decree-821.yaml"
FIXTURES = ROOT / "tests" / "fixtures"

#: One of the stories behind the project: a 24-year-old Tajik man applying for a residence
#: permit after a year on RVP, with no military service. The requirement applies to him.
TAJIK = {
    "sex": "male",
    "age": "18_64",
    "citizenship": "tajikistan",
    "application": "residence_permit",
    "residence_basis": "after_temporary_permit",
    "service": "none",
}


def play(engine: Engine, answers: Mapping[str, str], lang: str = "en") -> tuple[list[str], Decision, Session]:
    """Answer each question the engine asks from ``answers``; return the questions asked and the decision.

    Fails the test if the engine asks a question that ``answers`` does not cover.
    """
    session = engine.new_session(lang)
    asked: list[str] = []
    while True:
        step = engine.step(session)
        if isinstance(step, Decision):
            return asked, step, session
        assert isinstance(step, Question)
        fact = step.fact.id
        if fact not in answers:
            pytest.fail(f"engine asked {fact!r} after {asked}, which the test gives no answer for")
        asked.append(fact)
        session = engine.answer(session, fact, answers[fact])


def checked_in_words(pattern: str = "d MMMM y", newest_pattern: str = "MMMM y", locale: str = "en") -> tuple[str, str]:
    """The shipped table's checked date and newest source's month, in words, as Babel writes them.

    Tests compare the outcome's "Checked on ..." with these rather than with dates typed in, so
    that an operator who bumps ``meta.checked`` breaks no test.
    """
    meta = load_table(RULES).meta
    newest = dt.date(*(int(part) for part in [*meta.newest_source.split("-"), "1", "1"][:3]))
    return format_date(meta.checked, pattern, locale=locale), format_date(newest, newest_pattern, locale=locale)
