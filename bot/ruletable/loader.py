"""Load a rule table from YAML, rejecting anything malformed with file, line and id."""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.core.table import (
    CONFIDENCES,
    VERDICTS,
    Action,
    Document,
    Fact,
    Help,
    Meta,
    Note,
    Option,
    Outcome,
    Rule,
    Source,
    Table,
    Unknown,
)
from bot.ruletable.yamlsource import Map, Problem, Seq, YamlSyntaxError, fold, read_yaml

__all__ = ["TableError", "load_table", "parse_table"]

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_SOURCE_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_URL = re.compile(r"^https?://\S+$")


class TableError(Exception):
    """The rule table cannot be used; ``problems`` says every reason, each located."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


# Each block kind: its keys, and which are required. Values are checked by _Reader.
_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "top": ({"meta", "sources", "facts", "outcomes", "rules"}, {"documents", "actions", "unknowns", "help", "notes"}),
    "meta": ({"id", "title", "version", "checked", "disclaimer"}, set()),
    "source": ({"id", "title", "url", "date"}, set()),
    "fact": ({"id", "question", "options"}, set()),
    "option": ({"id", "label"}, {"hint"}),
    "document": ({"id", "text"}, {"sources"}),
    "action": ({"id", "text", "risk"}, set()),
    "unknown": ({"id", "text"}, set()),
    "help": ({"id", "name", "text"}, {"url", "when"}),
    "note": ({"id", "text", "when", "verdicts"}, {"sources"}),
    "outcome": (
        {"id", "verdict", "headline", "explanation"},
        {"checked", "satisfies", "actions", "unknown", "sources", "help"},
    ),
    "rule": ({"id", "when", "outcome", "sources", "confidence"}, set()),
}


@dataclass
class _Reader:
    """Validates one file's blocks, collecting every problem rather than stopping at the first."""

    path: str
    problems: list[Problem]

    def problem(self, line: int, where: str, message: str) -> None:
        self.problems.append(Problem(self.path, line, where, message))

    def keys(self, block: Map, kind: str, where: str) -> bool:
        """Check required and unknown keys; return False if the block is unusable."""
        required, optional = _KEYS[kind]
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

    def id_list(self, block: Map, key: str, where: str) -> tuple[str, ...]:
        """Read a list of ids, each a string."""
        value = block.get(key, Seq())
        if not isinstance(value, list):
            self.problem(block.line_of(key), where, f"{key} must be a list of ids")
            return ()
        items: list[str] = []
        raws = getattr(value, "raw", [None] * len(value))
        for item, raw in zip(value, raws, strict=True):
            if isinstance(item, str):
                items.append(item)
            else:
                shown = raw if raw is not None else repr(item)
                self.problem(
                    block.line_of(key),
                    where,
                    f"{key}: {shown} is read by YAML as {type(item).__name__} {item!r}; write it in quotes",
                )
        return tuple(items)

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
                pass
        self.problem(block.line_of(key), where, f'{key} must be a date like "2026-11-21", not {value!r}')
        return None

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
        items = data.get(key, Seq())
        if not isinstance(items, list):
            self.problem(data.line_of(key), key, "must be a list")
            return
        for index, item in enumerate(items):
            label = f"{kind} #{index + 1}"
            if not isinstance(item, Map):
                line = items.item_lines[index] if isinstance(items, Seq) else data.line_of(key)
                self.problem(line, f"{key}", f"{label} must be a mapping")
                continue
            if isinstance(item.get("id"), str):
                label = f"{kind} {item['id']!r}"
            if self.keys(item, kind, label):
                yield item, label


def _unique(reader: _Reader, items: Iterable[tuple[str, int]], kind: str) -> None:
    seen: dict[str, int] = {}
    for ident, line in items:
        if ident in seen:
            reader.problem(line, f"{kind} {ident!r}", f"duplicate id (first at line {seen[ident]})")
        else:
            seen[ident] = line


