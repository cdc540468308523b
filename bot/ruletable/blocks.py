"""Read the values of a rule table's YAML blocks (ids, texts, dates, conditions), each problem located."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from bot.core.table import VERDICTS
from bot.problems import Problem
from bot.ruletable.yamlsource import Map, Seq, fold

__all__ = ["BlockReader", "declared", "declared_id", "frozen", "ids_with_lines", "items"]

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_URL = re.compile(r"^https?://\S+$")


@dataclass
class BlockReader:
    """Validates one file's blocks, collecting every problem rather than stopping at the first."""

    path: str
    problems: list[Problem]
    #: Each block kind: its required keys, and its optional ones.
    schema: Mapping[str, tuple[set[str], set[str]]]

    def problem(self, line: int, where: str, message: str) -> None:
        """Record one problem in this file."""
        self.problems.append(Problem(self.path, line, where, message))

    def keys(self, block: Map, kind: str, where: str) -> bool:
        """Check required and unknown keys; return False if the block is unusable."""
        required, optional = self.schema[kind]
        known = required | optional
        for key in block:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problem(block.line_of(key), where, f"unknown key {key!r}{hint}")
        missing = sorted(required - set(block))
        for key in missing:
            self.problem(block.line, where, f"missing key {key!r}")
        return not missing

    def ident(self, block: Map, key: str, where: str) -> str | None:
        """Read an id: it must be a string of lower-case letters, digits, '_', '-', '.'."""
        value = block.get(key)
        line = block.line_of(key)
        if not isinstance(value, str):
            raw = block.raw.get(key)
            if raw is not None and value is not None:
                self.problem(
                    line,
                    where,
                    f"{key} {raw} is read by YAML as {type(value).__name__} {value!r}, not a string; "
                    f'write it in quotes: "{raw}"',
                )
            else:
                self.problem(line, where, f"{key} must be a string")
            return None
        if not _ID.match(value):
            self.problem(line, where, f"{key} {value!r} may contain only a-z, 0-9, '_', '-' and '.'")
            return None
        return value

    def text(self, block: Map, key: str, where: str, *, required: bool = True) -> str:
        """Read a text a person will see: a non-empty string."""
        value = block.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(block.line_of(key), where, f"{key} must be a non-empty text")
            return ""
        return fold(value)

    def url(self, block: Map, key: str, where: str, *, required: bool = True) -> str:
        """Read a web address: a text starting with http:// or https://."""
        url = self.text(block, key, where, required=required)
        if url and not _URL.match(url):
            self.problem(block.line_of(key), where, f"url {url!r} must start with http:// or https://")
        return url

    def id_list(self, block: Map, key: str, where: str) -> tuple[str, ...]:
        """Read a list of ids, each a string."""
        value = block.get(key, Seq())
        if not isinstance(value, list):
            self.problem(block.line_of(key), where, f"{key} must be a list of ids")
            return ()
        found: list[str] = []
        raws = getattr(value, "raw", [None] * len(value))
        for item, raw in zip(value, raws, strict=True):
            if isinstance(item, str):
                found.append(item)
            else:
                shown = raw if raw is not None else repr(item)
                self.problem(
                    block.line_of(key),
                    where,
                    f"{key}: {shown} is read by YAML as {type(item).__name__} {item!r}; write it in quotes",
                )
        return tuple(found)

    def date(self, block: Map, key: str, where: str) -> dt.date | None:
        """Read an ISO date (quoted or not)."""
        value = block.get(key)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass  # reported below, with the value as written
        self.problem(block.line_of(key), where, f'{key} must be a date like "2026-11-21", not {value!r}')
        return None

    def verdict(self, block: Map, key: str, where: str, value: object) -> None:
        """Report ``value``, written at ``key``, unless it is one of the verdicts."""
        if value not in VERDICTS:
            self.problem(block.line_of(key), where, f"unknown verdict {value!r}; use one of {', '.join(VERDICTS)}")

    def when(self, block: Map, key: str, where: str) -> dict[str, frozenset[str]]:
        """Read conditions: fact id -> an option id or a list of option ids."""
        value = block.get(key)
        if not isinstance(value, Map):
            self.problem(block.line_of(key), where, f"{key} must be a mapping of fact: option or fact: [options]")
            return {}
        result: dict[str, frozenset[str]] = {}
        for fact, allowed in value.items():
            line = value.line_of(fact)
            if not isinstance(fact, str):
                self.problem(line, where, f"fact {fact!r} in {key} must be a string id")
                continue
            if isinstance(allowed, list):
                options = self.id_list(value, fact, where)
                if not options:
                    self.problem(line, where, f"condition on {fact!r} lists no options")
                result[fact] = frozenset(options)
            elif isinstance(allowed, str):
                result[fact] = frozenset({allowed})
            elif allowed is None:
                self.problem(line, where, f"condition on {fact!r} names no option")
            else:
                raw = value.raw.get(fact, repr(allowed))
                self.problem(
                    line, where, f"option {raw} for {fact!r} is read by YAML as {allowed!r}; write it in quotes"
                )
        return result

    def blocks(self, data: Map, key: str, kind: str) -> Iterable[tuple[Map, str]]:
        """Yield each well-formed block of a top-level list, with a label naming it."""
        listed = data.get(key, Seq())
        if not isinstance(listed, list):
            self.problem(data.line_of(key), key, "must be a list")
            return
        for index, item in enumerate(listed):
            label = f"{kind} #{index + 1}"
            if not isinstance(item, Map):
                line = listed.item_lines[index] if isinstance(listed, Seq) else data.line_of(key)
                self.problem(line, f"{key}", f"{label} must be a mapping")
                continue
            if isinstance(item.get("id"), str):
                label = f"{kind} {item['id']!r}"
            if self.keys(item, kind, label):
                yield item, label

    def unique(self, ids: Iterable[tuple[str, int]], kind: str) -> None:
        """Report every id declared a second time, naming the line of the first."""
        seen: dict[str, int] = {}
        for ident, line in ids:
            if ident in seen:
                self.problem(line, f"{kind} {ident!r}", f"duplicate id (first at line {seen[ident]})")
            else:
                seen[ident] = line

    def refs(self, ids: Iterable[str], known: Collection[str], kind: str, line: int, where: str) -> None:
        """Report every id in ``ids`` that is not ``known``, with the closest known one as a hint."""
        for ident in ids:
            if ident not in known:
                close = difflib.get_close_matches(ident, list(known), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.problem(line, where, f"unknown {kind} {ident!r}{hint}")

    def conditions(
        self, block: Map, when: Mapping[str, frozenset[str]], facts: Mapping[str, Collection[str]], where: str
    ) -> None:
        """Check conditions against the facts and options declared; each problem at its condition's line."""
        written = block.get("when")
        for fact_id, allowed in when.items():
            line = written.line_of(fact_id) if isinstance(written, Map) else block.line_of("when")
            options = facts.get(fact_id)
            if options is None:
                self.refs([fact_id], facts, "fact", line, where)
                continue
            for option in sorted(allowed):
                if option not in options:
                    close = difflib.get_close_matches(option, list(options), n=1)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    self.problem(line, where, f"unknown option {option!r} for fact {fact_id!r}{hint}")


def frozen(when: Mapping[str, frozenset[str]]) -> Mapping[str, frozenset[str]]:
    """Conditions as a read-only mapping, as the Table keeps them."""
    return MappingProxyType(dict(when))


def items(data: Map, key: str) -> list[Map]:
    """The blocks of the list ``data[key]`` that are mappings; none if it is not a list."""
    listed = data.get(key)
    return [item for item in listed if isinstance(item, Map)] if isinstance(listed, list) else []


def declared_id(block: Map) -> list[str]:
    """The block's id as written: a string, or the text of an id YAML misread (18_65, no)."""
    ident = block.get("id")
    if isinstance(ident, str):
        return [ident]
    raw = block.raw.get("id")
    return [raw] if raw else []


def declared(data: Map, key: str) -> dict[str, None]:
    """Every id declared in the list ``data[key]``, in order, whether or not its block is usable."""
    return {ident: None for block in items(data, key) for ident in declared_id(block)}


def ids_with_lines(data: Map, key: str) -> list[tuple[str, int]]:
    """The string ids of the list ``data[key]``, each with its block's line."""
    return [(block["id"], block.line) for block in items(data, key) if isinstance(block.get("id"), str)]
