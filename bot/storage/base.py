"""Where sessions live between updates: a small async interface and an in-memory backend.

A record is kept under a keyed hash of the Telegram user id, never the id itself. It holds only
what the conversation needs — language, answers (the position follows from them), the rule
table version, the last activity — plus a write version for compare-and-set and the ids of the
last updates applied, so an update delivered twice is applied once. Records expire a fixed
time after the last activity. Beside each record a store keeps the reply owed to the person, if
any (bot.storage.outbox), and the number of the message showing their buttons. Backends: this
module (memory), bot.storage.sqlite, bot.storage.redis.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.core.engine import Session
from bot.storage.outbox import OWED_GRACE, Owed

__all__ = [
    "RECENT_UPDATES",
    "Conflict",
    "MemoryStore",
    "Record",
    "SessionStore",
    "StatsStore",
    "StoreUnavailable",
    "decode_record",
    "encode_record",
    "person_key",
    "private_directory",
    "private_file",
]

#: How many update ids a record remembers to recognise a redelivered update.
RECENT_UPDATES = 20


def private_directory(path: Path) -> None:
    """Create the directory ``path`` (and its parents) for the owner only, whatever the umask.

    An existing directory is left as the deployment made it (a Docker volume, a systemd StateDirectory).
    """
    if path.is_dir():
        return
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)  # mkdir's mode is narrowed by the umask, never widened; make sure


def private_file(path: Path) -> None:
    """Create the empty file ``path`` readable and writable by the owner only, unless it exists."""
    private_directory(path.parent)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return


def person_key(secret: bytes, user_id: int) -> str:
    """A keyed hash of a Telegram user id: a copied store does not tell who used the bot."""
    return hmac.new(secret, str(user_id).encode(), hashlib.sha256).hexdigest()


class Conflict(Exception):
    """Another writer changed the record since it was read; read again and re-apply."""


class StoreUnavailable(Exception):
    """The store cannot be reached or read (down, corrupt, full); the update can be tried again."""


@dataclass(frozen=True)
class Record:
    """A stored session with its write version (0: never written) and recent update ids."""

    session: Session
    version: int = 0
    recent: tuple[int, ...] = ()
    touched: float = field(default=0.0, compare=False)

    def applied(self, update_id: int) -> bool:
        """Whether this update was already applied to the session."""
        return update_id in self.recent

    def after(self, session: Session, update_id: int | None, now: float) -> Record:
        """The next record: the new session, one version on, this update remembered."""
        recent = self.recent if update_id is None else (*self.recent, update_id)[-RECENT_UPDATES:]
        return Record(session, self.version + 1, recent, now)


def encode_record(record: Record) -> str:
    """JSON for storage: only the fields listed in the module docstring."""
    return json.dumps(
        {
            "session": record.session.to_dict(),
            "version": record.version,
            "recent": list(record.recent),
            "touched": record.touched,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode_record(text: str | bytes) -> Record:
    """Read a stored record.

    Raises:
        StoreUnavailable: the stored text is not a record (a corrupt store).
    """
    try:
        data: Any = json.loads(text)
        return Record(
            Session.from_dict(data["session"]),
            int(data["version"]),
            tuple(int(i) for i in data.get("recent", ())),
            float(data.get("touched", 0.0)),
        )
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise StoreUnavailable(f"a stored session cannot be read ({type(exc).__name__})") from exc


class SessionStore(Protocol):
    """Sessions by person key, with compare-and-set writes and expiry after inactivity."""

    async def get(self, key: str) -> Record | None:
        """The record, or None if there is none or it expired."""
        ...

    async def put(self, key: str, record: Record, *, expected: int, owed: Owed | None = None) -> None:
        """Write ``record`` if the stored version is still ``expected`` (0: no record yet).

        ``owed``, if given, is recorded in the same write, in place of any reply owed to this person
        (bot.storage.outbox): either both are stored or neither.

        Raises:
            Conflict: another writer got there first.
        """
        ...

    async def owe(self, key: str, owed: Owed) -> bool:
        """Record a reply owed for an update that changes nothing stored (a hint, a stale button).

        Only for a person with a stored session: of someone the bot stores nothing about, it keeps
        no owed reply either (a crash then loses a help page, not a press). Returns whether it did.
        """
        ...

    async def settle(self, key: str, update_id: int, *, screen: int | None = None) -> int | None:
        """The reply owed for ``update_id`` was sent: forget it (a newer one owed is kept).

        ``screen``, if given, is the message now showing the person's buttons: it is noted with the
        session (which must exist), and the one it replaces is returned, so that its buttons can be
        taken away (one live keyboard per chat). None if there was none, or the same.
        """
        ...

    async def due(self, now: float, until: float) -> list[tuple[str, Owed]]:
        """The owed replies due at ``now``, each leased until ``until``: no other sweep takes it before.

        An entry is due :data:`~bot.storage.outbox.OWED_GRACE` after it was recorded, and again
        when its lease ends if it is still owed.
        """
        ...

    async def delete(self, key: str) -> None:
        """Forget the record, and any reply owed to the person, at once."""
        ...

    async def purge(self) -> int:
        """Remove expired records now; return how many (0 where the backend expires by itself)."""
        ...

    async def ping(self) -> None:
        """Raise StoreUnavailable if the store cannot be used."""
        ...

    async def close(self) -> None:
        """Release connections; the store is not used afterwards."""
        ...


class StatsStore(Protocol):
    """Anonymous counters for operators: per day, a name and a label, never a person."""

    async def count(self, day: str, name: str, label: str = "") -> None:
        """Add one to a counter, e.g. ("2026-11-21", "finished", "tg")."""
        ...

    async def totals(self) -> list[tuple[str, str, str, int]]:
        """Every counter as (day, name, label, count), sorted."""
        ...


class MemoryStore:
    """Sessions and counters in this process's memory: lost on restart, one process only."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.ttl = ttl
        self._clock = clock
        self._records: dict[str, Record] = {}
        self._owed: dict[str, tuple[Owed, float]] = {}  # key -> (entry, when it is due)
        self._screens: dict[str, int] = {}  # key -> the message showing the person's buttons
        self._stats: dict[tuple[str, str, str], int] = {}

    def _alive(self, record: Record) -> bool:
        return self._clock() - record.touched < self.ttl  # as in SQLite: expired at exactly ttl

    async def get(self, key: str) -> Record | None:
        record = self._records.get(key)
        if record is None or not self._alive(record):
            return None
        return record

    async def put(self, key: str, record: Record, *, expected: int, owed: Owed | None = None) -> None:
        current = await self.get(key)
        if (current.version if current else 0) != expected:
            raise Conflict(key)
        self._records[key] = Record(record.session, record.version, record.recent, self._clock())
        if owed is not None:
            self._owed[key] = (owed, owed.taken + OWED_GRACE)

    async def owe(self, key: str, owed: Owed) -> bool:
        if key not in self._records:
            return False
        self._owed[key] = (owed, owed.taken + OWED_GRACE)
        return True

    async def settle(self, key: str, update_id: int, *, screen: int | None = None) -> int | None:
        entry = self._owed.get(key)
        if entry is not None and entry[0].update_id == update_id:
            del self._owed[key]
        if screen is None or key not in self._records:
            return None
        previous = self._screens.get(key)
        self._screens[key] = screen
        return previous if previous != screen else None

    async def due(self, now: float, until: float) -> list[tuple[str, Owed]]:
        taken = [(key, owed) for key, (owed, due) in self._owed.items() if due <= now]
        for key, owed in taken:
            self._owed[key] = (owed, until)
        return taken

    async def delete(self, key: str) -> None:
        self._records.pop(key, None)
        self._owed.pop(key, None)
        self._screens.pop(key, None)

    async def purge(self) -> int:
        expired = [key for key, record in self._records.items() if not self._alive(record)]
        for key in expired:
            del self._records[key]
            self._screens.pop(key, None)
        return len(expired)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def count(self, day: str, name: str, label: str = "") -> None:
        self._stats[(day, name, label)] = self._stats.get((day, name, label), 0) + 1

    async def totals(self) -> list[tuple[str, str, str, int]]:
        return sorted((day, name, label, n) for (day, name, label), n in self._stats.items())

    async def size(self) -> int:
        """How many live sessions are stored."""
        return len(self)

    def __len__(self) -> int:
        return sum(1 for record in self._records.values() if self._alive(record))
