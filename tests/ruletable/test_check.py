"""`maslahat check`: every problem with file, line and id, a summary, and exit code 1 if anything is wrong.

Some defects only show when every conversation is explored: a rule shadowed by earlier ones, an
outcome no conversation reaches, a question never asked. The fixtures for those load; the rest
are the loader's fixtures (tests/ruletable/test_loader.py), which `check` must report just the same.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from bot.cli import main
from bot.core import engine
from bot.core.engine import Engine
from bot.ruletable.check import Summary, check_file, check_table
from bot.ruletable.loader import TableError, load_table, parse_table
from bot.ruletable.yamlsource import Map
from tests.support.broken_tables import LOADS, PROBLEMS
from tests.support.shipped import FIXTURES, RULES

MINIMAL = FIXTURES / "minimal.yaml"
BROKEN = FIXTURES / "broken"

SHADOWED = "is shadowed: rules above it decide every conversation it matches, so it never decides"
UNREACHABLE = "no conversation can reach this outcome"
NEVER_ASKED = "no conversation asks this question"

# fixture -> every problem exploring it must find: (line, where, message)
EXPLORED: dict[str, list[tuple[int, str, str]]] = {
    "never_asked.yaml": [(46, "fact 'citizenship'", NEVER_ASKED)],
    "unreachable_outcome.yaml": [(75, "outcome 'unclear'", UNREACHABLE)],
    "shadowed_rule.yaml": [(83, "rule 'older_women'", SHADOWED)],
    "shadowed_jointly.yaml": [(95, "rule 'age_not_covered'", SHADOWED)],
    "check_problems.yaml": [
        (48, "fact 'citizenship'", NEVER_ASKED),
        (84, "outcome 'unclear'", UNREACHABLE),
        (97, "rule 'women_without_contract'", SHADOWED),
    ],
}


def test_every_fixture_that_loads_has_its_problems_listed() -> None:
    assert set(EXPLORED) == LOADS


def test_shipped_table_passes_with_the_expected_summary() -> None:
    report = check_file(RULES)
    assert report.problems == []
    assert report.ok
    assert report.summary is not None
    s = report.summary
    table = load_table(RULES)
    assert (s.questions, s.outcomes, s.rules) == (len(table.facts), len(table.outcomes), len(table.rules))
    assert s.conversations == sum(1 for _ in Engine(table).conversations())
    assert s.longest == len(s.longest_path)
    assert len(s.longest_path) == 6
    assert s.longest_path[:2] == ("sex", "age")


def test_minimal_table_passes_with_its_summary() -> None:
    report = check_file(MINIMAL)
    assert report.problems == []
    # A woman: one question. A man under 18 or over 65: two. A man of 18 to 65: three, either answer.
    assert report.summary == Summary(
        questions=3, outcomes=4, rules=5, conversations=5, longest=3, longest_path=("sex", "age", "service")
    )


@pytest.mark.parametrize("name", sorted(EXPLORED))
def test_each_exploration_defect_is_reported_with_its_line_and_id(name: str) -> None:
    path = BROKEN / name
    report = check_table(load_table(path))
    assert [(p.path, p.line, p.where, p.message) for p in report.problems] == [
        (str(path), line, where, message) for line, where, message in EXPLORED[name]
    ]
    assert not report.ok
    # The summary is still given: the table could be explored.
    assert report.summary is not None
    assert report.summary.conversations == 5


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_check_file_reports_what_the_loader_finds_without_raising(name: str) -> None:
    path = BROKEN / name
    with pytest.raises(TableError) as caught:
        load_table(path)
    report = check_file(path)
    assert report.problems == caught.value.problems
    assert not report.ok
    assert report.summary is None


def test_a_catch_all_in_the_middle_shadows_everything_after_it() -> None:
    text = MINIMAL.read_text(encoding="utf-8")
    old = '  - id: "too_young"'
    assert text.count(old) == 1
    everyone = (
        '  - id: "everyone"\n    when: {}\n    outcome: "affected"\n    sources: ["news"]\n    confidence: "low"\n'
    )
    report = check_table(parse_table(text.replace(old, everyone + old), "t.yaml"))
    assert [(p.line, p.where, p.message) for p in report.problems] == [
        (31, "fact 'age'", NEVER_ASKED),
        (40, "fact 'service'", NEVER_ASKED),
        (59, "outcome 'not_affected_age'", UNREACHABLE),
        (64, "outcome 'requirement_met'", UNREACHABLE),
        (89, "rule 'too_young'", SHADOWED),
        (95, "rule 'too_old'", SHADOWED),
        (101, "rule 'with_contract'", SHADOWED),
        (108, "rule 'covered'", SHADOWED),
    ]
    assert report.summary is not None
    assert (report.summary.conversations, report.summary.longest) == (2, 1)


def test_too_many_conversations_is_a_problem_not_a_hang() -> None:
    table = load_table(MINIMAL)
    report = check_table(table, limit=4)
    first_rule = table.rules[0].line
    assert [(p.line, p.where, p.message) for p in report.problems] == [
        (first_rule, "rules", "cannot explore: more than 4 distinct conversations")
    ]
    assert report.summary is None


def _tangled_table(path: Path, rules: int = 12, facts: int = 20, seed: int = 1) -> Path:
    """A table whose rules test random facts (1 to 4 each) instead of nesting, as YAML."""
    rng = random.Random(seed)  # noqa: S311 - reproducible, not secret
    lines = [
        'meta: {id: "tangled", title: "Tangled", version: "1", checked: "2026-11-21", newest_source: "2026-11",'
        ' disclaimer: "Test."}',
        'sources: [{id: "s", title: "S", url: "https://example.org/s", date: "2026-11-21", grade: "B"}]',
        "facts:",
    ]
    for f in range(facts):
        lines.append(
            f'  - {{id: "f{f}", question: "Q{f}?", options: [{{id: "a", label: "A"}}, '
            '{id: "b", label: "B"}, {id: "c", label: "C"}]}'
        )
    lines.append("outcomes:")
    for o in range(3):
        lines.append(f'  - {{id: "o{o}", verdict: "unclear", headline: "H{o}.", explanation: "E.", sources: ["s"]}}')
    lines.append("rules:")
    for r in range(rules - 1):
        when = ", ".join(
            f"f{f}: [{', '.join(chr(34) + o + chr(34) for o in rng.sample('abc', rng.randint(1, 2)))}]"
            for f in rng.sample(range(facts), rng.randint(1, 4))
        )
        lines.append(f'  - {{id: "r{r}", when: {{{when}}}, outcome: "o{r % 3}", sources: ["s"], confidence: "high"}}')
    lines.append('  - {id: "rest", when: {}, outcome: "o0", sources: ["s"], confidence: "low"}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_rules_that_cut_across_each_other_are_refused_with_a_reason_not_explored_for_hours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(engine, "EXPLORATION_BUDGET", 20_000)  # the real budget takes ~5 s to reach
    path = _tangled_table(tmp_path / "tangled.yaml")
    assert load_table(path)  # valid as far as the loader can tell
    code, out, _ = run_check(path, capsys)
    assert code == 1
    first_rule = load_table(path).rules[0].line
    assert f"{path}:{first_rule}: rules: cannot explore: more than 20,000 combinations of answers" in out
    assert "write them as a tree" in out


def test_the_shipped_table_is_far_inside_the_exploration_budget() -> None:
    explored = Engine(load_table(RULES))
    assert sum(1 for _ in explored.conversations()) > 0
    assert explored._examined < engine.EXPLORATION_BUDGET / 100


def test_missing_file_is_reported_not_raised(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    report = check_file(path)
    assert [(p.path, p.line) for p in report.problems] == [(str(path), 0)]
    assert "cannot read the file" in report.problems[0].message


@pytest.mark.parametrize(
    ("name", "read"),
    [("minimal.yaml", True), ("broken/unknown_key.yaml", True), ("broken/yaml_syntax.yaml", False)],
)
def test_the_report_holds_the_yaml_it_read_so_nothing_reads_the_file_again(name: str, read: bool) -> None:
    """What the catalogs' check takes the table's texts from, valid table or not; nothing if it is not YAML."""
    data = check_file(FIXTURES / name).data
    assert (data is not None) == read
    if read:
        assert isinstance(data, Map)
        assert data["meta"]["id"] == "minimal"


# The command ---------------------------------------------------------------------------------


def run_check(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--rules", str(path), "check"])
    out, err = capsys.readouterr()
    return code, out, err


def test_command_passes_the_shipped_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_check(RULES, capsys)
    assert code == 0
    lines = out.splitlines()
    table = load_table(RULES)
    lengths = [len(session.answers) for session, _ in Engine(table).conversations()]
    assert lines[0].startswith(
        f"{RULES}: {len(table.facts)} questions, {len(table.outcomes)} outcomes, {len(table.rules)} rules, "
        f"{len(lengths)} distinct conversations, longest {max(lengths)} questions (sex > "
    )
    assert lines[-1] == "OK"


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_command_prints_each_problem_as_path_line_id_and_fails(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = BROKEN / name
    code, out, err = run_check(path, capsys)
    assert code == 1
    lines = out.splitlines()
    assert len(lines) == len(PROBLEMS[name])
    for line, (number, where, phrase) in zip(lines, PROBLEMS[name], strict=True):
        prefix = f"{path}:{number}: {where}: " if where else f"{path}:{number}: "
        assert line.startswith(prefix)
        assert phrase in line
    assert "OK" not in out
    assert f"{len(PROBLEMS[name])} problem(s) found" in err


@pytest.mark.parametrize("name", sorted(EXPLORED))
def test_command_prints_exploration_problems_and_the_summary(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = BROKEN / name
    code, out, err = run_check(path, capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines[:-1] == [f"{path}:{line}: {where}: {message}" for line, where, message in EXPLORED[name]]
    assert " distinct conversations, longest 3 questions (sex > age > service)" in lines[-1]
    assert f"{len(EXPLORED[name])} problem(s) found" in err


def test_command_reports_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "nowhere.yaml"
    code, out, _ = run_check(path, capsys)
    assert code == 1
    assert out.startswith(f"{path}:0: cannot read the file")


# Defined but never shown: warnings, which --strict fails on ---------------------------------------


def test_whatever_no_one_is_ever_shown_is_a_warning_at_its_definition(tmp_path: Path) -> None:
    """Before: a help contact no outcome listed was accepted (OK) and never shown to anyone."""
    text = MINIMAL.read_text(encoding="utf-8")
    text = text.replace(
        "sources:\n",
        'sources:\n  - id: "forgotten"\n    title: "Nobody cites this"\n    url: "https://example.org/f"\n'
        '    date: "2025"\n    grade: "C"\n',
        1,
    )
    text += '\nunknowns:\n  - id: "orphan"\n    text: "Listed by no outcome."\n'
    path = tmp_path / "table.yaml"
    path.write_text(text, encoding="utf-8")
    report = check_file(path)
    assert report.problems == []
    found = {(w.where, w.message.split(":")[0]) for w in report.warnings}
    assert ("source 'forgotten'", "warning") in found
    assert ("unknown 'orphan'", "warning") in found
    lines = text.splitlines()
    for warning in report.warnings:
        ident = warning.where.split("'")[1]
        assert f'id: "{ident}"' in lines[warning.line - 1], "each warning points at the definition"


def test_strict_fails_on_warnings_and_the_default_does_not(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = MINIMAL.read_text(encoding="utf-8") + '\nunknowns:\n  - id: "orphan"\n    text: "Listed by no outcome."\n'
    path = tmp_path / "table.yaml"
    path.write_text(text, encoding="utf-8")
    assert main(["--rules", str(path), "check"]) == 0
    assert "OK, with 1 warning(s)" in capsys.readouterr().out
    assert main(["--rules", str(path), "check", "--strict"]) == 1
    captured = capsys.readouterr()
    assert f"{path}:" in captured.out
    assert "unknown 'orphan': warning: no outcome lists it" in captured.out
    assert "--strict fails on warnings" in captured.err


def test_the_shipped_table_has_no_warnings() -> None:
    assert check_file(RULES).warnings == []
