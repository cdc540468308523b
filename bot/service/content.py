"""Load the rule table and catalogs, validated exactly as `maslahat check` and `maslahat i18n check` do.

Used at start-up and by a reload (SIGHUP or /reload): new content replaces the old only if it
has no problem at all; otherwise the running bot keeps what it has and the problems are reported.
Warnings (differences from Babel's data that readers do not see) are logged and never refuse content.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.core.engine import Engine
from bot.i18n.catalogs import CatalogError, Catalogs
from bot.i18n.checkers import check_catalogs, expected_messages
from bot.ruletable.check import check_file
from bot.ruletable.yamlsource import YamlSyntaxError

__all__ = ["Content", "load_content"]

# The whole package (bot/), whose code holds texts too: this module sits one folder down.
_PACKAGE = Path(__file__).resolve().parent.parent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Content:
    """A validated rule table (as an engine) and complete catalogs."""

    engine: Engine
    catalogs: Catalogs


def load_content(rules: Path, locales: Path) -> Content | list[str]:
    """The content at these paths, or every problem found in it (each as ``file:line: …``)."""
    problems: list[str] = []
    report = check_file(rules)
    problems += [str(p) for p in report.problems]
    catalogs: Catalogs | None = None
    readable = True
    try:
        catalogs = Catalogs.load(locales)
    except CatalogError as exc:
        readable = False
        problems += [str(p) for p in exc.problems]
    except ValueError as exc:
        # gettext refused a catalog's Plural-Forms expression while building its translator, without
        # saying where; check_catalogs below reads the files and names the header's file and line.
        problems.append(f"{locales}: cannot build the translators: {exc}")
    if readable:
        try:
            expected = expected_messages(_PACKAGE, [rules])
        except YamlSyntaxError as exc:
            problems += [str(p) for p in exc.problems]
        else:
            parsed = catalogs.catalogs if catalogs is not None else None
            found, warnings, _ = check_catalogs(locales, expected, catalogs=parsed)
            problems += [str(p) for p in found]
            for warning in warnings:
                log.warning("catalog warning (the content is used all the same): %s", warning)
    if problems or report.table is None or catalogs is None:
        return problems or [f"{rules}: the rule table could not be loaded"]
    # The engine check_table explored with: its caches are warm, so no conversation is explored twice.
    return Content(report.engine or Engine(report.table), catalogs)
