"""What each Telegram screen shows: HTML text and buttons, as plain data (no Telegram types).

Every text is escaped for Telegram's HTML parse mode. Each screen is one message: bot.telegram.fit
sees that every screen of an outcome fits Telegram's 4096 characters, and one that does not all
the same is cut in whole words (bot.telegram.html). Buttons carry ids only (see
bot.telegram.callbacks). About 410 lines: one short function per screen, beside the layout rules
(label widths, rows by width) they all use.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from html import escape
from typing import assert_never

from bot.core.dates import long_date, source_date
from bot.core.engine import Question, Session
from bot.core.languages import LANGUAGES, N_, Translator
from bot.core.present import (
    Bullet,
    HelpView,
    OutcomeView,
    Paragraph,
    Section,
    SectionItem,
    SourceView,
    Verdict,
    answers_view,
    outcome_sections,
)
from bot.core.table import Table
from bot.telegram.callbacks import Press, encode
from bot.telegram.glyphs import WIDTHS
from bot.telegram.html import LIMIT, cut_html, split_html

__all__ = [
    "LIMIT",
    "Button",
    "Screen",
    "about_screen",
    "answers_screen",
    "card_screen",
    "forgotten_screen",
    "help_screen",
    "label_width",
    "language_screen",
    "outcome_screens",
    "privacy_screen",
    "question_screen",
    "rows_by_width",
    "section_screen",
    "section_texts",
    "split_html",
    "welcome_screen",
]

# Translators: the bot's one-line description of itself, shown in the welcome message.
WELCOME = N_(
    "I answer, in a few questions, whether Russia's Decree 821 requires a Russian military document from you "
    "before you apply for a residence permit or citizenship. I do not ask for or store your name. "
    "This is information, not legal advice."
)
CHOOSE_LANGUAGE = N_("Choose your language:")
# Translators: button label, keep under 30 characters.
START = N_("Start")
# Translators: button label, keep under 30 characters.
BACK = N_("◀ Back")
# Translators: button label, keep under 30 characters.
START_OVER = N_("↺ Start over")
# Translators: button label under /help, /about and /privacy, back to the question; keep under 30 characters.
CONTINUE = N_("▶ Continue")
# Translators: button label, keep under 30 characters.
CHANGE_LANGUAGE = N_("🌐 Language")
# Translators: button label, keep under 30 characters.
SHARE = N_("Share the bot")
# Translators: text suggested when a person shares the bot with others.
SHARE_TEXT = N_("Does Decree 821 apply to you? This bot explains it in your language, with sources.")
YOUR_ANSWERS = N_("Your answers:")
# Translators: button label under a question whose answers need explaining; keep under 30 characters.
HINTS_BUTTON = N_("ℹ️ What the answers mean")
# Translators: the last line of the outcome's card; {date} is a date in words.
INFORMATION = N_("This is information, not legal advice. Checked on {date}.")
# Translators: button label under a section of the result, back to the short answer; keep under 30 characters.
BACK_TO_CARD = N_("◀ Back to the answer")

#: Tells the four verdicts apart at a glance, the same in every language.
VERDICT_MARKERS = {"not_affected": "✅", "requirement_met": "☑️", "affected": "⚠️", "unclear": "❓"}

log = logging.getLogger(__name__)

#: Sections that open with another's button: what is not known with why, the date checked and the
#: full disclaimer with the sources.
_OPENED_WITH = {"unknown": "why", "checked": "sources"}

#: Short labels of the card's buttons (one opening a section not listed has the section's title).
SECTION_BUTTONS = {
    # Translators: button label under the result, opens why, how sure and what is not known; at most 20 characters.
    "why": N_("Why · how sure"),
    # Translators: button label under the result, opens what satisfies the requirement; at most 20 characters.
    "satisfies": N_("What counts"),
    # Translators: button label under the result, opens the options and their risks; at most 20 characters.
    "options": N_("Options and risks"),
    # Translators: button label under the result, opens notes for the person's country; at most 20 characters.
    "notes": N_("Also for you"),
    # Translators: button label under the result, opens the sources, date checked, disclaimer; at most 20 characters.
    "sources": N_("Sources"),
    # Translators: button label under the result, opens where to get help; at most 20 characters.
    "help": N_("Get help"),
}


@dataclass(frozen=True)
class Button:
    """An inline button: a label and either callback data or a URL."""

    label: str
    data: str = ""
    url: str = ""


@dataclass(frozen=True)
class Screen:
    """One message: HTML text and rows of buttons."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = field(default=())


