"""Reading YAML with line numbers: what the loader relies on to point an operator at the right line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from bot.problems import Problem
from bot.ruletable import yamlsource
from bot.ruletable.yamlsource import Map, Seq, YamlSyntaxError, read_yaml
from tests.support.shipped import ROOT


def syntax_problem(text: str) -> Problem:
    """The single problem read_yaml raises for ``text``."""
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml(text, "t.yaml")
    [problem] = caught.value.problems
    assert problem.path == "t.yaml"
    return problem


def test_mappings_and_sequences_remember_their_lines() -> None:
    data, problems = read_yaml(
        '# a comment\nmeta:\n  id: "x"\n\nitems:\n  - "a"\n  - b: 1\n    c: 2\n',
        "t.yaml",
    )
    assert problems == []
    assert isinstance(data, Map)
    assert data.line == 2
    assert data.line_of("meta") == 2
    assert data.line_of("items") == 5
    assert data["meta"].line_of("id") == 3
    items = data["items"]
    assert isinstance(items, Seq)
    assert items.item_lines == [6, 7]
    assert items[1].line == 7
    assert items[1].line_of("c") == 8
    # A key that is not there: the line of the mapping itself.
    assert items[1].line_of("missing") == 7


def test_scalars_keep_the_text_as_written_so_messages_can_quote_it() -> None:
    data, _ = read_yaml('a: 18_65\nb: no\nc: "18_65"\nd: [18_65, "x"]\ne: 2025-12-13\n', "t.yaml")
    assert data["a"] == 1865
    assert data.raw["a"] == "18_65"
    assert data["b"] is False
    assert data.raw["b"] == "no"
    assert data["c"] == "18_65"
    assert data["d"] == [1865, "x"]
    assert data["d"].raw == ["18_65", "x"]
    assert data["e"] == dt.date(2025, 12, 13)


def test_duplicate_keys_are_reported_with_both_lines_and_the_first_value_kept() -> None:
    data, problems = read_yaml("rule:\n  outcome: first\n  sources: []\n  outcome: second\n", "t.yaml")
    assert data["rule"]["outcome"] == "first"
    assert problems == [
        Problem("t.yaml", 4, "", "key 'outcome' appears twice in one block (first at line 2)"),
    ]


def test_every_duplicate_key_is_reported_not_only_the_first() -> None:
    _, problems = read_yaml("a: 1\nb: 2\na: 3\nb: 4\na: 5\n", "t.yaml")
    assert [(p.line, p.message) for p in problems] == [
        (3, "key 'a' appears twice in one block (first at line 1)"),
        (4, "key 'b' appears twice in one block (first at line 2)"),
        (5, "key 'a' appears twice in one block (first at line 1)"),
    ]


def test_a_merge_key_is_not_a_duplicate() -> None:
    data, problems = read_yaml("base: &b {x: 1}\nitem:\n  <<: *b\n  y: 2\n", "t.yaml")
    assert problems == []
    assert data["item"] == {"x": 1, "y": 2}


def test_syntax_error_names_the_line() -> None:
    problem = syntax_problem("a: 1\nb: 2\nc: here: there\nd: 4\n")
    assert problem.line == 3
    assert problem.message.startswith("YAML syntax error:")
    assert "mapping values are not allowed here" in problem.message


def test_tab_indentation_names_the_line() -> None:
    problem = syntax_problem("a:\n  b: 1\n\tc: 2\n")
    assert problem.line == 3
    assert "'\\t'" in problem.message


def test_two_documents_in_one_file_are_a_syntax_error() -> None:
    problem = syntax_problem("a: 1\n---\nb: 2\n")
    assert problem.line == 2
    assert "expected a single document" in problem.message


def test_a_control_character_names_its_line_instead_of_crashing() -> None:
    problem = syntax_problem('a: "ok"\nb: "bad\x07char"\nc: "ok"\n')
    assert problem.line == 2
    assert "#x0007" in problem.message


def test_an_impossible_date_names_its_line_instead_of_crashing() -> None:
    problem = syntax_problem('a: "ok"\nchecked: 2026-13-45\n')
    assert problem.line == 2
    assert "2026-13-45" in problem.message
    assert "month must be in 1..12" in problem.message


def test_an_invalid_tagged_value_names_its_line_instead_of_crashing() -> None:
    problem = syntax_problem("a: 1\nversion: !!int abc\n")
    assert problem.line == 2
    assert "abc" in problem.message


def test_a_list_used_as_a_key_names_its_line_instead_of_crashing() -> None:
    problem = syntax_problem("when:\n  sex: female\n  [age, sex]: x\n")
    assert problem.line == 3
    assert "unhashable key" in problem.message


def test_python_tags_are_refused() -> None:
    problem = syntax_problem("a: 1\nb: !!python/object/apply:os.system ['true']\n")
    assert problem.line == 2
    assert "could not determine a constructor" in problem.message


def test_problem_reads_as_path_line_id_message() -> None:
    assert str(Problem("r.yaml", 12, "rule 'x'", "is shadowed")) == "r.yaml:12: rule 'x': is shadowed"
    assert str(Problem("r.yaml", 3, "", "YAML syntax error: oops")) == "r.yaml:3: YAML syntax error: oops"


def test_problems_sort_by_file_then_line() -> None:
    problems = [Problem("b", 1, "", "m"), Problem("a", 10, "", "m"), Problem("a", 9, "z", "m")]
    assert [(p.path, p.line) for p in sorted(problems)] == [("a", 9), ("a", 10), ("b", 1)]


# libyaml and the pure-Python parser ----------------------------------------------------------------


def _utf8(path: Path) -> bool:
    try:
        path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return False  # the loader reports that before any YAML is parsed
    return True


YAML_FILES = sorted(
    path for path in [*(ROOT / "rules").glob("*.yaml"), *(ROOT / "tests" / "fixtures").rglob("*.yaml")] if _utf8(path)
)


def _shape(value: Any) -> Any:
    """The data with every line and raw text it carries, for comparing two reads of one file."""
    if isinstance(value, Map):
        return ("map", value.line, value.key_lines, value.raw, {k: _shape(v) for k, v in value.items()})
    if isinstance(value, Seq):
        return ("seq", value.line, value.item_lines, value.raw, [_shape(v) for v in value])
    return (type(value).__name__, value)


def _read_both(text: str) -> tuple[Any, Any]:
    """read_yaml with libyaml (as shipped) and with the pure-Python parser only."""
    try:
        fast: Any = read_yaml(text, "t.yaml")
    except YamlSyntaxError as exc:
        fast = exc.problems
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yamlsource, "_FastLoader", None)
        try:
            slow: Any = read_yaml(text, "t.yaml")
        except YamlSyntaxError as exc:
            slow = exc.problems
    return fast, slow


def test_libyaml_is_there_to_make_start_up_fast() -> None:
    assert yamlsource._FastLoader is not None  # PyYAML's wheels ship it; without it reading is ~10x slower


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_both_parsers_read_every_file_alike_lines_and_problems_included(path: Path) -> None:
    fast, slow = _read_both(path.read_text(encoding="utf-8"))
    if isinstance(slow, list):
        assert fast == slow
    else:
        assert (_shape(fast[0]), fast[1]) == (_shape(slow[0]), slow[1])


@pytest.mark.parametrize(
    ("text", "line", "plain"),
    [
        ("k:\n  a: 1\n   b: 2\n", 3, "a key is indented differently from the keys above it"),
        ("k:\n  - a: 1\n   - b: 2\n", 3, "not indented like the rest of the block that begins at line 2"),
        ('k:\n  a: "open\n  b: 2\n  c: 3\n', 2, "its closing quote is missing"),
        ("k:\n\ta: 1\n", 2, "a tab character: indent with spaces only"),
        ("k: [1, 2\nm: 3\n", 1, "a [ or { begins on this line and is never closed"),
    ],
    ids=["key-indented", "item-outdented", "unclosed-quote", "tab", "unclosed-bracket"],
)
def test_syntax_errors_say_in_plain_words_what_to_fix_and_where(text: str, line: int, plain: str) -> None:
    """Before: PyYAML's wording ("expected <block end>, but found ...") and, for an unclosed quote,
    the end of the file instead of the line where the quote opens."""
    with pytest.raises(YamlSyntaxError) as caught:
        read_yaml(text, "t.yaml")
    [problem] = caught.value.problems
    assert problem.line == line
    assert plain in problem.message
    assert "the YAML parser says:" in problem.message, "the parser's own words follow, for whoever knows them"
