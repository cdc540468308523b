"""Outcome and question views: everything a person must read, in the right order, nothing invented."""

from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, fields, replace

import pytest

from bot.core.engine import Decision, Engine, Question
from bot.core.languages import SourceLanguage
from bot.core.present import (
    CONFIDENCE_LABELS,
    VERDICT_LABELS,
    Bullet,
    HelpView,
    OptionView,
    OutcomeView,
    Paragraph,
    QuestionView,
    SourceView,
    Verdict,
    answers_view,
    outcome_sections,
    outcome_view,
    question_view,
)
from bot.core.table import Table
from tests.support.shipped import TAJIK, checked_in_words, play
from tests.support.shouting import Shouting

CHECKED, NEWEST = checked_in_words()

T = SourceLanguage()
MAN = {"sex": "male", "age": "18_64"}
COVERED = {"application": "residence_permit", "residence_basis": "after_temporary_permit", "service": "none"}


def _outcome(engine: Engine, answers: dict[str, str]) -> OutcomeView:
    _, decision, session = play(engine, answers)
    return outcome_view(engine.table, decision, session, T)


def test_affected_outcome_says_what_satisfies_the_requirement_and_the_risks(engine: Engine) -> None:
    view = _outcome(engine, {**MAN, "citizenship": "tajikistan", **COVERED})
    assert view.verdict == "affected"
    assert view.verdict_label == VERDICT_LABELS["affected"]
    satisfies = {item.id for item in view.satisfies}
    assert satisfies == {"army_contract", "emergency_contract", "discharge_after_2022", "unfitness_decision"}
    actions = {item.id: item for item in view.actions}
    assert "sent to fight" in actions["military_contract"].risk
    assert "crime" in actions["unfitness_selection"].risk
    assert view.confidence_label == CONFIDENCE_LABELS["high"]
    assert view.checked == engine.table.meta.checked.isoformat()
    assert view.disclaimer.startswith("This is information, not legal advice.")


def test_sources_carry_title_url_and_date_and_include_the_rules_sources(engine: Engine, table: Table) -> None:
    _, decision, session = play(engine, {**MAN, "citizenship": "belarus"})
    view = outcome_view(table, decision, session, T)
    ids = [s.id for s in view.sources]
    assert ids == ["rbc_2025_11", "prosecutor_2025_11", "rtvi_2025_11"]
    for source in view.sources:
        assert source.url.startswith(("https://", "http://"))
        assert source.date == table.sources[source.id].date
        assert source.grade == table.sources[source.id].grade
        assert source.title == table.sources[source.id].title
    assert [s.date_text for s in view.sources] == ["5 November 2025", "14 November 2025", "5 November 2025"]


@pytest.mark.parametrize(
    ("country", "note", "source"),
    [
        ("uzbekistan", "uzbekistan_law", "uz_gp_2022"),
        ("kyrgyzstan", "kyrgyzstan_law", "kg_embassy_2022"),
        ("tajikistan", "tajikistan_law", "tj_prosecutions_2025"),
        ("azerbaijan", "azerbaijan_law", "az_sgb_2026"),
    ],
)
def test_home_country_warning_is_shown_to_that_country_only(
    engine: Engine, country: str, note: str, source: str | None
) -> None:
    view = _outcome(engine, {**MAN, "citizenship": country, **COVERED})
    assert [n.id for n in view.notes] == [note]
    if source:
        assert source in [s.id for s in view.sources]
    other = _outcome(engine, {**MAN, "citizenship": "armenia", **COVERED})
    assert [n.id for n in other.notes] == ["other_country_law"]


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
    assert {n.id for n in view.notes} == {"kazakhstan_law", "kazakhstan_moldova_split", "new_citizen_duties"}


def test_no_country_notes_when_the_requirement_does_not_apply(engine: Engine) -> None:
    view = _outcome(engine, {**MAN, "citizenship": "uzbekistan", "application": "other"})
    assert view.notes == ()