def _b(text: str) -> str:
    return f"<b>{escape(text)}</b>"


# Keyboards laid out by width: Telegram for Android on a 360-px-wide phone shares a row between its
# buttons equally and cuts a label that does not fit its share with "…". Measured in Chromium with
# the phone's font (tests/support/phone.py): the keyboard is at most 343 px wide, its buttons 5 px
# apart with 8 px of padding each side of the label.
_KEYBOARD, _GAP, _PADDING = 343.0, 5.0, 16.0
#: A character never measured (a new script in a translation) counts as the widest one.
_UNMEASURED = max(WIDTHS.values())


def label_width(label: str) -> float:
    """How wide ``label`` is on the phone's button, in px (the sum of its characters' widths)."""
    return sum(WIDTHS.get(char, _UNMEASURED) for char in label)


def _fit(labels: list[str]) -> bool:
    """Whether these labels, as one row, each fit their share of it (with 3 % to spare)."""
    share = (_KEYBOARD - _GAP * (len(labels) - 1)) / len(labels) - _PADDING
    return all(label_width(label) * 1.03 <= share for label in labels)


def rows_by_width(buttons: list[Button], most: int) -> tuple[tuple[Button, ...], ...]:
    """``buttons`` in order, as many to a row (at most ``most``) as fit without cutting a label."""
    rows: list[list[Button]] = []
    for button in buttons:
        if rows and len(rows[-1]) < most and _fit([b.label for b in [*rows[-1], button]]):
            rows[-1].append(button)
        else:
            rows.append([button])
    return tuple(tuple(row) for row in rows)


def welcome_screen(t: Translator, version: str) -> Screen:
    """The first message: what the bot does, a language picker, and Start."""
    text = f"{escape(t.gettext(WELCOME))}\n\n{escape(t.gettext(CHOOSE_LANGUAGE))}"
    return Screen(text, (*_language_rows(version, t.lang), (Button(t.gettext(START), encode(Press.BEGIN, version)),)))


def language_screen(t: Translator, version: str) -> Screen:
    """The language picker, each language in its own name."""
    return Screen(escape(t.gettext(CHOOSE_LANGUAGE)), _language_rows(version, t.lang))


def _language_rows(version: str, current: str) -> tuple[tuple[Button, ...], ...]:
    buttons = [
        Button(("✓ " if code == current else "") + name, encode(Press.LANGUAGE, version, code))
        for code, name in LANGUAGES.items()
    ]
    return rows_by_width(buttons, most=2)


def question_screen(
    question: Question, t: Translator, version: str, *, can_go_back: bool, hints: bool = False
) -> Screen:
    """A question with its answers' buttons, two to a row where they fit, and Back / Start over / Language.

    What the answers mean (their hints) would push the answers off a phone's screen: they come on
    pressing ℹ️ (``hints``), in place, above the same buttons.
    """
    fact = question.fact
    lines = [
        escape(t.gettext("Question {number} of about {total}").format(number=question.number, total=question.of_about)),
        _b(t.gettext(fact.question)),
    ]
    explained = [o for o in fact.options if o.hint]
    if hints and explained:
        lines.append("\n".join(f"• {_b(t.gettext(o.label))}: {escape(t.gettext(o.hint))}" for o in explained))
    answers = [Button(t.gettext(o.label), encode(Press.ANSWER, version, fact.id, o.id)) for o in fact.options]
    explain = () if hints or not explained else ((Button(t.gettext(HINTS_BUTTON), encode(Press.HINTS, version)),),)
    navigation = [
        Button(t.gettext(START_OVER), encode(Press.START_OVER, version)),
        Button(t.gettext(CHANGE_LANGUAGE), encode(Press.MENU, version)),
    ]
    if can_go_back:
        navigation.insert(0, Button(t.gettext(BACK), encode(Press.BACK, version)))
    rows = (*rows_by_width(answers, most=2), *explain, *rows_by_width(navigation, most=3))
    return Screen("\n\n".join(lines), rows)


def answers_screen(table: Table, session: Session, t: Translator) -> Screen:
    """The record of answers left in place of the last question, without buttons."""
    lines = [_b(t.gettext(YOUR_ANSWERS))]
    lines += [f"• {escape(a.question)} — {escape(a.answer)}" for a in answers_view(table, session.answers, t)]
    return Screen("\n".join(lines))


