"""The advice the shipped rule table gives, held against edition 2 of the legal brief.

Each edition-1 error the brief's "What changed" section lists has a regression test named for it;
the retired ids of the data contract keep working as the brief says. How sure each answer is
belongs to the operators' cases (rules/decree-821.cases.yaml), not to these tests.
"""

from __future__ import annotations

import pytest

from bot.core.engine import Decision, Engine, Question, Session, UnknownOption
from bot.core.languages import SourceLanguage
from bot.core.present import outcome_view
from bot.core.table import Table
from tests.support.shipped import play

MAN = {"sex": "male", "age": "18_64"}
ON_RVP = {**MAN, "application": "residence_permit", "residence_basis": "after_temporary_permit"}
BY_RESIDENCE = {**MAN, "application": "citizenship", "citizenship_basis": "residence"}
MILITARY_GROUND = {**MAN, "application": "citizenship", "citizenship_basis": "military_service"}


def _decide(engine: Engine, answers: dict[str, str]) -> Decision:
    return play(engine, answers)[1]


# Edition 1's errors, one test each ----------------------------------------------------------


def test_military_service_ground_without_service_is_affected(engine: Engine) -> None:
    """Edition 1 said "requirement met, high confidence" without asking whether he served."""
    asked, decision, _ = play(engine, {**MILITARY_GROUND, "citizenship": "tajikistan", "service": "none"})
    assert asked[-1] == "service"
    assert (decision.outcome.verdict, decision.outcome.id) == ("affected", "affected_military_ground")


@pytest.mark.parametrize("base", [ON_RVP, BY_RESIDENCE, MILITARY_GROUND], ids=["vnzh", "citizenship", "military"])
def test_service_in_a_home_countrys_army_counts_as_no_service(engine: Engine, base: dict[str, str]) -> None:
    """Edition 1's "discharged from service" never said Russian: home-army veterans picked it and were told "met"."""
    home = _decide(engine, {**base, "citizenship": "kyrgyzstan", "service": "home_army_only"})
    none = _decide(engine, {**base, "citizenship": "kyrgyzstan", "service": "none"})
    assert home.outcome == none.outcome
    assert home.outcome.verdict == "affected"


def test_every_service_option_names_russia(table: Table) -> None:
    service = table.fact_index["service"]
    assert "Russia's army" in service.question
    for option in service.options:
        if option.id not in {"home_army_only", "none"}:
            assert "Russia" in (option.hint or ""), option.id


@pytest.mark.parametrize("base", [ON_RVP, BY_RESIDENCE], ids=["vnzh", "citizenship"])
def test_discharge_before_2022_is_unclear_and_names_the_conflict(engine: Engine, base: dict[str, str]) -> None:
    """Edition 1 stated RFE/RL's reading (a discharge before 24.02.2022 counts) as fact."""
    decision = _decide(engine, {**base, "citizenship": "uzbekistan", "service": "discharged_before_2022"})
    assert decision.outcome.verdict == "unclear"
    assert "discharge_date_conflict" in decision.outcome.unknown
    assert {"prosecutor_2025_11", "rferl_2025_12"} <= set(decision.outcome.sources)


def test_discharge_after_2022_satisfies_the_requirement(engine: Engine) -> None:
    decision = _decide(engine, {**ON_RVP, "citizenship": "uzbekistan", "service": "discharged_after_2022"})
    assert decision.outcome.id == "requirement_met_service"  # its confidence is the cases file's


def test_unfitness_is_the_selection_point_decision_and_its_risk_is_told(engine: Engine, table: Table) -> None:
    """Edition 1 said sources differ on who issues it; four sources now agree: the selection-point commission."""
    met = _decide(engine, {**ON_RVP, "citizenship": "tajikistan", "service": "unfit"})
    assert met.outcome.satisfies == ("unfitness_decision",)
    assert "selection point" in table.documents["unfitness_decision"].text
    affected = _decide(engine, {**ON_RVP, "citizenship": "tajikistan", "service": "none"})
    assert "unfitness_selection" in affected.outcome.actions
    assert "go through selection for contract service" in table.actions["unfitness_selection"].risk


