"""The loader rejects a malformed rule table with every problem, each with file, line and id.

Every file in tests/fixtures/broken/ is tests/fixtures/minimal.yaml with one defect (its first
comment names it). PROBLEMS below says exactly what the loader must report for each: the line,
the id (``where``) and a phrase of the message. One defect must give exactly the problems listed,
not a cascade of follow-on complaints about things that exist.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.core.table import Table
from bot.ruletable.loader import TableError, load_table, parse_table
from tests.support.broken_tables import LOADS, PROBLEMS
from tests.support.shipped import FIXTURES, RULES

MINIMAL = FIXTURES / "minimal.yaml"
BROKEN = FIXTURES / "broken"


# fixture -> every problem the loader must report: (line, where, phrase of the message)
def problems_of(path: Path) -> list[tuple[str, int, str, str]]:
    with pytest.raises(TableError) as caught:
        load_table(path)
    return [(p.path, p.line, p.where, p.message) for p in caught.value.problems]


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_each_defect_is_reported_with_its_line_id_and_reason(name: str) -> None:
    path = BROKEN / name
    found = problems_of(path)
    assert [(f, line, where) for f, line, where, _ in found] == [
        (str(path), line, where) for line, where, _ in PROBLEMS[name]
    ]
    for (*_, message), (_, _, phrase) in zip(found, PROBLEMS[name], strict=True):
        assert phrase in message


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_each_broken_fixture_names_its_defect_in_a_first_comment(name: str) -> None:
    first = (BROKEN / name).read_bytes().splitlines()[0]
    assert first.startswith(b"# Defect")


def test_every_broken_fixture_has_expectations() -> None:
    on_disk = {p.name for p in BROKEN.iterdir()}
    assert on_disk == set(PROBLEMS) | LOADS
    assert not set(PROBLEMS) & LOADS


@pytest.mark.parametrize("name", sorted(LOADS))
def test_fixtures_whose_defects_only_exploration_finds_do_load(name: str) -> None:
    assert isinstance(load_table(BROKEN / name), Table)


def test_the_error_message_lists_every_problem_one_per_line() -> None:
    path = BROKEN / "several_problems.yaml"
    with pytest.raises(TableError) as caught:
        load_table(path)
    lines = str(caught.value).splitlines()
    assert len(lines) == len(PROBLEMS["several_problems.yaml"])
    assert lines[0] == f"{path}:12: meta: unknown key 'author'"
    assert lines[-1].startswith(f"{path}:114: rule 'covered': the last rule must be a catch-all")


def test_minimal_table_loads_as_written() -> None:
    table = load_table(MINIMAL)
    assert table.path == str(MINIMAL)
    assert table.meta.id == "minimal"
    assert table.meta.version == "1.0"
    assert table.meta.checked == dt.date(2026, 1, 15)
    assert [f.id for f in table.facts] == ["sex", "age", "service"]
    assert table.fact_index["age"].option_ids == ("under_18", "18_65", "over_65")
    assert [r.id for r in table.rules] == ["women", "too_young", "too_old", "with_contract", "covered"]
    assert dict(table.rules[3].when) == {"age": frozenset({"18_65"}), "service": frozenset({"contract"})}
    assert dict(table.rules[-1].when) == {}
    assert set(table.outcomes) == {"not_affected_woman", "not_affected_age", "requirement_met", "affected"}
    assert table.outcomes["affected"].satisfies == ("army_contract",)
    # An outcome without its own `checked` date takes the table's.
    assert table.outcomes["affected"].checked == dt.date(2026, 1, 15)
    assert list(table.sources) == ["official", "news"]


def test_shipped_table_loads() -> None:
    table = load_table(RULES)
    assert [f.id for f in table.facts] == [
        "sex", "age", "citizenship", "application", "residence_basis", "citizenship_basis", "service"
    ]  # fmt: skip
    assert table.version_tag == f"decree-821@{table.meta.version}"


def test_a_missing_file_is_one_problem_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert problems_of(path) == [(str(path), 0, "", "cannot read the file: No such file or directory")]


def test_a_directory_is_not_a_rule_table(tmp_path: Path) -> None:
    [(shown, line, _, message)] = problems_of(tmp_path)
    assert (shown, line) == (str(tmp_path), 0)
    assert message.startswith("cannot read the file")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "just a sentence\n", "- a\n- b\n"])
def test_a_file_that_is_not_a_mapping_is_one_problem(text: str) -> None:
    with pytest.raises(TableError) as caught:
        parse_table(text, "t.yaml")
    assert [(p.line, p.message) for p in caught.value.problems] == [
        (1, "the file must be a mapping with meta, sources, facts, outcomes and rules")
    ]


def test_a_missing_top_level_section_is_reported() -> None:
    text = MINIMAL.read_text(encoding="utf-8").replace("\nrules:", "\nrulez:")
    with pytest.raises(TableError) as caught:
        parse_table(text, "t.yaml")
    assert [(p.line, p.where, p.message) for p in caught.value.problems] == [
        (3, "file", "missing key 'rules'"),
        (77, "file", "unknown key 'rulez' (did you mean 'rules'?)"),
    ]


def minimal_with(old: str, new: str) -> str:
    text = MINIMAL.read_text(encoding="utf-8")
    assert text.count(old) == 1
    return text.replace(old, new)


@pytest.mark.parametrize("empty", ["", " null", " ~"])
def test_an_empty_id_is_reported_without_advice_to_quote_nothing(empty: str) -> None:
    text = minimal_with('  - id: "news"', f"  - id:{empty}")
    with pytest.raises(TableError) as caught:
        parse_table(text, "t.yaml")
    # The references to 'news' are reported too: no source has that id any more.
    assert [(p.line, p.where, p.message) for p in caught.value.problems if p.line == 17] == [
        (17, "source #2", "id must be a string")
    ]


def test_a_broken_source_does_not_make_every_reference_to_it_unknown() -> None:
    text = minimal_with('    date: "2025-12"\n', "")
    with pytest.raises(TableError) as caught:
        parse_table(text, "t.yaml")
    assert [(p.line, p.where, p.message) for p in caught.value.problems] == [
        (17, "source 'news'", "missing key 'date'")
    ]


def test_an_invalid_id_names_the_allowed_characters() -> None:
    text = minimal_with('  - id: "too_old"', '  - id: "Too Old"')
    with pytest.raises(TableError) as caught:
        parse_table(text, "t.yaml")
    assert [(p.line, p.where, p.message) for p in caught.value.problems] == [
        (90, "rule 'Too Old'", "id 'Too Old' may contain only a-z, 0-9, '_', '-' and '.'")
    ]


@pytest.mark.parametrize(
    ("old", "new", "line", "where", "phrase"),
    [
        ('    url: "https://example.org/news"', '    url: "example.org/news"', 19, "source 'news'", "must start with"),
        ('    date: "2025-12"', "    date: 2025-12-01", 20, "source 'news'", 'date 2025-12-01 must be a quoted "YYYY"'),
        ('  checked: "2026-01-15"', '  checked: "15.01.2026"', 7, "meta", 'checked must be a date like "2026-11-21"'),
        (
            '    when:\n      sex: "female"',
            "    when:\n      sex:",
            80,
            "rule 'women'",
            "condition on 'sex' names no option",
        ),
        (
            '    when:\n      sex: "female"',
            "    when:\n      sex: []",
            80,
            "rule 'women'",
            "condition on 'sex' lists no options",
        ),
        ('    when:\n      sex: "female"', '    when: "sex=female"', 79, "rule 'women'", "when must be a mapping"),
        (
            '    outcome: "not_affected_woman"\n    sources: ["official"]',
            '    outcome: "not_affected_woman"\n    sources: []',
            82,
            "rule 'women'",
            "a rule must name at least one source",
        ),
        (
            '    satisfies: ["army_contract"]\n    sources: ["official", "news"]\n\nrules:',
            '    sources: ["official", "news"]\n\nrules:',
            70,
            "outcome 'affected'",
            "an 'affected' outcome must say what satisfies the requirement",
        ),
    ],
)
def test_other_value_problems_are_located(old: str, new: str, line: int, where: str, phrase: str) -> None:
    with pytest.raises(TableError) as caught:
        parse_table(minimal_with(old, new), "t.yaml")
    [problem] = caught.value.problems
    assert (problem.line, problem.where) == (line, where)
    assert phrase in problem.message


def test_a_table_without_rules_is_reported() -> None:
    text = MINIMAL.read_text(encoding="utf-8").split("\nrules:")[0] + "\nrules: []\n"
    with pytest.raises(TableError) as caught:
        parse_table(text, "t.yaml")
    assert [(p.line, p.where, p.message) for p in caught.value.problems] == [(77, "rules", "the table has no rules")]


def _lines() -> list[str]:
    return MINIMAL.read_text(encoding="utf-8").splitlines(keepends=True)


# Lines an operator might type by mistake, including values YAML cannot read at all.
DAMAGE = [
    "",
    "  x: 1\n",
    "- y\n",
    "]\n",
    "  id: 18_65\n",
    "      - id: no\n",
    "    when: {}\n",
    "  checked: 2026-13-45\n",
    "    [a, b]: 1\n",
    '    title: "bell \x07"\n',
]


@settings(max_examples=200, deadline=None)
@given(
    index=st.integers(min_value=0, max_value=len(_lines()) - 1),
    replacement=st.sampled_from(DAMAGE) | st.text(max_size=12).map(lambda s: s + "\n"),
)
# A NEL (U+0085) inside a line is a line break to YAML (and to editors that follow Unicode): the
# file then has one line more than the list had items, and a problem on that line is right.
@example(index=103, replacement="0\x85\n")
def test_any_damaged_line_gives_located_problems_never_a_crash(index: int, replacement: str) -> None:
    lines = _lines()
    lines[index] = replacement
    text = "".join(lines)
    try:
        parse_table(text, "t.yaml")
    except TableError as exc:
        problems = exc.problems
    else:
        return  # the damage was harmless (a comment, a blank line)
    assert problems
    for problem in problems:
        assert problem.path == "t.yaml"
        # Lines as YAML counts them: \n, \r, NEL, LS and PS all end one (str.splitlines counts these too).
        assert 1 <= problem.line <= len(text.splitlines()) + 1, problem


# Edition 2 of the brief: retired options, source grades, the newest source's date ----------------

_AGE_OPTIONS = '      - id: "over_65"\n        label: "Over 65"\n'


def _retiring(block: str) -> str:
    """The minimal table with ``block`` written as the age question's list of retired options."""
    return minimal_with(_AGE_OPTIONS, _AGE_OPTIONS + "    retired:\n" + block)


