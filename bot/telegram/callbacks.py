"""Callback data for inline buttons: ids only, tagged with the rule table version, strictly parsed.

The wire format is ``<code>:<version>[:<arg>...]``, e.g. ``a:3f9c2e:citizenship:uzbekistan``:
a one-letter code for the kind of press (:class:`~bot.core.moves.Press`), known only here.
Telegram lets a client send any callback data up to 64 bytes, so nothing here is trusted: data
that does not parse is :data:`INVALID`, and the handler treats it as a forged or broken button.
"""

from __future__ import annotations

import hashlib
import re

from bot.core.moves import INVALID, Callback, Press

__all__ = ["ARITY", "CODES", "INVALID", "MAX_BYTES", "Callback", "Press", "decode", "encode", "version_tag"]

MAX_BYTES = 64

#: The wire code of each kind of press. Never change one: buttons already in people's chats carry them.
CODES: dict[Press, str] = {
    Press.ANSWER: "a",
    Press.BACK: "b",
    Press.START_OVER: "r",
    Press.BEGIN: "s",
    Press.MENU: "m",
    Press.LANGUAGE: "l",
    Press.RESUME: "c",
    Press.SECTION: "o",
    Press.HINTS: "h",
}
_KINDS = {code: kind for kind, code in CODES.items()}
#: How many arguments each kind of press carries: an answer its fact and option, a language its code,
#: a section of the outcome its id.
ARITY: dict[Press, int] = {kind: {Press.ANSWER: 2, Press.LANGUAGE: 1, Press.SECTION: 1}.get(kind, 0) for kind in CODES}

_VERSION = re.compile(r"[0-9a-f]{6}")
_ID = re.compile(r"[a-z0-9][a-z0-9_.-]*")
_LANG = re.compile(r"[A-Za-z_]{2,8}")


def version_tag(table_version: str) -> str:
    """A 6-character tag of a rule table version, so buttons from another version are recognised."""
    return hashlib.sha256(table_version.encode()).hexdigest()[:6]


def encode(kind: Press, version: str, *args: str) -> str:
    """Build callback data like ``a:3f9c2e:citizenship:uzbekistan``.

    Raises:
        ValueError: the data would not fit Telegram's 64 bytes, or the kind is unknown or given
            the wrong number of arguments.
    """
    if kind not in CODES:
        raise ValueError(f"unknown callback kind {kind!r}")
    if len(args) != ARITY[kind]:
        raise ValueError(f"a {kind} button takes {ARITY[kind]} argument(s), not {len(args)}")
    data = ":".join((CODES[kind], version, *args))
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data {data!r} is longer than {MAX_BYTES} bytes: shorten the ids")
    return data


def decode(data: str | None) -> Callback:
    """Parse callback data; anything malformed gives :data:`INVALID`."""
    try:
        size = len(data.encode()) if data else 0
    except UnicodeEncodeError:  # a lone surrogate: Telegram never sends one, a forger might
        return INVALID
    if not size or size > MAX_BYTES:
        return INVALID
    assert data is not None
    code, _, rest = data.partition(":")
    kind = _KINDS.get(code)
    parts = rest.split(":") if rest else []
    if kind is None or len(parts) != ARITY[kind] + 1:
        return INVALID
    version, args = parts[0], tuple(parts[1:])
    # fullmatch, not match with $: "$" also matches before a trailing newline.
    if not _VERSION.fullmatch(version):
        return INVALID
    pattern = _LANG if kind is Press.LANGUAGE else _ID
    if not all(pattern.fullmatch(arg) for arg in args):
        return INVALID
    return Callback(kind, version, args)
