"""Replies the bot owes: recorded with the write that makes them owed, settled once they are sent.

A button press is saved before its reply is sent (bot.telegram.transaction), so that it is applied
exactly once. A process killed between the two left the person with a spinner and the old
question: 30 of 31 presses in flight at a kill -9 were saved and never answered. So the write that
applies an update also records an :class:`Owed` entry, one per person at most (a newer one replaces
it), and sending the reply deletes it. Whatever no one settled within :data:`OWED_GRACE` is found
by the bot's outbox sweep (bot.telegram.outbox) and sent then: after a crash, by the restarted
process or another replica; after a send that failed, by the same process.

An entry holds the update's id, the chat to answer and the message to answer in place of, what
to show (a bot.core.moves.Show value, the outcome's section it opens and a notice msgid, no
text), the language, and when the update was taken. The chat id is sealed with the session
secret: a copy of the store without the secret does not tell whom a reply was owed to, no more
than the session key tells whose session it is. An entry lives from the update to its reply,
milliseconds as a rule, :data:`OWED_TTL` at most.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["OWED_GRACE", "OWED_TTL", "Owed", "decode_owed", "encode_owed", "seal", "unseal"]

#: Seconds an owed reply is left to the process handling it before another may send it. A reply is
#: sent within milliseconds as a rule; Telegram's flood waits and retries can take a few seconds.
OWED_GRACE = 10.0
#: Seconds after which an owed reply that could not be sent is dropped: a screen that late would
#: confuse more than help, and the sealed chat id is not kept longer than this.
OWED_TTL = 3600.0

_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class Owed:
    """A reply the bot owes for update ``update_id``; see the module docstring for each field."""

    update_id: int
    chat: str  # the chat id, sealed (see seal)
    message: int | None  # the pressed message, to show the reply in its place; None: a new message
    show: str  # a bot.core.moves.Show value
    notice: str  # an English msgid shown on top, or ""
    lang: str
    taken: float  # when the update was applied, time.time()
    section: str = ""  # with show "section": the section of the outcome to open ("" the card)


def _pad(secret: bytes, key: str) -> int:
    return int.from_bytes(hmac.new(secret, b"outbox " + key.encode(), hashlib.sha256).digest()[:8], "big")


def seal(secret: bytes, key: str, chat_id: int) -> str:
    """``chat_id`` hidden with a pad drawn from the secret and the person's key (16 hex digits)."""
    return format((chat_id & _MASK) ^ _pad(secret, key), "016x")


def unseal(secret: bytes, key: str, sealed: str) -> int:
    """The chat id :func:`seal` hid.

    Raises:
        ValueError: ``sealed`` is not what seal makes.
    """
    if len(sealed) != 16:
        raise ValueError("not a sealed chat id")
    value = int(sealed, 16) ^ _pad(secret, key)
    return value - (1 << 64) if value >> 63 else value


def encode_owed(owed: Owed) -> str:
    """JSON for storage."""
    return json.dumps(asdict(owed), ensure_ascii=False, separators=(",", ":"))


def decode_owed(text: str | bytes) -> Owed:
    """Read a stored entry.

    Raises:
        ValueError: the text is not an entry (a corrupt store).
    """
    try:
        data: Any = json.loads(text)
        message = data["message"]
        return Owed(
            int(data["update_id"]),
            str(data["chat"]),
            None if message is None else int(message),
            str(data["show"]),
            str(data["notice"]),
            str(data["lang"]),
            float(data["taken"]),
            str(data.get("section", "")),  # entries written before it was kept: the card, as then
        )
    except (TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"a stored owed reply cannot be read ({type(exc).__name__})") from exc
