"""What a plan shows, as screens: each sent as a new message or put in place of the pressed one.

Pure: no Telegram call is made here (bot.telegram.send makes them), so what a move shows can be
read, and tested, apart from how it is sent.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from bot.core.engine import Question, Session
from bot.core.languages import Translator
from bot.core.moves import Plan, Show
from bot.core.present import outcome_view
from bot.telegram import screens
from bot.telegram.runtime import Runtime
from bot.telegram.screens import Screen

__all__ = ["Reply", "plain", "render", "with_notice"]

#: What a plan that would change the pressed message shows when there is none to change.
_ANEW = {Show.IN_PLACE: Show.CURRENT, Show.MENU_IN_PLACE: Show.MENU, Show.WELCOME_IN_PLACE: Show.WELCOME}


@dataclass(frozen=True)
class Reply:
    """One screen to show: as a new message, or in place of the pressed message."""

    screen: Screen
    in_place: bool = False


def plain(text: str) -> Screen:
    """A screen of plain text (a notice), escaped for Telegram's HTML."""
    return Screen(escape(text))


def with_notice(replies: list[Reply], notice: str) -> list[Reply]:
    """``replies`` with ``notice`` (a translated sentence) opening the first, or alone if there are none."""
    if not replies:
        return [Reply(plain(notice))]
    first = replies[0]
    opened = dataclasses.replace(first.screen, text=f"<i>{escape(notice)}</i>\n\n{first.screen.text}")
    return [Reply(opened, first.in_place), *replies[1:]]


def render(rt: Runtime, plan: Plan, *, pressed: bool, bot_username: str) -> list[Reply]:
    """The replies that show what ``plan`` says, in order; in place only if a message was ``pressed``."""
    session = plan.session
    t = rt.t(session.lang)
    show = plan.show if pressed else _ANEW.get(plan.show, plan.show)
    if show is Show.CURRENT:
        return [Reply(screen) for screen in _where(rt, session)]
    if show is Show.IN_PLACE:
        if isinstance(rt.engine.step(session), Question):
            return [Reply(_where(rt, session)[0], in_place=True)]
        # The last question becomes the record of answers; the outcome comes below it.
        answers = Reply(screens.answers_screen(rt.engine.table, session, t), in_place=True)
        return [answers, *(Reply(screen) for screen in _where(rt, session))]
    if show in {Show.WELCOME, Show.WELCOME_IN_PLACE}:
        return [Reply(screens.welcome_screen(t, rt.version), in_place=show is Show.WELCOME_IN_PLACE)]
    if show in {Show.MENU, Show.MENU_IN_PLACE}:
        return [Reply(screens.language_screen(t, rt.version), in_place=show is Show.MENU_IN_PLACE)]
    if show is Show.HELP:
        return [Reply(screens.help_screen(t, rt.version))]
    if show is Show.ABOUT:
        return [Reply(screens.about_screen(rt.engine.table, t, rt.version))]
    if show is Show.PRIVACY:
        return [Reply(screens.privacy_screen(t, rt.settings.retention_days, rt.version))]
    if show is Show.FORGOTTEN:
        return [Reply(screens.forgotten_screen(t, rt.version))]
    if show is Show.HINTS:
        step = rt.engine.step(session)
        if not isinstance(step, Question):  # answered between the save and this (the outbox)
            return [Reply(screen) for screen in _where(rt, session)]
        screen = screens.question_screen(step, t, rt.version, can_go_back=bool(session.answers), hints=True)
        return [Reply(screen, in_place=pressed)]
    if show is Show.SECTION:
        return [Reply(_section(rt, session, plan.section, bot_username), in_place=pressed)]
    if show is Show.CONFIRM_START:
        return [Reply(screens.confirm_start_screen(t, rt.version))]
    return []  # Show.NOTHING


def _where(rt: Runtime, session: Session) -> list[Screen]:
    """The screens that show where the person is: the current question, or the outcome's card."""
    t = rt.t(session.lang)
    step = rt.engine.step(session)
    if isinstance(step, Question):
        return [screens.question_screen(step, t, rt.version, can_go_back=bool(session.answers))]
    view = outcome_view(rt.engine.table, step, session, t)
    return screens.outcome_screens(view, t, rt.version)


def _section(rt: Runtime, session: Session, section: str, bot_username: str) -> Screen:
    """A section of the person's outcome (the card for ``""``); where they are if that is a question."""
    t = rt.t(session.lang)
    step = rt.engine.step(session)
    if isinstance(step, Question):  # the outcome was left between the save and this (the outbox)
        return _where(rt, session)[0]
    view = outcome_view(rt.engine.table, step, session, t)
    return screens.section_screen(view, section or "card", t, rt.version, _share_url(t, bot_username))


def _share_url(t: Translator, bot_username: str) -> str:
    bot_link = f"https://t.me/{bot_username}"
    return f"https://t.me/share/url?url={quote(bot_link)}&text={quote(t.gettext(screens.SHARE_TEXT))}"
