"""Every text of a rule table a person reads, with where it is: what translators and diffs work on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bot.ruletable.yamlsource import Map, fold

__all__ = ["BUTTON_LIMIT", "Text", "table_texts"]

#: Longest button label that fits a phone screen, in characters.
BUTTON_LIMIT = 30

# section -> [(key, comment template)]; {id} is the block's id.
_TEXTS: dict[str, list[tuple[str, str]]] = {
    "sources": [("title", "title of source {id}")],
    "documents": [("text", "document {id}: something that satisfies the requirement")],
    "actions": [("text", "action {id}: an option the person has"), ("risk", "action {id}: the risk of that option")],
    "unknowns": [("text", "unknown {id}: something the sources do not settle")],
    "help": [("name", "help {id}: name of a place to get help"), ("text", "help {id}: what they help with")],
    "notes": [("text", "note {id}: shown to citizens of one country")],
    "outcomes": [
        ("headline", "outcome {id} ({verdict}): headline, one sentence"),
        ("explanation", "outcome {id} ({verdict}): why"),
    ],
}

#: One extracted text: (line, msgid, translator comment).
Text = tuple[int, str, str]


def table_texts(data: Any) -> Iterator[Text]:
    """Yield every translatable text of a parsed rule table, in file order."""
    if not isinstance(data, Map):
        return
    meta = data.get("meta")
    if isinstance(meta, Map):
        yield from _text(meta, "title", "title of the rule table")
        yield from _text(meta, "disclaimer", "disclaimer shown with every outcome")
    for fact in _blocks(data, "facts"):
        yield from _text(fact, "question", f"question {fact.get('id')}")
        for option in _blocks(fact, "options"):
            where = f"question {fact.get('id')}, answer {option.get('id')}"
            yield from _text(option, "label", f"{where}: button label, keep under {BUTTON_LIMIT} characters")
            yield from _text(option, "hint", f"{where}: hint explaining the answer")
    for section, keys in _TEXTS.items():
        for block in _blocks(data, section):
            for key, comment in keys:
                yield from _text(block, key, comment.format(id=block.get("id"), verdict=block.get("verdict")))


def _blocks(data: Map, key: str) -> Iterator[Map]:
    items = data.get(key)
    if isinstance(items, list):
        yield from (item for item in items if isinstance(item, Map))


def _text(block: Map, key: str, comment: str) -> Iterator[Text]:
    value = block.get(key)
    if isinstance(value, str) and value.strip():
        yield block.line_of(key), fold(value), comment
