"""Validate a rule table by exploring every conversation the engine can have."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.engine import Decision, Engine, Question
from bot.core.table import Action, Document, Outcome, Table, Unknown
from bot.problems import Problem
from bot.ruletable.cases import Case, CasesError, cases_path, load_cases, run_cases
from bot.ruletable.loader import TableError, read_table_file, table_from_yaml

__all__ = ["Report", "Summary", "check_cases", "check_file", "check_table"]


@dataclass(frozen=True)
class Summary:
    """What the table amounts to, as conversations."""

    questions: int
    outcomes: int
    rules: int
    conversations: int
    longest: int
    longest_path: tuple[str, ...]


@dataclass
class Report:
    """Every problem found, and the summary when the table could be explored."""

    problems: list[Problem] = field(default_factory=list)
    #: What is defined and never shown to anyone (a help contact no outcome lists, a source nothing
    #: cites, ...): the table works, but an operator meant something else. ``--strict`` fails on them.
    warnings: list[Problem] = field(default_factory=list)
    summary: Summary | None = None
    table: Table | None = None
    #: The engine that explored the table: its caches hold every conversation, so reuse it.
    engine: Engine | None = None
    #: The file's YAML as read, when it could be: its texts are what the catalogs translate, so
    #: whoever checks them takes them from here rather than reading and parsing the file again.
    data: Any = None
    #: How many cases the cases file holds (None: there is no cases file), and how many failed.
    cases: int | None = None
    cases_failed: int = 0

    @property
    def ok(self) -> bool:
        """Whether nothing at all is wrong."""
        return not self.problems


def check_table(table: Table, limit: int = 1_000_000) -> Report:
    """Find what only exploring conversations reveals: unreachable outcomes, shadowed rules."""
    engine = Engine(table)
    report = Report(table=table, engine=engine)
    deciding: set[str] = set()
    reached: set[str] = set()
    asked: set[str] = set()
    shown: set[tuple[str, str]] = set()  # (kind, id) of notes and help contacts some outcome shows
    count = 0
    longest: tuple[str, ...] = ()
    try:
        for session, decision in engine.conversations(limit):
            count += 1
            deciding.update(rule.id for rule in decision.rules)
            reached.add(decision.outcome.id)
            asked.update(session.answers)
            shown.update(_shown(table, decision.outcome, session.answers))
            if len(session.answers) > len(longest):
                longest = session.path
    except RuntimeError as exc:  # too many conversations, or TooEntangled
        # Point at the rules, where the cure is: the first rule's line (0 if the table has none).
        line = table.rules[0].line if table.rules else 0
        report.problems.append(Problem(table.path, line, "rules", f"cannot explore: {exc}"))
        return report

    for rule in table.rules:
        if rule.id not in deciding:
            report.problems.append(
                Problem(
                    table.path,
                    rule.line,
                    f"rule {rule.id!r}",
                    "is shadowed: rules above it decide every conversation it matches, so it never decides",
                )
            )
    for outcome in table.outcomes.values():
        if outcome.id not in reached:
            report.problems.append(
                Problem(table.path, outcome.line, f"outcome {outcome.id!r}", "no conversation can reach this outcome")
            )
    for fact in table.facts:
        if fact.id not in asked:
            report.problems.append(
                Problem(table.path, fact.line, f"fact {fact.id!r}", "no conversation asks this question")
            )
    report.problems.sort()
    report.warnings = sorted(_unused(table, shown))
    report.summary = Summary(
        questions=len(table.facts),
        outcomes=len(table.outcomes),
        rules=len(table.rules),
        conversations=count,
        longest=len(longest),
        longest_path=longest,
    )
    return report


def _shown(table: Table, outcome: Outcome, answers: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """The notes and help contacts this outcome shows for these answers."""
    yield from (("note", note.id) for note in table.shown_notes(outcome, answers))
    yield from (("help", contact.id) for contact in table.shown_help(outcome, answers))


def _unused(table: Table, shown: set[tuple[str, str]]) -> Iterator[Problem]:
    """Everything defined that no person is ever shown: each a warning at its definition."""
    cited = {s for o in table.outcomes.values() for s in o.sources}
    cited |= {s for r in table.rules for s in r.sources}
    cited |= {s for n in table.notes if ("note", n.id) in shown for s in n.sources}
    cited |= {s for o in table.outcomes.values() for d in o.satisfies for s in table.documents[d].sources}
    cited |= {s for h in table.help.values() if ("help", h.id) in shown for s in h.sources}
    for source in table.sources.values():
        if source.id not in cited:
            yield _warning(table, source.line, "source", source.id, "no outcome, rule, note or document cites it")
    used = {
        "document": {d for o in table.outcomes.values() for d in o.satisfies},
        "action": {a for o in table.outcomes.values() for a in o.actions},
        "unknown": {u for o in table.outcomes.values() for u in o.unknown},
    }
    listed: list[tuple[str, Mapping[str, Document | Action | Unknown]]] = [
        ("document", table.documents),
        ("action", table.actions),
        ("unknown", table.unknowns),
    ]
    for kind, defined in listed:
        for ident, block in defined.items():
            if ident not in used[kind]:
                yield _warning(table, block.line, kind, ident, "no outcome lists it")
    for contact in table.help.values():
        if ("help", contact.id) not in shown:
            message = "no outcome shows it (none lists it, or its conditions never hold where one does)"
            yield _warning(table, contact.line, "help", contact.id, message)
    for note in table.notes:
        if ("note", note.id) not in shown:
            message = "no conversation shows it: its conditions and verdicts never meet an outcome"
            yield _warning(table, note.line, "note", note.id, message)


def _warning(table: Table, line: int, kind: str, ident: str, message: str) -> Problem:
    return Problem(table.path, line, f"{kind} {ident!r}", f"warning: {message}")


def check_cases(report: Report, path: Path) -> None:
    """Play every case of the cases file at ``path`` against the report's table; add what fails.

    An outcome no case reaches is a warning: the cases are how a change to it gets noticed.
    """
    if report.table is None or report.engine is None or not report.ok:
        return
    try:
        cases = load_cases(path, report.table)
    except CasesError as exc:
        report.problems += exc.problems
        return
    failures = run_cases(report.engine, cases)
    report.cases = len(cases)
    report.cases_failed = len({(p.path, p.where) for p in failures})
    report.problems += failures
    covered = {reached.outcome.id for case in cases if isinstance(reached := _reached(report.engine, case), Decision)}
    report.warnings += [
        _warning(report.table, outcome.line, "outcome", outcome.id, f"no case in {path.name} reaches it")
        for outcome in report.table.outcomes.values()
        if outcome.id not in covered
    ]
    report.warnings.sort()


def _reached(engine: Engine, case: Case) -> Question | Decision:
    """Where the case's answers lead (a question, if they stop short)."""
    return engine.step(engine.from_answers(case.answers)[0])


def check_file(path: str | Path, cases: str | Path | None = None, *, with_cases: bool = True) -> Report:
    """Load and check a rule table file, reading it once; every problem is in the report, nothing is raised.

    ``cases``: the table's cases file; by default ``<name>.cases.yaml`` beside it, if there is one.
    ``with_cases=False`` leaves the cases alone: the running bot serves the table, its operators' cases
    are for `maslahat check` and CI.
    """
    try:
        data, duplicates = read_table_file(path)
    except TableError as exc:
        return Report(problems=list(exc.problems))
    try:
        table = table_from_yaml(data, str(path), duplicates)
    except TableError as exc:
        return Report(problems=list(exc.problems), data=data)
    report = check_table(table)
    report.data = data
    if with_cases and (cases is not None or cases_path(path).exists()):
        # A cases file named on the command line is checked even if missing: that is a problem.
        check_cases(report, Path(cases) if cases is not None else cases_path(path))
    return report
