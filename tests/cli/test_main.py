"""`maslahat advise` and the command's exit codes, as README.md documents them."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.core.engine import Decision, Engine, Question
from bot.core.languages import LANGUAGES, SOURCE_LANGUAGE, SourceLanguage
from bot.core.present import outcome_view, question_view
from bot.core.table import CONFIDENCES, VERDICTS, Table
from bot.ruletable.cases import Case
from bot.ruletable.loader import load_table
from tests.support.golden import CASES, asked_in_order
from tests.support.shipped import ROOT, RULES, TAJIK, checked_in_words

CHECKED, NEWEST = checked_in_words()

SOURCE_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _readme_json_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### `maslahat advise --json`", 1)[1]
    return re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL)


def _answer_args(answers: dict[str, str]) -> list[str]:
    return [arg for fact, option in answers.items() for arg in ("--answer", f"{fact}={option}")]


@pytest.fixture(autouse=True)
def _shipped_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test here uses the shipped table and catalogs unless it says otherwise."""
    monkeypatch.delenv("MASLAHAT_RULES", raising=False)
    monkeypatch.delenv("MASLAHAT_LOCALES", raising=False)


def advise_json(capsys: pytest.CaptureFixture[str], answers: dict[str, str], lang: str = "en") -> dict[str, Any]:
    code = main(["advise", *_answer_args(answers), "--lang", lang, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.err == ""
    result: dict[str, Any] = json.loads(captured.out)
    return result


# The question ------------------------------------------------------------------------------


def test_no_answers_asks_the_first_question_in_the_documented_shape(
    capsys: pytest.CaptureFixture[str], table: Table
) -> None:
    result = advise_json(capsys, {})
    assert set(result) == {"question"}
    question = result["question"]
    assert set(question) == {"id", "text", "number", "of_about", "options"}
    sex = table.fact_index["sex"]
    assert (question["id"], question["text"]) == ("sex", sex.question)
    assert (question["number"], question["of_about"]) == (1, 6)
    assert question["options"] == [{"id": "male", "label": "A man"}, {"id": "female", "label": "A woman"}]


def test_question_output_equals_the_readme_example(capsys: pytest.CaptureFixture[str]) -> None:
    example = json.loads(_readme_json_blocks()[0])
    assert example["question"]["id"] == "age", "the README's first example is the age question"
    assert advise_json(capsys, {"sex": "male"}) == example


def test_option_hints_appear_only_where_the_table_has_them(capsys: pytest.CaptureFixture[str], table: Table) -> None:
    result = advise_json(capsys, {"sex": "male", "age": "18_64", "citizenship": "uzbekistan"})
    options = {o["id"]: o for o in result["question"]["options"]}
    assert result["question"]["id"] == "application"
    other = table.fact_index["application"].option("other")
    assert other is not None
    assert options["other"]["hint"] == other.hint
    assert set(options["residence_permit"]) == {"id", "label"}
    assert set(options["citizenship"]) == {"id", "label"}


# The outcome -------------------------------------------------------------------------------


def test_outcome_has_every_documented_key_and_no_other(capsys: pytest.CaptureFixture[str]) -> None:
    example = json.loads(_readme_json_blocks()[1])
    result = advise_json(capsys, TAJIK)
    assert set(result) == {"outcome"}, "no 'ignored' when every answer was needed"
    outcome = result["outcome"]
    assert set(outcome) == set(example["outcome"])
    for key in ("satisfies", "actions", "notes", "unknown", "sources"):
        assert outcome[key], key
        for item in outcome[key]:
            assert set(item) == set(example["outcome"][key][0]), key
    for item in outcome["help"]:
        assert set(example["outcome"]["help"][0]) - {"url"} <= set(item) <= set(example["outcome"]["help"][0])


def test_tajik_man_on_rvp_is_affected(capsys: pytest.CaptureFixture[str], table: Table) -> None:
    outcome = advise_json(capsys, TAJIK)["outcome"]
    assert outcome["id"] == "affected_residence"
    assert outcome["verdict"] == "affected"
    assert outcome["verdict_label"] == "The requirement applies to you"
    assert "residence permit" in outcome["headline"]
    assert outcome["confidence"] in CONFIDENCES
    assert outcome["confidence_label"].startswith(f"{outcome['confidence']} — ")
    assert outcome["rules"] == ["residence_covered"]
    assert [s["id"] for s in outcome["satisfies"]] == [
        "army_contract",
        "emergency_contract",
        "discharge_after_2022",
        "unfitness_decision",
    ]
    assert all(a["text"] and a["risk"] for a in outcome["actions"])
    assert "military_contract" in [a["id"] for a in outcome["actions"]]
    assert [n["id"] for n in outcome["notes"]] == ["tajikistan_law"]
    assert "filed_before" in [u["id"] for u in outcome["unknown"]]
    assert [h["id"] for h in outcome["help"]] == ["migration_office", "civic_assistance", "tajik_migration_service"]
    assert outcome["checked"] == table.outcomes["affected_residence"].checked.isoformat()
    assert outcome["disclaimer"].startswith("This is information, not legal advice.")
    assert outcome["answers"] == TAJIK


def test_outcome_sources_have_title_url_and_date(capsys: pytest.CaptureFixture[str], table: Table) -> None:
    sources = advise_json(capsys, TAJIK)["outcome"]["sources"]
    ids = [s["id"] for s in sources]
    assert {"mvd_2025_12", "systema_2025_12", "vyborg_2025_01"} <= set(ids)
    assert len(ids) == len(set(ids)), "each source once"
    for source in sources:
        assert source["title"]
        assert re.match(r"^https?://\S+$", source["url"]), source
        assert SOURCE_DATE.match(source["date"]), source
    for source in sources:
        shipped = table.sources[source["id"]]
        assert (source["url"], source["date"]) == (shipped.url, shipped.date)


def test_help_for_other_countries_leaves_out_the_tajik_sites(capsys: pytest.CaptureFixture[str]) -> None:
    outcome = advise_json(capsys, {**TAJIK, "citizenship": "uzbekistan"})["outcome"]
    assert outcome["verdict"] == "affected"
    assert "tajik_state_sites" not in [h["id"] for h in outcome["help"]]
    assert [n["id"] for n in outcome["notes"]] == ["uzbekistan_law"]


def test_every_outcome_is_reachable_through_advise(capsys: pytest.CaptureFixture[str], engine: Engine) -> None:
    """One conversation per outcome (loading the table 269 times would be slow), answers shuffled."""
    first: dict[str, dict[str, str]] = {}
    for session, decision in engine.conversations():
        first.setdefault(decision.outcome.id, dict(session.answers))
    assert len(first) == len(engine.table.outcomes)
    verdicts = set()
    for outcome_id, answers in first.items():
        outcome = advise_json(capsys, dict(sorted(answers.items())))["outcome"]
        assert outcome["id"] == outcome_id, answers
        assert list(outcome["answers"].items()) == list(answers.items()), "in the order they were asked"
        verdicts.add(outcome["verdict"])
    assert verdicts == set(VERDICTS)


def _ids_only(value: Any) -> Any:
    """The parts of advise's JSON that must not depend on the language: ids, numbers, urls, dates."""
    if isinstance(value, dict):
        return {k: _ids_only(v) for k, v in value.items() if k in _LANGUAGE_FREE or isinstance(v, list | dict)}
    if isinstance(value, list):
        return [_ids_only(v) for v in value]
    return value


_LANGUAGE_FREE = {
    "id", "number", "of_about", "verdict", "confidence", "url", "date", "grade", "checked", "newest_source", "rules",
    "answers",
}  # fmt: skip


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != SOURCE_LANGUAGE])
def test_other_languages_change_the_texts_not_the_ids(capsys: pytest.CaptureFixture[str], lang: str) -> None:
    for answers in ({"sex": "male"}, TAJIK):
        english = advise_json(capsys, answers)
        translated = advise_json(capsys, answers, lang)
        assert _ids_only(translated) == _ids_only(english)
        assert translated != english, f"{lang}: nothing was translated"
    question = advise_json(capsys, {"sex": "male"}, lang)["question"]
    assert question["text"] != advise_json(capsys, {"sex": "male"})["question"]["text"]


