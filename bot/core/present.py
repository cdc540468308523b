"""Turn engine results into plain, translated data that any adapter (CLI, JSON, Telegram) shows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from bot.core.engine import Decision, Question, Session
from bot.core.languages import N_, Translator
from bot.core.table import Table, holds

__all__ = ["CONFIDENCE_LABELS", "VERDICT_LABELS", "answers_view", "outcome_view", "question_view"]

VERDICT_LABELS = {
    "not_affected": N_("The requirement does not apply to you"),
    "affected": N_("The requirement applies to you"),
    "requirement_met": N_("The requirement applies, and you meet it"),
    "unclear": N_("Unclear: the sources do not settle it"),
}

CONFIDENCE_LABELS = {
    "high": N_("high: official explanation and several sources agree"),
    "medium": N_("medium: reported by news or lawyers, not confirmed officially"),
    "low": N_("low: sources are missing or unclear"),
}


def question_view(question: Question, t: Translator) -> dict[str, Any]:
    """The question as translated data: id, text, position and options."""
    fact = question.fact
    return {
        "id": fact.id,
        "text": t.gettext(fact.question),
        "number": question.number,
        "of_about": question.of_about,
        "options": [
            {"id": o.id, "label": t.gettext(o.label), **({"hint": t.gettext(o.hint)} if o.hint else {})}
            for o in fact.options
        ],
    }


def outcome_view(table: Table, decision: Decision, session: Session, t: Translator) -> dict[str, Any]:
    """The outcome as translated data, in the order a person should read it."""
    outcome = decision.outcome
    answers = session.answers
    notes = [n for n in table.notes if outcome.verdict in n.verdicts and holds(n.when, answers)]
    source_ids = _unique(
        [
            *outcome.sources,
            *(s for r in decision.rules for s in r.sources),
            *(s for n in notes for s in n.sources),
            *(s for d in outcome.satisfies for s in table.documents[d].sources),
        ]
    )
    helps = [table.help[h] for h in outcome.help if holds(table.help[h].when, answers)]
    return {
        "id": outcome.id,
        "verdict": outcome.verdict,
        "verdict_label": t.gettext(VERDICT_LABELS[outcome.verdict]),
        "headline": t.gettext(outcome.headline),
        "explanation": t.gettext(outcome.explanation),
        "confidence": decision.confidence,
        "confidence_label": t.gettext(CONFIDENCE_LABELS[decision.confidence]),
        "rules": [r.id for r in decision.rules],
        "satisfies": [{"id": d, "text": t.gettext(table.documents[d].text)} for d in outcome.satisfies],
        "actions": [
            {"id": a, "text": t.gettext(table.actions[a].text), "risk": t.gettext(table.actions[a].risk)}
            for a in outcome.actions
        ],
        "notes": [{"id": n.id, "text": t.gettext(n.text)} for n in notes],
        "unknown": [{"id": u, "text": t.gettext(table.unknowns[u].text)} for u in outcome.unknown],
        "sources": [
            {
                "id": s,
                "title": t.gettext(table.sources[s].title),
                "url": table.sources[s].url,
                "date": table.sources[s].date,
            }
            for s in source_ids
        ],
        "help": [
            {"id": h.id, "name": t.gettext(h.name), "text": t.gettext(h.text), **({"url": h.url} if h.url else {})}
            for h in helps
        ],
        "checked": outcome.checked.isoformat(),
        "disclaimer": t.gettext(table.meta.disclaimer),
        "answers": dict(answers),
    }


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def answers_view(table: Table, answers: Mapping[str, str], t: Translator) -> list[dict[str, str]]:
    """The answers given so far, as question and chosen label, for a summary."""
    shown = []
    for fact_id, option_id in answers.items():
        fact = table.fact_index[fact_id]
        option = fact.option(option_id)
        if option is not None:
            shown.append({"id": fact_id, "question": t.gettext(fact.question), "answer": t.gettext(option.label)})
    return shown
