"""Turn engine results into typed, translated views that every adapter (terminal, JSON, Telegram) shows.

The views are built once from a :class:`~bot.core.engine.Question` or
:class:`~bot.core.engine.Decision` and a :class:`~bot.core.languages.Translator`;
``maslahat advise --json`` prints their :meth:`~OutcomeView.to_json`. What the outcome shows and in
which order is decided in one place, :func:`outcome_sections`, which the terminal and Telegram
renderers iterate. A little over 300 lines, kept whole: the views, what builds them and the
outcome's order of sections are the one vocabulary the three adapters share.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from types import MappingProxyType
from typing import Any

from bot.core.dates import long_date, source_date
from bot.core.engine import Decision, Question, Session
from bot.core.languages import N_, Translator
from bot.core.table import Table

__all__ = [
    "CONFIDENCE_LABELS",
    "VERDICT_LABELS",
    "ActionView",
    "AnswerView",
    "Bullet",
    "HelpView",
    "ItemView",
    "OptionView",
    "OutcomeView",
    "Paragraph",
    "QuestionView",
    "Section",
    "SectionItem",
    "SourceView",
    "Verdict",
    "answers_view",
    "outcome_sections",
    "outcome_view",
    "question_view",
]

VERDICT_LABELS = {
    "not_affected": N_("The requirement does not apply to you"),
    "affected": N_("The requirement applies to you"),
    "requirement_met": N_("The requirement applies, and you meet it"),
    "unclear": N_("Unclear: the sources do not settle it"),
}

CONFIDENCE_LABELS = {
    "high": N_("high — official explanation and several sources agree"),
    "medium": N_("medium — reported by news or lawyers, not confirmed officially"),
    "low": N_("low — sources are missing or unclear"),
}


# The views ------------------------------------------------------------------------------------
# Field order is the order of the keys in `maslahat advise --json` (documented in README.md); a
# field that is None is left out of the JSON.


@dataclass(frozen=True)
class OptionView:
    """One answer a question accepts: its id, its label and the hint explaining it (None if none)."""

    id: str
    label: str
    hint: str | None = None


@dataclass(frozen=True)
class QuestionView:
    """A question as a person reads it: its text, its position and its options in table order."""

    id: str
    text: str
    number: int
    of_about: int
    options: tuple[OptionView, ...]

    def to_json(self) -> dict[str, Any]:
        """The question as JSON data, in the shape ``maslahat advise --json`` documents."""
        return _json(self)


@dataclass(frozen=True)
class ItemView:
    """An entry of a list in the outcome: a document that satisfies the requirement, a note or an unknown."""

    id: str
    text: str


@dataclass(frozen=True)
class ActionView:
    """An option the person has, and what it risks."""

    id: str
    text: str
    risk: str


@dataclass(frozen=True)
class SourceView:
    """A source the outcome rests on: its title, address and date."""

    id: str
    title: str
    url: str
    date: str  # as the table gives it: "YYYY", "YYYY-MM" or "YYYY-MM-DD"
    date_text: str  # the same date in words, in the person's language
    grade: str  # A official text, B a state body, C established media, D weak


@dataclass(frozen=True)
class HelpView:
    """Where to get help: a name, what they help with, and an address if there is one."""

    id: str
    name: str
    text: str
    url: str | None = None


@dataclass(frozen=True)
class OutcomeView:
    """The outcome as translated data: the verdict, why, and everything a person must read with it."""

    id: str
    verdict: str
    verdict_label: str
    headline: str
    explanation: str
    confidence: str
    confidence_label: str
    rules: tuple[str, ...]
    satisfies: tuple[ItemView, ...]
    actions: tuple[ActionView, ...]
    notes: tuple[ItemView, ...]
    unknown: tuple[ItemView, ...]
    sources: tuple[SourceView, ...]
    help: tuple[HelpView, ...]
    checked: str  # ISO date
    newest_source: str  # "YYYY", "YYYY-MM" or "YYYY-MM-DD"
    disclaimer: str
    answers: Mapping[str, str]  # fact id -> option id, in the order they were asked

    def to_json(self) -> dict[str, Any]:
        """The outcome as JSON data, in the shape ``maslahat advise --json`` documents."""
        return _json(self)


@dataclass(frozen=True)
class AnswerView:
    """An answer given so far: the question and the label of the option chosen."""

    id: str
    question: str
    answer: str


def question_view(question: Question, t: Translator) -> QuestionView:
    """The question as translated data: id, text, position and options."""
    fact = question.fact
    return QuestionView(
        id=fact.id,
        text=t.gettext(fact.question),
        number=question.number,
        of_about=question.of_about,
        options=tuple(
            OptionView(o.id, t.gettext(o.label), t.gettext(o.hint) if o.hint else None) for o in fact.options
        ),
    )


def outcome_view(table: Table, decision: Decision, session: Session, t: Translator) -> OutcomeView:
    """The outcome as translated data, with the notes, sources and help that apply to these answers."""
    outcome = decision.outcome
    answers = session.answers
    notes = table.shown_notes(outcome, answers)
    helps = table.shown_help(outcome, answers)
    source_ids = dict.fromkeys(  # each source once, where it is first named
        [
            *outcome.sources,
            *(s for r in decision.rules for s in r.sources),
            *(s for n in notes for s in n.sources),
            *(s for d in outcome.satisfies for s in table.documents[d].sources),
            *(s for h in helps for s in h.sources),
        ]
    )
    return OutcomeView(
        id=outcome.id,
        verdict=outcome.verdict,
        verdict_label=t.gettext(VERDICT_LABELS[outcome.verdict]),
        headline=t.gettext(outcome.headline),
        explanation=t.gettext(outcome.explanation),
        confidence=decision.confidence,
        confidence_label=t.gettext(CONFIDENCE_LABELS[decision.confidence]),
        rules=tuple(r.id for r in decision.rules),
        satisfies=tuple(ItemView(d, t.gettext(table.documents[d].text)) for d in outcome.satisfies),
        actions=tuple(
            ActionView(a, t.gettext(table.actions[a].text), t.gettext(table.actions[a].risk)) for a in outcome.actions
        ),
        notes=tuple(ItemView(n.id, t.gettext(n.text)) for n in notes),
        unknown=tuple(ItemView(u, t.gettext(table.unknowns[u].text)) for u in outcome.unknown),
        sources=tuple(
            SourceView(
                s,
                t.gettext(table.sources[s].title),
                table.sources[s].url,
                table.sources[s].date,
                source_date(table.sources[s].date, t),
                table.sources[s].grade,
            )
            for s in source_ids
        ),
        help=tuple(HelpView(h.id, t.gettext(h.name), t.gettext(h.text), h.url or None) for h in helps),
        checked=outcome.checked.isoformat(),
        newest_source=table.meta.newest_source,
        disclaimer=t.gettext(table.meta.disclaimer),
        answers=MappingProxyType(dict(answers)),
    )


def answers_view(table: Table, answers: Mapping[str, str], t: Translator) -> list[AnswerView]:
    """The answers given so far, as question and chosen label, for a summary."""
    shown = []
    for fact_id, option_id in answers.items():
        fact = table.fact_index[fact_id]
        option = fact.option(option_id)
        if option is not None:
            shown.append(AnswerView(fact_id, t.gettext(fact.question), t.gettext(option.label)))
    return shown


# The outcome's sections -------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """The outcome's opening: the verdict and the one sentence that says it for this person."""

    label: str
    headline: str


