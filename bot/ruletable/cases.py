"""The rule table's own test cases, as data the operators own: answers, and what must follow.

A cases file sits beside its table (``decree-821.yaml`` → ``decree-821.cases.yaml``)::

    cases:
      - name: "A woman: one question, not affected"
        answers: {sex: "female"}
        expect: {outcome: "not_affected_woman", verdict: "not_affected", questions: 1}

``maslahat check`` plays each case through the engine and reports every failed expectation at
its line in the cases file, with what came instead. A case's answers must be exactly the
questions its conversation asks: an answer never asked is a failure too, so that a case cannot
go on passing after the table stops asking what it was written about.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.core.engine import Decision, Engine, Question
from bot.core.table import CONFIDENCES, VERDICTS, Table
from bot.problems import Problem, ProblemsError
from bot.ruletable.blocks import BlockReader
from bot.ruletable.loader import read_table_file
from bot.ruletable.yamlsource import Map

__all__ = ["Case", "CasesError", "Expect", "cases_path", "load_cases", "run_case", "run_cases"]

_KEYS = {
    "top": ({"cases"}, set()),
    "case": ({"name", "answers", "expect"}, set()),
    "expect": (set(), {"outcome", "verdict", "questions", "confidence", "notes", "help"}),
}


class CasesError(ProblemsError):
    """The cases file cannot be read as cases for this table; ``problems`` says where and why."""


@dataclass(frozen=True)
class Expect:
    """What must follow from a case's answers; None (or empty) where the case says nothing."""

    outcome: str | None = None
    verdict: str | None = None
    questions: int | None = None
    confidence: str | None = None
    notes: tuple[str, ...] = ()
    help: tuple[str, ...] = ()
    #: The line of each expectation, where its failure is reported.
    lines: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}), compare=False)


@dataclass(frozen=True)
class Case:
    """One conversation an operator wrote down, with what it must lead to."""

    name: str
    answers: Mapping[str, str]
    expect: Expect
    path: str
    line: int


def cases_path(rules: str | Path) -> Path:
    """Where the cases of the table at ``rules`` are: ``<name>.cases.yaml`` beside it."""
    rules = Path(rules)
    return rules.with_name(f"{rules.stem}.cases{rules.suffix}")


def load_cases(path: str | Path, table: Table) -> list[Case]:
    """Read a cases file and check it names only what ``table`` defines.

    Raises:
        CasesError: the file is missing, not YAML, or not cases for this table.
    """
    try:
        data, duplicates = read_table_file(path)
    except ProblemsError as exc:
        raise CasesError(exc.problems) from exc
    reader = BlockReader(str(path), list(duplicates), _KEYS)
    if not isinstance(data, Map) or not reader.keys(data, "top", "file"):
        if not isinstance(data, Map):
            reader.problem(1, "", "the file must be a mapping with one key, cases: a list of cases")
        raise CasesError(reader.problems)
    items = data["cases"]
    if not isinstance(items, list) or not items:
        reader.problem(data.line_of("cases"), "cases", "must be a non-empty list of cases")
        raise CasesError(reader.problems)
    lines = getattr(items, "item_lines", [data.line_of("cases")] * len(items))
    cases = [case for item, line in zip(items, lines, strict=True) if (case := _case(reader, item, line, table))]
    names: dict[str, int] = {}
    for case in cases:
        if case.name in names:
            reader.problem(case.line, f"case {case.name!r}", f"the same name as the case at line {names[case.name]}")
        names.setdefault(case.name, case.line)
    if reader.problems:
        raise CasesError(sorted(reader.problems))
    return cases


def _case(reader: BlockReader, item: Any, line: int, table: Table) -> Case | None:
    if not isinstance(item, Map):
        reader.problem(line, "cases", "each case must be a mapping with name, answers and expect")
        return None
    if not reader.keys(item, "case", f"case at line {item.line}"):
        return None
    name = reader.text(item, "name", f"case at line {item.line}")
    where = f"case {name!r}"
    answers = _answers(reader, item, table, where)
    expect = item["expect"]
    if not isinstance(expect, Map):
        reader.problem(item.line_of("expect"), where, "expect must be a mapping (outcome, verdict, ...)")
        return None
    if not reader.keys(expect, "expect", where):
        return None
    return Case(name, answers, _expect(reader, expect, table, where), reader.path, item.line)


def _answers(reader: BlockReader, item: Map, table: Table, where: str) -> Mapping[str, str]:
    given = item["answers"]
    if not isinstance(given, Map) or not given:
        reader.problem(item.line_of("answers"), where, "answers must be a mapping of question ids to option ids")
        return MappingProxyType({})
    answers: dict[str, str] = {}
    for fact_id in given:
        line = given.line_of(fact_id)
        fact = table.fact_index.get(str(fact_id))
        option = reader.ident(given, fact_id, where)
        if fact is None:
            reader.problem(line, where, f"unknown question {fact_id!r}{_hint(fact_id, table.fact_index)}")
        elif option is None:
            pass  # reported by ident
        elif option in fact.retired:
            instead = " or ".join(repr(o) for o in fact.retired[option])
            reader.problem(line, where, f"option {option!r} of {fact.id!r} was retired: use {instead}")
        elif fact.option(option) is None:
            hint = _hint(option, fact.option_ids)
            reader.problem(line, where, f"unknown option {option!r} for question {fact.id!r}{hint}")
        else:
            answers[fact.id] = option
    return MappingProxyType(answers)