def test_tajik_state_sites_are_offered_to_tajik_citizens_only(engine: Engine) -> None:
    tajik = _outcome(engine, {**MAN, "citizenship": "tajikistan", **COVERED})
    uzbek = _outcome(engine, {**MAN, "citizenship": "uzbekistan", **COVERED})
    assert "tajik_migration_service" in [h.id for h in tajik.help]
    assert "tajik_migration_service" not in [h.id for h in uzbek.help]
    assert "uzbek_migration_agency" in [h.id for h in uzbek.help]
    assert "uzbek_migration_agency" not in [h.id for h in tajik.help]
    assert "migration_office" in [h.id for h in uzbek.help]


def test_every_outcome_names_sources_help_and_the_checked_date(engine: Engine, table: Table) -> None:
    for session, decision in engine.conversations():
        view = outcome_view(table, decision, session, T)
        assert view.headline
        assert view.explanation
        assert view.sources, decision.outcome.id
        assert view.help, decision.outcome.id
        assert view.checked == table.meta.checked.isoformat()
        if view.verdict == "unclear":
            assert view.unknown, "an unclear outcome must say what is not known"
        assert view.answers == dict(session.answers)


def test_question_view_lists_ids_and_labels_in_table_order(engine: Engine) -> None:
    session = engine.new_session()
    for fact, option in {**MAN, "citizenship": "uzbekistan"}.items():
        session = engine.answer(session, fact, option)
    step = engine.step(session)
    assert isinstance(step, Question)
    view = question_view(step, T)
    assert view.id == "application"
    assert view.text == "What are you applying for now?"
    assert [o.id for o in view.options] == ["residence_permit", "citizenship", "other"]
    assert view.options[2].hint
    assert view.options[0].hint is None
    assert (view.number, view.of_about) == (4, 6)


def test_decision_confidence_is_the_lowest_of_its_rules(engine: Engine) -> None:
    _, decision, _ = play(engine, {**MAN, "citizenship": "ukraine", "application": "citizenship"})
    assert isinstance(decision, Decision)
    assert decision.confidence == "low"


# The outcome's sections -----------------------------------------------------------------------

#: Every section in the order a person reads them (the brief's order).
ORDER = ["verdict", "why", "satisfies", "options", "notes", "unknown", "sources", "help", "checked"]


def test_sections_come_in_the_order_a_person_reads_them(engine: Engine) -> None:
    view = _outcome(engine, TAJIK)
    sections = outcome_sections(view, T)
    assert [s.id for s in sections] == ORDER
    assert [s.title for s in sections] == [
        "",
        "Why",
        "What satisfies the requirement",
        "Your options and their risks",
        "Also important for you",
        "What is not known",
        "Sources",
        "Where to get help",
        "",
    ]
    verdict, why, satisfies, options, notes, unknown, sources, helps, checked = (s.items for s in sections)
    assert verdict == (Verdict(view.verdict_label, view.headline),)
    assert why == (Paragraph(view.explanation), Paragraph(f"How sure we are: {view.confidence_label}", aside=True))
    assert satisfies == tuple(Bullet(i.text) for i in view.satisfies)
    assert options == tuple(Bullet(a.text, f"Risk: {a.risk}") for a in view.actions)
    assert notes == tuple(Bullet(n.text) for n in view.notes)
    assert unknown == tuple(Bullet(u.text) for u in view.unknown)
    assert sources == view.sources
    assert helps == view.help
    assert checked == (
        Paragraph(f"Checked on {CHECKED}. The newest source found is from {NEWEST}."),
        Paragraph(view.disclaimer, aside=True),
    )


def test_sections_with_nothing_to_say_are_left_out(engine: Engine) -> None:
    view = replace(_outcome(engine, TAJIK), satisfies=(), notes=(), unknown=(), help=())
    assert [s.id for s in outcome_sections(view, T)] == ["verdict", "why", "options", "sources", "checked"]


