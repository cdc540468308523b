"""The running bot most Telegram tests talk to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.bot import Harness, running_bot
from tests.support.fakebotapi import FakeBotApi


@pytest.fixture
async def bot() -> AsyncIterator[Harness]:
    async with FakeBotApi() as api, running_bot(api) as harness:
        yield harness
