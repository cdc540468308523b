"""The conversation in a terminal: numbered choices, b back, r restart, q quit."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import Any

from bot.core.engine import Decision, Engine, Question, Session
from bot.core.languages import Translator
from bot.core.present import outcome_view, question_view

__all__ = ["format_outcome", "format_question", "run_chat"]

_WIDTH = 78
# The keys a person types; shown through placeholders so translations need no Latin letters.
_KEYS = {"back": "b", "restart": "r", "quit": "q"}


def format_question(view: dict[str, Any], t: Translator) -> str:
    """A question with numbered options, ready to print."""
    lines = [
        t.gettext("Question {number} of about {total}").format(number=view["number"], total=view["of_about"]),
        view["text"],
    ]
    for index, option in enumerate(view["options"], start=1):
        number = f"  {index}. "
        lines.append(f"{number}{option['label']}")
        if "hint" in option:
            indent = " " * len(number)  # under the label, also for options 10 and up
            lines.extend(
                textwrap.wrap(
                    option["hint"],
                    _WIDTH,
                    initial_indent=indent,
                    subsequent_indent=indent,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
    return "\n".join(lines)


def format_outcome(view: dict[str, Any], t: Translator) -> str:
    """An outcome as readable plain text, in the order a person should read it."""
    out: list[str] = []

    def para(text: str, indent: str = "") -> None:
        out.extend(
            textwrap.wrap(
                text,
                _WIDTH,
                initial_indent=indent,
                subsequent_indent=" " * len(indent),
                break_long_words=False,
                break_on_hyphens=False,
            )
        )

    def section(title: str) -> None:
        out.extend(["", title])

    out.append(f"== {view['verdict_label']} ==")
    para(view["headline"])
    section(t.gettext("Why"))
    para(view["explanation"])
    para(t.gettext("How sure we are: {confidence}").format(confidence=view["confidence_label"]))
    if view["satisfies"]:
        section(t.gettext("What satisfies the requirement"))
        for item in view["satisfies"]:
            para(item["text"], "- ")
    if view["actions"]:
        section(t.gettext("Your options and their risks"))
        for item in view["actions"]:
            para(item["text"], "- ")
            para(t.gettext("Risk: {risk}").format(risk=item["risk"]), "    ")
    if view["notes"]:
        section(t.gettext("For citizens of your country"))
        for item in view["notes"]:
            para(item["text"], "- ")
    if view["unknown"]:
        section(t.gettext("What is not known"))
        for item in view["unknown"]:
            para(item["text"], "- ")
    section(t.gettext("Sources"))
    for item in view["sources"]:
        para(f"{item['title']} ({item['date']}): {item['url']}", "- ")
    if view["help"]:
        section(t.gettext("Where to get help"))
        for item in view["help"]:
            text = f"{item['name']}. {item['text']}" + (f" {item['url']}" if "url" in item else "")
            para(text, "- ")
    out.append("")
    para(t.gettext("Information checked on {date}.").format(date=view["checked"]))
    para(view["disclaimer"])
    return "\n".join(out)


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
