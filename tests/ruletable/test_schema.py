"""The editor's schemas (schema/*.schema.json) agree with the loader.

Operators see the schema's complaints while they type (the YAML language server reads the
`# yaml-language-server: $schema=...` line at the top of the file), and the loader's when they run
`maslahat check`. A schema stricter than the loader flags a table that works; a looser one stays
quiet about a table the bot refuses. So: the shipped and minimal tables pass, every broken fixture
whose defect is in its structure is rejected at the place the loader names, the others pass (their
defects are the loader's to find), and the keys of each block are the loader's keys.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator, FormatChecker

from bot.ruletable.loader import TableError, parse_table
from bot.ruletable.sections import KEYS
from tests.support.broken_tables import LOADS, PROBLEMS
from tests.support.shipped import FIXTURES, ROOT, RULES

SCHEMAS = ROOT / "schema"
RULE_TABLE = SCHEMAS / "rule-table.schema.json"
CASES = SCHEMAS / "cases.schema.json"
BROKEN = FIXTURES / "broken"


class _DatesAsText(yaml.SafeLoader):
    """PyYAML's safe loader, except that an unquoted date stays the text it was written as.

    The YAML language server reads YAML 1.2, which has no dates: in the editor `2026-01-15` is a
    string, quoted or not, and the schema checks dates as strings; so does this test. (Turning
    safe_load's dates back into text would not do: an impossible date, 2026-13-45, makes safe_load
    fail.) Everything else is read as the loader reads it, 18_65 as an int and no as False.
    """


def _as_written(loader: _DatesAsText, node: yaml.ScalarNode) -> str:
    return str(loader.construct_scalar(node))


_DatesAsText.add_constructor("tag:yaml.org,2002:timestamp", _as_written)


def read(path: Path) -> Any:
    loader = _DatesAsText(path.read_text(encoding="utf-8"))
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def schema(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def failures(schema_path: Path, data: Any) -> set[str]:
    """Where the schema finds fault with ``data``: each place as a path, "" for the whole file."""
    # Formats are only annotations in draft 2020-12 unless a checker is given: "date" rejects 2026-02-30.
    validator = Draft202012Validator(schema(schema_path), format_checker=FormatChecker())
    return {"/".join(map(str, error.absolute_path)) for error in validator.iter_errors(data)}


# Fixtures whose defect is in the structure: fixture -> every place the schema must name (the
# outcome, rule, option... the loader names). Lists count from 0.
STRUCTURAL = {
    "bad_confidence.yaml": {"rules/2/confidence"},
    "bad_date.yaml": {"meta/checked"},  # month 13
    "bad_verdict.yaml": {"outcomes/3/verdict"},
    "boolean_id.yaml": {"facts/2/options/1/id"},  # no, read as False
    "list.yaml": {""},
    "missing_key.yaml": {"outcomes/3"},
    "outcome_no_text.yaml": {"outcomes/1/headline"},
    "unknown_key.yaml": {"outcomes/2"},
    "unquoted_id.yaml": {"facts/1/options/1/id"},  # 18_65, read as 1865
    "unquoted_option.yaml": {"rules/2/when/age"},
    "unquoted_version.yaml": {"meta/version"},
    # The references to unknown ids, the source listed twice and the missing catch-all are not
    # the schema's to find; the unknown key, the unquoted id and the bad verdict are.
    "several_problems.yaml": {"meta", "facts/1/options/1/id", "outcomes/3/verdict"},
}

# Fixtures whose defect lies between blocks, or in what the rules decide: they are well formed,
# and the schema must accept them. Fixture -> why the schema cannot see the defect.
NOT_STRUCTURAL = {
    "duplicate_id.yaml": "ids used twice: a schema cannot compare the ids of different blocks",
    "duplicate_key.yaml": "a key twice: the parser keeps one (the language server reports it itself)",
    "unknown_document.yaml": "a reference to a document that does not exist",
    "unknown_fact.yaml": "a reference to a question that does not exist",
    "unknown_option.yaml": "a reference to an answer the question does not have",
    "unknown_outcome.yaml": "a reference to an outcome that does not exist",
    "unknown_source.yaml": "a reference to a source that does not exist",
    "no_catch_all.yaml": "the last rule must have `when: {}`: a schema cannot single out the last item",
    "never_asked.yaml": "a question no rule asks: found by exploring the conversations",
    "unreachable_outcome.yaml": "an outcome no rule leads to: found by exploring the conversations",
    "shadowed_rule.yaml": "a rule that never decides: found by exploring the conversations",
    "shadowed_jointly.yaml": "a rule that never decides: found by exploring the conversations",
    "check_problems.yaml": "found by exploring the conversations",
}

# Fixtures that are not YAML, or not text: nothing reaches a schema (the editor reports them itself).
NOT_YAML = {
    "yaml_syntax.yaml": "a YAML syntax error",
    "tab_indent.yaml": "a tab in the indentation, a YAML syntax error",
    "control_char.yaml": "a control character, which YAML does not allow",
    "not_utf8.yaml": "the file is not UTF-8",
}


def test_the_schemas_are_valid_json_schemas() -> None:
    for path in (RULE_TABLE, CASES):
        Draft202012Validator.check_schema(schema(path))


def test_the_shipped_table_passes() -> None:
    assert failures(RULE_TABLE, read(RULES)) == set()


def test_the_minimal_table_passes() -> None:
    assert failures(RULE_TABLE, read(FIXTURES / "minimal.yaml")) == set()


def test_the_shipped_table_names_the_schema_on_its_first_line() -> None:
    lines = RULES.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# yaml-language-server: $schema=../schema/rule-table.schema.json"
    assert sum("yaml-language-server" in line for line in lines) == 1
    # The language server resolves the path from the table's folder.
    assert (RULES.parent / "../schema/rule-table.schema.json").resolve() == RULE_TABLE


def test_every_broken_fixture_is_classified() -> None:
    classified = [*STRUCTURAL, *NOT_STRUCTURAL, *NOT_YAML]
    assert len(classified) == len(set(classified)), "a fixture is in two lists"
    assert {p.name for p in BROKEN.iterdir()} == set(classified), "classify each new fixture in a list above"
    assert set(PROBLEMS) | LOADS == set(classified)
    # A table the loader accepts has no structural defect.
    assert set(NOT_STRUCTURAL) >= LOADS


@pytest.mark.parametrize("name", sorted(STRUCTURAL))
def test_structural_defects_are_rejected_where_the_loader_rejects_them(name: str) -> None:
    assert name in PROBLEMS
    assert failures(RULE_TABLE, read(BROKEN / name)) == STRUCTURAL[name]


@pytest.mark.parametrize("name", sorted(NOT_STRUCTURAL))
def test_other_defects_pass_the_schema(name: str) -> None:
    assert failures(RULE_TABLE, read(BROKEN / name)) == set()


@pytest.mark.parametrize("name", sorted(NOT_YAML))
def test_unreadable_fixtures_are_not_yaml(name: str) -> None:
    with pytest.raises((yaml.YAMLError, UnicodeDecodeError)):
        read(BROKEN / name)


# Where each kind of block the loader checks the keys of is described in the rule table schema.
_BLOCKS = {
    "top": (),
    "meta": ("meta",),
    "source": ("sources", "items"),
    "fact": ("facts", "items"),
    "option": ("facts", "items", "options", "items"),
    "retired option": ("facts", "items", "retired", "items"),
    "document": ("documents", "items"),
    "action": ("actions", "items"),
    "unknown": ("unknowns", "items"),
    "help": ("help", "items"),
    "note": ("notes", "items"),
    "outcome": ("outcomes", "items"),
    "rule": ("rules", "items"),
}


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_each_block_has_the_loaders_keys(kind: str) -> None:
    node = schema(RULE_TABLE)
    for step in _BLOCKS[kind]:
        node = node["properties"][step] if step != "items" else node["items"]
    required, optional = KEYS[kind]
    if kind == "outcome":
        # The key is optional to the loader's key check, but it then requires at least one source.
        required, optional = required | {"sources"}, optional - {"sources"}
    assert node["additionalProperties"] is False
    assert set(node["required"]) == required
    assert set(node["properties"]) == required | optional
    for key, described in node["properties"].items():
        assert described.get("description"), f"{kind} {key}: no description to show on hover"


MINIMAL = read(FIXTURES / "minimal.yaml")
_DELETE = object()

# Changes to the minimal table the fixtures do not cover: (what, where, new value, loads).
CHANGES: list[tuple[str, tuple[str | int, ...], object, bool]] = [
    ("affected outcome without satisfies", ("outcomes", 3, "satisfies"), _DELETE, False),
    ("outcome without sources", ("outcomes", 0, "sources"), _DELETE, False),
    ("outcome with its own date", ("outcomes", 0, "checked"), "2026-01-10", True),
    ("rule without sources", ("rules", 0, "sources"), [], False),
    ("condition listing no answers", ("rules", 0, "when", "sex"), [], False),
    ("condition naming no answer", ("rules", 0, "when", "sex"), None, False),
    ("conditions left empty", ("rules", 4, "when"), None, False),
    ("a day that does not exist", ("meta", "checked"), "2026-02-30", False),
    ("a date and time", ("meta", "checked"), "2026-01-15 10:00", False),
    ("source date of a month", ("sources", 0, "date"), "2025-11", True),
    ("source date with a one-digit month", ("sources", 0, "date"), "2025-1", False),
    ("grade E", ("sources", 0, "grade"), "E", False),
    ("address without http", ("sources", 0, "url"), "example.org/official", False),
    ("title of spaces", ("sources", 0, "title"), "  ", False),
    ("id with a capital letter", ("meta", "id"), "Minimal", False),
    ("question without answers", ("facts", 0, "options"), [], False),
    ("empty hint", ("facts", 0, "options", 0, "hint"), None, True),
    ("documents not a list", ("documents",), {"id": "army_contract"}, False),
    ("retired answer", ("facts", 1, "retired"), [{"id": "18_64", "replaced_by": ["18_65"]}], True),
    ("retired answer replaced by none", ("facts", 1, "retired"), [{"id": "18_64", "replaced_by": []}], False),
    (
        "help shown to men, without an address",
        ("help",),
        [{"id": "office", "name": "An office", "text": "It decides.", "url": None, "when": {"sex": "male"}}],
        True,
    ),
    (
        "note for every verdict",
        ("notes",),
        [{"id": "men", "text": "A note.", "when": {"sex": "male"}, "verdicts": ["affected", "unclear"]}],
        True,
    ),
    (
        "note with an unknown verdict",
        ("notes",),
        [{"id": "men", "text": "A note.", "when": {"sex": "male"}, "verdicts": ["affect"]}],
        False,
    ),
]


@pytest.mark.parametrize(("what", "where", "value", "loads"), CHANGES, ids=[change[0] for change in CHANGES])
def test_the_schema_and_the_loader_agree_on_a_changed_table(
    what: str, where: tuple[str | int, ...], value: object, loads: bool
) -> None:
    data = copy.deepcopy(MINIMAL)
    *parents, last = where
    block = data
    for step in parents:
        block = block[step]
    if value is _DELETE:
        del block[last]
    else:
        block[last] = value
    try:
        parse_table(yaml.safe_dump(data, sort_keys=False), f"{what}.yaml")
    except TableError:
        loaded = False
    else:
        loaded = True
    assert (loaded, not failures(RULE_TABLE, data)) == (loads, loads)


CASE: dict[str, Any] = {
    "name": "A woman: one question, not affected",
    "answers": {"sex": "female"},
    "expect": {
        "outcome": "not_affected_woman",
        "verdict": "not_affected",
        "questions": 1,
        "confidence": "high",
        "notes": ["new_citizen_duties"],
        "help": ["migration_office"],
    },
}


def test_a_cases_file_passes() -> None:
    only_verdict = {**CASE, "expect": {"verdict": "affected"}}
    assert failures(CASES, {"cases": [CASE, only_verdict]}) == set()


@pytest.mark.parametrize(
    ("case", "where"),
    [
        ({**CASE, "expect": {**CASE["expect"], "outcomes": "affected"}}, "cases/1/expect"),
        ({**CASE, "answers": ["sex", "female"]}, "cases/1/answers"),
        ({**CASE, "answers": {"age": 18_65}}, "cases/1/answers/age"),
        ({**CASE, "expect": {"questions": 1, "confidence": "high"}}, "cases/1/expect"),
        ({**CASE, "expect": {**CASE["expect"], "questions": 0}}, "cases/1/expect/questions"),
        ({**CASE, "expect": {**CASE["expect"], "verdict": "affect"}}, "cases/1/expect/verdict"),
        ({**CASE, "expect": {**CASE["expect"], "notes": "new_citizen_duties"}}, "cases/1/expect/notes"),
        ({"answers": CASE["answers"], "expect": CASE["expect"]}, "cases/1"),
        ({**CASE, "name": " "}, "cases/1/name"),
    ],
    ids=[
        "unknown key in expect",
        "answers not a mapping",
        "unquoted answer",
        "expect without outcome or verdict",
        "no questions",
        "unknown verdict",
        "notes not a list",
        "no name",
        "blank name",
    ],
)
def test_a_broken_case_is_rejected(case: dict[str, Any], where: str) -> None:
    assert failures(CASES, {"cases": [CASE, case]}) == {where}


def test_a_cases_file_without_cases_is_rejected() -> None:
    assert failures(CASES, {"cases": []}) == {"cases"}
    assert failures(CASES, {"case": [CASE]}) == {""}


def test_the_shipped_cases_pass() -> None:
    assert failures(CASES, read(RULES.with_name("decree-821.cases.yaml"))) == set()
