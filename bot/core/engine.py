"""The conversation engine: pure functions from a session to the next question or the outcome.

No Telegram, no I/O. A :class:`Session` is small and serialisable; an :class:`Engine` wraps one
validated :class:`~bot.core.table.Table` and answers "what now?" for any session. It asks only the
questions whose answer can still change the outcome, in the order the table lists them.

Longer than most modules (~350 lines) on purpose: the session, the step, the search for what can
still change the outcome and its exploration budget are one algorithm, read best in one place.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bot.core.table import CONFIDENCES, Fact, Outcome, Rule, Table

__all__ = [
    "Decision",
    "Engine",
    "EngineError",
    "NotAsked",
    "Question",
    "Session",
    "Step",
    "TooEntangled",
    "UnknownFact",
    "UnknownOption",
]

_Answers = frozenset[tuple[str, str]]

#: Combinations of answers one engine may examine (each once; it keeps them all) before it refuses
#: the table. Rules that nest stay far below (the shipped table: 632; a generated tree of 1,000
#: rules: 3,093); rules whose conditions cut across each other multiply them, and exploring such a
#: table (what `maslahat check`, start-up and reload do) would otherwise run for hours instead of
#: saying so (benchmarks/bench_rules.py, the cross-cutting probe). Reached in 3-5 s.
EXPLORATION_BUDGET = 200_000


class EngineError(ValueError):
    """An answer the engine cannot apply; the session is left unchanged."""


class UnknownFact(EngineError):
    """The fact id is not in the rule table."""


class UnknownOption(EngineError):
    """The option id is not an answer to that fact."""


class NotAsked(EngineError):
    """The fact is not the current question (a stale or out-of-order answer)."""


class TooEntangled(RuntimeError):
    """Exploring the rule table needs more combinations of answers than EXPLORATION_BUDGET."""


@dataclass(frozen=True)
class Session:
    """Everything the conversation needs to remember: language, answers in the order given.

    ``answers`` is ordered: its keys are the path of questions actually asked. ``version``
    names the rule table the answers were given under. ``pending`` holds answers given under an
    older table that come after a question asked again (its answer was retired): each is
    reused when its question comes, so the person answers only what changed.
    """

    lang: str = "en"
    answers: Mapping[str, str] = field(default_factory=dict)
    version: str = ""
    pending: Mapping[str, str] = field(default_factory=dict)

    @property
    def path(self) -> tuple[str, ...]:
        """The questions asked so far, in order."""
        return tuple(self.answers)

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-ready data."""
        data = {"lang": self.lang, "answers": dict(self.answers), "version": self.version}
        if self.pending:
            data["pending"] = dict(self.pending)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Session:
        """Rebuild a session from :meth:`to_dict` output, ignoring anything malformed."""
        lang = data.get("lang")
        version = data.get("version")
        return cls(
            lang if isinstance(lang, str) else "en",
            _str_map(data.get("answers")),
            version if isinstance(version, str) else "",
            _str_map(data.get("pending")),
        )

    def in_language(self, lang: str) -> Session:
        """The same conversation in another language: answers and position are kept."""
        return Session(lang, dict(self.answers), self.version, dict(self.pending))

    def _with(self, answers: Mapping[str, str]) -> Session:
        return Session(self.lang, dict(answers), self.version)


@dataclass(frozen=True)
class Question:
    """Ask this next. ``number`` counts from 1; ``of_about`` is the longest the conversation can get."""

    fact: Fact
    number: int
    of_about: int


@dataclass(frozen=True)
class Decision:
    """The conversation is over: this outcome, decided by these rules."""

    outcome: Outcome
    rules: tuple[Rule, ...]

    @property
    def confidence(self) -> str:
        """The lowest confidence among the rules that can have decided."""
        return max((r.confidence for r in self.rules), key=CONFIDENCES.index)


Step = Question | Decision


