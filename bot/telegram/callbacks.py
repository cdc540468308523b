"""Callback data for inline buttons: ids only, tagged with the rule table version, strictly parsed.

Telegram lets a client send any callback data up to 64 bytes, so nothing here is trusted: data
that does not parse is :data:`INVALID`, and the handler treats it as a forged or broken button.
"""

from __future__ import annotations

import hashlib
import re

from bot.core.moves import INVALID, Callback

__all__ = ["MAX_BYTES", "Callback", "decode", "encode", "version_tag"]

MAX_BYTES = 64
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_LANG = re.compile(r"^[A-Za-z_]{2,8}$")

#: Kinds of button and how many arguments each takes: answer (fact, option), back, start over,
#: begin (from the welcome), language menu, set language (code).
KINDS = {"a": 2, "b": 0, "r": 0, "s": 0, "m": 0, "l": 1}


def version_tag(table_version: str) -> str:
    """A 6-character tag of a rule table version, so buttons from another version are recognised."""
    return hashlib.sha256(table_version.encode()).hexdigest()[:6]


def encode(kind: str, version: str, *args: str) -> str:
    """Build callback data like ``a:3f9c2e:citizenship:uzbekistan``.

    Raises:
        ValueError: the data would not fit Telegram's 64 bytes, or the kind is unknown.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown callback kind {kind!r}")
    data = ":".join((kind, version, *args))
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data {data!r} is longer than {MAX_BYTES} bytes: shorten the ids")
    return data


def decode(data: str | None) -> Callback:
    """Parse callback data; anything malformed gives :data:`INVALID`."""
    if not data or len(data.encode()) > MAX_BYTES:
        return INVALID
    kind, _, rest = data.partition(":")
    parts = rest.split(":") if rest else []
    if kind not in KINDS or not parts or len(parts) != KINDS[kind] + 1:
        return INVALID
    version, args = parts[0], tuple(parts[1:])
    if not re.fullmatch(r"[0-9a-f]{6}", version):
        return INVALID
    pattern = _LANG if kind == "l" else _ID
    if not all(pattern.match(arg) for arg in args):
        return INVALID
    return Callback(kind, version, args)
