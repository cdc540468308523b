"""The running bot most Telegram tests talk to."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.telegram.application import build_application, register_menus
from tests.support.bot import Harness, make_runtime
from tests.support.fakebotapi import FakeBotApi


@pytest.fixture
async def bot() -> AsyncIterator[Harness]:
    async with FakeBotApi() as api:
        runtime = make_runtime(api)
        app = build_application(runtime)
        async with app:
            await register_menus(app)
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            await app.start()
            yield Harness(api, app, runtime)
            await app.updater.stop()
            await app.stop()