class Engine:
    """Answers questions about conversations over one rule table; immutable and cached."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self._order = {fact.id: index for index, fact in enumerate(table.facts)}
        # Unbounded: EXPLORATION_BUDGET bounds how many combinations are ever computed, and a
        # bounded cache that evicts during exploration computes the same ones again and again.
        self._next = functools.cache(self._next_uncached)
        self._deciders = functools.cache(self._deciders_uncached)
        self._remaining = functools.cache(self._remaining_uncached)
        self._examined = 0

    # Queries -------------------------------------------------------------------------------

    def step(self, session: Session) -> Step:
        """Return the next question for this session, or the decision if the outcome is certain."""
        answers = _key(session.answers)
        found = self._next(answers)
        if isinstance(found, Fact):
            return Question(found, len(session.answers) + 1, len(session.answers) + self._remaining(answers))
        return found

    def new_session(self, lang: str = "en") -> Session:
        """Return an empty session under this table's version."""
        return Session(lang, {}, self.table.version_tag)

    # Moves ---------------------------------------------------------------------------------

    def answer(self, session: Session, fact_id: str, option_id: str) -> Session:
        """Answer the current question.

        Raises:
            UnknownFact, UnknownOption: the ids are not in the table.
            NotAsked: ``fact_id`` is not the current question.
        """
        self._validate(fact_id, option_id)
        current = self.step(session)
        if not isinstance(current, Question) or current.fact.id != fact_id:
            raise NotAsked(f"{fact_id!r} is not the current question")
        pending = {f: o for f, o in session.pending.items() if f != fact_id}
        return self._reuse(Session(session.lang, {**session.answers, fact_id: option_id}, session.version, pending))

    def back(self, session: Session) -> Session:
        """Undo the last answer; at the first question, stay there."""
        return session._with(dict(list(session.answers.items())[:-1]))

    def restart(self, session: Session) -> Session:
        """Forget every answer, keep the language."""
        return Session(session.lang, {}, self.table.version_tag)

    def change(self, session: Session, fact_id: str, option_id: str) -> Session:
        """Change one earlier answer, keeping the later answers that still matter.

        Raises:
            UnknownFact, UnknownOption: the ids are not in the table.
            NotAsked: ``fact_id`` was never asked in this session.
        """
        self._validate(fact_id, option_id)
        if fact_id not in session.answers:
            raise NotAsked(f"{fact_id!r} has not been asked")
        return self.replay(session._with({**session.answers, fact_id: option_id}))

    def replay(self, session: Session) -> Session:
        """Rebuild the path from the session's answers under this table.

        Walks the conversation from the start, reusing each given answer while it is asked.
        The walk stops at a question whose answer no longer exists (a retired option): that
        question is asked again, and the later answers still valid wait in ``pending`` to be
        reused when their questions come. Answers no longer asked are dropped. This is how a
        session saved under an older table keeps working.
        """
        given = {**session.pending, **session.answers}
        kept: dict[str, str] = {}
        while True:
            found = self._next(_key(kept))
            if not isinstance(found, Fact):
                break
            option = given.get(found.id)
            if option is None or found.option(option) is None:
                break
            kept[found.id] = option
        pending = {
            fact_id: option
            for fact_id, option in given.items()
            if fact_id not in kept and (fact := self.table.fact_index.get(fact_id)) and fact.option(option)
        }
        return self._reuse(Session(session.lang, kept, self.table.version_tag, pending))

    def from_answers(self, answers: Mapping[str, str], lang: str = "en") -> tuple[Session, list[str]]:
        """Build a session from answers given all at once; return it and the facts not used.

        Raises:
            UnknownFact, UnknownOption: an answer names something not in the table.
        """
        for fact_id, option_id in answers.items():
            self._validate(fact_id, option_id)
        session = self.replay(Session(lang, dict(answers), self.table.version_tag))
        unused = [f for f in answers if f not in session.answers]
        if unused and isinstance(self.step(session), Question):
            # While a question is open, answers to questions that may still come are not ignored.
            later = self._still_asked(_key(session.answers), answers)
            unused = [f for f in unused if f not in later]
        return session, unused

    # Exploration ---------------------------------------------------------------------------

    def conversations(self, limit: int = 1_000_000) -> Iterator[tuple[Session, Decision]]:
        """Yield every distinct conversation the engine can have, as (answers, decision).

        Raises:
            RuntimeError: there are more than ``limit`` conversations.
        """
        count = 0
        stack = [self.new_session()]
        while stack:
            session = stack.pop()
            found = self.step(session)
            if isinstance(found, Decision):
                count += 1
                if count > limit:
                    raise RuntimeError(f"more than {limit} distinct conversations")
                yield session, found
                continue
            for option in reversed(found.fact.options):
                stack.append(session._with({**session.answers, found.fact.id: option.id}))

    def state_key(self, session: Session) -> object:
        """A value equal for two sessions exactly when their conversations go on the same way.

        The future depends only on which rules can still decide and on whether each given
        answer meets each of their conditions (so two countries treated alike share a state).
        """
        given = dict(session.answers)
        deciders = self._deciders(_key(given))
        met = tuple(
            (i, fact_id, given[fact_id] in allowed)
            for i in sorted(deciders)
            for fact_id, allowed in self.table.rules[i].when.items()
            if fact_id in given
        )
        return deciders, met

    # Internals -----------------------------------------------------------------------------

    def _validate(self, fact_id: str, option_id: str) -> None:
        fact = self.table.fact_index.get(fact_id)
        if fact is None:
            raise UnknownFact(f"unknown fact {fact_id!r}; known: {', '.join(self._order)}")
        if fact.option(option_id) is not None:
            return
        known = ", ".join(fact.option_ids)
        if option_id in fact.retired:
            instead = " or ".join(repr(o) for o in fact.retired[option_id])
            raise UnknownOption(f"option {option_id!r} for {fact_id!r} was retired: use {instead} (known: {known})")
        raise UnknownOption(f"unknown option {option_id!r} for {fact_id!r}; known: {known}")

    def _reuse(self, session: Session) -> Session:
        """Apply the pending answers whose questions come next; drop them all once the outcome is certain."""
        answers = dict(session.answers)
        pending = dict(session.pending)
        while pending:
            found = self._next(_key(answers))
            if not isinstance(found, Fact):
                pending.clear()  # nothing is kept that the conversation no longer needs
                break
            option = pending.pop(found.id, None)
            if option is None or found.option(option) is None:
                break
            answers[found.id] = option
        return Session(session.lang, answers, session.version, pending)

    def _next_uncached(self, answers: _Answers) -> Fact | Decision:
        """The fact to ask next, or the decision when the outcome no longer depends on answers."""
        deciders = self._deciders(answers)
        if len({self.table.rules[i].outcome for i in deciders}) == 1:
            rules = tuple(self.table.rules[i] for i in sorted(deciders))
            return Decision(self.table.outcomes[rules[0].outcome], rules)
        given = dict(answers)
        candidates = sorted(
            {f for i in deciders for f in self.table.rules[i].when if f not in given},
            key=self._order.__getitem__,
        )
        # Prefer the first question (in table order) whose answer splits the possible outcomes;
        # when no single answer does (outcomes depend on facts jointly), the first one involved.
        for fact_id in candidates:
            fact = self.table.fact_index[fact_id]
            branches = {self._outcomes(answers | {(fact_id, o.id)}) for o in fact.options}
            if len(branches) > 1:
                return fact
        return self.table.fact_index[candidates[0]]

    def _outcomes(self, answers: _Answers) -> frozenset[str]:
        return frozenset(self.table.rules[i].outcome for i in self._deciders(answers))

    def _still_asked(self, answers: _Answers, given: Mapping[str, str]) -> set[str]:
        """Facts some continuation asks, following the ``given`` answers where it can."""
        asked: set[str] = set()
        stack = [answers]
        while stack:
            current = stack.pop()
            found = self._next(current)
            if isinstance(found, Decision):
                continue
            asked.add(found.id)
            options = [given[found.id]] if found.id in given else list(found.option_ids)
            stack.extend(current | {(found.id, option)} for option in options)
        return asked

    def _deciders_uncached(self, answers: _Answers) -> frozenset[int]:
        """Indices of the rules that decide in at least one way of answering the rest."""
        self._examined += 1
        if self._examined > EXPLORATION_BUDGET:
            raise TooEntangled(
                f"more than {EXPLORATION_BUDGET:,} combinations of answers to examine: the rules' conditions "
                "cut across each other instead of nesting (a rule that tests later questions without the "
                "earlier ones its neighbours test); write them as a tree, each rule refining the one before"
            )
        given = dict(answers)
        for index, rule in enumerate(self.table.rules):
            open_facts = []
            excluded = False
            for fact_id, allowed in rule.when.items():
                value = given.get(fact_id)
                if value is None:
                    open_facts.append(fact_id)
                elif value not in allowed:
                    excluded = True
                    break
            if excluded:
                continue
            if not open_facts:
                return frozenset({index})
            # The rule may match: branch on its first open fact. Answers outside the rule's
            # allowed options rule it out, and the search goes on to later rules.
            fact_id = min(open_facts, key=self._order.__getitem__)
            found: set[int] = set()
            for option in self.table.fact_index[fact_id].options:
                found |= self._deciders(answers | {(fact_id, option.id)})
            return frozenset(found)
        return frozenset()

    def _remaining_uncached(self, answers: _Answers) -> int:
        """How many more questions the longest continuation asks."""
        found = self._next(answers)
        if isinstance(found, Decision):
            return 0
        return 1 + max(self._remaining(answers | {(found.id, o.id)}) for o in found.options)


def _key(answers: Mapping[str, str]) -> _Answers:
    return frozenset(answers.items())


def _str_map(raw: object) -> dict[str, str]:
    """The string-to-string entries of a stored mapping; anything else is dropped."""
    if not isinstance(raw, Mapping):
        return {}
    return {k: v for k, v in raw.items() if isinstance(k, str) and isinstance(v, str)}
