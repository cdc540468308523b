"""`maslahat advise`: the next question, or the outcome, for answers given on the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from bot.cli.terminal import format_outcome, format_question
from bot.core.engine import Decision, Engine, EngineError
from bot.core.languages import Translator
from bot.core.present import outcome_view, question_view
from bot.core.table import Table

__all__ = ["advise", "parse_answers"]


def parse_answers(pairs: Sequence[str]) -> dict[str, str]:
    """The answers of ``--answer FACT=OPTION`` options, by fact id.

    Raises:
        EngineError: a pair is malformed, or gives one fact two different options.
    """
    answers: dict[str, str] = {}
    for pair in pairs:
        fact, sep, option = (part.strip() for part in pair.partition("="))
        if not sep or not fact or not option:
            raise EngineError(f"--answer takes FACT=OPTION, not {pair!r}")
        if answers.get(fact, option) != option:
            raise EngineError(f"--answer gives {fact!r} twice: {answers[fact]!r} and {option!r}")
        answers[fact] = option
    return answers


def advise(table: Table, t: Translator, lang: str, pairs: Sequence[str], *, as_json: bool) -> int:
    """Print the next question or the outcome for the answers given, as text or as JSON; return the exit code.

    Raises:
        EngineError: an answer is malformed or names an unknown fact or option.
    """
    engine = Engine(table)
    session, ignored = engine.from_answers(parse_answers(pairs), lang)
    step = engine.step(session)
    result: dict[str, Any]
    if isinstance(step, Decision):
        outcome = outcome_view(table, step, session, t)
        result = {"outcome": outcome.to_json()}
        text = format_outcome(outcome, t)
    else:
        question = question_view(step, t)
        result = {"question": question.to_json()}
        text = format_question(question, t)
    if ignored:
        result["ignored"] = ignored
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(text)
        if ignored:
            print(t.gettext("Not needed for this answer: {facts}").format(facts=", ".join(ignored)), file=sys.stderr)
    return 0