def outcome_screens(view: OutcomeView, t: Translator, version: str) -> list[Screen]:
    """The outcome as it arrives: one card that fits a phone's screen, every section a button away.

    The card says the verdict (its marker, the same in every language), the consequence for this
    person in one sentence, and that this is information checked on a date. The sections of
    present.outcome_sections open in place of the card, a few together (:func:`section_screen`).
    """
    return [card_screen(view, t, version)]


def _groups(view: OutcomeView, t: Translator) -> dict[str, list[Section]]:
    """The outcome's sections by the card's button that opens them, in the order the buttons come."""
    groups: dict[str, list[Section]] = {}
    for section in outcome_sections(view, t):
        if section.id != "verdict":
            groups.setdefault(_OPENED_WITH.get(section.id, section.id), []).append(section)
    return groups


def card_screen(view: OutcomeView, t: Translator, version: str) -> Screen:
    """The outcome's card: the answer first, every section on a button under it."""
    checked = t.gettext(INFORMATION).format(date=long_date(dt.date.fromisoformat(view.checked), t))
    text = f"{VERDICT_MARKERS[view.verdict]} {_b(view.headline)}\n\n<i>{escape(checked)}</i>"
    opening = [
        Button(_label(button, sections, t), encode(Press.SECTION, version, button))
        for button, sections in _groups(view, t).items()
    ]
    navigation = [
        Button(t.gettext(BACK), encode(Press.BACK, version)),
        Button(t.gettext(START_OVER), encode(Press.START_OVER, version)),
    ]
    return Screen(text, (*rows_by_width(opening, most=2), *rows_by_width(navigation, most=2)))


def section_screen(view: OutcomeView, button: str, t: Translator, version: str, share_url: str) -> Screen:
    """What a button of the card opens, in place of the card, with a way back; the card for ``"card"``.

    An id the card has no button for (a forged one, or an outcome that changed) shows the card.
    Sharing the bot is offered under where to get help.
    """
    sections = _groups(view, t).get(button)
    if not sections:
        return card_screen(view, t, version)
    text = _section_text(view, button, sections, t)
    back = Button(t.gettext(BACK_TO_CARD), encode(Press.SECTION, version, "card"))
    rows = ((back, Button(t.gettext(SHARE), url=share_url)),) if button == "help" else ((back,),)
    if len(text) > LIMIT:
        # `maslahat check` and a reload refuse such content (bot.telegram.fit); a start-up does not look.
        # Which outcome and language would hint at this person's answers: check names them instead.
        log.warning("a %r screen was cut to fit one message; `maslahat check` says which", button)
    return Screen(cut_html(text), rows)


def section_texts(view: OutcomeView, t: Translator) -> dict[str, str]:
    """The whole text of every screen the card's buttons open, by button (for bot.telegram.fit)."""
    return {button: _section_text(view, button, sections, t) for button, sections in _groups(view, t).items()}


def _section_text(view: OutcomeView, button: str, sections: list[Section], t: Translator) -> str:
    """The text of the screen ``button`` opens: its title, the first section under it, each further one titled."""
    title = f"{VERDICT_MARKERS[view.verdict]} {_b(_label(button, sections, t))}"
    bodies = [
        "\n".join([*([_b(section.title)] if i and section.title else []), *map(_outcome_item, section.items)])
        for i, section in enumerate(sections)
    ]
    return f"{title}\n" + "\n\n".join(bodies)


def _label(button: str, sections: list[Section], t: Translator) -> str:
    """A card button's label (and the title of what it opens): a short one, else the first section's title."""
    return t.gettext(SECTION_BUTTONS[button]) if button in SECTION_BUTTONS else sections[0].title


def _outcome_item(item: SectionItem) -> str:
    """One item of an outcome's section as Telegram HTML."""
    match item:
        case Verdict():
            return f"{_b(item.label)}\n\n{_b(item.headline)}"
        case Paragraph():
            return f"<i>{escape(item.text)}</i>" if item.aside else escape(item.text)
        case Bullet():
            detail = f"\n   <i>{escape(item.detail)}</i>" if item.detail is not None else ""
            return f"• {escape(item.text)}{detail}"
        case SourceView():
            return f'• <a href="{escape(item.url)}">{escape(item.title)}</a> ({escape(item.date_text)})'
        case HelpView():
            # The name is the link: a raw address is long, wraps badly and says nothing to a reader.
            name = f'<a href="{escape(item.url)}">{escape(item.name)}</a>' if item.url else escape(item.name)
            return f"• {name}. {escape(item.text)}"
        case _:
            assert_never(item)


def _onward(t: Translator, version: str) -> tuple[tuple[Button, ...], ...]:
    """The one button under a reading screen: back to the question (or the outcome) the person is at."""
    return ((Button(t.gettext(CONTINUE), encode(Press.RESUME, version)),),)