def test_every_outcome_opens_with_its_verdict_and_ends_with_the_date_checked(engine: Engine, table: Table) -> None:
    for session, decision in engine.conversations():
        ids = [s.id for s in outcome_sections(outcome_view(table, decision, session, T), T)]
        assert ids == [i for i in ORDER if i in ids], "in the documented order"
        assert ids[:2] == ["verdict", "why"]
        assert ids[-3:] == ["sources", "help", "checked"]


def test_section_titles_and_their_sentences_are_in_the_persons_language(engine: Engine) -> None:
    view = _outcome(engine, TAJIK)
    sections = {s.id: s for s in outcome_sections(view, Shouting())}
    assert sections["why"].title == "WHY"
    assert sections["sources"].title == "SOURCES"
    assert sections["why"].items[1] == Paragraph(f"HOW SURE WE ARE: {view.confidence_label}", aside=True)
    assert sections["options"].items[0] == Bullet(view.actions[0].text, f"RISK: {view.actions[0].risk}")
    assert sections["checked"].items[0] == Paragraph(f"CHECKED ON {CHECKED}. THE NEWEST SOURCE FOUND IS FROM {NEWEST}.")


def test_views_cannot_be_changed_once_built(engine: Engine) -> None:
    view = _outcome(engine, TAJIK)
    with pytest.raises(FrozenInstanceError):
        view.headline = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        view.answers["sex"] = "female"  # type: ignore[index]


def test_answers_view_pairs_each_question_with_the_label_chosen(engine: Engine, table: Table) -> None:
    shown = answers_view(table, {"sex": "male", "age": "18_64"}, T)
    assert [(a.id, a.question, a.answer) for a in shown] == [
        ("sex", table.fact_index["sex"].question, "A man"),
        ("age", table.fact_index["age"].question, "18 to 64"),
    ]


# The JSON form (the shape itself is pinned in tests/cli/test_main.py) --------------------------


def test_outcome_json_has_every_field_in_order_and_leaves_out_absent_urls(engine: Engine, table: Table) -> None:
    names = [f.name for f in fields(OutcomeView)]
    for session, decision in engine.conversations():
        view = outcome_view(table, decision, session, T)
        data = view.to_json()
        assert list(data) == names
        assert json.loads(json.dumps(data)) == data, "plain JSON: lists, objects, strings"
        for shown, contact in zip(data["help"], view.help, strict=True):
            assert ("url" in shown) == (contact.url is not None)
            assert shown.get("url", "") == table.help[contact.id].url
        assert data["answers"] == dict(session.answers)


def test_question_json_leaves_out_absent_hints() -> None:
    view = QuestionView("f", "Which?", 1, 2, (OptionView("a", "A"), OptionView("b", "B", "Because.")))
    assert view.to_json() == {
        "id": "f",
        "text": "Which?",
        "number": 1,
        "of_about": 2,
        "options": [{"id": "a", "label": "A"}, {"id": "b", "label": "B", "hint": "Because."}],
    }


def test_help_json_leaves_out_an_absent_url() -> None:
    view = OutcomeView(
        id="o",
        verdict="unclear",
        verdict_label="Unclear",
        headline="H.",
        explanation="E.",
        confidence="low",
        confidence_label="low",
        rules=("r",),
        satisfies=(),
        actions=(),
        notes=(),
        unknown=(),
        sources=(SourceView("s", "S", "https://example.org", "2026-01-01", "1 January 2026", "C"),),
        help=(HelpView("a", "A", "Ask."), HelpView("b", "B", "Call.", "https://example.org/b")),
        checked="2026-01-02",
        newest_source="2026-01",
        disclaimer="D.",
        answers={"sex": "male"},
    )
    assert view.to_json()["help"] == [
        {"id": "a", "name": "A", "text": "Ask."},
        {"id": "b", "name": "B", "text": "Call.", "url": "https://example.org/b"},
    ]