def test_parent_of_a_russian_citizen_is_unclear_while_the_husband_is_affected(engine: Engine) -> None:
    """Edition 1 called every family route to a residence permit "affected, high"."""
    parent = _decide(engine, {**MAN, "citizenship": "tajikistan", "application": "residence_permit",
                              "residence_basis": "parent_of_citizen"})  # fmt: skip
    husband = _decide(engine, {**MAN, "citizenship": "tajikistan", "application": "residence_permit",
                               "residence_basis": "spouse_of_citizen", "service": "none"})  # fmt: skip
    assert (parent.outcome.verdict, husband.outcome.verdict) == ("unclear", "affected")


def test_a_ground_without_an_rvp_is_not_affected_and_says_confirm_first(engine: Engine) -> None:
    """Its confidence (low, in the brief) is held by the IT specialist's case in the cases file."""
    decision = _decide(engine, {**MAN, "citizenship": "uzbekistan", "application": "residence_permit",
                                "residence_basis": "other_without_temporary_permit"})  # fmt: skip
    assert decision.outcome.verdict == "not_affected"
    assert "confirm this at the migration office before you apply" in decision.outcome.headline


@pytest.mark.parametrize("application", ["residence_permit", "citizenship"])
def test_a_man_of_exactly_65_is_unclear_not_covered(engine: Engine, application: str) -> None:
    """Edition 1 treated 65 as covered."""
    answers = {"sex": "male", "age": "exactly_65", "citizenship": "tajikistan", "application": application,
               "residence_basis": "after_temporary_permit"}  # fmt: skip
    decision = _decide(engine, answers)
    assert decision.outcome.id == "unclear_age_65"


def test_a_serviceman_s_family_member_is_unclear(engine: Engine) -> None:
    decision = _decide(engine, {**MAN, "citizenship": "uzbekistan", "application": "citizenship",
                                "citizenship_basis": "serviceman_family"})  # fmt: skip
    assert decision.outcome.verdict == "unclear"


@pytest.mark.parametrize(
    ("service", "outcome"),
    [("unfit", "unclear_military_ground_unfit"), ("discharged_before_2022", "unclear_military_ground_old_discharge")],
)
def test_military_ground_closed_to_the_unfit_and_old_discharges_says_which_grounds_remain(
    engine: Engine, table: Table, service: str, outcome: str
) -> None:
    decision = _decide(engine, {**MILITARY_GROUND, "citizenship": "armenia", "service": service})
    assert (decision.outcome.id, decision.outcome.verdict) == (outcome, "unclear")
    assert "other_grounds" in decision.outcome.actions
    assert "years of living in Russia" in table.actions["other_grounds"].text


# Home countries, new citizens, sources ------------------------------------------------------

NOTED = {
    "uzbekistan": ("uzbekistan_law", {"uz_gp_2022", "uz_agency_2025", "uz_sgb_2026"}),
    "kyrgyzstan": ("kyrgyzstan_law", {"kg_embassy_2022", "kz_convictions_2025"}),
    "kazakhstan": ("kazakhstan_law", {"kz_convictions_2025"}),
    "tajikistan": ("tajikistan_law", {"tj_prosecutions_2025"}),
    "azerbaijan": ("azerbaijan_law", {"az_sgb_2026"}),
}


@pytest.mark.parametrize("country", sorted(NOTED))
def test_each_main_country_has_its_own_note_with_its_sources(engine: Engine, table: Table, country: str) -> None:
    session = play(engine, {**BY_RESIDENCE, "citizenship": country, "service": "none"})[2]
    decision = engine.step(session)
    assert isinstance(decision, Decision)
    view = outcome_view(table, decision, session, SourceLanguage())
    note_id, sources = NOTED[country]
    assert note_id in [n.id for n in view.notes]
    assert sources <= {s.id for s in view.sources}


@pytest.mark.parametrize("country", ["turkmenistan", "armenia", "georgia", "moldova", "other"])
def test_every_other_country_is_told_to_check_its_law(engine: Engine, table: Table, country: str) -> None:
    session = play(engine, {**BY_RESIDENCE, "citizenship": country, "service": "none"})[2]
    decision = engine.step(session)
    assert isinstance(decision, Decision)
    notes = [n.id for n in outcome_view(table, decision, session, SourceLanguage()).notes]
    assert "other_country_law" in notes


