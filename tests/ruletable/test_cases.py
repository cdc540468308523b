"""Cases files: `maslahat check` plays each case and says, at its line, what came instead.

The machinery is tested on a small table of its own (tests/fixtures/cases/); the shipped table's
cases are played by `maslahat check --strict` in CI and by the engine, advise and Telegram tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.core.engine import Engine
from bot.ruletable.cases import CasesError, cases_path, load_cases, run_cases
from bot.ruletable.check import check_file
from bot.ruletable.loader import load_table
from tests.support.shipped import FIXTURES, RULES

TABLE = FIXTURES / "cases" / "table.yaml"
CASES = FIXTURES / "cases" / "table.cases.yaml"

WOMAN = """cases:
  - name: "A woman"
    answers:
      sex: "female"
    expect:
"""


def _cases(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "table.cases.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _failures(tmp_path: Path, text: str) -> list[tuple[int, str]]:
    table = load_table(TABLE)
    cases = load_cases(_cases(tmp_path, text), table)
    return [(p.line, p.message) for p in run_cases(Engine(table), cases)]


def _load_problems(tmp_path: Path, text: str) -> list[tuple[int, str]]:
    with pytest.raises(CasesError) as raised:
        load_cases(_cases(tmp_path, text), load_table(TABLE))
    return [(p.line, p.message) for p in raised.value.problems]


def test_the_cases_file_is_found_beside_its_table() -> None:
    assert cases_path(TABLE) == CASES
    assert cases_path(RULES) == RULES.with_name("decree-821.cases.yaml")


def test_check_plays_every_case_and_says_how_many_pass(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--rules", str(TABLE), "check", "--strict"]) == 0
    assert f"{CASES}: 4 of 4 cases pass" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("expect", "line", "message"),
    [
        ('      outcome: "affected"\n', 6, "expected outcome 'affected', got 'not_affected_woman' (not_affected)"),
        ('      verdict: "affected"\n', 6, "expected verdict 'affected', got 'not_affected' (not_affected_woman)"),
        ('      verdict: "not_affected"\n      questions: 2\n', 7, "expected 2 question(s), got 1: sex"),
        (
            '      verdict: "not_affected"\n      confidence: "low"\n',
            7,
            "expected confidence 'low', got 'high' (women)",
        ),
        ('      verdict: "not_affected"\n      notes: ["duties"]\n', 7, "expected note 'duties', shown: none"),
        ('      verdict: "not_affected"\n      help: ["office"]\n', 7, "expected help contact 'office', shown: none"),
    ],
    ids=["outcome", "verdict", "questions", "confidence", "note", "help"],
)
def test_each_failed_expectation_is_reported_at_its_line_with_what_came_instead(
    tmp_path: Path, expect: str, line: int, message: str
) -> None:
    assert _failures(tmp_path, WOMAN + expect) == [(line, message)]


def test_a_help_contact_the_outcome_does_not_list_is_not_shown(tmp_path: Path) -> None:
    text = WOMAN.replace('sex: "female"', 'sex: "male"\n      age: "18_65"\n      service: "contract"')
    shown = "expected help contact 'volunteers', shown: none"
    assert _failures(tmp_path, text + '      verdict: "requirement_met"\n      help: ["volunteers"]\n') == [(9, shown)]


def test_an_answer_the_table_never_asks_fails_the_case(tmp_path: Path) -> None:
    text = WOMAN.replace('sex: "female"', 'sex: "female"\n      service: "none"')
    failures = _failures(tmp_path, text + '      verdict: "not_affected"\n')
    assert failures == [(2, "answers 'service' but the table never asks it (asked: sex)")]


def test_a_question_the_case_does_not_answer_fails_the_case(tmp_path: Path) -> None:
    text = WOMAN.replace('sex: "female"', 'sex: "male"\n      age: "18_65"')
    failures = _failures(tmp_path, text + '      verdict: "affected"\n')
    assert failures == [(2, "the table asks 'service' after sex > age, and the case has no answer")]


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        (WOMAN.replace('sex: "female"', 'sex: "femal"') + '      verdict: "not_affected"\n',
         [(4, "unknown option 'femal' for question 'sex' (did you mean 'female'?)")]),
        (WOMAN.replace('sex: "female"', 'gender: "female"') + '      verdict: "not_affected"\n',
         [(4, "unknown question 'gender'")]),
        (WOMAN + '      outcome: "not_affected_women"\n',
         [(6, "unknown outcome 'not_affected_women' (did you mean 'not_affected_woman'?)")]),
        (WOMAN + '      verdict: "fine"\n',
         [(6, "verdict must be one of not_affected, affected, requirement_met, unclear, not 'fine'")]),
        (WOMAN + '      questions: 1\n', [(6, "expect must name an outcome or a verdict (or both)")]),
        (WOMAN + '      verdict: "not_affected"\n      questions: 0\n',
         [(7, "questions must be a whole number from 1, not 0")]),
        (WOMAN + '      verdict: "not_affected"\n      note: ["duties"]\n',
         [(7, "unknown key 'note' (did you mean 'notes'?)")]),
        (WOMAN + '      verdict: "not_affected"\n      help: ["ofice"]\n',
         [(7, "unknown help contact 'ofice' (did you mean 'office'?)")]),
        (WOMAN + '      verdict: "not_affected"\n' + WOMAN.removeprefix("cases:\n") + '      verdict: "not_affected"\n',
         [(7, "the same name as the case at line 2")]),
        ("cases: []\n", [(1, "must be a non-empty list of cases")]),
        ("- a list\n", [(1, "the file must be a mapping with one key, cases: a list of cases")]),
    ],
    ids=["option", "question", "outcome", "verdict", "no-expectation", "questions", "key", "help", "name", "empty",
         "list"],
)  # fmt: skip
def test_a_case_that_names_what_the_table_lacks_is_reported_before_anything_is_played(
    tmp_path: Path, text: str, problems: list[tuple[int, str]]
) -> None:
    assert _load_problems(tmp_path, text) == problems


def test_a_retired_answer_in_a_case_names_its_replacements(tmp_path: Path) -> None:
    table = tmp_path / "table.yaml"
    table.write_text(RULES.read_text(encoding="utf-8"), encoding="utf-8")
    case = WOMAN.replace('sex: "female"', 'sex: "male"\n      age: "18_65"') + '      verdict: "affected"\n'
    (tmp_path / "table.cases.yaml").write_text(case, encoding="utf-8")
    report = check_file(table)
    assert [p.message for p in report.problems] == ["option '18_65' of 'age' was retired: use '18_64' or 'exactly_65'"]


def test_check_fails_on_a_failing_case_and_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    table = tmp_path / "table.yaml"
    table.write_text(TABLE.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "table.cases.yaml").write_text(
        CASES.read_text(encoding="utf-8").replace('confidence: "medium"', 'confidence: "high"'), encoding="utf-8"
    )
    assert main(["--rules", str(table), "check"]) == 1
    out = capsys.readouterr().out
    assert f"{tmp_path / 'table.cases.yaml'}:34: case 'A man of 70': expected confidence 'high', got 'medium'" in out
    assert "3 of 4 cases pass" in out


def test_an_outcome_no_case_reaches_is_a_warning_that_strict_fails_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "table.yaml"
    table.write_text(TABLE.read_text(encoding="utf-8"), encoding="utf-8")
    text = CASES.read_text(encoding="utf-8")
    start, end = text.index('  - name: "A man of 30 with a contract"'), text.index('  - name: "A man of 70"')
    (tmp_path / "table.cases.yaml").write_text(text[:start] + text[end:], encoding="utf-8")
    assert main(["--rules", str(table), "check"]) == 0
    assert main(["--rules", str(table), "check", "--strict"]) == 1
    out = capsys.readouterr().out
    assert "outcome 'requirement_met': warning: no case in table.cases.yaml reaches it" in out


def test_a_named_cases_file_that_is_missing_is_a_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--rules", str(TABLE), "check", "--cases", str(tmp_path / "nope.yaml")]) == 1
    assert "nope.yaml:0: cannot read the file" in capsys.readouterr().out


def test_the_shipped_cases_all_pass_and_reach_every_outcome() -> None:
    report = check_file(RULES)
    assert report.problems == []
    assert report.cases is not None
    assert report.cases >= len(report.table.outcomes if report.table else ())
    assert not [w for w in report.warnings if "no case" in w.message]