def _problems(text: str) -> list[tuple[int, str, str]]:
    with pytest.raises(TableError) as caught:
        parse_table(text, "t.yaml")
    return [(p.line, p.where, p.message) for p in caught.value.problems]


def test_a_retired_option_is_kept_with_what_replaced_it() -> None:
    text = _retiring('      - id: "18_70"\n        replaced_by: ["18_65", "over_65"]\n')
    table = parse_table(text, "t.yaml")
    assert dict(table.fact_index["age"].retired) == {"18_70": ("18_65", "over_65")}
    assert "18_70" not in table.fact_index["age"].option_ids


def test_a_retirement_that_points_at_nothing_is_an_error() -> None:
    text = _retiring('      - id: "18_70"\n        replaced_by: ["18_64"]\n')
    assert _problems(text) == [
        (42, "fact 'age' retired option '18_70'", "unknown option '18_64' (did you mean '18_65'?)")
    ]


def test_a_retirement_with_no_replacement_is_an_error() -> None:
    text = _retiring('      - id: "18_70"\n        replaced_by: []\n')
    assert _problems(text) == [
        (42, "fact 'age' retired option '18_70'", "replaced_by must name at least one current option")
    ]


def test_an_option_cannot_be_retired_and_offered_at_once() -> None:
    text = _retiring('      - id: "over_65"\n        replaced_by: ["18_65"]\n')
    assert _problems(text) == [
        (41, "fact 'age' retired option 'over_65'", "'over_65' is retired but still an option; remove one of them")
    ]