def test_every_citizenship_outcome_states_the_duties_of_new_citizens(engine: Engine, table: Table) -> None:
    seen = 0
    for session, decision in engine.conversations():
        view = outcome_view(table, decision, session, SourceLanguage())
        has_duties = "new_citizen_duties" in [n.id for n in view.notes]
        assert has_duties == (session.answers.get("application") == "citizenship"), dict(session.answers)
        seen += has_duties
    assert seen
    duties = next(n for n in table.notes if n.id == "new_citizen_duties")
    assert set(duties.sources) == {"conscription_2024", "tass_2024_08", "kommersant_2025_10"}
    assert "2,800" in duties.text


def test_every_outcome_names_sources_and_every_source_is_graded(engine: Engine, table: Table) -> None:
    for source in table.sources.values():
        assert source.grade in {"A", "B", "C", "D"}, source.id
    for session, decision in engine.conversations():
        view = outcome_view(table, decision, session, SourceLanguage())
        assert view.sources, decision.outcome.id
        assert view.checked == table.meta.checked.isoformat()
        assert view.newest_source == table.meta.newest_source


def test_the_civic_assistance_committee_carries_the_caveat_the_brief_asks_for(table: Table) -> None:
    committee = table.help["civic_assistance"]
    assert "foreign agent" in committee.text
    assert "could not be checked" in committee.text
    assert not committee.url


# Retired ids: a stored session re-asks, advise names the replacement --------------------------


def test_a_retired_answer_is_refused_naming_what_replaced_it(engine: Engine) -> None:
    with pytest.raises(UnknownOption, match=r"'18_65' for 'age' was retired: use '18_64' or 'exactly_65'"):
        engine.answer(engine.answer(engine.new_session(), "sex", "male"), "age", "18_65")
    with pytest.raises(UnknownOption, match="'discharged' for 'service' was retired"):
        engine.from_answers({**ON_RVP, "citizenship": "uzbekistan", "service": "discharged"})


def test_a_stored_session_with_a_retired_answer_asks_that_question_again_and_keeps_the_rest(engine: Engine) -> None:
    stored = Session(
        "tg",
        {"sex": "male", "age": "18_65", "citizenship": "tajikistan", "application": "residence_permit",
         "residence_basis": "family", "service": "none"},
        "decree-821@2026.11.21",
    )  # fmt: skip
    session = engine.replay(stored)
    step = engine.step(session)
    assert isinstance(step, Question)
    assert (step.fact.id, step.number) == ("age", 2)
    assert dict(session.pending) == {"citizenship": "tajikistan", "application": "residence_permit", "service": "none"}
    # Answering age again reuses citizenship and application; "family" was retired too, so its question comes back.
    session = engine.answer(session, "age", "18_64")
    step = engine.step(session)
    assert isinstance(step, Question)
    assert (step.fact.id, step.number) == ("residence_basis", 5)
    assert session.path == ("sex", "age", "citizenship", "application")
    session = engine.answer(session, "residence_basis", "spouse_of_citizen")
    decision = engine.step(session)
    assert isinstance(decision, Decision)
    assert decision.outcome.id == "affected_residence"
    assert session.pending == {}, "nothing is kept once the outcome is known"


def test_pending_answers_survive_storage_and_are_dropped_by_back(engine: Engine) -> None:
    stored = Session("ru", {"sex": "male", "age": "18_65", "citizenship": "uzbekistan"}, "old")
    session = engine.replay(stored)
    assert Session.from_dict(session.to_dict()) == session
    assert engine.back(session).pending == {}


def test_a_stored_session_with_only_valid_answers_is_not_changed_by_replay(engine: Engine) -> None:
    answers = {**ON_RVP, "citizenship": "tajikistan"}
    stored = Session("ky", answers, "decree-821@2026.11.21")
    session = engine.replay(stored)
    assert dict(session.answers) == answers
    assert session.pending == {}
