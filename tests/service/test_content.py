"""Content for start-up and reload: the shipped content loads; anything wrong is one ProblemsError of Problems."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.i18n.catalogs import CatalogError, parse_po_file
from bot.problems import Problem, ProblemsError
from bot.ruletable.loader import TableError, load_table
from bot.ruletable.yamlsource import YamlSyntaxError, read_yaml
from bot.service.content import Content, load_content
from bot.settings import ConfigError, settings_from
from tests.support.shipped import FIXTURES, ROOT, RULES

LOCALES = ROOT / "locales"
BROKEN = FIXTURES / "broken"
UNPARSEABLE_RU = FIXTURES / "i18n_unparseable" / "ru" / "LC_MESSAGES" / "messages.po"


def _problems(rules: Path, locales: Path = LOCALES) -> list[Problem]:
    with pytest.raises(ProblemsError) as caught:
        load_content(rules, locales)
    assert all(isinstance(p, Problem) for p in caught.value.problems)
    return caught.value.problems


def test_the_shipped_content_loads() -> None:
    assert isinstance(load_content(RULES, LOCALES), Content)


def test_a_missing_rules_file_is_a_problem_naming_it_not_an_exception(tmp_path: Path) -> None:
    rules = tmp_path / "gone.yaml"
    assert [str(p) for p in _problems(rules)] == [f"{rules}:0: cannot read the file: No such file or directory"]


def test_a_missing_locales_folder_is_one_problem_naming_it(tmp_path: Path) -> None:
    locales = tmp_path / "no-locales"
    assert [str(p) for p in _problems(RULES, locales)] == [f"{locales}:0: cannot read the catalogs: no such directory"]


def test_a_yaml_syntax_error_is_reported_once(tmp_path: Path) -> None:
    """It was reported twice: by the table's check, and again by the extraction of its texts."""
    path = BROKEN / "yaml_syntax.yaml"
    problems = _problems(path)
    assert [(p.path, p.line) for p in problems] == [(str(path), 31)]
    assert problems[0].message.startswith("YAML syntax error: a key is indented differently")


def test_table_and_catalog_problems_are_reported_together(tmp_path: Path) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES, locales)
    shutil.copy(UNPARSEABLE_RU, locales / "ru" / "LC_MESSAGES" / "messages.po")
    problems = _problems(BROKEN / "unknown_outcome.yaml", locales)
    assert [(Path(p.path).name, p.line) for p in problems] == [("unknown_outcome.yaml", 80), ("messages.po", 14)]


def test_the_rules_file_is_read_and_parsed_once(yaml_reads: tuple[list[str], list[str]]) -> None:
    assert isinstance(load_content(RULES, LOCALES), Content)
    assert yaml_reads == ([str(RULES)], [str(RULES)])


# Every kind of error is a ProblemsError whose problems are located, each from a small broken fixture.


def _yaml() -> None:
    read_yaml((BROKEN / "yaml_syntax.yaml").read_text(encoding="utf-8"), "yaml_syntax.yaml")


def _table() -> None:
    load_table(BROKEN / "unknown_key.yaml")


def _catalog() -> None:
    parse_po_file(UNPARSEABLE_RU, "ru")


def _config() -> None:
    settings_from({"BOT_TOKEN": "123:abc", "PORT": "http"})


@pytest.mark.parametrize(
    ("make", "kind", "located"),
    [
        (_yaml, YamlSyntaxError, ("yaml_syntax.yaml", 31, "")),
        (_table, TableError, (str(BROKEN / "unknown_key.yaml"), 67, "outcome 'requirement_met'")),
        (_catalog, CatalogError, (str(UNPARSEABLE_RU), 14, "")),
        (_config, ConfigError, ("environment", 0, "PORT")),
    ],
    ids=["yaml", "table", "catalog", "config"],
)
def test_each_kind_of_error_is_a_problems_error_with_located_problems(
    make: Callable[[], None], kind: type[ProblemsError], located: tuple[str, int, str]
) -> None:
    with pytest.raises(kind) as caught:
        make()
    assert isinstance(caught.value, ProblemsError)
    assert [(p.path, p.line, p.where) for p in caught.value.problems] == [located]
    assert str(caught.value) == "\n".join(str(p) for p in caught.value.problems)
