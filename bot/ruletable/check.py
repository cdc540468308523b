"""Validate a rule table by exploring every conversation the engine can have."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.engine import Engine
from bot.core.table import Table
from bot.problems import Problem
from bot.ruletable.loader import TableError, read_table_file, table_from_yaml

__all__ = ["Report", "Summary", "check_file", "check_table"]


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
    summary: Summary | None = None
    table: Table | None = None
    #: The engine that explored the table: its caches hold every conversation, so reuse it.
    engine: Engine | None = None
    #: The file's YAML as read, when it could be: its texts are what the catalogs translate, so
    #: whoever checks them takes them from here rather than reading and parsing the file again.
    data: Any = None

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
    count = 0
    longest: tuple[str, ...] = ()
    try:
        for session, decision in engine.conversations(limit):
            count += 1
            deciding.update(rule.id for rule in decision.rules)
            reached.add(decision.outcome.id)
            asked.update(session.answers)
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
    report.summary = Summary(
        questions=len(table.facts),
        outcomes=len(table.outcomes),
        rules=len(table.rules),
        conversations=count,
        longest=len(longest),
        longest_path=longest,
    )
    return report


def check_file(path: str | Path) -> Report:
    """Load and check a rule table file, reading it once; every problem is in the report, nothing is raised."""
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
    return report
