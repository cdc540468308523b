"""Telegram HTML: packing a long text into messages under Telegram's limit without cutting a tag."""

from __future__ import annotations

import re

__all__ = ["LIMIT", "cut_html", "split_html"]

#: The most characters one Telegram message may hold.
LIMIT = 4096


def split_html(sections: list[str], limit: int = LIMIT) -> list[str]:
    """Pack sections into messages under ``limit`` characters, never splitting inside a tag.

    A section longer than the limit is split between its lines, and a line longer than the
    limit between its words (tags open at the cut are closed and opened again).
    """
    pieces: list[str] = []
    for text in sections:
        if len(text) <= limit:
            pieces.append(text)
            continue
        current = ""
        lines = [part for line in text.split("\n") for part in _split_line(line, limit)]
        for line in lines:
            if current and len(current) + 1 + len(line) > limit:
                pieces.append(current)
                current = line
            else:
                current = f"{current}\n{line}" if current else line
        pieces.append(current)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 2 + len(piece) <= limit:
            chunks[-1] += "\n\n" + piece
        else:
            chunks.append(piece)
    return chunks


def cut_html(text: str, limit: int = LIMIT) -> str:
    """As much of ``text`` as fits ``limit`` in whole words, tags closed, then "…"; the text itself if it fits."""
    if len(text) <= limit:
        return text
    return _TRAILING_SPACE.sub(r"\1", _split_line(text, limit - 1)[0]) + "…"


_TAG = re.compile(r"(<[^>]+>)")
_TRAILING_SPACE = re.compile(r"\s+((?:</[a-z]+>)*)$")  # the space before a cut, inside its closing tags or not
_TAG_NAME = re.compile(r"</?([a-z]+)")


def _split_line(line: str, limit: int) -> list[str]:
    """Cut a line longer than ``limit`` at spaces; each piece is valid HTML on its own."""
    if len(line) <= limit:
        return [line]
    pieces: list[str] = []
    current = ""
    open_tags: list[str] = []  # the opening tags in force, e.g. <a href="…">

    def closing() -> str:
        names = (match.group(1) for tag in reversed(open_tags) if (match := _TAG_NAME.match(tag)))
        return "".join(f"</{name}>" for name in names)

    for token in _TAG.split(line):
        if not token:
            continue
        if token.startswith("<"):
            current += token
            if token.startswith("</"):
                open_tags.pop()
            else:
                open_tags.append(token)
            continue
        for word in re.split(r"(?<= )", token):
            # Room is kept for the closing tags a cut may need (tags here are short: b, i, a).
            if len(current) + len(word) + len(closing()) > limit - 16 and current.strip():
                pieces.append(current + closing())
                current = "".join(open_tags)
            if len(word) > limit - 64:
                raise ValueError("a single word of an outcome is longer than a Telegram message")
            current += word
    pieces.append(current)
    return pieces