def help_screen(t: Translator, version: str) -> Screen:
    """How to use the bot, and its commands."""
    lines = [escape(t.gettext("Answer the questions with the buttons under each question.")), ""]
    lines += [f"/{name} — {escape(t.gettext(description))}" for name, description in COMMANDS]
    return Screen("\n".join(lines), _onward(t, version))


def about_screen(table: Table, t: Translator, version: str) -> Screen:
    """What the bot is, which rule table it uses and when that was checked, and the sources."""
    meta = table.meta
    lines = [
        escape(t.gettext("Maslahat tells migrants in Russia, in their language, whether Decree 821 applies to them.")),
        escape(
            # No version string in front of a person: operators read it with /version.
            t.gettext("Rules: {title}, checked on {date}.").format(
                title=t.gettext(meta.title), date=long_date(meta.checked, t)
            )
        ),
        "",
        _b(t.gettext("Sources")),
    ]
    lines += [
        f'• <a href="{escape(s.url)}">{escape(t.gettext(s.title))}</a> ({escape(source_date(s.date, t))})'
        for s in table.sources.values()
    ]
    lines += ["", f"<i>{escape(t.gettext(meta.disclaimer))}</i>"]
    return Screen("\n".join(lines), _onward(t, version))


def privacy_screen(t: Translator, retention_days: int, version: str) -> Screen:
    """What is stored, for how long, how to delete it, and Telegram's auto-delete timer."""
    paragraphs = [
        t.gettext(
            "What I store: your language, your answers to these questions, the current question and the time "
            "of your last message. No name, username, phone number or message text."
        ),
        t.ngettext(
            "It is deleted automatically {days} day after your last message.",
            "It is deleted automatically {days} days after your last message.",
            retention_days,
        ).format(days=retention_days),
        t.gettext("Send /forget to delete it now."),
        t.gettext(
            "Telegram keeps the messages of this chat on its servers and on your devices; I do not keep them. "
            "To have Telegram delete them automatically, open this chat, tap the bot's name at the top and "
            "turn on auto-delete."
        ),
    ]
    return Screen("\n\n".join(escape(p) for p in paragraphs), _onward(t, version))


def confirm_start_screen(t: Translator, version: str) -> Screen:
    """/start in the middle of a conversation: go on, or really start over; each button on a row of its own."""
    buttons = (
        (Button(t.gettext(CONTINUE), encode(Press.RESUME, version)),),
        (Button(t.gettext(START_OVER), encode(Press.START_OVER, version)),),
    )
    return Screen(escape(t.gettext(CONFIRM_START)), buttons)


def forgotten_screen(t: Translator, version: str) -> Screen:
    """Everything stored is deleted; one button begins again."""
    return Screen(escape(t.gettext(FORGOTTEN)), ((Button(t.gettext(START), encode(Press.BEGIN, version)),),))


# The command menu, in the order Telegram shows it.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Begin")),
    ("back", N_("Go back one question")),
    ("restart", N_("Start over")),
    ("language", N_("Change the language")),
    ("help", N_("How to use the bot")),
    ("about", N_("About the bot and its sources")),
    ("privacy", N_("What is stored about you")),
    ("forget", N_("Delete everything stored about you")),
)

# Short notices (the ones a move decides are in bot.core.moves).
# Translators: {link} is a link to the bot's private chat.
PRIVATE_ONLY = N_("I only talk in a private chat, so your answers stay private: {link}")
STORE_UNAVAILABLE = N_("I cannot reach my memory right now. Please try again in a minute.")
SOMETHING_WRONG = N_("Something went wrong. Please try again, or send /restart.")
UNKNOWN_COMMAND = N_("I don't know this command. Send /help to see what I can do.")
FORGOTTEN = N_("Everything stored about you has been deleted. Send /start to begin again.")
CONFIRM_START = N_("Start over? Your answers so far will be deleted.")
# Translators: the bot's description in Telegram, at most 512 characters.
DESCRIPTION = N_(
    "Maslahat answers, in a few questions and in your language, whether Russia's Decree 821 of 5 November 2025 "
    "requires a Russian military document from you before you apply for a residence permit or citizenship, what your "
    "options are and what each risks. With sources. No names are stored. Information, not legal advice."
)
# Translators: the bot's short description in Telegram, at most 120 characters.
SHORT_DESCRIPTION = N_("Does Decree 821 apply to you? Plain answers with sources, in your language.")
