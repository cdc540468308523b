"""The conversation engine: golden conversations, moves, old sessions and properties."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.engine import Decision, Engine, NotAsked, Question, Session, UnknownFact, UnknownOption
from bot.core.table import Table, holds
from bot.ruletable.cases import Case
from tests.support.golden import CASES, MAN, asked_in_order
from tests.support.shipped import TAJIK, play

EXEMPT = ["highly_qualified", "study", "compatriot_program"]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_case_of_the_shipped_table(engine: Engine, case: Case) -> None:
    """The engine itself, not `maslahat check`, leads each case's answers where the case says."""
    questions, decision, _ = play(engine, case.answers)
    assert questions == asked_in_order(case)
    expect = case.expect
    assert expect.outcome in (None, decision.outcome.id)
    assert expect.verdict in (None, decision.outcome.verdict)
    assert expect.confidence in (None, decision.confidence)
    assert expect.questions in (None, len(questions))


def test_the_cases_cover_every_outcome(engine: Engine, table: Table) -> None:
    reached = [engine.step(engine.from_answers(case.answers)[0]) for case in CASES]
    assert {step.outcome.id for step in reached if isinstance(step, Decision)} == set(table.outcomes)


@pytest.mark.parametrize("basis", EXEMPT)
@pytest.mark.parametrize("country", ["uzbekistan", "tajikistan", "azerbaijan"])
def test_exempt_residence_grounds_are_not_affected(engine: Engine, basis: str, country: str) -> None:
    answers = {**MAN, "citizenship": country, "application": "residence_permit", "residence_basis": basis}
    questions, decision, _ = play(engine, answers)
    assert decision.outcome.id == "not_affected_exempt_basis"
    assert decision.confidence == "medium"
    assert "service" not in questions


@pytest.mark.parametrize("basis", EXEMPT)
def test_kazakh_residence_permit_is_decided_before_the_grounds(engine: Engine, basis: str) -> None:
    answers = {**MAN, "citizenship": "kazakhstan", "application": "residence_permit", "residence_basis": basis}
    questions, decision, _ = play(engine, answers)
    assert "residence_basis" not in questions
    assert decision.outcome.id == "not_affected_residence_kz_md"


def test_eaeu_membership_makes_no_difference(engine: Engine) -> None:
    """Kyrgyzstan and Armenia (EAEU) are treated like Uzbekistan and Tajikistan (not EAEU)."""
    base = {**MAN, "application": "residence_permit", "residence_basis": "spouse_of_citizen", "service": "none"}
    outcomes = {play(engine, {**base, "citizenship": c})[1].outcome.id for c in ("kyrgyzstan", "armenia", "uzbekistan")}
    assert outcomes == {"affected_residence"}


def test_first_question_announces_the_longest_conversation(engine: Engine) -> None:
    step = engine.step(engine.new_session())
    assert isinstance(step, Question)
    assert (step.fact.id, step.number, step.of_about) == ("sex", 1, 6)


def test_ukrainian_conversation_announces_that_it_ends_at_question_four(engine: Engine) -> None:
    session = engine.new_session()
    for fact, option in {**MAN, "citizenship": "ukraine"}.items():
        session = engine.answer(session, fact, option)
    step = engine.step(session)
    assert isinstance(step, Question)
    assert (step.fact.id, step.number, step.of_about) == ("application", 4, 4)


# Moves --------------------------------------------------------------------------------------


def _session(engine: Engine, answers: Mapping[str, str]) -> Session:
    session = engine.new_session("ru")
    for fact, option in answers.items():
        session = engine.answer(session, fact, option)
    return session


def test_back_returns_to_the_previous_question_on_the_path_taken(engine: Engine) -> None:
    session = _session(engine, TAJIK)
    assert isinstance(engine.step(session), Decision)
    session = engine.back(session)
    step = engine.step(session)
    assert isinstance(step, Question)
    assert step.fact.id == "service"
    session = engine.back(session)
    step = engine.step(session)
    assert isinstance(step, Question)
    assert step.fact.id == "residence_basis"
    assert session.path == ("sex", "age", "citizenship", "application")


def test_back_after_a_short_path_skips_questions_never_asked(engine: Engine) -> None:
    session = _session(engine, {**MAN, "citizenship": "belarus"})
    session = engine.back(session)
    step = engine.step(session)
    assert isinstance(step, Question)
    assert step.fact.id == "citizenship"


def test_back_at_the_first_question_stays_there(engine: Engine) -> None:
    session = engine.back(engine.new_session())
    step = engine.step(session)
    assert isinstance(step, Question)
    assert step.fact.id == "sex"


def test_restart_forgets_answers_and_keeps_the_language(engine: Engine) -> None:
    session = engine.restart(_session(engine, TAJIK))
    assert session.answers == {}
    assert session.lang == "ru"
    step = engine.step(session)
    assert isinstance(step, Question)
    assert step.fact.id == "sex"


def test_change_citizenship_keeps_the_later_answers_that_still_apply(engine: Engine) -> None:
    session = engine.change(_session(engine, TAJIK), "citizenship", "uzbekistan")
    assert dict(session.answers) == {**TAJIK, "citizenship": "uzbekistan"}
    step = engine.step(session)
    assert isinstance(step, Decision)
    assert step.outcome.id == "affected_residence"


def test_change_to_kazakhstan_drops_answers_no_longer_asked(engine: Engine) -> None:
    session = engine.change(_session(engine, TAJIK), "citizenship", "kazakhstan")
    assert session.path == ("sex", "age", "citizenship", "application")
    step = engine.step(session)
    assert isinstance(step, Decision)
    assert step.outcome.id == "not_affected_residence_kz_md"


def test_change_application_asks_the_new_grounds_question(engine: Engine) -> None:
    session = engine.change(_session(engine, TAJIK), "application", "citizenship")
    step = engine.step(session)
    assert isinstance(step, Question)
    assert step.fact.id == "citizenship_basis"
    assert "residence_basis" not in session.answers


def test_change_sex_to_female_ends_the_conversation(engine: Engine) -> None:
    session = engine.change(_session(engine, TAJIK), "sex", "female")
    assert session.path == ("sex",)
    step = engine.step(session)
    assert isinstance(step, Decision)
    assert step.outcome.id == "not_affected_woman"


def test_change_a_question_never_asked_is_refused(engine: Engine) -> None:
    with pytest.raises(NotAsked):
        engine.change(_session(engine, {"sex": "male"}), "service", "none")


@pytest.mark.parametrize(
    ("fact", "option", "error"),
    [("sexx", "male", UnknownFact), ("sex", "mal", UnknownOption), ("age", "18_64", NotAsked)],
)
def test_bad_answers_are_refused_and_change_nothing(
    engine: Engine, fact: str, option: str, error: type[Exception]
) -> None:
    session = engine.new_session()
    with pytest.raises(error):
        engine.answer(session, fact, option)
    assert session.answers == {}


def test_answer_after_the_outcome_is_refused(engine: Engine) -> None:
    session = _session(engine, {"sex": "female"})
    with pytest.raises(NotAsked):
        engine.answer(session, "age", "18_64")


def test_switching_language_keeps_answers_and_the_current_question(engine: Engine) -> None:
    session = _session(engine, {**MAN, "citizenship": "tajikistan"})
    switched = session.in_language("tg")
    assert switched.lang == "tg"
    assert switched.answers == session.answers
    assert engine.step(switched) == engine.step(session)


def test_session_survives_a_json_round_trip(engine: Engine) -> None:
    session = _session(engine, {**MAN, "citizenship": "kyrgyzstan"})
    restored = Session.from_dict(json.loads(json.dumps(session.to_dict())))
    assert restored == session
    assert restored.path == ("sex", "age", "citizenship")
    assert engine.step(restored) == engine.step(session)


# Sessions from an older rule table ----------------------------------------------------------


def test_session_from_an_older_table_drops_unknown_facts_and_options(engine: Engine) -> None:
    old = Session(
        "tg",
        {
            "sex": "male",
            "nationality": "tajik",  # a fact the table no longer has
            "age": "18_64",
            "citizenship": "tajikistan",
            "application": "residence_permit",
            "residence_basis": "after_rvp",  # an option since renamed
            "service": "none",
        },
        "decree-821@2025.12.01",
    )
    session = engine.replay(old)
    assert session.path == ("sex", "age", "citizenship", "application")
    assert session.lang == "tg"
    assert session.version == engine.table.version_tag
    step = engine.step(session)
    assert isinstance(step, Question)
    assert step.fact.id == "residence_basis"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"lang": 5, "answers": "sex=male", "version": None},
        {"answers": {"sex": ["male"], 3: "x", "age": "18_64"}},
        {"answers": {"service": "none", "sex": "male"}},
    ],
)
def test_malformed_stored_sessions_resume_without_crashing(engine: Engine, data: dict[str, object]) -> None:
    session = engine.replay(Session.from_dict(data))
    assert isinstance(engine.step(session), Question | Decision)
    assert all(isinstance(v, str) for v in session.answers.values())


