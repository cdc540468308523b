"""Open the session store a STORAGE_URL names: memory://, sqlite:///path or redis://host:port/db."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from bot.storage.base import MemoryStore
from bot.storage.sqlite import SQLiteStore

if TYPE_CHECKING:
    from bot.storage.redis import RedisStore

__all__ = ["DEFAULT_STORAGE_URL", "open_store", "storage_problem"]

#: The embedded default: a SQLite file under ./state, relative to where the bot starts.
DEFAULT_STORAGE_URL = "sqlite:///state/maslahat.db"


def storage_problem(url: str) -> str | None:
    """Why ``url`` cannot name a store, or None if it can."""
    scheme = urlparse(url).scheme
    if scheme == "memory":
        return None
    if scheme == "sqlite":
        return None if _sqlite_path(url) else f"STORAGE_URL {url!r} names no file: use sqlite:///relative/path.db"
    if scheme in {"redis", "rediss", "unix"}:
        return None
    return f"STORAGE_URL must start with sqlite://, redis://, rediss:// or memory://, not {url!r}"


def _sqlite_path(url: str) -> str:
    # sqlite:///relative.db and sqlite:////absolute/path.db, as SQLAlchemy writes them.
    return url.removeprefix("sqlite://")[1:] if url.startswith("sqlite:///") else ""


def open_store(url: str, ttl: float) -> MemoryStore | SQLiteStore | RedisStore:
    """The store for ``url``; it connects on first use, so a store that is down does not stop start-up."""
    scheme = urlparse(url).scheme
    if scheme == "memory":
        return MemoryStore(ttl)
    if scheme == "sqlite":
        return SQLiteStore(Path(_sqlite_path(url)), ttl)
    from bot.storage.redis import RedisStore  # only deployments that scale out pay for importing redis

    return RedisStore(url, ttl)