# The shape of the JSON ------------------------------------------------------------------------
# Keys in order (``key?``: present only when there is something to say), types, and lists of one
# shape; not the shipped table's texts or counts, which change when the law does.

_ENTRY = {"id": str, "text": str}
QUESTION_SHAPE: dict[str, Any] = {
    "id": str,
    "text": str,
    "number": int,
    "of_about": int,
    "options": [{"id": str, "label": str, "hint?": str}],
}
OUTCOME_SHAPE: dict[str, Any] = {
    "id": str,
    "verdict": str,
    "verdict_label": str,
    "headline": str,
    "explanation": str,
    "confidence": str,
    "confidence_label": str,
    "rules": [str],
    "satisfies": [_ENTRY],
    "actions": [{"id": str, "text": str, "risk": str}],
    "notes": [_ENTRY],
    "unknown": [_ENTRY],
    "sources": [{"id": str, "title": str, "url": str, "date": str, "date_text": str, "grade": str}],
    "help": [{"id": str, "name": str, "text": str, "url?": str}],
    "checked": str,
    "newest_source": str,
    "disclaimer": str,
    "answers": {str: str},
}
ADVISE_SHAPES: list[dict[str, Any]] = [{"question": QUESTION_SHAPE}, {"outcome": OUTCOME_SHAPE, "ignored?": [str]}]