@dataclass(frozen=True)
class Paragraph:
    """Running text; an aside (how sure we are, the disclaimer) is set apart where the medium can."""

    text: str
    aside: bool = False


@dataclass(frozen=True)
class Bullet:
    """An entry of a list, with a line set apart under it if it has one (an option's risk)."""

    text: str
    detail: str | None = None


#: What a section holds; each renderer lays out every kind.
SectionItem = Verdict | Paragraph | Bullet | SourceView | HelpView


@dataclass(frozen=True)
class Section:
    """One part of the outcome: an id (stable, for code), a translated title ("" for none) and its items."""

    id: str
    title: str
    items: tuple[SectionItem, ...]


def outcome_sections(view: OutcomeView, t: Translator) -> list[Section]:
    """The outcome's sections in the order a person should read them, leaving out those with nothing to say."""
    how_sure = t.gettext("How sure we are: {confidence}").format(confidence=view.confidence_label)
    checked = t.gettext("Checked on {date}. The newest source found is from {newest}.").format(
        date=long_date(dt.date.fromisoformat(view.checked), t), newest=source_date(view.newest_source, t)
    )
    sections = [
        Section("verdict", "", (Verdict(view.verdict_label, view.headline),)),
        Section("why", t.gettext("Why"), (Paragraph(view.explanation), Paragraph(how_sure, aside=True))),
        Section(
            "satisfies", t.gettext("What satisfies the requirement"), tuple(Bullet(i.text) for i in view.satisfies)
        ),
        Section(
            "options",
            t.gettext("Your options and their risks"),
            tuple(Bullet(a.text, t.gettext("Risk: {risk}").format(risk=a.risk)) for a in view.actions),
        ),
        Section("notes", t.gettext("Also important for you"), tuple(Bullet(n.text) for n in view.notes)),
        Section("unknown", t.gettext("What is not known"), tuple(Bullet(u.text) for u in view.unknown)),
        Section("sources", t.gettext("Sources"), view.sources),
        Section("help", t.gettext("Where to get help"), view.help),
        # The date checked and the disclaimer close every outcome together, under no title.
        Section("checked", "", (Paragraph(checked), Paragraph(view.disclaimer, aside=True))),
    ]
    return [s for s in sections if s.items]


def _json(value: object) -> Any:
    """A view as JSON data: dataclasses as objects in field order, without their None fields."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _json(v) for f in fields(value) if (v := getattr(value, f.name)) is not None}
    if isinstance(value, tuple):
        return [_json(v) for v in value]
    if isinstance(value, Mapping):
        return {key: _json(v) for key, v in value.items()}
    return value
