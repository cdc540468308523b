"""What a change to the rule table does to the people who use it: `maslahat diff OLD NEW`.

Every conversation either table can have is played under both. Two conversations are the same
person when they give the same answers to the questions both ask; the report lists each whose
outcome, verdict, confidence or questions differ, each path that exists under one table only (an
answer added or removed), and the texts that are new or changed, which is the translators' work.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core.engine import Engine, Question
from bot.core.table import Table
from bot.ruletable.texts import table_texts

__all__ = ["Change", "Played", "TableDiff", "TextChange", "diff_tables"]


@dataclass(frozen=True)
class Played:
    """Where a conversation leads under one table."""

    outcome: str
    verdict: str
    confidence: str
    asked: tuple[str, ...]


@dataclass(frozen=True)
class Change:
    """One person's conversation that the change affects; ``old`` or ``new`` is None where it cannot be had."""

    answers: Mapping[str, str]
    old: Played | None
    new: Played | None

    @property
    def what(self) -> tuple[str, ...]:
        """What changed: among added, removed, verdict, outcome, confidence, questions."""
        if self.old is None:
            return ("added",)
        if self.new is None:
            return ("removed",)
        compared = {
            "verdict": (self.old.verdict, self.new.verdict),
            "outcome": (self.old.outcome, self.new.outcome),
            "confidence": (self.old.confidence, self.new.confidence),
            "questions": (self.old.asked, self.new.asked),
        }
        return tuple(kind for kind, (old, new) in compared.items() if old != new)

    def to_json(self) -> dict[str, Any]:
        """The change as plain data for ``--json``."""

        def played(p: Played | None) -> dict[str, Any] | None:
            if p is None:
                return None
            return {"outcome": p.outcome, "verdict": p.verdict, "confidence": p.confidence, "asked": list(p.asked)}

        return {
            "answers": dict(self.answers),
            "changed": list(self.what),
            "old": played(self.old),
            "new": played(self.new),
        }


@dataclass(frozen=True)
class TextChange:
    """A text a person reads: new (``old`` empty), gone (``new`` empty) or reworded, at ``where``."""

    where: str
    old: str
    new: str


@dataclass
class TableDiff:
    """Everything that differs between two tables, for the people using them and for the translators."""

    conversations: int
    #: Each table's (version, checked date), old then new: a release bumps both.
    releases: tuple[tuple[str, str], tuple[str, str]]
    changes: list[Change] = field(default_factory=list)
    texts: list[TextChange] = field(default_factory=list)

    def count(self, kind: str) -> int:
        """How many conversations changed in this way (verdict, outcome, ..., added, removed)."""
        return sum(kind in change.what for change in self.changes)

    def to_json(self) -> dict[str, Any]:
        """The whole report as plain data for ``--json``."""
        kinds = ("verdict", "outcome", "confidence", "questions", "added", "removed")
        (old_version, old_checked), (new_version, new_checked) = self.releases
        return {
            "version": {"old": old_version, "new": new_version},
            "checked": {"old": old_checked, "new": new_checked},
            "conversations": self.conversations,
            "changed": len(self.changes),
            "by_kind": {kind: self.count(kind) for kind in kinds},
            "changes": [change.to_json() for change in self.changes],
            "texts": [{"where": t.where, "old": t.old, "new": t.new} for t in self.texts],
        }


def _play(engine: Engine, answers: Mapping[str, str]) -> list[tuple[dict[str, str], Played]] | None:
    """Where ``answers`` lead under this table: one conversation, or several if it asks what they leave open.

    Each is (the answers it uses, where it leads); a question the answers leave open is answered
    every way it can be. None: an answer names an option this table does not offer.
    """
    found: list[tuple[dict[str, str], Played]] = []
    stack = [engine.new_session()]
    while stack:
        session = stack.pop()
        step = engine.step(session)
        if isinstance(step, Question):
            fact = step.fact
            if fact.id in answers:
                if fact.option(answers[fact.id]) is None:
                    return None
                stack.append(engine.answer(session, fact.id, answers[fact.id]))
            else:
                stack += [engine.answer(session, fact.id, o.id) for o in reversed(fact.options)]
            continue
        outcome = step.outcome
        found.append((dict(session.answers), Played(outcome.id, outcome.verdict, step.confidence, session.path)))
    return found


def _conversations(engine: Engine) -> Iterator[tuple[Mapping[str, str], Played]]:
    for session, decision in engine.conversations():
        outcome = decision.outcome
        yield session.answers, Played(outcome.id, outcome.verdict, decision.confidence, session.path)


def diff_tables(old: Table, new: Table, old_data: Any = None, new_data: Any = None) -> TableDiff:
    """Compare every conversation of two tables, and their texts if their YAML (``*_data``) is given.

    Each conversation of one table is played under the other: where the other decides in fewer
    questions it is compared with that shorter conversation, and where the other asks more, with
    each of the longer ones. A pair met from both sides is counted once.
    """
    engines = Engine(old), Engine(new)
    pairs: dict[tuple[frozenset[tuple[str, str]], ...], Change] = {}
    for side in (0, 1):
        this, other = engines[side], engines[1 - side]
        for answers, played in _conversations(this):
            there = _play(other, answers)
            met: Sequence[tuple[dict[str, str], Played | None]] = there if there is not None else [({}, None)]
            for used, other_played in met:
                mine, theirs = frozenset(answers.items()), frozenset(used.items())
                both = {**answers, **used}
                if side == 0:
                    pairs.setdefault((mine, theirs), Change(both, played, other_played))
                else:
                    pairs.setdefault((theirs, mine), Change(both, other_played, played))
    changes = sorted(
        (change for change in pairs.values() if change.what),
        key=lambda c: [(f.id, c.answers.get(f.id, "")) for f in new.facts + old.facts],
    )
    texts = list(_text_changes(old_data, new_data)) if old_data is not None and new_data is not None else []
    releases = tuple((t.meta.version, t.meta.checked.isoformat()) for t in (old, new))
    return TableDiff(len(pairs), (releases[0], releases[1]), changes, texts)


def _text_changes(old_data: Any, new_data: Any) -> Iterator[TextChange]:
    old = {where: text for _, text, where in table_texts(old_data)}
    new = {where: text for _, text, where in table_texts(new_data)}
    for where, text in new.items():
        if old.get(where) != text:
            yield TextChange(where, old.get(where, ""), text)
    for where, text in old.items():
        if where not in new:
            yield TextChange(where, text, "")