def _check_refs(reader: _Reader, ids: Iterable[str], known: Collection[str], kind: str, line: int, where: str) -> None:
    for ident in ids:
        if ident not in known:
            close = difflib.get_close_matches(ident, list(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            reader.problem(line, where, f"unknown {kind} {ident!r}{hint}")


def _check_when(
    reader: _Reader,
    block: Map,
    when: Mapping[str, frozenset[str]],
    facts: Mapping[str, Collection[str]],
    where: str,
) -> None:
    """Check conditions against the facts and options declared; each problem at its condition's line."""
    conditions = block.get("when")
    for fact_id, allowed in when.items():
        line = conditions.line_of(fact_id) if isinstance(conditions, Map) else block.line_of("when")
        options = facts.get(fact_id)
        if options is None:
            _check_refs(reader, [fact_id], facts, "fact", line, where)
            continue
        for option in sorted(allowed):
            if option not in options:
                close = difflib.get_close_matches(option, list(options), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                reader.problem(line, where, f"unknown option {option!r} for fact {fact_id!r}{hint}")


def parse_table(text: str, path: str) -> Table:
    """Build a Table from YAML text, or raise TableError listing every problem."""
    try:
        data, problems = read_yaml(text, path)
    except YamlSyntaxError as exc:
        raise TableError(exc.problems) from exc
    reader = _Reader(path, list(problems))
    if not isinstance(data, Map):
        reader.problem(1, "", "the file must be a mapping with meta, sources, facts, outcomes and rules")
        raise TableError(reader.problems)
    if not reader.keys(data, "top", "file"):
        raise TableError(reader.problems)

    meta_block = data["meta"]
    meta: Meta | None = None
    if not isinstance(meta_block, Map):
        reader.problem(data.line_of("meta"), "meta", "must be a mapping")
    elif reader.keys(meta_block, "meta", "meta"):
        ident = reader.ident(meta_block, "id", "meta")
        version = meta_block.get("version")
        if not isinstance(version, str):
            reader.problem(meta_block.line_of("version"), "meta", f"version must be a quoted string, not {version!r}")
        checked = reader.date(meta_block, "checked", "meta")
        title = reader.text(meta_block, "title", "meta")
        disclaimer = reader.text(meta_block, "disclaimer", "meta")
        if ident and isinstance(version, str) and checked:
            meta = Meta(ident, title, version, checked, disclaimer)

    sources: dict[str, Source] = {}
    for block, label in reader.blocks(data, "sources", "source"):
        ident = reader.ident(block, "id", label)
        url = reader.text(block, "url", label)
        if url and not _URL.match(url):
            reader.problem(block.line_of("url"), label, f"url {url!r} must start with http:// or https://")
        date = block.get("date")
        if not isinstance(date, str) or not _SOURCE_DATE.match(date):
            raw = block.raw.get("date", repr(date))
            reader.problem(
                block.line_of("date"), label, f'date {raw} must be a quoted "YYYY", "YYYY-MM" or "YYYY-MM-DD"'
            )
        if ident and ident not in sources:
            sources[ident] = Source(ident, reader.text(block, "title", label), url, str(date), block.line)
    _unique(reader, _ids_with_lines(data, "sources"), "source")

    facts: list[Fact] = []
    for block, label in reader.blocks(data, "facts", "fact"):
        ident = reader.ident(block, "id", label)
        options: list[Option] = []
        for opt_block, opt_label in reader.blocks(block, "options", "option"):
            opt_id = reader.ident(opt_block, "id", f"{label} {opt_label}")
            opt_label_text = reader.text(opt_block, "label", f"{label} {opt_label}")
            hint = reader.text(opt_block, "hint", f"{label} {opt_label}", required=False)
            if opt_id:
                options.append(Option(opt_id, opt_label_text, hint))
        _unique(reader, _ids_with_lines(block, "options"), f"{label} option")
        if not options:
            reader.problem(block.line, label, "a question needs at least one option")
        if ident:
            facts.append(Fact(ident, reader.text(block, "question", label), tuple(options), block.line))
    _unique(reader, ((f.id, f.line) for f in facts), "fact")
    # What references are checked against: every id declared, including those of blocks too
    # broken to use, which are reported already; "unknown" would send the operator astray.
    source_ids = _declared(data, "sources")
    fact_options = {
        fact_id: _declared(block, "options") for block in _items(data, "facts") for fact_id in _declared_id(block)
    }

    def document(block: Map, label: str, ident: str) -> Document:
        doc_sources = reader.id_list(block, "sources", label)
        _check_refs(reader, doc_sources, source_ids, "source", block.line_of("sources"), label)
        return Document(ident, reader.text(block, "text", label), doc_sources)

    def action(block: Map, label: str, ident: str) -> Action:
        return Action(ident, reader.text(block, "text", label), reader.text(block, "risk", label))

    def unknown(block: Map, label: str, ident: str) -> Unknown:
        return Unknown(ident, reader.text(block, "text", label))

    documents = {d.id: d for d in _simple(reader, data, "documents", "document", document)}
    actions = {a.id: a for a in _simple(reader, data, "actions", "action", action)}
    unknowns = {u.id: u for u in _simple(reader, data, "unknowns", "unknown", unknown)}

    help_items: dict[str, Help] = {}
    for block, label in reader.blocks(data, "help", "help"):
        ident = reader.ident(block, "id", label)
        when = reader.when(block, "when", label) if "when" in block else {}
        _check_when(reader, block, when, fact_options, label)
        url = reader.text(block, "url", label, required=False)
        if url and not _URL.match(url):
            reader.problem(block.line_of("url"), label, f"url {url!r} must start with http:// or https://")
        if ident and ident not in help_items:
            help_items[ident] = Help(
                ident, reader.text(block, "name", label), reader.text(block, "text", label), url, _frozen(when)
            )
    _unique(reader, _ids_with_lines(data, "help"), "help")

    notes: list[Note] = []
    for block, label in reader.blocks(data, "notes", "note"):
        ident = reader.ident(block, "id", label)
        when = reader.when(block, "when", label)
        _check_when(reader, block, when, fact_options, label)
        verdicts = reader.id_list(block, "verdicts", label)
        for listed in verdicts:
            if listed not in VERDICTS:
                reader.problem(
                    block.line_of("verdicts"), label, f"unknown verdict {listed!r}; use one of {', '.join(VERDICTS)}"
                )
        note_sources = reader.id_list(block, "sources", label)
        _check_refs(reader, note_sources, source_ids, "source", block.line_of("sources"), label)
        if ident:
            notes.append(
                Note(ident, reader.text(block, "text", label), _frozen(when), frozenset(verdicts), note_sources)
            )
    _unique(reader, _ids_with_lines(data, "notes"), "note")

    outcomes: dict[str, Outcome] = {}
    for block, label in reader.blocks(data, "outcomes", "outcome"):
        ident = reader.ident(block, "id", label)
        verdict = block.get("verdict")
        if verdict not in VERDICTS:
            reader.problem(
                block.line_of("verdict"), label, f"unknown verdict {verdict!r}; use one of {', '.join(VERDICTS)}"
            )
        refs = {
            key: reader.id_list(block, key, label) for key in ("satisfies", "actions", "unknown", "sources", "help")
        }
        for key, known, kind in (
            ("satisfies", _declared(data, "documents"), "document"),
            ("actions", _declared(data, "actions"), "action"),
            ("unknown", _declared(data, "unknowns"), "unknown"),
            ("sources", source_ids, "source"),
            ("help", _declared(data, "help"), "help"),
        ):
            _check_refs(reader, refs[key], known, kind, block.line_of(key), label)
        if verdict == "affected" and not refs["satisfies"]:
            reader.problem(
                block.line, label, "an 'affected' outcome must say what satisfies the requirement (satisfies)"
            )
        if not refs["sources"]:
            reader.problem(block.line, label, "an outcome must name at least one source")
        checked = reader.date(block, "checked", label) if "checked" in block else (meta.checked if meta else None)
        headline = reader.text(block, "headline", label)
        explanation = reader.text(block, "explanation", label)
        if ident and checked and ident not in outcomes:
            outcomes[ident] = Outcome(
                ident,
                str(verdict),
                headline,
                explanation,
                checked,
                refs["satisfies"],
                refs["actions"],
                refs["unknown"],
                refs["sources"],
                refs["help"],
                block.line,
            )
    _unique(reader, _ids_with_lines(data, "outcomes"), "outcome")

    rules: list[Rule] = []
    for block, label in reader.blocks(data, "rules", "rule"):
        ident = reader.ident(block, "id", label)
        when = reader.when(block, "when", label)
        _check_when(reader, block, when, fact_options, label)
        outcome = block.get("outcome")
        if not isinstance(outcome, str):
            reader.problem(block.line_of("outcome"), label, "outcome must be an outcome id")
        else:
            _check_refs(reader, [outcome], _declared(data, "outcomes"), "outcome", block.line_of("outcome"), label)
        rule_sources = reader.id_list(block, "sources", label)
        if not rule_sources:
            reader.problem(block.line_of("sources"), label, "a rule must name at least one source")
        _check_refs(reader, rule_sources, source_ids, "source", block.line_of("sources"), label)
        confidence = block.get("confidence")
        if confidence not in CONFIDENCES:
            reader.problem(
                block.line_of("confidence"),
                label,
                f"confidence must be one of {', '.join(CONFIDENCES)}, not {confidence!r}",
            )
        if ident and isinstance(outcome, str):
            rules.append(Rule(ident, _frozen(when), outcome, rule_sources, str(confidence), block.line))
    _unique(reader, ((r.id, r.line) for r in rules), "rule")
    if not rules:
        reader.problem(data.line_of("rules"), "rules", "the table has no rules")
    elif rules[-1].when:
        reader.problem(
            rules[-1].line,
            f"rule {rules[-1].id!r}",
            "the last rule must be a catch-all with `when: {}`, so every conversation ends in an outcome",
        )

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


def _frozen(when: Mapping[str, frozenset[str]]) -> Mapping[str, frozenset[str]]:
    return MappingProxyType(dict(when))


def _items(data: Map, key: str) -> list[Map]:
    items = data.get(key)
    return [item for item in items if isinstance(item, Map)] if isinstance(items, list) else []


def _declared_id(block: Map) -> list[str]:
    """The block's id as written: a string, or the text of an id YAML misread (18_65, no)."""
    ident = block.get("id")
    if isinstance(ident, str):
        return [ident]
    raw = block.raw.get("id")
    return [raw] if raw else []


def _declared(data: Map, key: str) -> dict[str, None]:
    """Every id declared in the list ``data[key]``, in order, whether or not its block is usable."""
    return {ident: None for block in _items(data, key) for ident in _declared_id(block)}


def _ids_with_lines(data: Map, key: str) -> Iterable[tuple[str, int]]:
    items = data.get(key)
    if not isinstance(items, list):
        return ()
    return [(item["id"], item.line) for item in items if isinstance(item, Map) and isinstance(item.get("id"), str)]


def _simple(reader: _Reader, data: Map, key: str, kind: str, build: Callable[[Map, str, str], Any]) -> list[Any]:
    built = []
    for block, label in reader.blocks(data, key, kind):
        ident = reader.ident(block, "id", label)
        if ident:
            built.append(build(block, label, ident))
    _unique(reader, _ids_with_lines(data, key), kind)
    return built


def load_table(path: str | Path) -> Table:
    """Read and validate a rule table file.

    Raises:
        TableError: the file is missing, not YAML, or not a valid rule table.
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
    return parse_table(text, shown)
