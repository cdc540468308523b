"""Redis session store: several bot processes, on one host or many, sharing sessions.

A session is a hash ``{prefix}:session:{key}`` holding the write version, the record JSON and
the message showing the person's buttons (``screen``);
Redis itself forgets it ``ttl`` seconds after the last write, so no purge job is needed. A write
is one Lua script that compares the stored version and writes, so of two processes writing the
same person at once exactly one succeeds. Owed replies (bot.storage.outbox) are the hash
``{prefix}:outbox`` (person key -> "update id|entry JSON") and the sorted set ``{prefix}:outbox:due``
(person key by when it is due), written by the same script as the session they belong to.
Counters are one hash ``{prefix}:stats`` without expiry (anonymous aggregates). Every Redis
failure becomes StoreUnavailable, after redis-py's own retries.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from bot.storage.base import Conflict, Record, StoreUnavailable, decode_record, encode_record
from bot.storage.outbox import OWED_GRACE, Owed, decode_owed, encode_owed

__all__ = ["RedisStore"]

#: KEYS: the session, the outbox, its due set; ARGV: expected version, new version, record JSON, ttl
#: in ms, the person key, and the owed entry ("" for none) with when it is due.
#: Returns 1 if written, 0 if the stored version (0: no session) is not the expected one.
_COMPARE_AND_SET = """
local stored = redis.call('HGET', KEYS[1], 'version')
local current = 0
if stored then
    current = tonumber(stored)
    if current == nil then
        return redis.error_reply('corrupt session version')
    end
end
if current ~= tonumber(ARGV[1]) then
    return 0
end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'data', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if ARGV[6] ~= '' then
    redis.call('HSET', KEYS[2], ARGV[5], ARGV[6])
    redis.call('ZADD', KEYS[3], ARGV[7], ARGV[5])
end
return 1
"""

#: KEYS: the outbox, its due set, the session; ARGV: the person key, the entry, when it is due.
#: Records the entry only if the person has a session.
_OWE = """
if redis.call('EXISTS', KEYS[3]) == 0 then
    return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""

#: KEYS: the outbox, its due set, the session; ARGV: the person key, the update id, the screen ("": none).
#: Deletes the entry if it is that update's; notes the screen in the session, if there is one, and
#: returns the one it replaces (false if none).
_SETTLE = """
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if entry and string.sub(entry, 1, #ARGV[2] + 1) == ARGV[2] .. '|' then
    redis.call('HDEL', KEYS[1], ARGV[1])
    redis.call('ZREM', KEYS[2], ARGV[1])
end
if ARGV[3] == '' or redis.call('EXISTS', KEYS[3]) == 0 then
    return false
end
local previous = redis.call('HGET', KEYS[3], 'screen')
redis.call('HSET', KEYS[3], 'screen', ARGV[3])
return previous
"""

#: KEYS: the outbox, its due set; ARGV: now, the end of the lease. Returns key, entry, key, entry...
_DUE = """
local keys = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, 100)
local taken = {}
for _, key in ipairs(keys) do
    local entry = redis.call('HGET', KEYS[1], key)
    if entry then
        redis.call('ZADD', KEYS[2], ARGV[2], key)
        table.insert(taken, key)
        table.insert(taken, entry)
    else
        redis.call('ZREM', KEYS[2], key)
    end
end
return taken
"""