def shape_problems(value: Any, shape: Any, where: str = "") -> list[str]:
    """How ``value`` differs from ``shape``, one line per difference; [] if it has the shape."""
    if isinstance(shape, type):
        if isinstance(value, shape) and not isinstance(value, bool):
            return []
        return [f"{where}: {type(value).__name__}, not {shape.__name__}"]
    if isinstance(shape, list):
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__}, not a list"]
        return [p for i, item in enumerate(value) for p in shape_problems(item, shape[0], f"{where}[{i}]")]
    if not isinstance(value, dict):
        return [f"{where}: {type(value).__name__}, not an object"]
    if list(shape) == [str]:  # a map, e.g. fact id -> option id
        return [p for k, v in value.items() for p in shape_problems(v, shape[str], f"{where}.{k}")]
    names = {key.removesuffix("?"): key for key in shape}
    expected = [name for name, key in names.items() if name in value or not key.endswith("?")]
    if list(value) != expected:
        return [f"{where}: keys {list(value)}, not {expected}"]
    return [p for name in expected for p in shape_problems(value[name], shape[names[name]], f"{where}.{name}")]


def advise_shape_problems(result: Any) -> list[str]:
    """[] if ``result`` has the shape of a question or of an outcome, else what is wrong with it."""
    problems = [shape_problems(result, shape) for shape in ADVISE_SHAPES]
    return [] if [] in problems else [p for found in problems for p in found]


def test_the_shape_checker_sees_a_missing_key_a_new_key_a_wrong_type_and_a_wrong_order() -> None:
    good = {"id": "s", "title": "T", "url": "https://x.org", "date": "2025", "date_text": "2025", "grade": "C"}
    shape = OUTCOME_SHAPE["sources"][0]
    assert shape_problems(good, shape) == []
    assert shape_problems({k: v for k, v in good.items() if k != "date"}, shape)
    assert shape_problems({**good, "extra": "x"}, shape)
    assert shape_problems({**good, "date": 2025}, shape)
    assert shape_problems(dict(reversed(good.items())), shape)
    assert shape_problems({"id": "a", "label": "A", "hint": None}, QUESTION_SHAPE["options"][0])
    assert shape_problems({"sex": 1}, OUTCOME_SHAPE["answers"])


def test_the_readme_examples_have_the_shape() -> None:
    for block in _readme_json_blocks():
        assert advise_shape_problems(json.loads(block)) == []


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {"sex": "male", "age": "18_64", "citizenship": "uzbekistan"},  # options with and without a hint
        {"sex": "female"},
        TAJIK,  # help with and without an address
        {**TAJIK, "citizenship_basis": "residence"},  # an answer not needed
        {"sex": "male", "age": "18_64", "citizenship": "ukraine", "application": "citizenship"},
    ],
    ids=["first-question", "hints", "not_affected", "affected", "ignored", "unclear"],
)
def test_advise_json_keeps_its_shape(capsys: pytest.CaptureFixture[str], answers: dict[str, str]) -> None:
    assert advise_shape_problems(advise_json(capsys, answers)) == []


