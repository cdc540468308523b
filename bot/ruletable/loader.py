"""Load a rule table from YAML, rejecting anything malformed with file, line and id."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.core.table import Table
from bot.problems import Problem, ProblemsError
from bot.ruletable import sections
from bot.ruletable.blocks import BlockReader
from bot.ruletable.yamlsource import Map, YamlSyntaxError, read_yaml

__all__ = ["TableError", "load_table", "parse_table", "parse_yaml", "read_table_file", "table_from_yaml"]


class TableError(ProblemsError):
    """The rule table cannot be used; ``problems`` says every reason, each located, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        super().__init__(sorted(problems))


def table_from_yaml(data: Any, path: str, problems: Iterable[Problem] = ()) -> Table:
    """Build a Table from a rule table's YAML as :func:`read_yaml` reads it, or raise TableError.

    ``problems``: those already found in reading the YAML (duplicate keys), reported with the rest.
    """
    reader = BlockReader(path, list(problems), sections.KEYS)
    if not isinstance(data, Map):
        reader.problem(1, "", "the file must be a mapping with meta, sources, facts, outcomes and rules")
        raise TableError(reader.problems)
    if not reader.keys(data, "top", "file"):
        raise TableError(reader.problems)
    known = sections.Declared.in_table(data)
    meta = sections.meta(reader, data)
    sources = sections.sources(reader, data)
    sections.newest_source(reader, data, meta, sources)
    facts = sections.facts(reader, data)
    documents = sections.documents(reader, data, known)
    actions = sections.actions(reader, data)
    unknowns = sections.unknowns(reader, data)
    help_items = sections.help_places(reader, data, known)
    notes = sections.notes(reader, data, known)
    outcomes = sections.outcomes(reader, data, known, meta.checked if meta else None)
    rules = sections.rules(reader, data, known)
    if reader.problems or meta is None:
        raise TableError(reader.problems)
    return Table(
        path=path,
        meta=meta,
        sources=MappingProxyType(sources),
        facts=tuple(facts),
        documents=MappingProxyType(documents),
        actions=MappingProxyType(actions),
        unknowns=MappingProxyType(unknowns),
        help=MappingProxyType(help_items),
        notes=tuple(notes),
        outcomes=MappingProxyType(outcomes),
        rules=tuple(rules),
    )


def parse_yaml(text: str, path: str) -> tuple[Any, list[Problem]]:
    """Read a rule table's YAML text: the data, and the problems found in reading it (duplicate keys).

    Raises:
        TableError: the text is not YAML.
    """
    try:
        return read_yaml(text, path)
    except YamlSyntaxError as exc:
        raise TableError(exc.problems) from exc


def parse_table(text: str, path: str) -> Table:
    """Build a Table from YAML text, or raise TableError listing every problem."""
    data, problems = parse_yaml(text, path)
    return table_from_yaml(data, path, problems)


def read_table_file(path: str | Path) -> tuple[Any, list[Problem]]:
    """Read a rule table file as YAML: the data, and the problems found in reading it (duplicate keys).

    Raises:
        TableError: the file is missing, not UTF-8, or not YAML.
    """
    shown = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TableError([Problem(shown, 0, "", f"cannot read the file: {exc.strerror}")]) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TableError([Problem(shown, line, "", f"the file is not UTF-8 text: {exc.reason}")]) from exc
    return parse_yaml(text, shown)


def load_table(path: str | Path) -> Table:
    """Read and validate a rule table file.

    Raises:
        TableError: the file is missing, not YAML, or not a valid rule table.
    """
    data, problems = read_table_file(path)
    return table_from_yaml(data, str(path), problems)
