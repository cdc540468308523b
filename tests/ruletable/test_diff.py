"""`maslahat diff`: every conversation a change to the table affects, on small tables with known differences.

minimal.yaml has five conversations: a woman; a man under 18; over 65; 18 to 65 with a contract;
18 to 65 without. Each test changes it in one way and checks the report finds exactly that.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from bot.ruletable.diff import TableDiff, diff_tables
from bot.ruletable.loader import parse_yaml, table_from_yaml
from tests.support.shipped import FIXTURES

MINIMAL = (FIXTURES / "minimal.yaml").read_text(encoding="utf-8")
TOO_OLD = '''  - id: "too_old"
    when:
      age: "over_65"
    outcome: "not_affected_age"
    sources: ["official"]
    confidence: "medium"'''


def _diff(new_text: str) -> TableDiff:
    old_data, old_problems = parse_yaml(MINIMAL, "old.yaml")
    new_data, new_problems = parse_yaml(new_text, "new.yaml")
    old = table_from_yaml(old_data, "old.yaml", old_problems)
    new = table_from_yaml(new_data, "new.yaml", new_problems)
    return diff_tables(old, new, old_data, new_data)


def _edit(old: str, new: str) -> str:
    assert old in MINIMAL
    return MINIMAL.replace(old, new)


def test_an_unchanged_table_changes_nothing() -> None:
    found = _diff(MINIMAL)
    assert (found.conversations, found.changes, found.texts) == (5, [], [])


def test_a_rules_confidence_changes_the_conversations_it_decides() -> None:
    found = _diff(_edit(TOO_OLD, TOO_OLD.replace('"medium"', '"low"')))
    [change] = found.changes
    assert change.what == ("confidence",)
    assert dict(change.answers) == {"sex": "male", "age": "over_65"}
    assert change.old is not None
    assert change.new is not None
    assert (change.old.confidence, change.new.confidence) == ("medium", "low")


def test_a_rule_deciding_another_outcome_changes_verdict_and_outcome() -> None:
    found = _diff(_edit(TOO_OLD, TOO_OLD.replace('outcome: "not_affected_age"', 'outcome: "affected"')))
    [change] = found.changes
    assert change.what == ("verdict", "outcome")
    assert change.new is not None
    assert (change.new.verdict, change.new.outcome) == ("affected", "affected")
    assert (found.count("verdict"), found.count("confidence")) == (1, 0)


def test_a_new_answer_is_a_new_path_and_a_removed_one_is_gone() -> None:
    unfit = '''      - id: "none"
        label: "No"
      - id: "unfit"
        label: "Found unfit"'''
    added = _diff(
        _edit(
            '''      - id: "none"
        label: "No"''',
            unfit,
        )
    )
    assert [(c.what, dict(c.answers)) for c in added.changes] == [
        (("added",), {"sex": "male", "age": "18_65", "service": "unfit"})
    ]
    assert added.conversations == 6
    assert [(t.where, t.old, t.new) for t in added.texts] == [
        ("question service, answer unfit: button label, keep under 30 characters", "", "Found unfit")
    ]
    # The other way round, the same path is gone.
    data, problems = parse_yaml(
        MINIMAL.replace(
            '''      - id: "none"
        label: "No"''',
            unfit,
        ),
        "old.yaml",
    )
    new_data, new_problems = parse_yaml(MINIMAL, "new.yaml")
    gone = diff_tables(table_from_yaml(data, "old.yaml", problems), table_from_yaml(new_data, "new.yaml", new_problems))
    assert [c.what for c in gone.changes] == [("removed",)]


def test_a_question_no_longer_asked_changes_every_conversation_and_splits_some() -> None:
    # Without the rule for women, nobody is asked whether they are a man or a woman: a woman's
    # one-question conversation becomes the four a man can have, and every man's loses a question.
    women = """  - id: "women"
    when:
      sex: "female"
    outcome: "not_affected_woman"
    sources: ["official"]
    confidence: "high"
"""
    new = _edit(women, "").replace(
        """  - id: "not_affected_woman"
    verdict: "not_affected"
    headline: "The requirement does not apply to women."
    explanation: "Only men are covered."
    sources: ["official"]
""",
        "",
    )
    found = _diff(new)
    woman = [c for c in found.changes if c.answers["sex"] == "female"]
    assert len(woman) == 4  # under 18, over 65, 18 to 65 with and without a contract
    assert all({"outcome", "questions"} <= set(c.what) for c in woman)
    assert {c.new.verdict for c in woman if c.new} == {"not_affected", "requirement_met", "affected"}
    men = [c for c in found.changes if c.answers["sex"] == "male"]
    assert len(men) == 4
    assert all(c.what == ("questions",) and c.old and c.new and c.new.asked == c.old.asked[1:] for c in men)
    assert found.conversations == 8
    assert [t.where for t in found.texts if not t.new] == [
        "outcome not_affected_woman (not_affected): headline, one sentence",
        "outcome not_affected_woman (not_affected): why",
    ]


def test_a_reworded_text_is_listed_with_its_old_and_new_wording() -> None:
    found = _diff(
        _edit('headline: "The requirement applies to you."', 'headline: "The requirement applies to you now."')
    )
    assert found.changes == []
    assert [(t.where, t.old, t.new) for t in found.texts] == [
        ("outcome affected (affected): headline, one sentence", "The requirement applies to you.",
         "The requirement applies to you now.")
    ]  # fmt: skip


def test_the_command_prints_the_summary_first_then_each_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = tmp_path / "old.yaml", tmp_path / "new.yaml"
    old.write_text(MINIMAL, encoding="utf-8")
    new.write_text(_edit(TOO_OLD, TOO_OLD.replace('outcome: "not_affected_age"', 'outcome: "affected"')), "utf-8")
    assert main(["diff", str(old), str(new)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:5] == [
        f"{old} -> {new}",
        "version 1.0 -> 1.0, checked 2026-01-15 -> 2026-01-15",
        "1 of 5 conversations change:",
        "  1 change verdict",
        "  1 reach another outcome",
    ]
    assert "  verdict, outcome sex=male, age=over_65" in lines
    assert main(["diff", str(old), str(new), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["conversations"], report["changed"], report["by_kind"]["verdict"]) == (5, 1, 1)
    assert report["changes"][0]["new"] == {
        "outcome": "affected",
        "verdict": "affected",
        "confidence": "medium",
        "asked": ["sex", "age"],
    }


def test_since_compares_the_table_with_itself_at_a_git_revision(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = tmp_path / "rules.yaml"
    rules.write_text(MINIMAL, encoding="utf-8")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "rules.yaml"], check=True)
    subprocess.run([*git, "commit", "-qm", "release"], check=True)
    subprocess.run([*git, "tag", "v1"], check=True)
    rules.write_text(_edit(TOO_OLD, TOO_OLD.replace('"medium"', '"low"')), encoding="utf-8")
    assert main(["--rules", str(rules), "diff", "--json"]) == 0  # by default, since the last tag
    report = json.loads(capsys.readouterr().out)
    assert (report["old"], report["by_kind"]["confidence"]) == ("v1:rules.yaml", 1)
    assert main(["--rules", str(rules), "diff", "--since", "nope"]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_one_file_alone_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diff", str(FIXTURES / "minimal.yaml")]) == 2
    assert "two tables" in capsys.readouterr().err
