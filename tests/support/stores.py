"""Session stores for tests that need one to misbehave in a controlled way."""

from __future__ import annotations

import asyncio

from bot.storage.base import MemoryStore, Record
from bot.storage.outbox import Owed

__all__ = ["GatedStore"]


class GatedStore(MemoryStore):
    """A memory store whose writes wait while ``gate`` is clear: a slow or stuck store (open at first)."""

    def __init__(self) -> None:
        super().__init__(ttl=86400)
        self.gate = asyncio.Event()
        self.gate.set()

    async def put(self, key: str, record: Record, *, expected: int, owed: Owed | None = None) -> None:
        await self.gate.wait()
        await super().put(key, record, expected=expected, owed=owed)

    async def owe(self, key: str, owed: Owed) -> bool:
        await self.gate.wait()
        return await super().owe(key, owed)
