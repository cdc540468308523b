"""`maslahat preview`: the screens a person sees, as a phone-width HTML page in Telegram's look.

For translators and reviewers: a translation read in context, on a phone's width, without a bot
or a token. With answers, the questions they lead through and where they end (the card, and each
part the card opens); with none, every outcome's card and parts. One phone per language, side by
side; each is bot.telegram.phone's page, the one the tests measure.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from html import escape
from pathlib import Path

from bot.core.engine import Decision, Engine, Question, Session
from bot.core.languages import LANGUAGES, Translator
from bot.core.present import outcome_view
from bot.core.table import Table
from bot.i18n.catalogs import Catalogs
from bot.telegram.callbacks import Press, decode, version_tag
from bot.telegram.phone import phone_page
from bot.telegram.screens import Screen, outcome_screens, question_screen, section_screen

__all__ = ["preview_page", "screens_for", "write_preview"]

#: Where the card's Share button points in a preview (the bot's own address is known only when it runs).
SHARE = "https://t.me/share/url?url=https%3A//t.me/maslahat_bot"


def screens_for(engine: Engine, t: Translator, answers: Mapping[str, str]) -> list[tuple[str, list[Screen]]]:
    """What a person sees, as (caption, screens): each question on the way, then the outcome's card and parts.

    With no answers, every outcome, each reached by the first conversation that reaches it.

    Raises:
        EngineError: an answer names an unknown fact or option.
    """
    version = version_tag(engine.table.version_tag)
    if not answers:
        return [_outcome(engine, t, session, decision, version) for session, decision in _each_outcome(engine)]
    session, _ = engine.from_answers(answers, t.lang)
    shown: list[tuple[str, list[Screen]]] = []
    walk = engine.new_session(t.lang)
    while isinstance(step := engine.step(walk), Question):
        screens = [question_screen(step, t, version, can_go_back=bool(walk.answers))]
        if any(option.hint for option in step.fact.options):
            screens.append(question_screen(step, t, version, can_go_back=bool(walk.answers), hints=True))
        shown.append((step.fact.id, screens))
        if step.fact.id not in session.answers:
            return shown  # the answers stop here
        walk = engine.answer(walk, step.fact.id, session.answers[step.fact.id])
    return [*shown, _outcome(engine, t, walk, step, version)]


def _each_outcome(engine: Engine) -> Iterator[tuple[Session, Decision]]:
    seen: set[str] = set()
    for session, decision in engine.conversations():
        if decision.outcome.id not in seen:
            seen.add(decision.outcome.id)
            yield session, decision


def _outcome(
    engine: Engine, t: Translator, session: Session, decision: Decision, version: str
) -> tuple[str, list[Screen]]:
    view = outcome_view(engine.table, decision, session, t)
    [card] = outcome_screens(view, t, version)
    parts = [decode(b.data) for row in card.buttons for b in row if b.data]
    opened = [section_screen(view, p.args[0], t, version, SHARE) for p in parts if p.kind is Press.SECTION]
    return decision.outcome.id, [card, *opened]


def preview_page(table: Table, catalogs: Catalogs, langs: Sequence[str], answers: Mapping[str, str]) -> str:
    """One HTML page: a phone per language and per part of the conversation, each in its own frame."""
    engine = Engine(table)
    columns = []
    for lang in langs:
        t = catalogs.translator(lang)
        phones = [
            f"<figure><figcaption>{escape(LANGUAGES[lang])} · {escape(caption)}</figcaption>"
            f'<iframe srcdoc="{escape(phone_page(screens, title="Maslahat", lang=lang))}"></iframe></figure>'
            for caption, screens in screens_for(engine, t, answers)
        ]
        columns.append(f'<section lang="{escape(lang)}">{"".join(phones)}</section>')
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Maslahat preview</title><style>'
        "body{margin:16px;font-family:sans-serif;background:#eee}main{display:flex;gap:24px;align-items:start}"
        "section{display:grid;gap:16px}figure{margin:0}figcaption{font-size:13px;margin-bottom:4px}"
        "iframe{width:360px;height:640px;border:1px solid #999;background:#fff}"
        f"</style></head><body><h1>{escape(table.meta.title)} · {escape(table.meta.version)}</h1>"
        f"<main>{''.join(columns)}</main></body></html>\n"
    )


def write_preview(
    table: Table, locales: Path, langs: Sequence[str], answers: Mapping[str, str], output: Path | None
) -> str:
    """Build the page and write it to ``output`` (standard output if None); return where it went."""
    page = preview_page(table, Catalogs.load(locales), langs, answers)
    if output is None:
        print(page, end="")
        return "standard output"
    output.write_text(page, encoding="utf-8")
    return str(output)
