"""What every handler shares: the :class:`Runtime`, held in python-telegram-bot's typed ``bot_data``.

:class:`BotData` is the application's ``bot_data`` (given to python-telegram-bot through
:data:`CONTEXT_TYPES`), so handlers read ``context.bot_data.runtime`` as an attribute mypy checks,
not a dictionary entry under a string key.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.core.engine import Engine
from bot.core.languages import DEFAULT_LANGUAGE, LANGUAGES, Translator
from bot.i18n.catalogs import Catalogs
from bot.metrics import Metrics
from bot.settings import Settings
from bot.storage.base import SessionStore, StatsStore
from bot.telegram.callbacks import version_tag
from bot.telegram.intake import Intake

__all__ = ["CONTEXT_TYPES", "BotApplication", "BotData", "Context", "Runtime", "Store", "snapshot"]


class Store(SessionStore, StatsStore, Protocol):
    """A backend that keeps both sessions and anonymous counters."""


@dataclass
class Runtime:
    """What the handlers use. Its content (engine, catalogs) is swapped as a whole when reloaded."""

    engine: Engine
    catalogs: Catalogs
    store: Store
    settings: Settings
    metrics: Metrics = field(default_factory=Metrics)
    started: dict[int, float] = field(default_factory=dict)  # id(update) -> when handling began
    #: Updates taken and not yet applied, and those being handled (shared by snapshots, as the store is).
    intake: Intake = field(default_factory=Intake)

    @property
    def version(self) -> str:
        """The tag that the buttons made under this rule table carry."""
        return version_tag(self.engine.table.version_tag)

    def t(self, lang: str) -> Translator:
        """The translator for ``lang``, or for the default language if the bot does not speak it."""
        return self.catalogs.translator(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


@dataclass
class BotData:
    """The application's ``bot_data``. python-telegram-bot makes it without arguments when the
    application is built; build_application then sets the runtime, before any update comes."""

    runtime: Runtime = field(init=False)
    #: Re-reads rules and catalogs and returns the problems, if any: set by the service (``maslahat run``).
    reload: Callable[[], Awaitable[list[str]]] | None = None
    #: The background tasks (forgetting expired sessions, sending owed replies), while they run.
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def on_retry(self, reason: str) -> None:
        """Count a retried Bot API call by reason (bot.telegram.send calls it)."""
        self.runtime.metrics.retries.labels(reason).inc()


#: The ``context`` every handler gets: python-telegram-bot's, with :class:`BotData` as ``bot_data``.
Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)
#: The application build_application makes.
BotApplication = Application[ExtBot[Any], Context, dict[Any, Any], dict[Any, Any], BotData, Any]


def snapshot(context: Context) -> Runtime:
    """A snapshot of the runtime: one update is handled with one rule table and one set of catalogs,
    even if a reload swaps them meanwhile (store, settings and metrics are shared)."""
    return dataclasses.replace(context.bot_data.runtime)
