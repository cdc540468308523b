"""Whether every screen an outcome's buttons open fits one Telegram message, in every language.

A screen opened in place of the card is one message, and Telegram refuses a message over
:data:`~bot.telegram.html.LIMIT` characters, so a longer one would be cut (bot.telegram.screens
logs it). Long sources lists come nearest: 3,105 characters of HTML, links included, for the
shipped table's longest, in Uzbek. An operator adding sources or a translator lengthening a text
learns it here, from `maslahat check`, `maslahat i18n check` and a reload, with the outcome's line.

Every conversation of the table is played, but a screen is measured once per language for each
different set of what it shows (about 150 views a language for the shipped table): a third of a
second, which is why a start-up does not look.
"""

from __future__ import annotations

from collections.abc import Hashable

from bot.core.engine import Decision, Engine, Session
from bot.core.languages import LANGUAGES, Translator
from bot.core.present import outcome_view
from bot.i18n.catalogs import Catalogs
from bot.problems import Problem
from bot.telegram.html import LIMIT
from bot.telegram.screens import section_texts

__all__ = ["screens_too_long"]


def screens_too_long(engine: Engine, catalogs: Catalogs) -> list[Problem]:
    """One problem for each outcome and button whose screen is over one message in some language."""
    table = engine.table
    too_long: dict[tuple[str, str], dict[str, int]] = {}  # (outcome, button) -> {language: length}
    views = _distinct(engine)
    for lang in LANGUAGES:
        t: Translator = catalogs.translator(lang)
        for session, decision in views:
            for button, text in section_texts(outcome_view(table, decision, session, t), t).items():
                if len(text) > LIMIT:
                    longest = too_long.setdefault((decision.outcome.id, button), {})
                    longest[lang] = max(len(text), longest.get(lang, 0))
    return [
        Problem(
            table.path,
            table.outcomes[outcome].line,
            f"outcome {outcome}",
            f"what its {button!r} button opens is "
            + ", ".join(f"{n:,} characters in {lang}" for lang, n in lengths.items())
            + f": one Telegram message holds {LIMIT:,} (as HTML, links included), so it would be cut; "
            "shorten its texts, or give it fewer sources or notes",
        )
        for (outcome, button), lengths in sorted(too_long.items())
    ]


def _distinct(engine: Engine) -> list[tuple[Session, Decision]]:
    """One conversation for each different outcome view: what decided it, notes and help shown."""
    table = engine.table
    found: dict[Hashable, tuple[Session, Decision]] = {}
    for session, decision in engine.conversations():
        outcome, answers = decision.outcome, session.answers
        key = (
            outcome.id,
            decision.confidence,
            tuple(rule.id for rule in decision.rules),
            tuple(note.id for note in table.shown_notes(outcome, answers)),
            tuple(entry.id for entry in table.shown_help(outcome, answers)),
        )
        found.setdefault(key, (session, decision))
    return list(found.values())
