"""Telegram's HTML subset as the Bot API parses it: text and entities, or the error Telegram gives.

Part of the fake Bot API (tests/support/fakebotapi.py): sendMessage and editMessageText with
parse_mode=HTML answer what Telegram would, so a malformed message fails in tests as in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["HtmlError", "parse_html", "trim", "utf16_len"]

JSON = dict[str, Any]


class HtmlError(ValueError):
    """Text that Telegram's HTML parser rejects; the message is Telegram's."""


_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """The character an HTML entity at ``pos`` stands for and where it ends; None leaves the ``&`` as is."""
    end = pos + 1
    if text.startswith("&#", pos):
        end += 1
        hexadecimal = text.startswith("x", end)
        end += hexadecimal
        start = end
        while end < len(text) and text[end] in ("0123456789abcdefABCDEF" if hexadecimal else "0123456789"):
            end += 1
        if end == start or end - pos >= 10:
            return None
        code = int(text[start:end], 16 if hexadecimal else 10)
        if not 0 < code < 0x10FFFF:
            return None
        char = chr(code)
    else:
        while end < len(text) and text[end].isascii() and text[end].isalpha():
            end += 1
        if text[pos + 1 : end] not in _NAMED_ENTITIES:
            return None
        char = _NAMED_ENTITIES[text[pos + 1 : end]]
    return char, end + 1 if text.startswith(";", end) else end


@dataclass
class _OpenTag:
    name: str
    offset: int  # in UTF-16 code units of the parsed text
    start: int  # in characters of the parsed text
    attributes: dict[str, str]


def _parse_attributes(source: str, pos: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Reads a start tag's attributes from ``pos``; returns them and the position of the closing ``>``."""
    attributes: dict[str, str] = {}
    n = len(source)

    def unclosed() -> HtmlError:
        return HtmlError(f"Unclosed start tag at byte offset {begin}")

    while True:
        while pos < n and source[pos].isspace():
            pos += 1
        if pos >= n:
            raise unclosed()
        if source[pos] == ">":
            return attributes, pos
        name_start = pos
        while pos < n and not source[pos].isspace() and source[pos] not in "=>":
            pos += 1
        name = source[name_start:pos].lower()
        while pos < n and source[pos].isspace():
            pos += 1
        if pos >= n:
            raise unclosed()
        if source[pos] != "=":
            if tag == "blockquote" and name == "expandable":
                attributes[name] = ""
                continue
            raise HtmlError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" at byte offset {begin}'
            )
        pos += 1
        while pos < n and source[pos].isspace():
            pos += 1
        if pos >= n:
            raise unclosed()
        if source[pos] in "'\"":
            quote, pos, value = source[pos], pos + 1, []
            while pos < n and source[pos] != quote:
                decoded = _decode_entity(source, pos) if source[pos] == "&" else None
                if decoded:
                    value.append(decoded[0])
                    pos = decoded[1]
                else:
                    value.append(source[pos])
                    pos += 1
            pos += 1
            attributes[name] = "".join(value)
        else:
            token_start = pos
            while pos < n and ((source[pos].isascii() and source[pos].isalnum()) or source[pos] in ".-"):
                pos += 1
            if pos >= n:
                raise unclosed()
            if not source[pos].isspace() and source[pos] != ">":
                raise HtmlError(f"Unexpected end of name token at byte offset {_byte_offset(source, token_start)}")
            attributes[name] = source[token_start:pos].lower()


def _byte_offset(source: str, pos: int) -> int:
    return len(source[:pos].encode())


def _close_tag(tag: _OpenTag, end: int, stack: list[_OpenTag], text: str) -> JSON | None:
    """The entity a closed tag makes, or None (empty, or merged into an enclosing ``pre``)."""
    kind = _TAG_ENTITY[tag.name]
    entity: JSON = {"type": kind, "offset": tag.offset, "length": end - tag.offset}
    if entity["length"] == 0:
        return None
    attributes = tag.attributes
    if kind == "code" and stack and stack[-1].name == "pre" and stack[-1].offset == tag.offset:
        language = attributes.get("class", "")
        if language.startswith("language-"):
            stack[-1].attributes["language"] = language.removeprefix("language-")
        return None
    if kind == "pre" and attributes.get("language"):
        entity["language"] = attributes["language"]
    elif kind == "text_link":
        # An <a> without href links to its own text.
        entity["url"] = attributes.get("href") or text
        if not entity["url"]:
            return None
    elif kind == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        if not attributes.get("emoji-id"):
            return None
        entity["custom_emoji_id"] = attributes["emoji-id"]
    return entity


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parses Telegram's HTML subset like the Bot API does: the plain text and its entities.

    Raises HtmlError with Telegram's own wording ("Unsupported start tag "p" at byte offset 0", ...).
    Only ``&lt; &gt; &amp; &quot;`` and numeric character references are decoded; any other ``&`` stays.
    """
    out: list[str] = []
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    offset = pos = 0
    n = len(source)
    while pos < n:
        char = source[pos]
        if char == "&" and (decoded := _decode_entity(source, pos)):
            out.append(decoded[0])
            offset += utf16_len(decoded[0])
            pos = decoded[1]
            continue
        if char != "<":
            out.append(char)
            offset += utf16_len(char)
            pos += 1
            continue
        begin = _byte_offset(source, pos)
        if source.startswith("</", pos):
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {begin}")
            end = pos + 2
            while end < n and not source[end].isspace() and source[end] != ">":
                end += 1
            name = source[pos + 2 : end].lower()
            while end < n and source[end].isspace():
                end += 1
            if end >= n or source[end] != ">":
                raise HtmlError(f"Unclosed end tag at byte offset {begin}")
            tag = stack.pop()
            if name and name != tag.name:
                raise HtmlError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag.name}>", found "</{name}>"'
                )
            entity = _close_tag(tag, offset, stack, "".join(out[tag.start :]))
            if entity:
                entities.append(entity)
            pos = end + 1
            continue
        end = pos + 1
        while end < n and not source[end].isspace() and source[end] != ">":
            end += 1
        if end >= n:
            raise HtmlError(f"Unclosed start tag at byte offset {begin}")
        name = source[pos + 1 : end].lower()
        if name not in _TAG_ENTITY:
            raise HtmlError(f'Unsupported start tag "{name}" at byte offset {begin}')
        attributes, end = _parse_attributes(source, end, name, begin)
        if name == "span" and attributes.get("class") != "tg-spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        stack.append(_OpenTag(name, offset, len(out), attributes))
        pos = end + 1
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Strips leading and trailing whitespace as Telegram does, shifting and clipping the entities."""
    whitespace = " \t\n\r\x0b\x0c"
    stripped = text.strip(whitespace)
    if stripped == text:
        return text, entities
    shift = utf16_len(text[: len(text) - len(text.lstrip(whitespace))])
    total = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(0, entity["offset"] - shift)
        end = min(total, entity["offset"] + entity["length"] - shift)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept
