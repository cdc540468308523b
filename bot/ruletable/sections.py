"""The sections of a rule table, one reader each: meta, sources, facts, documents, ... rules.

Each takes the table's YAML and a :class:`BlockReader` that collects the problems, and returns what
it could build; what a block refers to is checked against every id :class:`Declared` in the file.
A little over 300 lines, kept whole so that the sections read in the order the YAML file has them.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TypeVar

from bot.core.table import (
    CONFIDENCES,
    GRADES,
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
    Unknown,
)
from bot.ruletable.blocks import BlockReader, declared, declared_id, frozen, ids_with_lines, items
from bot.ruletable.yamlsource import Map

__all__ = [
    "KEYS",
    "Declared",
    "actions",
    "documents",
    "facts",
    "help_places",
    "meta",
    "newest_source",
    "notes",
    "outcomes",
    "rules",
    "sources",
    "unknowns",
]

_SOURCE_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_STRONG = ("A", "B")
_Built = TypeVar("_Built")

# Each block kind: its keys, and which are required. Values are checked by BlockReader.
KEYS: dict[str, tuple[set[str], set[str]]] = {
    "top": ({"meta", "sources", "facts", "outcomes", "rules"}, {"documents", "actions", "unknowns", "help", "notes"}),
    "meta": ({"id", "title", "version", "checked", "newest_source", "disclaimer"}, set()),
    "source": ({"id", "title", "url", "date", "grade"}, set()),
    "fact": ({"id", "question", "options"}, {"retired"}),
    "option": ({"id", "label"}, {"hint"}),
    "retired option": ({"id", "replaced_by"}, set()),
    "document": ({"id", "text"}, {"sources"}),
    "action": ({"id", "text", "risk"}, set()),
    "unknown": ({"id", "text"}, set()),
    "help": ({"id", "name", "text"}, {"url", "when", "sources"}),
    "note": ({"id", "text", "when", "verdicts"}, {"sources"}),
    "outcome": (
        {"id", "verdict", "headline", "explanation"},
        {"checked", "satisfies", "actions", "unknown", "sources", "help"},
    ),
    "rule": ({"id", "when", "outcome", "sources", "confidence"}, set()),
}
# The lists an outcome refers to: its key, and the kind of block each id names.
_OUTCOME_REFS = (
    ("satisfies", "document"),
    ("actions", "action"),
    ("unknown", "unknown"),
    ("sources", "source"),
    ("help", "help"),
)
# Top-level lists whose ids other blocks refer to, and the kind of block each holds.
_LISTS = {
    "sources": "source",
    "documents": "document",
    "actions": "action",
    "unknowns": "unknown",
    "help": "help",
    "outcomes": "outcome",
}


@dataclass(frozen=True)
class Declared:
    """What references are checked against: every id declared, by kind, and each fact's options.

    Ids of blocks too broken to use count too: they are reported already, and "unknown" would
    send the operator astray.
    """

    ids: Mapping[str, Collection[str]]
    options: Mapping[str, Collection[str]]
    #: Each source's grade as written, by id: a rule's confidence is checked against them.
    grades: Mapping[str, object]

    @classmethod
    def in_table(cls, data: Map) -> Declared:
        """Every id declared in the table's YAML."""
        ids = {kind: declared(data, key) for key, kind in _LISTS.items()}
        options = {fact: declared(block, "options") for block in items(data, "facts") for fact in declared_id(block)}
        grades = {b["id"]: b.get("grade") for b in items(data, "sources") if isinstance(b.get("id"), str)}
        return cls(ids, options, grades)


def meta(reader: BlockReader, data: Map) -> Meta | None:
    """The meta block: the table's id, title, version, the date it was checked, its disclaimer."""
    block = data["meta"]
    if not isinstance(block, Map):
        reader.problem(data.line_of("meta"), "meta", "must be a mapping")
        return None
    if not reader.keys(block, "meta", "meta"):
        return None
    ident = reader.ident(block, "id", "meta")
    version = block.get("version")
    if not isinstance(version, str):
        reader.problem(block.line_of("version"), "meta", f"version must be a quoted string, not {version!r}")
    checked = reader.date(block, "checked", "meta")
    newest = _source_date(reader, block, "newest_source", "meta")
    if checked and newest and newest > checked.isoformat()[: len(newest)]:
        message = f"newest_source {newest} is later than checked {checked.isoformat()}"
        reader.problem(block.line_of("newest_source"), "meta", message)
    title = reader.text(block, "title", "meta")
    disclaimer = reader.text(block, "disclaimer", "meta")
    if ident and isinstance(version, str) and checked and newest:
        return Meta(ident, title, version, checked, disclaimer, newest)
    return None


def _source_date(reader: BlockReader, block: Map, key: str, where: str) -> str | None:
    """Read a source's date, as precise as the source gives it: a quoted "YYYY", "YYYY-MM" or "YYYY-MM-DD"."""
    date = block.get(key)
    if isinstance(date, str) and _SOURCE_DATE.match(date):
        return date
    raw = block.raw.get(key, repr(date))
    reader.problem(block.line_of(key), where, f'{key} {raw} must be a quoted "YYYY", "YYYY-MM" or "YYYY-MM-DD"')
    return None


def newest_source(reader: BlockReader, data: Map, meta: Meta | None, found: Mapping[str, Source]) -> None:
    """Report a ``meta.newest_source`` older than a source the table lists: every outcome would understate it."""
    if meta is None:
        return

    def newer(source: Source) -> bool:
        # Compared at the precision both give: a source of "2026" is not newer than "2026-03".
        precision = min(len(source.date), len(meta.newest_source))
        return source.date[:precision] > meta.newest_source[:precision]

    later = sorted((s for s in found.values() if newer(s)), key=lambda s: s.date)
    if later:
        source = later[-1]
        reader.problem(
            data["meta"].line_of("newest_source"),
            "meta",
            f"newest_source {meta.newest_source} is older than source {source.id!r} ({source.date}, line "
            f"{source.line}); set it to the newest source's date",
        )


def sources(reader: BlockReader, data: Map) -> dict[str, Source]:
    """The sources: what each outcome and rule rests on, with its address and date."""
    found: dict[str, Source] = {}
    for block, label in reader.blocks(data, "sources", "source"):
        ident = reader.ident(block, "id", label)
        url = reader.url(block, "url", label)
        date = _source_date(reader, block, "date", label)
        grade = block.get("grade")
        if grade not in GRADES:
            reader.problem(block.line_of("grade"), label, f"grade {grade!r} must be one of {', '.join(GRADES)}")
        if ident and ident not in found and date:
            title = reader.text(block, "title", label)
            found[ident] = Source(ident, title, url, date, block.line, str(grade))
    reader.unique(ids_with_lines(data, "sources"), "source")
    return found


def facts(reader: BlockReader, data: Map) -> list[Fact]:
    """The facts: each a question and the options a person answers it with."""
    found: list[Fact] = []
    for block, label in reader.blocks(data, "facts", "fact"):
        ident = reader.ident(block, "id", label)
        options = _options(reader, block, label)
        retired = _retired(reader, block, label, options)
        if ident:
            question = reader.text(block, "question", label)
            found.append(Fact(ident, question, options, block.line, MappingProxyType(retired)))
    reader.unique(((f.id, f.line) for f in found), "fact")
    return found


def _options(reader: BlockReader, fact: Map, fact_label: str) -> tuple[Option, ...]:
    """The options of one fact: at least one, each a button label and an optional hint."""
    options: list[Option] = []
    for block, label in reader.blocks(fact, "options", "option"):
        where = f"{fact_label} {label}"
        ident = reader.ident(block, "id", where)
        text = reader.text(block, "label", where)
        hint = reader.text(block, "hint", where, required=False)
        if ident:
            options.append(Option(ident, text, hint))
    reader.unique(ids_with_lines(fact, "options"), f"{fact_label} option")
    if not options:
        reader.problem(fact.line, fact_label, "a question needs at least one option")
    return tuple(options)


def _retired(
    reader: BlockReader, fact: Map, fact_label: str, options: tuple[Option, ...]
) -> dict[str, tuple[str, ...]]:
    """The option ids a fact no longer offers, each with the options that replaced it.

    A saved conversation that chose one is asked the question again; ``maslahat advise`` names
    the replacements. A retirement must point at options the fact still has.
    """
    current = [o.id for o in options]
    found: dict[str, tuple[str, ...]] = {}
    if "retired" not in fact:
        return found
    for block, label in reader.blocks(fact, "retired", "retired option"):
        where = f"{fact_label} {label}"
        ident = reader.ident(block, "id", where)
        replaced_by = reader.id_list(block, "replaced_by", where)
        line = block.line_of("replaced_by")
        if not replaced_by:
            reader.problem(line, where, "replaced_by must name at least one current option")
        reader.refs(replaced_by, current, "option", line, where)
        if ident in current:
            reader.problem(block.line_of("id"), where, f"{ident!r} is retired but still an option; remove one of them")
        elif ident:
            found[ident] = replaced_by
    reader.unique(ids_with_lines(fact, "retired"), f"{fact_label} retired option")
    return found


def documents(reader: BlockReader, data: Map, known: Declared) -> dict[str, Document]:
    """The documents: what satisfies a requirement, with the sources that say so."""
    return _listed(reader, data, "documents", "document", functools.partial(_document, known))


def actions(reader: BlockReader, data: Map) -> dict[str, Action]:
    """The actions: options a person has, each with its risk."""
    return _listed(reader, data, "actions", "action", _action)


def unknowns(reader: BlockReader, data: Map) -> dict[str, Unknown]:
    """The unknowns: what the sources do not settle."""
    return _listed(reader, data, "unknowns", "unknown", _unknown)


def _document(known: Declared, reader: BlockReader, block: Map, label: str, ident: str) -> Document:
    """One document: something that satisfies a requirement, with the sources that say so."""
    sources = reader.id_list(block, "sources", label)
    reader.refs(sources, known.ids["source"], "source", block.line_of("sources"), label)
    return Document(ident, reader.text(block, "text", label), sources, block.line)


def _action(reader: BlockReader, block: Map, label: str, ident: str) -> Action:
    """One action: an option a person has, and its risk."""
    return Action(ident, reader.text(block, "text", label), reader.text(block, "risk", label), block.line)


def _unknown(reader: BlockReader, block: Map, label: str, ident: str) -> Unknown:
    """One unknown: something the sources do not settle."""
    return Unknown(ident, reader.text(block, "text", label), block.line)


def _listed(
    reader: BlockReader,
    data: Map,
    key: str,
    kind: str,
    build: Callable[[BlockReader, Map, str, str], _Built],
) -> dict[str, _Built]:
    """The blocks of a list of plain texts, by id, each built by ``build`` once its id is read."""
    built: dict[str, _Built] = {}
    for block, label in reader.blocks(data, key, kind):
        ident = reader.ident(block, "id", label)
        if ident:
            built[ident] = build(reader, block, label, ident)
    reader.unique(ids_with_lines(data, key), kind)
    return built


def help_places(reader: BlockReader, data: Map, known: Declared) -> dict[str, Help]:
    """The places to get help, each shown when its conditions (if any) hold."""
    found: dict[str, Help] = {}
    for block, label in reader.blocks(data, "help", "help"):
        ident = reader.ident(block, "id", label)
        when = reader.when(block, "when", label) if "when" in block else {}
        reader.conditions(block, when, known.options, label)
        url = reader.url(block, "url", label, required=False)
        sources = reader.id_list(block, "sources", label)
        reader.refs(sources, known.ids["source"], "source", block.line_of("sources"), label)
        if ident and ident not in found:
            name, text = reader.text(block, "name", label), reader.text(block, "text", label)
            found[ident] = Help(ident, name, text, url, frozen(when), block.line, sources)
    reader.unique(ids_with_lines(data, "help"), "help")
    return found


def notes(reader: BlockReader, data: Map, known: Declared) -> list[Note]:
    """The notes: texts added to some verdicts when their conditions hold."""
    found: list[Note] = []
    for block, label in reader.blocks(data, "notes", "note"):
        ident = reader.ident(block, "id", label)
        when = reader.when(block, "when", label)
        reader.conditions(block, when, known.options, label)
        verdicts = reader.id_list(block, "verdicts", label)
        for listed in verdicts:
            reader.verdict(block, "verdicts", label, listed)
        sources = reader.id_list(block, "sources", label)
        reader.refs(sources, known.ids["source"], "source", block.line_of("sources"), label)
        if ident:
            text = reader.text(block, "text", label)
            found.append(Note(ident, text, frozen(when), frozenset(verdicts), sources, block.line))
    reader.unique(ids_with_lines(data, "notes"), "note")
    return found


def outcomes(reader: BlockReader, data: Map, known: Declared, checked: dt.date | None) -> dict[str, Outcome]:
    """The outcomes, by id; ``checked`` is the table's date, for those that give none of their own."""
    found: dict[str, Outcome] = {}
    for block, label in reader.blocks(data, "outcomes", "outcome"):
        outcome = _outcome(reader, block, label, known, checked)
        if outcome and outcome.id not in found:
            found[outcome.id] = outcome
    reader.unique(ids_with_lines(data, "outcomes"), "outcome")
    return found


def _outcome(reader: BlockReader, block: Map, label: str, known: Declared, checked: dt.date | None) -> Outcome | None:
    """One outcome: a verdict, what it means, and what it refers to."""
    ident = reader.ident(block, "id", label)
    verdict = block.get("verdict")
    reader.verdict(block, "verdict", label, verdict)
    refs = {key: reader.id_list(block, key, label) for key, _ in _OUTCOME_REFS}
    for key, kind in _OUTCOME_REFS:
        reader.refs(refs[key], known.ids[kind], kind, block.line_of(key), label)
    if verdict == "affected" and not refs["satisfies"]:
        reader.problem(block.line, label, "an 'affected' outcome must say what satisfies the requirement (satisfies)")
    if not refs["sources"]:
        reader.problem(block.line, label, "an outcome must name at least one source")
    if "checked" in block:
        checked = reader.date(block, "checked", label)
    headline = reader.text(block, "headline", label)
    explanation = reader.text(block, "explanation", label)
    if not (ident and checked):
        return None
    return Outcome(
        ident,
        str(verdict),
        headline,
        explanation,
        checked,
        satisfies=refs["satisfies"],
        actions=refs["actions"],
        unknown=refs["unknown"],
        sources=refs["sources"],
        help=refs["help"],
        line=block.line,
    )


def rules(reader: BlockReader, data: Map, known: Declared) -> list[Rule]:
    """The rules, in order: the first whose conditions hold decides; the last must be a catch-all."""
    found: list[Rule] = []
    for block, label in reader.blocks(data, "rules", "rule"):
        rule = _rule(reader, block, label, known)
        if rule:
            found.append(rule)
    reader.unique(((r.id, r.line) for r in found), "rule")
    if not found:
        reader.problem(data.line_of("rules"), "rules", "the table has no rules")
    elif found[-1].when:
        reader.problem(
            found[-1].line,
            f"rule {found[-1].id!r}",
            "the last rule must be a catch-all with `when: {}`, so every conversation ends in an outcome",
        )
    return found


def _rule(reader: BlockReader, block: Map, label: str, known: Declared) -> Rule | None:
    """One rule: conditions, the outcome they lead to, its sources and how sure they are."""
    ident = reader.ident(block, "id", label)
    when = reader.when(block, "when", label)
    reader.conditions(block, when, known.options, label)
    outcome = block.get("outcome")
    if not isinstance(outcome, str):
        reader.problem(block.line_of("outcome"), label, "outcome must be an outcome id")
    else:
        reader.refs([outcome], known.ids["outcome"], "outcome", block.line_of("outcome"), label)
    sources = reader.id_list(block, "sources", label)
    if not sources:
        reader.problem(block.line_of("sources"), label, "a rule must name at least one source")
    reader.refs(sources, known.ids["source"], "source", block.line_of("sources"), label)
    confidence = block.get("confidence")
    if confidence not in CONFIDENCES:
        message = f"confidence must be one of {', '.join(CONFIDENCES)}, not {confidence!r}"
        reader.problem(block.line_of("confidence"), label, message)
    elif confidence == "high" and sources and not any(known.grades.get(s) in _STRONG for s in sources):
        message = "confidence 'high' needs at least one source of grade A or B (an official text or a state body)"
        reader.problem(block.line_of("confidence"), label, message)
    if ident and isinstance(outcome, str):
        return Rule(ident, frozen(when), outcome, sources, str(confidence), block.line)
    return None
