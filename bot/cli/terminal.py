"""The conversation in a terminal: numbered choices, b back, r restart, q quit."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import assert_never

from bot.core.engine import Decision, Engine, Question, Session
from bot.core.languages import Translator
from bot.core.present import (
    Bullet,
    HelpView,
    OutcomeView,
    Paragraph,
    QuestionView,
    SourceView,
    Verdict,
    outcome_sections,
    outcome_view,
    question_view,
)

__all__ = ["format_outcome", "format_question", "run_chat"]

_WIDTH = 78
# The keys a person types; shown through placeholders so translations need no Latin letters.
_KEYS = {"back": "b", "restart": "r", "quit": "q"}


def format_question(view: QuestionView, t: Translator) -> str:
    """A question with numbered options, ready to print."""
    lines = [
        t.gettext("Question {number} of about {total}").format(number=view.number, total=view.of_about),
        view.text,
    ]
    for index, option in enumerate(view.options, start=1):
        number = f"  {index}. "
        lines.append(f"{number}{option.label}")
        if option.hint is not None:
            indent = " " * len(number)  # under the label, also for options 10 and up
            lines.extend(_wrap(option.hint, indent, indent))
    return "\n".join(lines)


def format_outcome(view: OutcomeView, t: Translator) -> str:
    """An outcome as readable plain text, its sections in the order present.outcome_sections gives."""
    out: list[str] = []

    def para(text: str, indent: str = "") -> None:
        out.extend(_wrap(text, indent, " " * len(indent)))

    for index, section in enumerate(outcome_sections(view, t)):
        if index:
            out.append("")
        if section.title:
            out.append(section.title)
        for item in section.items:
            match item:
                case Verdict():
                    out.append(f"== {item.label} ==")
                    para(item.headline)
                case Paragraph():
                    para(item.text)
                case Bullet():
                    para(item.text, "- ")
                    if item.detail is not None:
                        para(item.detail, "    ")
                case SourceView():
                    para(f"{item.title} ({item.date_text}): {item.url}", "- ")
                case HelpView():
                    para(f"{item.name}. {item.text}" + (f" {item.url}" if item.url else ""), "- ")
                case _:
                    assert_never(item)
    return "\n".join(out)


def _wrap(text: str, initial_indent: str, subsequent_indent: str) -> list[str]:
    """Lines of at most the terminal's width; words (and URLs) are never broken."""
    return textwrap.wrap(
        text,
        _WIDTH,
        initial_indent=initial_indent,
        subsequent_indent=subsequent_indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def run_chat(
    engine: Engine,
    t: Translator,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
) -> int:
    """Hold one conversation on a terminal until the person quits; return the exit code."""
    session: Session = engine.new_session(t.lang)
    write(t.gettext("Maslahat: a few questions on whether Decree 821 applies to you. No names are stored."))
    while True:
        step = engine.step(session)
        question = step if isinstance(step, Question) else None
        write("")
        if question is None:
            assert isinstance(step, Decision)
            write(format_outcome(outcome_view(engine.table, step, session, t), t))
            write(t.gettext("{back} = back, {restart} = start over, {quit} = quit").format(**_KEYS))
        else:
            write(format_question(question_view(question, t), t))
            write(t.gettext("Type a number. {back} = back, {restart} = start over, {quit} = quit").format(**_KEYS))
        try:
            reply = read("> ").strip().lower()
        except EOFError:
            return 0
        if reply == _KEYS["quit"]:
            return 0
        if reply == _KEYS["restart"]:
            session = engine.restart(session)
        elif reply == _KEYS["back"]:
            session = engine.back(session)
        elif question is None:
            write(t.gettext("Please type {back}, {restart} or {quit}.").format(**_KEYS))
        elif 1 <= (choice := _number(reply)) <= len(question.fact.options):
            session = engine.answer(session, question.fact.id, question.fact.options[choice - 1].id)
        else:
            count = len(question.fact.options)
            write(
                t.gettext("Please type a number from 1 to {count}, or {back}, {restart} or {quit}.").format(
                    count=count, **_KEYS
                )
            )


def _number(reply: str) -> int:
    """The number typed, or 0 if the reply is not a plain decimal number int() can read."""
    if not reply.isdecimal():  # isdigit() also accepts "²", which int() rejects
        return 0
    try:
        return int(reply)
    except ValueError:  # more digits than int() converts
        return 0
