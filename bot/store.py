"""Where sessions live between updates: a small interface, keyed by a hash, never by the user id."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Protocol

from bot.engine import Session

__all__ = ["MemoryStore", "SessionStore", "person_key"]


def person_key(secret: bytes, user_id: int) -> str:
    """A keyed hash of a Telegram user id: a copied store does not tell who used the bot."""
    return hmac.new(secret, str(user_id).encode(), hashlib.sha256).hexdigest()


class SessionStore(Protocol):
    """Sessions by person key, forgotten after a time without activity."""

    def get(self, key: str) -> Session | None: ...

    def put(self, key: str, session: Session) -> None: ...

    def delete(self, key: str) -> None: ...

    def purge(self) -> int: ...


class MemoryStore:
    """Sessions in this process's memory; lost on restart. Expire ``ttl`` seconds after last use."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._sessions: dict[str, tuple[float, Session]] = {}

    def get(self, key: str) -> Session | None:
        found = self._sessions.get(key)
        if found is None:
            return None
        touched, session = found
        if self._clock() - touched > self._ttl:
            del self._sessions[key]
            return None
        return session

    def put(self, key: str, session: Session) -> None:
        self._sessions[key] = (self._clock(), session)

    def delete(self, key: str) -> None:
        self._sessions.pop(key, None)

    def purge(self) -> int:
        """Drop every expired session; return how many."""
        now = self._clock()
        expired = [k for k, (touched, _) in self._sessions.items() if now - touched > self._ttl]
        for key in expired:
            del self._sessions[key]
        return len(expired)

    def __len__(self) -> int:
        return len(self._sessions)