def test_every_outcome_and_question_has_the_shape_and_shows_both_forms_of_optional_keys(
    engine: Engine, table: Table
) -> None:
    """In-process over every conversation (advise itself would load the table each time)."""
    t = SourceLanguage()
    keys_seen: set[str] = set()
    for session, decision in engine.conversations():
        outcome = outcome_view(table, decision, session, t).to_json()
        assert shape_problems(outcome, OUTCOME_SHAPE) == [], decision.outcome.id
        keys_seen |= {"help url" if "url" in h else "help without url" for h in outcome["help"]}
        replay = engine.new_session()
        for fact, option in session.answers.items():
            step = engine.step(replay)
            assert isinstance(step, Question)
            question = question_view(step, t).to_json()
            assert shape_problems(question, QUESTION_SHAPE) == [], fact
            keys_seen |= {"hint" if "hint" in o else "no hint" for o in question["options"]}
            replay = engine.answer(replay, fact, option)
    assert keys_seen == {"help url", "help without url", "hint", "no hint"}


def test_advise_json_is_the_views_json_printed_as_documented(capsys: pytest.CaptureFixture[str], table: Table) -> None:
    """advise prints the views' to_json(): two-space indents, non-ASCII as is, keys in field order."""
    engine = Engine(table)
    session, _ = engine.from_answers(TAJIK, "en")
    decision = engine.step(session)
    assert isinstance(decision, Decision)
    assert main(["advise", *_answer_args(TAJIK), "--json"]) == 0
    expected = {"outcome": outcome_view(table, decision, session, SourceLanguage()).to_json()}
    assert capsys.readouterr().out == json.dumps(expected, ensure_ascii=False, indent=2) + "\n"
    question = engine.step(engine.new_session())
    assert isinstance(question, Question)
    assert main(["advise", "--json"]) == 0
    expected = {"question": question_view(question, SourceLanguage()).to_json()}
    assert capsys.readouterr().out == json.dumps(expected, ensure_ascii=False, indent=2) + "\n"


# Answers in any order, answers not needed ----------------------------------------------------


def test_answers_given_out_of_order_give_the_same_result(capsys: pytest.CaptureFixture[str]) -> None:
    in_order = advise_json(capsys, TAJIK)
    reversed_answers = dict(reversed(list(TAJIK.items())))
    assert list(reversed_answers) != list(TAJIK)
    assert advise_json(capsys, reversed_answers) == in_order


def test_answers_not_needed_are_listed_in_ignored(capsys: pytest.CaptureFixture[str]) -> None:
    result = advise_json(capsys, {**TAJIK, "citizenship_basis": "residence"})
    assert result["ignored"] == ["citizenship_basis"]
    assert result["outcome"]["answers"] == TAJIK


def test_a_woman_needs_only_one_answer(capsys: pytest.CaptureFixture[str]) -> None:
    result = advise_json(capsys, {"service": "none", "sex": "female", "age": "18_64"})
    assert result["outcome"]["id"] == "not_affected_woman"
    assert result["outcome"]["answers"] == {"sex": "female"}
    assert result["ignored"] == ["service", "age"]


def test_answers_for_later_questions_are_not_ignored_while_a_question_is_open(
    capsys: pytest.CaptureFixture[str],
) -> None:
    result = advise_json(capsys, {"sex": "male", "service": "none", "residence_basis": "spouse_of_citizen"})
    assert result["question"]["id"] == "age"
    assert "ignored" not in result, "service and residence_basis can still be asked"


