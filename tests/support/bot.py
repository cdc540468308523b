"""A bot for tests: the shipped content over a MemoryStore, run by python-telegram-bot against a fake Bot API."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application

from bot.core.engine import Engine
from bot.core.languages import Translator
from bot.i18n.catalogs import Catalogs
from bot.ruletable.loader import load_table
from bot.settings import Settings
from bot.storage.base import MemoryStore
from bot.telegram import screens
from bot.telegram.application import Runtime, build_application, handled_updates, register_menus
from tests.support.fakebotapi import FakeBotApi
from tests.support.shipped import ROOT, RULES
from tests.support.tgclient import TelegramUser

CATALOGS = Catalogs.load(ROOT / "locales")
TABLE = load_table(RULES)


@dataclass
class Harness:
    """A running bot and the fake Telegram it talks to."""

    api: FakeBotApi
    app: Application[Any, Any, Any, Any, Any, Any]
    runtime: Runtime

    def user(self, language_code: str | None = "ru", **kwargs: Any) -> TelegramUser:
        return TelegramUser(self.api, lambda: handled_updates(self.app), language_code=language_code, **kwargs)


@contextlib.asynccontextmanager
async def running_bot(
    api: FakeBotApi, *, timeout: float | None = None, store: MemoryStore | None = None, rate_limit: bool = True
) -> AsyncIterator[Harness]:
    """The bot polling ``api``, menus registered; ``timeout`` bounds each Bot API call (None: the defaults).

    ``store``: another store than a fresh MemoryStore (one that fails or waits, say).
    """
    runtime = make_runtime(api)
    if store is not None:
        runtime.store = store
    app = build_application(runtime, timeout=timeout, rate_limit=rate_limit)
    async with app:
        await register_menus(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        await app.start()
        yield Harness(api, app, runtime)
        await app.updater.stop()
        await app.stop()


def make_runtime(api: FakeBotApi) -> Runtime:
    settings = Settings(token=api.token, api_base_url=api.base_url, session_secret=b"a test secret, 32 bytes long...")
    return Runtime(Engine(TABLE), CATALOGS, MemoryStore(ttl=7 * 86400), settings)


def t(lang: str) -> Translator:
    return CATALOGS.translator(lang)


async def answer(user: TelegramUser, lang: str, answers: dict[str, str]) -> list[str]:
    """Press Start, then the button of each answer the bot asks for; return the facts asked."""
    await user.click(t(lang).gettext(screens.START))
    return await answer_from_here(user, lang, answers)


async def answer_from_here(user: TelegramUser, lang: str, answers: dict[str, str]) -> list[str]:
    """Press the button of each answer the bot asks for, from the question shown; return the facts asked."""
    asked: list[str] = []
    for _ in range(len(TABLE.facts) + 1):
        fact = next((f for f in TABLE.facts if t(lang).gettext(f.question) in (user.last_message().text or "")), None)
        if fact is None:
            return asked
        asked.append(fact.id)
        option = fact.option(answers[fact.id])
        assert option is not None
        await user.click(t(lang).gettext(option.label))
    raise AssertionError("the conversation did not end")
