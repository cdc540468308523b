"""The shipped rule table and where things are, for tests; and a helper to play a conversation."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from bot.core.engine import Decision, Engine, Question, Session

__all__ = ["FIXTURES", "ROOT", "RULES", "TAJIK", "play"]

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