def test_answers_no_continuation_needs_are_ignored_while_a_question_is_open(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = {"sex": "male", "application": "residence_permit", "citizenship_basis": "residence"}
    result = advise_json(capsys, answers)
    assert result["question"]["id"] == "age"
    assert result["ignored"] == ["citizenship_basis"]


def test_pending_answers_are_used_once_the_gap_is_filled(capsys: pytest.CaptureFixture[str]) -> None:
    partial = {k: v for k, v in TAJIK.items() if k != "citizenship"}
    question = advise_json(capsys, partial)["question"]
    assert (question["id"], question["number"]) == ("citizenship", 3)
    assert advise_json(capsys, {**partial, "citizenship": "tajikistan"})["outcome"]["id"] == "affected_residence"


def test_spaces_around_fact_and_option_are_allowed(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["advise", "--answer", " sex = female ", "--lang", "en", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["outcome"]["id"] == "not_affected_woman"


# Usage errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--answer", "nationality=tajik"], ["'nationality'", "unknown fact", "citizenship"]),
        (["--answer", "sex=robot"], ["'robot'", "'sex'", "male, female"]),
        (["--answer", "age=1865"], ["'1865'", "'age'", "18_64"]),
        (["--answer", "age=18_65"], ["'18_65'", "retired", "'18_64' or 'exactly_65'"]),
        (["--answer", "service=discharged"], ["'discharged'", "retired", "'discharged_after_2022'"]),
        (["--answer", "sexmale"], ["'sexmale'", "FACT=OPTION"]),
        (["--answer", "sex="], ["'sex='", "FACT=OPTION"]),
        (["--answer", "=male"], ["'=male'", "FACT=OPTION"]),
        (["--answer", " =male"], ["' =male'", "FACT=OPTION"]),
        (["--lang", "xx"], ["'xx'", "language", "en"]),
        (["--answer", "sex=female", "--lang", "klingon"], ["'klingon'", "language"]),
    ],
)
def test_usage_errors_exit_2_and_name_the_bad_thing(
    capsys: pytest.CaptureFixture[str], args: list[str], named: list[str]
) -> None:
    for json_flag in ([], ["--json"]):
        code = main(["advise", *args, *json_flag])
        captured = capsys.readouterr()
        assert code == 2
        assert captured.out == "", "nothing on stdout for a script to mistake for advice"
        assert captured.err.startswith("maslahat: ")
        assert captured.err.count("\n") == 1, "one clear line"
        for text in named:
            assert text in captured.err


def test_chat_with_an_unknown_language_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["chat", "--lang", "xx"]) == 2
    assert "'xx'" in capsys.readouterr().err


# Text output -------------------------------------------------------------------------------


def test_text_outcome_shows_headline_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    json_outcome = advise_json(capsys, TAJIK)["outcome"]
    code = main(["advise", *_answer_args(TAJIK), "--lang", "en"])
    captured = capsys.readouterr()
    assert code == 0
    assert captured.err == ""
    flat = " ".join(captured.out.split())
    assert captured.out.startswith("== The requirement applies to you ==\n")
    assert json_outcome["headline"] in flat
    assert "\nSources\n" in captured.out
    for source in json_outcome["sources"]:
        assert f"{source['title']} ({source['date_text']}): {source['url']}" in flat
        assert any(source["url"] in line.split() for line in captured.out.splitlines()), "the URL on one line"
    assert f"Checked on {CHECKED}. The newest source found is from {NEWEST}." in flat
    assert json_outcome["disclaimer"] in flat


def test_text_outcome_reports_ignored_answers_on_stderr(capsys: pytest.CaptureFixture[str], table: Table) -> None:
    code = main(["advise", "--answer", "sex=female", "--answer", "citizenship=tajikistan", "--lang", "en"])
    captured = capsys.readouterr()
    assert code == 0
    assert table.outcomes["not_affected_woman"].headline in " ".join(captured.out.split())
    assert "Not needed" not in captured.out
    assert captured.err == "Not needed for this answer: citizenship\n"


def test_text_question_shows_position_and_numbered_options(capsys: pytest.CaptureFixture[str], table: Table) -> None:
    code = main(["advise", "--answer", "sex=male", "--lang", "en"])
    captured = capsys.readouterr()
    assert code == 0
    age = table.fact_index["age"]
    assert captured.out.splitlines() == [
        "Question 2 of about 6",
        age.question,
        *(f"  {n}. {option.label}" for n, option in enumerate(age.options, start=1)),
    ]


# Rule tables -------------------------------------------------------------------------------


def _broken_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "broken-syntax.yaml"
    path.write_text("meta: [\n", encoding="utf-8")
    return path


def _broken_reference(tmp_path: Path) -> Path:
    path = tmp_path / "broken-reference.yaml"
    text = RULES.read_text(encoding="utf-8")
    path.write_text(text.replace('outcome: "not_affected_woman"', 'outcome: "not_affected_women"'), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [["advise", "--json"], ["graph"], ["chat"]])
