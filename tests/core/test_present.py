"""Outcome and question views: everything a person must read, in the right order, nothing invented."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.engine import Decision, Engine, Question
from bot.core.languages import SourceLanguage
from bot.core.present import CONFIDENCE_LABELS, VERDICT_LABELS, outcome_view, question_view
from bot.core.table import Table
from support.shipped import play

T = SourceLanguage()
MAN = {"sex": "male", "age": "18_65"}
COVERED = {"application": "residence_permit", "residence_basis": "after_temporary_permit", "service": "none"}


def _outcome(engine: Engine, answers: dict[str, str]) -> dict[str, Any]:
    _, decision, session = play(engine, answers)
    return outcome_view(engine.table, decision, session, T)


def test_affected_outcome_says_what_satisfies_the_requirement_and_the_risks(engine: Engine) -> None:
    view = _outcome(engine, {**MAN, "citizenship": "tajikistan", **COVERED})
    assert view["verdict"] == "affected"
    assert view["verdict_label"] == VERDICT_LABELS["affected"]
    satisfies = {item["id"] for item in view["satisfies"]}
    assert satisfies == {"army_contract", "emergency_contract", "discharge", "unfitness_residence"}
    actions = {item["id"]: item for item in view["actions"]}
    assert "sent to fight" in actions["military_contract"]["risk"]
    assert "crime" in actions["medical_check"]["risk"]
    assert view["confidence_label"] == CONFIDENCE_LABELS["high"]
    assert view["checked"] == "2026-11-21"
    assert view["disclaimer"].startswith("This is information, not legal advice.")


def test_sources_carry_title_url_and_date_and_include_the_rules_sources(engine: Engine, table: Table) -> None:
    _, decision, session = play(engine, {**MAN, "citizenship": "belarus"})
    view = outcome_view(table, decision, session, T)
    ids = [s["id"] for s in view["sources"]]
    assert ids == ["rbc_2025_11", "rferl_2025_12", "prosecutor_2025_11"]
    for source in view["sources"]:
        assert source["url"].startswith(("https://", "http://"))
        assert source["date"]
        assert source["title"] == table.sources[source["id"]].title


@pytest.mark.parametrize(
    ("country", "note", "source"),
    [
        ("uzbekistan", "uzbekistan_law", "uz_embassy_warning"),
        ("kyrgyzstan", "kyrgyzstan_law", "kg_embassy_warning"),
        ("tajikistan", "tajikistan_law", None),
    ],
)
def test_home_country_warning_is_shown_to_that_country_only(
    engine: Engine, country: str, note: str, source: str | None
) -> None:
    view = _outcome(engine, {**MAN, "citizenship": country, **COVERED})
    assert [n["id"] for n in view["notes"]] == [note]
    if source:
        assert source in [s["id"] for s in view["sources"]]
    other = _outcome(engine, {**MAN, "citizenship": "azerbaijan", **COVERED})
    assert other["notes"] == []


def test_kazakh_citizenship_outcome_explains_the_residence_permit_split(engine: Engine) -> None:
    view = _outcome(
        engine,
        {
            **MAN,
            "citizenship": "kazakhstan",
            "application": "citizenship",
            "citizenship_basis": "residence",
            "service": "none",
        },
    )
    assert {n["id"] for n in view["notes"]} == {"kazakhstan_law", "kazakhstan_moldova_split"}


def test_no_country_notes_when_the_requirement_does_not_apply(engine: Engine) -> None:
    view = _outcome(engine, {**MAN, "citizenship": "uzbekistan", "application": "other"})
    assert view["notes"] == []


def test_tajik_state_sites_are_offered_to_tajik_citizens_only(engine: Engine) -> None:
    tajik = _outcome(engine, {**MAN, "citizenship": "tajikistan", **COVERED})
    uzbek = _outcome(engine, {**MAN, "citizenship": "uzbekistan", **COVERED})
    assert "tajik_state_sites" in [h["id"] for h in tajik["help"]]
    assert "tajik_state_sites" not in [h["id"] for h in uzbek["help"]]
    assert "migration_office" in [h["id"] for h in uzbek["help"]]


def test_every_outcome_names_sources_help_and_the_checked_date(engine: Engine, table: Table) -> None:
    for session, decision in engine.conversations():
        view = outcome_view(table, decision, session, T)
        assert view["headline"]
        assert view["explanation"]
        assert view["sources"], decision.outcome.id
        assert view["help"], decision.outcome.id
        assert view["checked"] == "2026-11-21"
        if view["verdict"] == "unclear":
            assert view["unknown"], "an unclear outcome must say what is not known"
        assert view["answers"] == dict(session.answers)


def test_question_view_lists_ids_and_labels_in_table_order(engine: Engine) -> None:
    session = engine.new_session()
    for fact, option in {**MAN, "citizenship": "uzbekistan"}.items():
        session = engine.answer(session, fact, option)
    step = engine.step(session)
    assert isinstance(step, Question)
    view = question_view(step, T)
    assert view["id"] == "application"
    assert view["text"] == "What are you applying for now?"
    assert [o["id"] for o in view["options"]] == ["residence_permit", "citizenship", "other"]
    assert "hint" in view["options"][2]
    assert "hint" not in view["options"][0]
    assert (view["number"], view["of_about"]) == (4, 6)


def test_decision_confidence_is_the_lowest_of_its_rules(engine: Engine) -> None:
    _, decision, _ = play(engine, {**MAN, "citizenship": "ukraine", "application": "citizenship"})
    assert isinstance(decision, Decision)
    assert decision.confidence == "low"
