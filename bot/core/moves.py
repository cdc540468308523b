"""What each button press or command does to a session, and what to show: pure, no Telegram.

A :class:`Plan` is decided from the stored session alone, so it can be saved with
compare-and-set before anything is shown, and decided again if another process wrote first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from bot.core.engine import Decision, Engine, EngineError, Session
from bot.core.languages import LANGUAGES, N_

__all__ = [
    "AT_OUTCOME",
    "FREE_TEXT",
    "INVALID",
    "INVALID_BUTTON",
    "STALE_BUTTON",
    "Callback",
    "Plan",
    "Press",
    "Show",
    "plan_command",
    "plan_press",
    "plan_start",
    "plan_text",
]

# Notices a move decides on (English msgids, translated when shown).
FREE_TEXT = N_("Please answer with the buttons under the question.")
AT_OUTCOME = N_("The result is above. Press Start over to begin again.")
# Translators: shown as a short pop-up, at most 200 characters.
STALE_BUTTON = N_("That button is from an earlier question. Here is the current one.")
# Translators: shown as a short pop-up, at most 200 characters.
INVALID_BUTTON = N_("That button does not work. Here is the current question.")


class Press(StrEnum):
    """What a button does. Each has a short wire code in bot.telegram.callbacks, which alone knows it."""

    ANSWER = "answer"  # arguments: the fact id and the option id
    BACK = "back"
    START_OVER = "start over"
    BEGIN = "begin"  # Start, under the welcome
    MENU = "menu"  # opens the language picker
    LANGUAGE = "language"  # argument: the language code
    RESUME = "resume"  # under /help, /about, /privacy: back to where the person is
    SECTION = "section"  # argument: a section of the outcome to open in place of the card, or "card"
    HINTS = "hints"  # ℹ️ under a question: the same question with what its answers mean
    INVALID = "invalid"  # data that does not parse; no button carries it


@dataclass(frozen=True)
class Callback:
    """A parsed button press: its kind, the table version it was made under, and its arguments.

    The wire format (callback data) is the Telegram adapter's: see bot.telegram.callbacks.
    """

    kind: Press
    version: str
    args: tuple[str, ...] = ()


#: Any button whose data does not parse: forged, broken or from a bot that no longer exists.
INVALID = Callback(Press.INVALID, "")


class Show(Enum):
    """What the person sees after the move."""

    NOTHING = "nothing"
    CURRENT = "current"  # the current question or the outcome, as new messages
    IN_PLACE = "in place"  # the pressed message becomes the current question (an outcome: new messages)
    WELCOME = "welcome"
    WELCOME_IN_PLACE = "welcome in place"
    MENU = "menu"  # the language picker, as a new message
    MENU_IN_PLACE = "menu in place"
    HELP = "help"
    ABOUT = "about"
    PRIVACY = "privacy"
    FORGOTTEN = "forgotten"
    CONFIRM_START = "confirm start"  # "Start over? Your answers so far will be deleted": Continue / Start over
    SECTION = "section"  # a section of the outcome (Plan.section; "" the card) in place of the pressed message
    HINTS = "hints"  # the current question with what its answers mean, in place of the pressed message


@dataclass(frozen=True)
class Plan:
    """The session after the move, whether it must be saved, what to show, and a notice."""

    session: Session
    show: Show
    notice: str = ""  # an English msgid, translated when shown
    save: bool = True
    forget: bool = False
    #: With Show.SECTION: which section of the outcome to open ("" or "card": the card itself).
    section: str = ""


def plan_start(engine: Engine, session: Session, payload: str) -> Plan:
    """/start [language]: a fresh conversation, in the language the link names if it names one.

    In the middle of a conversation (or at its outcome) it asks first: a /start sent from the menu
    or a shared link must not silently delete the person's answers. The language a link names is
    taken at once, the answers kept.
    """
    lang = next((code for code in LANGUAGES if code.lower() == payload.lower()), session.lang)
    if session.answers:
        return Plan(session.in_language(lang), Show.CONFIRM_START, save=lang != session.lang)
    return Plan(engine.restart(session.in_language(lang)), Show.WELCOME)


def plan_command(engine: Engine, session: Session, command: str, *, new: bool) -> Plan:
    """/back, /restart, /language, /help, /about, /privacy, /forget."""
    if command == "forget":
        return Plan(session, Show.FORGOTTEN, save=False, forget=True)
    if command == "back":
        return Plan(engine.back(session), Show.CURRENT)
    if command == "restart":
        return Plan(engine.restart(session), Show.CURRENT)
    shows = {"language": Show.MENU, "help": Show.HELP, "about": Show.ABOUT, "privacy": Show.PRIVACY}
    # Reading help stores nothing about someone the bot does not know yet.
    return Plan(session, shows[command], save=not new)


def plan_text(engine: Engine, session: Session, *, new: bool) -> Plan:
    """Anything but a button where a button is expected: a hint and the current screen."""
    if new:
        return Plan(session, Show.WELCOME)
    if isinstance(engine.step(session), Decision):
        return Plan(session, Show.NOTHING, notice=AT_OUTCOME, save=False)
    return Plan(session, Show.CURRENT, notice=FREE_TEXT, save=False)


def plan_press(engine: Engine, session: Session, pressed: Callback, version: str, *, on_welcome: bool) -> Plan:
    """A button press. An answer counts if its question is the current one and its option still exists,
    whichever table version the button was made under (a reload does not strand people mid-question);
    Back only under the current version; Start over and the language buttons work under any."""
    if pressed.kind is Press.INVALID:
        return Plan(session, Show.CURRENT, notice=INVALID_BUTTON, save=False)
    at_outcome = isinstance(engine.step(session), Decision)
    if pressed.kind is Press.BACK and pressed.version != version:
        return Plan(session, Show.CURRENT, notice=STALE_BUTTON, save=False)
    show = Show.CURRENT if at_outcome else Show.IN_PLACE
    if pressed.kind is Press.ANSWER:
        fact_id, option_id = pressed.args
        try:
            return Plan(engine.answer(session, fact_id, option_id), show)
        except EngineError:
            return Plan(session, Show.CURRENT, notice=STALE_BUTTON, save=False)
    if pressed.kind is Press.BACK:
        return Plan(engine.back(session), show)
    if pressed.kind in {Press.START_OVER, Press.BEGIN}:
        return Plan(engine.restart(session), show)
    if pressed.kind is Press.MENU:
        return Plan(session, Show.MENU if at_outcome else Show.MENU_IN_PLACE, save=False)
    if pressed.kind is Press.HINTS:
        if at_outcome:  # a question the person has since answered
            return Plan(session, Show.CURRENT, notice=STALE_BUTTON, save=False)
        return Plan(session, Show.HINTS, save=False)
    if pressed.kind is Press.SECTION:
        if not at_outcome:  # a card of an outcome the person has since left
            return Plan(session, Show.CURRENT, notice=STALE_BUTTON, save=False)
        return Plan(session, Show.SECTION, save=False, section=pressed.args[0])
    if pressed.kind is Press.RESUME:
        # The reading screen stays; where the person is (a question, or the outcome) comes below it.
        return Plan(session, Show.CURRENT, save=False)
    # Press.LANGUAGE: the callback parser refuses malformed codes; a well-formed unknown one changes nothing.
    lang = pressed.args[0] if pressed.args[0] in LANGUAGES else session.lang
    switched = session.in_language(lang)
    if on_welcome and not session.answers:
        return Plan(switched, Show.WELCOME_IN_PLACE)
    return Plan(switched, show)
