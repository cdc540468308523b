"""What each move does, as tables: a session, an input, and the plan expected. Pure: no Telegram."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.core.engine import Engine, Session
from bot.core.moves import (
    AT_OUTCOME,
    FREE_TEXT,
    INVALID,
    INVALID_BUTTON,
    STALE_BUTTON,
    Callback,
    Plan,
    Press,
    Show,
    plan_command,
    plan_press,
    plan_start,
    plan_text,
)

#: Where a person can be: nothing answered, at the second question, at an outcome.
STATES = {"new": {}, "asking": {"sex": "male"}, "outcome": {"sex": "female"}}
#: The current rule table's tag on buttons, and an older table's.
NOW, OLD = "aaaaaa", "bbbbbb"


@dataclass(frozen=True)
class Expect:
    """The plan a move should make; ``answers`` and ``lang`` of None mean unchanged."""

    show: Show
    notice: str = ""
    save: bool = True
    forget: bool = False
    answers: dict[str, str] | None = None
    lang: str | None = None


def session_at(engine: Engine, state: str, lang: str = "en") -> Session:
    """A session in one of :data:`STATES`."""
    session, unused = engine.from_answers(STATES[state], lang)
    assert unused == []
    return session


def _id(value: object) -> str | None:
    """Test ids that read: an expectation by what it shows; anything else as pytest would."""
    return value.show.value if isinstance(value, Expect) else None


def check(before: Session, plan: Plan, expect: Expect) -> None:
    """The plan is the one expected, and the session it leaves is."""
    assert (plan.show, plan.notice, plan.save, plan.forget) == (expect.show, expect.notice, expect.save, expect.forget)
    assert dict(plan.session.answers) == (dict(before.answers) if expect.answers is None else expect.answers)
    assert plan.session.lang == (expect.lang or before.lang)


# /start [payload] ----------------------------------------------------------------------------------

START = [
    # state, payload, expected
    ("new", "", Expect(Show.WELCOME, answers={})),
    # Before: /start in the middle of a conversation (or at its outcome) erased the answers silently.
    ("asking", "", Expect(Show.CONFIRM_START, save=False)),
    ("outcome", "", Expect(Show.CONFIRM_START, save=False)),
    ("asking", "tg", Expect(Show.CONFIRM_START, lang="tg")),  # the link's language at once, answers kept
    ("new", "UZ_CYRL", Expect(Show.WELCOME, answers={}, lang="uz_Cyrl")),
    ("asking", "xx", Expect(Show.CONFIRM_START, save=False)),  # not a language: the session's stays
]


@pytest.mark.parametrize(("state", "payload", "expect"), START, ids=_id)
def test_plan_start(engine: Engine, state: str, payload: str, expect: Expect) -> None:
    before = session_at(engine, state)
    check(before, plan_start(engine, before, payload), expect)


# Commands ---------------------------------------------------------------------------------------

COMMANDS = [
    # state, command, new (nothing stored yet), expected
    ("asking", "forget", False, Expect(Show.FORGOTTEN, save=False, forget=True)),
    ("new", "forget", True, Expect(Show.FORGOTTEN, save=False, forget=True)),
    ("asking", "back", False, Expect(Show.CURRENT, answers={})),
    ("outcome", "back", False, Expect(Show.CURRENT, answers={})),
    ("new", "back", True, Expect(Show.CURRENT, answers={})),  # at the first question, stay there
    ("asking", "restart", False, Expect(Show.CURRENT, answers={})),
    ("outcome", "restart", False, Expect(Show.CURRENT, answers={})),
    ("asking", "language", False, Expect(Show.MENU)),
    ("new", "language", True, Expect(Show.MENU, save=False)),  # nothing stored for a look at a menu
    ("asking", "help", False, Expect(Show.HELP)),
    ("new", "help", True, Expect(Show.HELP, save=False)),
    ("outcome", "about", False, Expect(Show.ABOUT)),
    ("new", "about", True, Expect(Show.ABOUT, save=False)),
    ("asking", "privacy", False, Expect(Show.PRIVACY)),
    ("new", "privacy", True, Expect(Show.PRIVACY, save=False)),
]


@pytest.mark.parametrize(("state", "command", "new", "expect"), COMMANDS, ids=_id)
def test_plan_command(engine: Engine, state: str, command: str, new: bool, expect: Expect) -> None:
    before = session_at(engine, state)
    check(before, plan_command(engine, before, command, new=new), expect)


def test_every_command_has_a_row() -> None:
    assert {row[1] for row in COMMANDS} == {"back", "restart", "language", "help", "about", "privacy", "forget"}


# Anything but a button ------------------------------------------------------------------------------

TEXTS = [
    # state, new (nothing stored yet), expected
    ("new", True, Expect(Show.WELCOME)),
    ("asking", False, Expect(Show.CURRENT, notice=FREE_TEXT, save=False)),
    ("new", False, Expect(Show.CURRENT, notice=FREE_TEXT, save=False)),  # stored, at the first question
    ("outcome", False, Expect(Show.NOTHING, notice=AT_OUTCOME, save=False)),
]


@pytest.mark.parametrize(("state", "new", "expect"), TEXTS, ids=_id)
def test_plan_text(engine: Engine, state: str, new: bool, expect: Expect) -> None:
    before = session_at(engine, state)
    check(before, plan_text(engine, before, new=new), expect)


# Buttons ----------------------------------------------------------------------------------------

STALE = Expect(Show.CURRENT, notice=STALE_BUTTON, save=False)

PRESSES = [
    # state, pressed, on the welcome, expected
    pytest.param("asking", INVALID, False, Expect(Show.CURRENT, notice=INVALID_BUTTON, save=False), id="invalid"),
    pytest.param(
        "asking",
        Callback(Press.ANSWER, NOW, ("age", "18_64")),
        False,
        Expect(Show.IN_PLACE, answers={"sex": "male", "age": "18_64"}),
        id="answer",
    ),
    pytest.param(
        "asking",
        Callback(Press.ANSWER, NOW, ("age", "over_65")),
        False,
        Expect(Show.IN_PLACE, answers={"sex": "male", "age": "over_65"}),  # the outcome replaces the question
        id="answer that decides",
    ),
    # Before: 9 of 20 people mid-conversation had their next press refused after a reload.
    pytest.param(
        "asking",
        Callback(Press.ANSWER, OLD, ("age", "18_64")),
        False,
        Expect(Show.IN_PLACE, answers={"sex": "male", "age": "18_64"}),
        id="answer from before a reload, question and option still there",
    ),
    pytest.param(
        "asking", Callback(Press.ANSWER, OLD, ("age", "18_65")), False, STALE, id="answer, option retired since"
    ),
    pytest.param("asking", Callback(Press.ANSWER, OLD, ("sex", "male")), False, STALE, id="answer, older question"),
    pytest.param("asking", Callback(Press.ANSWER, NOW, ("sex", "female")), False, STALE, id="answer, earlier question"),
    pytest.param("asking", Callback(Press.ANSWER, NOW, ("age", "nonsense")), False, STALE, id="answer, unknown option"),
    pytest.param("outcome", Callback(Press.ANSWER, NOW, ("sex", "male")), False, STALE, id="answer at the outcome"),
    pytest.param("asking", Callback(Press.BACK, NOW), False, Expect(Show.IN_PLACE, answers={}), id="back"),
    pytest.param("outcome", Callback(Press.BACK, NOW), False, Expect(Show.CURRENT, answers={}), id="back at outcome"),
    pytest.param("asking", Callback(Press.BACK, OLD), False, STALE, id="back, older table"),
    pytest.param("asking", Callback(Press.START_OVER, NOW), False, Expect(Show.IN_PLACE, answers={}), id="start over"),
    pytest.param(
        "outcome", Callback(Press.START_OVER, OLD), False, Expect(Show.CURRENT, answers={}), id="start over, older"
    ),
    pytest.param("new", Callback(Press.BEGIN, NOW), True, Expect(Show.IN_PLACE, answers={}), id="begin"),
    pytest.param("asking", Callback(Press.BEGIN, OLD), True, Expect(Show.IN_PLACE, answers={}), id="begin, older"),
    pytest.param("asking", Callback(Press.MENU, NOW), False, Expect(Show.MENU_IN_PLACE, save=False), id="menu"),
    pytest.param(
        "asking", Callback(Press.RESUME, OLD), False, Expect(Show.CURRENT, save=False), id="continue, any version"
    ),
    pytest.param("outcome", Callback(Press.MENU, OLD), False, Expect(Show.MENU, save=False), id="menu at outcome"),
    pytest.param(
        "new", Callback(Press.LANGUAGE, NOW, ("tg",)), True, Expect(Show.WELCOME_IN_PLACE, lang="tg"), id="on welcome"
    ),
    pytest.param(
        "asking",
        Callback(Press.LANGUAGE, OLD, ("ky",)),
        True,  # an old welcome, pressed after answering: show the question, not the welcome
        Expect(Show.IN_PLACE, lang="ky"),
        id="language on an old welcome",
    ),
    pytest.param("new", Callback(Press.LANGUAGE, NOW, ("uz",)), False, Expect(Show.IN_PLACE, lang="uz"), id="lang"),
    pytest.param(
        "outcome", Callback(Press.LANGUAGE, NOW, ("ru",)), False, Expect(Show.CURRENT, lang="ru"), id="lang at outcome"
    ),
    pytest.param("asking", Callback(Press.LANGUAGE, NOW, ("xx",)), False, Expect(Show.IN_PLACE), id="unknown lang"),
    pytest.param("asking", Callback(Press.HINTS, OLD), False, Expect(Show.HINTS, save=False), id="hints, any version"),
    pytest.param("outcome", Callback(Press.HINTS, NOW), False, STALE, id="hints at the outcome"),
    pytest.param(
        "outcome", Callback(Press.SECTION, NOW, ("sources",)), False, Expect(Show.SECTION, save=False), id="section"
    ),
    pytest.param("asking", Callback(Press.SECTION, NOW, ("sources",)), False, STALE, id="section, outcome left"),
]


@pytest.mark.parametrize(("state", "pressed", "on_welcome", "expect"), PRESSES)
def test_plan_press(engine: Engine, state: str, pressed: Callback, on_welcome: bool, expect: Expect) -> None:
    before = session_at(engine, state)
    check(before, plan_press(engine, before, pressed, NOW, on_welcome=on_welcome), expect)


def test_every_kind_of_press_has_a_row() -> None:
    assert {row.values[1].kind for row in PRESSES} == set(Press)  # type: ignore[union-attr]


def test_a_section_press_names_the_section_to_open(engine: Engine) -> None:
    at_outcome = session_at(engine, "outcome")
    plan = plan_press(engine, at_outcome, Callback(Press.SECTION, OLD, ("sources",)), NOW, on_welcome=False)
    assert (plan.show, plan.section, plan.session) == (Show.SECTION, "sources", at_outcome)
