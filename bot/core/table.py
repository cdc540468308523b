"""The rule table as plain, immutable data: what the loader builds and the engine reads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = [
    "CONFIDENCES",
    "GRADES",
    "VERDICTS",
    "Action",
    "Document",
    "Fact",
    "Help",
    "Meta",
    "Note",
    "Option",
    "Outcome",
    "Rule",
    "Source",
    "Table",
    "Unknown",
    "holds",
]

VERDICTS = ("not_affected", "affected", "requirement_met", "unclear")
CONFIDENCES = ("high", "medium", "low")
#: Source grades, best first: A official text, B a state body, C established media, D weak.
GRADES = ("A", "B", "C", "D")

#: Conditions on facts: fact id -> the option ids that satisfy it.
Conditions = Mapping[str, frozenset[str]]


@dataclass(frozen=True)
class Meta:
    """Who the table is, which version, and when its content was last checked."""

    id: str
    title: str
    version: str
    checked: dt.date
    disclaimer: str
    #: The date of the newest source found when the table was checked: "YYYY", "YYYY-MM" or "YYYY-MM-DD".
    newest_source: str = ""


@dataclass(frozen=True)
class Source:
    """A published source a rule or outcome rests on."""

    id: str
    title: str
    url: str
    date: str
    line: int = 0
    #: A (official text), B (a state body), C (established media) or D (weak).
    grade: str = ""


@dataclass(frozen=True)
class Option:
    """One answer to a question: an id for logic, a label for people."""

    id: str
    label: str
    hint: str = ""


@dataclass(frozen=True)
class Fact:
    """A question and the answers it accepts."""

    id: str
    question: str
    options: tuple[Option, ...]
    line: int = 0
    #: Option ids an earlier edition used, each with the options that replaced it.
    retired: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def option(self, option_id: str) -> Option | None:
        """Return the option with this id, or None."""
        return next((o for o in self.options if o.id == option_id), None)

    @property
    def option_ids(self) -> tuple[str, ...]:
        return tuple(o.id for o in self.options)


@dataclass(frozen=True)
class Document:
    """A document that satisfies the requirement."""

    id: str
    text: str
    sources: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Action:
    """Something a person can do, and what it risks."""

    id: str
    text: str
    risk: str
    line: int = 0


@dataclass(frozen=True)
class Unknown:
    """Something the sources do not settle."""

    id: str
    text: str
    line: int = 0


@dataclass(frozen=True)
class Help:
    """Where to get help; shown only when its conditions hold."""

    id: str
    name: str
    text: str
    url: str = ""
    when: Conditions = field(default_factory=lambda: MappingProxyType({}))
    line: int = 0
    #: Where the contact was verified; listed with the outcome's sources when it is shown.
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note:
    """A per-country note shown with outcomes of the given verdicts."""

    id: str
    text: str
    when: Conditions
    verdicts: frozenset[str]
    sources: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Outcome:
    """What the person is told at the end of a conversation."""

    id: str
    verdict: str
    headline: str
    explanation: str
    checked: dt.date
    satisfies: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    help: tuple[str, ...] = ()
    line: int = 0


@dataclass(frozen=True)
class Rule:
    """If every condition holds, this rule decides the outcome (first match wins)."""

    id: str
    when: Conditions
    outcome: str
    sources: tuple[str, ...]
    confidence: str
    line: int = 0


@dataclass(frozen=True)
class Table:
    """A whole, validated rule table."""

    path: str
    meta: Meta
    sources: Mapping[str, Source]
    facts: tuple[Fact, ...]
    documents: Mapping[str, Document]
    actions: Mapping[str, Action]
    unknowns: Mapping[str, Unknown]
    help: Mapping[str, Help]
    notes: tuple[Note, ...]
    outcomes: Mapping[str, Outcome]
    rules: tuple[Rule, ...]
    fact_index: Mapping[str, Fact] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fact_index", MappingProxyType({f.id: f for f in self.facts}))

    @property
    def version_tag(self) -> str:
        """A short label naming this table and version, e.g. ``decree-821@2026.11.21``."""
        return f"{self.meta.id}@{self.meta.version}"

    def shown_notes(self, outcome: Outcome, answers: Mapping[str, str]) -> list[Note]:
        """The notes shown with this outcome for these answers, in table order."""
        return [n for n in self.notes if outcome.verdict in n.verdicts and holds(n.when, answers)]

    def shown_help(self, outcome: Outcome, answers: Mapping[str, str]) -> list[Help]:
        """The help contacts shown with this outcome for these answers, in the outcome's order."""
        return [self.help[h] for h in outcome.help if holds(self.help[h].when, answers)]


def holds(when: Conditions, answers: Mapping[str, str]) -> bool:
    """Return True if every condition is satisfied by the answers."""
    return all(answers.get(fact) in allowed for fact, allowed in when.items())
