"""The shipped table's cases (rules/decree-821.cases.yaml), for the tests that play them end to end.

The operators own the cases: the brief's "Expected behaviour" examples and the founding stories
are there, and a case they add is played by the engine, by `maslahat advise` and button by button
in Telegram without anyone touching Python. Each is given here as (name, answers, the questions
its conversation asks in order, expect).
"""

from __future__ import annotations

from bot.ruletable.cases import Case, cases_path, load_cases
from bot.ruletable.loader import load_table
from tests.support.shipped import RULES

__all__ = ["CASES", "MAN", "asked_in_order"]

MAN = {"sex": "male", "age": "18_64"}

_TABLE = load_table(RULES)
CASES: list[Case] = load_cases(cases_path(RULES), _TABLE)


def asked_in_order(case: Case) -> list[str]:
    """The questions the case's conversation asks: each one it answers, in the table's order.

    ``maslahat check`` fails a case that answers a question never asked, so these are exactly the
    questions asked, and the table asks its questions in the order it lists them.
    """
    return [fact.id for fact in _TABLE.facts if fact.id in case.answers]