def test_replay_under_a_table_with_a_fact_removed(table: Table) -> None:
    """A table whose `service` question was removed still resumes a session that answered it."""
    import dataclasses

    facts = tuple(f for f in table.facts if f.id != "service")
    rules = tuple(
        dataclasses.replace(r, when={k: v for k, v in r.when.items() if k != "service"})
        for r in table.rules
        if "service" not in r.when or r.id in {"residence_covered", "citizenship_covered"}
    )
    smaller = Engine(dataclasses.replace(table, facts=facts, rules=rules))
    session = smaller.replay(Session("en", TAJIK, "old"))
    assert "service" not in session.answers
    step = smaller.step(session)
    assert isinstance(step, Decision)
    assert step.outcome.id == "affected_residence"


# The engine against a brute-force oracle -----------------------------------------------------


def _first_match(table: Table, answers: Mapping[str, str]) -> str:
    return next(r.outcome for r in table.rules if holds(r.when, answers))


def _possible_outcomes(
    table: Table, answers: Mapping[str, str], cache: dict[frozenset[tuple[str, str]], frozenset[str]]
) -> frozenset[str]:
    """Every outcome some way of answering the remaining questions leads to (by brute force)."""
    key = frozenset(answers.items())
    if key not in cache:
        free = [f for f in table.facts if f.id not in answers]
        cache[key] = frozenset(
            _first_match(table, {**answers, **{f.id: o for f, o in zip(free, combo, strict=True)}})
            for combo in itertools.product(*(f.option_ids for f in free))
        )
    return cache[key]


def test_engine_agrees_with_brute_force_on_every_conversation(table: Table, engine: Engine) -> None:
    """Stops exactly when the outcome is certain; asks only questions that split the outcomes."""
    cache: dict[frozenset[tuple[str, str]], frozenset[str]] = {}
    order = [f.id for f in table.facts]
    reached: set[str] = set()
    for session, decision in engine.conversations():
        answers = dict(session.answers)
        assert decision.outcome.id == _first_match(table, answers)
        assert list(session.path) == sorted(session.path, key=order.index), "questions out of table order"
        for depth, fact_id in enumerate(session.path):
            before = dict(list(answers.items())[:depth])
            possible = _possible_outcomes(table, before, cache)
            assert len(possible) > 1, f"asked {fact_id} although the outcome was already certain"
            fact = table.fact_index[fact_id]
            branches = {_possible_outcomes(table, {**before, fact_id: o}, cache) for o in fact.option_ids}
            assert len(branches) > 1, f"asked {fact_id} although no answer to it changes the outcome"
        assert len(_possible_outcomes(table, answers, cache)) == 1
        reached.add(decision.outcome.id)
    assert reached == set(table.outcomes)


# Properties ----------------------------------------------------------------------------------

_moves = st.lists(
    st.one_of(
        st.tuples(st.just("answer"), st.integers(min_value=0, max_value=20)),
        st.tuples(st.just("back"), st.just(0)),
        st.tuples(st.just("restart"), st.just(0)),
        st.tuples(st.just("change"), st.integers(min_value=0, max_value=100)),
        st.tuples(st.just("garbage"), st.integers(min_value=0, max_value=3)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(moves=_moves, finish=st.lists(st.integers(min_value=0, max_value=20), min_size=10, max_size=10))
def test_any_sequence_of_moves_ends_in_an_outcome(
    engine: Engine, moves: list[tuple[str, int]], finish: list[int]
) -> None:
    session = engine.new_session("ky")
    for move, n in moves:
        step = engine.step(session)
        if move == "answer" and isinstance(step, Question):
            session = engine.answer(session, step.fact.id, step.fact.option_ids[n % len(step.fact.options)])
        elif move == "back":
            session = engine.back(session)
        elif move == "restart":
            session = engine.restart(session)
        elif move == "change" and session.answers:
            fact_id = session.path[n % len(session.path)]
            options = engine.table.fact_index[fact_id].option_ids
            session = engine.change(session, fact_id, options[n % len(options)])
        elif move == "garbage":
            # Always invalid: an unknown fact, an unknown option, or a question already answered.
            answered = session.path[0] if session.path else "service"
            bad = [("nope", "x"), ("sex", "x"), (answered, "none"), (answered, "male")][n]
            with pytest.raises((UnknownFact, UnknownOption, NotAsked)):
                engine.answer(session, *bad)
        assert engine.replay(session) == session, "the path is always the one the engine would ask"
    for n in finish:
        step = engine.step(session)
        if isinstance(step, Decision):
            break
        session = engine.answer(session, step.fact.id, step.fact.option_ids[n % len(step.fact.options)])
    assert isinstance(engine.step(session), Decision)
    assert session.lang == "ky"