@pytest.mark.parametrize(("grade", "shown"), [("", "None"), ('"E"', "'E'"), ("b", "'b'")])
def test_a_source_needs_a_grade_from_a_to_d(grade: str, shown: str) -> None:
    text = minimal_with('    date: "2025-12"\n    grade: "B"', f'    date: "2025-12"\n    grade: {grade}')
    assert _problems(text) == [(21, "source 'news'", f"grade {shown} must be one of A, B, C, D")]


def test_high_confidence_needs_an_official_text_or_a_state_body() -> None:
    text = MINIMAL.read_text(encoding="utf-8").replace('grade: "B"', 'grade: "C"')
    problems = _problems(text)
    assert problems
    assert all(
        message.startswith("confidence 'high' needs at least one source of grade A or B") for *_, message in problems
    )
    rules = parse_table(MINIMAL.read_text(encoding="utf-8"), "t.yaml").rules
    assert {where for _, where, _ in problems} == {f"rule {r.id!r}" for r in rules if r.confidence == "high"}


def test_the_newest_source_cannot_be_later_than_the_check() -> None:
    text = minimal_with('  newest_source: "2026-01-15"', '  newest_source: "2026-02"')
    assert _problems(text) == [(8, "meta", "newest_source 2026-02 is later than checked 2026-01-15")]


def test_the_newest_source_cannot_be_older_than_a_listed_source() -> None:
    text = minimal_with('  newest_source: "2026-01-15"', '  newest_source: "2025-11"')
    assert _problems(text) == [
        (
            8,
            "meta",
            "newest_source 2025-11 is older than source 'official' (2025-12-13, line 12); "
            "set it to the newest source's date",
        )
    ]


def test_a_newest_source_as_precise_as_a_year_covers_that_year() -> None:
    text = minimal_with('  newest_source: "2026-01-15"', '  newest_source: "2025"')
    assert parse_table(text, "t.yaml").meta.newest_source == "2025"


def test_the_shipped_table_keeps_the_retired_ids_of_edition_1() -> None:
    table = load_table(RULES)
    retired = {fact.id: dict(fact.retired) for fact in table.facts if fact.retired}
    assert retired == {
        "age": {"18_65": ("18_64", "exactly_65")},
        "residence_basis": {
            "family": ("spouse_of_citizen", "parent_of_citizen"),
            "other": ("other_without_temporary_permit",),
        },
        "service": {"discharged": ("discharged_after_2022", "discharged_before_2022")},
    }