def _expect(reader: BlockReader, block: Map, table: Table, where: str) -> Expect:
    if "outcome" not in block and "verdict" not in block:
        reader.problem(block.line, where, "expect must name an outcome or a verdict (or both)")
    outcome = reader.ident(block, "outcome", where) if "outcome" in block else None
    if outcome is not None and outcome not in table.outcomes:
        reader.problem(block.line_of("outcome"), where, f"unknown outcome {outcome!r}{_hint(outcome, table.outcomes)}")
    verdict = _one_of(reader, block, "verdict", VERDICTS, where)
    confidence = _one_of(reader, block, "confidence", CONFIDENCES, where)
    questions = block.get("questions")
    if questions is not None and (not isinstance(questions, int) or isinstance(questions, bool) or questions < 1):
        reader.problem(block.line_of("questions"), where, f"questions must be a whole number from 1, not {questions!r}")
        questions = None
    notes = reader.id_list(block, "notes", where)
    known_notes = {n.id for n in table.notes}
    for note in notes:
        if note not in known_notes:
            reader.problem(block.line_of("notes"), where, f"unknown note {note!r}{_hint(note, known_notes)}")
    contacts = reader.id_list(block, "help", where)
    for contact in contacts:
        if contact not in table.help:
            hint = _hint(contact, table.help)
            reader.problem(block.line_of("help"), where, f"unknown help contact {contact!r}{hint}")
    lines = MappingProxyType({key: block.line_of(key) for key in block})
    return Expect(outcome, verdict, questions, confidence, notes, contacts, lines)


def _one_of(reader: BlockReader, block: Map, key: str, allowed: tuple[str, ...], where: str) -> str | None:
    value = block.get(key)
    if value is None:
        return None
    if value not in allowed:
        reader.problem(block.line_of(key), where, f"{key} must be one of {', '.join(allowed)}, not {value!r}")
        return None
    return str(value)


def _hint(name: object, known: Any) -> str:
    close = difflib.get_close_matches(str(name), [str(k) for k in known], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def run_case(engine: Engine, case: Case) -> list[Problem]:
    """Play the case's conversation; one problem per expectation that did not hold."""
    where = f"case {case.name!r}"
    session = engine.new_session()
    asked: list[str] = []
    while isinstance(step := engine.step(session), Question):
        fact = step.fact.id
        if fact not in case.answers:
            done = f" after {' > '.join(asked)}" if asked else " first"
            return [Problem(case.path, case.line, where, f"the table asks {fact!r}{done}, and the case has no answer")]
        asked.append(fact)
        session = engine.answer(session, fact, case.answers[fact])
    return list(_failures(engine.table, case, step, session.answers, asked))


def _failures(
    table: Table, case: Case, decision: Decision, answers: Mapping[str, str], asked: list[str]
) -> Iterator[Problem]:
    where = f"case {case.name!r}"
    expect = case.expect

    def failed(key: str, message: str) -> Problem:
        return Problem(case.path, expect.lines.get(key, case.line), where, message)

    unasked = [fact for fact in case.answers if fact not in asked]
    if unasked:
        yield Problem(
            case.path,
            case.line,
            where,
            f"answers {', '.join(map(repr, unasked))} but the table never asks it (asked: {' > '.join(asked)})",
        )
    outcome = decision.outcome
    if expect.outcome is not None and outcome.id != expect.outcome:
        yield failed("outcome", f"expected outcome {expect.outcome!r}, got {outcome.id!r} ({outcome.verdict})")
    if expect.verdict is not None and outcome.verdict != expect.verdict:
        yield failed("verdict", f"expected verdict {expect.verdict!r}, got {outcome.verdict!r} ({outcome.id})")
    if expect.questions is not None and len(asked) != expect.questions:
        yield failed("questions", f"expected {expect.questions} question(s), got {len(asked)}: {' > '.join(asked)}")
    if expect.confidence is not None and decision.confidence != expect.confidence:
        rules = ", ".join(rule.id for rule in decision.rules)
        yield failed("confidence", f"expected confidence {expect.confidence!r}, got {decision.confidence!r} ({rules})")
    shown_notes = [n.id for n in table.shown_notes(outcome, answers)]
    for note in expect.notes:
        if note not in shown_notes:
            yield failed("notes", f"expected note {note!r}, shown: {', '.join(shown_notes) or 'none'}")
    shown_help = [h.id for h in table.shown_help(outcome, answers)]
    for contact in expect.help:
        if contact not in shown_help:
            yield failed("help", f"expected help contact {contact!r}, shown: {', '.join(shown_help) or 'none'}")


def run_cases(engine: Engine, cases: list[Case]) -> list[Problem]:
    """Every failure of every case, in file order."""
    return sorted(problem for case in cases for problem in run_case(engine, case))