@pytest.mark.parametrize("make", ["missing", "syntax", "reference"])
def test_unusable_rules_exit_1_naming_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str], make: str
) -> None:
    path = {
        "missing": tmp_path / "no-such-table.yaml",
        "syntax": _broken_yaml(tmp_path),
        "reference": _broken_reference(tmp_path),
    }[make]
    assert main(["--rules", str(path), *command]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert str(path) in captured.err
    if make == "reference":
        assert "not_affected_women" in captured.err
    if make == "syntax":
        assert f"{path}:2:" in captured.err


def test_rules_from_the_environment(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _broken_reference(tmp_path)
    monkeypatch.setenv("MASLAHAT_RULES", str(path))
    assert main(["advise"]) == 1
    assert str(path) in capsys.readouterr().err


def test_another_valid_table_is_used(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "edited.yaml"
    text = RULES.read_text(encoding="utf-8")
    path.write_text(text.replace('question: "How old are you?"', 'question: "What is your age?"'), encoding="utf-8")
    assert main(["--rules", str(path), "advise", "--answer", "sex=male", "--lang", "en", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["question"]["text"] == "What is your age?"


# The installed command, in a real process --------------------------------------------------


def _run(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MASLAHAT_RULES", "MASLAHAT_LOCALES")}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )


def test_process_advise_json(tmp_path: Path) -> None:
    args = [*_answer_args(TAJIK), "--answer", "citizenship_basis=family", "--lang", "en", "--json"]
    done = _run("advise", *args, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    result = json.loads(done.stdout)
    assert result["outcome"]["id"] == "affected_residence"
    assert result["ignored"] == ["citizenship_basis"]


def test_process_usage_error_exits_2(tmp_path: Path) -> None:
    done = _run("advise", "--answer", "sex=robot", tmp_path=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert "'robot'" in done.stderr
    assert "Traceback" not in done.stderr


def test_process_broken_rules_exit_1(tmp_path: Path) -> None:
    path = _broken_yaml(tmp_path)
    done = _run("--rules", str(path), "advise", tmp_path=tmp_path)
    assert done.returncode == 1
    assert str(path) in done.stderr
    assert "Traceback" not in done.stderr


def test_the_same_fact_answered_twice_differently_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", "--answer", "sex=male", "--answer", "sex=female"]) == 2
    err = capsys.readouterr().err
    assert "'sex' twice" in err
    assert "'male'" in err
    assert "'female'" in err


def test_the_same_answer_repeated_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", "--json", "--answer", "sex=female", "--answer", "sex=female"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"]["id"] == "not_affected_woman"


def test_broken_catalog_exits_1_naming_file_and_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:

    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", locales)
    broken = locales / "tg" / "LC_MESSAGES" / "messages.po"
    lines = broken.read_text(encoding="utf-8").splitlines()
    target = next(i for i, line in enumerate(lines) if line.startswith("msgstr ") and i > 20)
    lines[target] = lines[target].rstrip('"')  # an unterminated string
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["--locales", str(locales), "advise", "--lang", "tg"]) == 1
    assert f"{broken}:{target + 1}:" in capsys.readouterr().err


def test_graph_to_an_unwritable_path_is_a_clear_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "missing-dir" / "graph.mmd"
    assert main(["graph", "-o", str(target)]) == 1
    assert str(target) in capsys.readouterr().err


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_advise_gives_each_case_its_outcome_from_the_questions_it_needs(
    capsys: pytest.CaptureFixture[str], case: Case
) -> None:
    # Given every answer at once plus one it does not need, advise uses only those a conversation asks.
    table = load_table(RULES)
    unasked = next(fact for fact in table.facts if fact.id not in case.answers)
    spare = {unasked.id: unasked.options[-1].id}
    result = advise_json(capsys, {**case.answers, **spare})
    shown = result["outcome"]
    expect = case.expect
    assert (shown["verdict"], shown["confidence"]) in itertools.product(VERDICTS, CONFIDENCES)
    assert expect.outcome in (None, shown["id"])
    assert expect.verdict in (None, shown["verdict"])
    assert expect.confidence in (None, shown["confidence"])
    asked = asked_in_order(case)
    assert list(shown["answers"]) == asked
    assert set(result.get("ignored", [])) == set({**case.answers, **spare}) - set(asked)