class RedisStore:
    """Sessions and anonymous counters in Redis, shared by any number of bot processes.

    ``url`` is a redis:// (or rediss://, unix://) URL; ``timeout`` bounds each socket operation,
    and a connection error or timeout is retried three times with exponential backoff before the
    store reports itself unavailable. Connections are re-established on the next use. A write
    retried after its reply was lost finds its own version and reports Conflict; the caller reads
    again and sees the update already applied.
    """

    def __init__(self, url: str, ttl: float, prefix: str = "maslahat", *, timeout: float = 2.0) -> None:
        self.ttl = ttl
        self.prefix = prefix
        self._redis: Redis = Redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
        )
        self._cas = self._redis.register_script(_COMPARE_AND_SET)
        self._settle = self._redis.register_script(_SETTLE)
        self._owe = self._redis.register_script(_OWE)
        self._due = self._redis.register_script(_DUE)
        self._stats = f"{prefix}:stats"
        self._outbox = [f"{prefix}:outbox", f"{prefix}:outbox:due"]

    def _key(self, key: str) -> str:
        return f"{self.prefix}:session:{key}"

    @asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """Turn any Redis or socket failure into StoreUnavailable, naming only the kind of failure."""
        try:
            yield
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"Redis: {type(exc).__name__}") from exc

    # Sessions -----------------------------------------------------------------------------

    async def get(self, key: str) -> Record | None:
        async with self._guard():
            version, data = await self._redis.hmget(self._key(key), ["version", "data"])
        if version is None and data is None:
            return None
        record = decode_record(data or "")
        if _text(version) != str(record.version):
            raise StoreUnavailable("a stored session cannot be read (version mismatch)")
        return record

    async def put(self, key: str, record: Record, *, expected: int, owed: Owed | None = None) -> None:
        ttl_ms = max(1, round(self.ttl * 1000))
        entry, due = ("", 0.0) if owed is None else (_entry(owed), owed.taken + OWED_GRACE)
        async with self._guard():
            written: Any = await self._cas(
                keys=[self._key(key), *self._outbox],
                args=[expected, record.version, encode_record(record), ttl_ms, key, entry, due],
            )
        if written != 1:
            raise Conflict(key)

    async def owe(self, key: str, owed: Owed) -> bool:
        async with self._guard():
            written: Any = await self._owe(
                keys=[*self._outbox, self._key(key)], args=[key, _entry(owed), owed.taken + OWED_GRACE]
            )
        return bool(written == 1)

    async def settle(self, key: str, update_id: int, *, screen: int | None = None) -> int | None:
        async with self._guard():
            previous: Any = await self._settle(
                keys=[*self._outbox, self._key(key)], args=[key, update_id, "" if screen is None else screen]
            )
        if previous is None or screen is None:
            return None
        try:
            replaced = int(_text(previous))
        except ValueError as exc:
            raise StoreUnavailable("a stored screen cannot be read") from exc
        return None if replaced == screen else replaced

    async def due(self, now: float, until: float) -> list[tuple[str, Owed]]:
        async with self._guard():
            raw: list[Any] = await self._due(keys=self._outbox, args=[now, until])
        try:
            return [(_text(raw[i]), decode_owed(_text(raw[i + 1]).split("|", 1)[1])) for i in range(0, len(raw), 2)]
        except (ValueError, IndexError) as exc:
            raise StoreUnavailable(f"an owed reply cannot be read ({type(exc).__name__})") from exc

    async def delete(self, key: str) -> None:
        async with self._guard(), self._redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(key))
            pipe.hdel(self._outbox[0], key)
            pipe.zrem(self._outbox[1], key)
            await pipe.execute()

    async def purge(self) -> int:
        return 0  # Redis expires sessions by itself

    async def ping(self) -> None:
        """A tiny write, kept a minute: a read-only replica or a full Redis (noeviction) fails it, a PING passes."""
        async with self._guard():
            await self._redis.set(f"{self.prefix}:health", "1", ex=60)

    async def close(self) -> None:
        async with self._guard():
            await self._redis.aclose()

    async def size(self) -> int:
        """How many live sessions are stored (for operators and tests; never lists them)."""
        pattern = re.sub(r"([*?\[\]\\])", r"\\\1", self._key("")) + "*"
        live = 0
        async with self._guard():
            async for _ in self._redis.scan_iter(match=pattern, count=1000):
                live += 1
        return live

    # Anonymous counters -------------------------------------------------------------------

    async def count(self, day: str, name: str, label: str = "") -> None:
        async with self._guard():
            await self._redis.hincrby(self._stats, f"{day}|{name}|{label}", 1)

    async def totals(self) -> list[tuple[str, str, str, int]]:
        async with self._guard():
            raw = await self._redis.hgetall(self._stats)
        try:
            return sorted((*_split(field), int(value)) for field, value in raw.items())
        except ValueError as exc:
            raise StoreUnavailable(f"a stored counter cannot be read ({type(exc).__name__})") from exc


def _entry(owed: Owed) -> str:
    """An outbox hash value: the update id first, so that settling compares it without parsing JSON."""
    return f"{owed.update_id}|{encode_owed(owed)}"


def _text(value: bytes | str | None) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value or ""


def _split(field: bytes | str) -> tuple[str, str, str]:
    day, name, label = _text(field).split("|", 2)
    return day, name, label
