"""Load the rule table and catalogs, validated exactly as `maslahat check` and `maslahat i18n check` do.

Used at start-up and by a reload (SIGHUP or /reload): new content replaces the old only if it
has no problem at all; otherwise the running bot keeps what it has and the problems are reported.
A reload also plays every conversation to see that each screen fits a Telegram message, as
`maslahat check` does (bot.telegram.fit); a start-up leaves that third of a second out. Warnings
(differences from Babel's data that readers do not see) are logged and never refuse content.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from bot.core.engine import Engine
from bot.i18n.catalogs import CatalogError, Catalogs
from bot.i18n.checkers import check_catalogs, expected_messages
from bot.problems import Problem, ProblemsError
from bot.ruletable.check import check_file
from bot.telegram.fit import screens_too_long

__all__ = ["Content", "load_content"]

# The whole package (bot/), whose code holds texts too: this module sits one folder down.
_PACKAGE = Path(__file__).resolve().parent.parent

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Content:
    """A validated rule table (as an engine) and complete catalogs."""

    engine: Engine
    catalogs: Catalogs


def load_content(rules: Path, locales: Path, *, every_screen: bool = False) -> Content:
    """The content at these paths, each file read once; with ``every_screen``, every screen measured too.

    Raises:
        ProblemsError: every problem found, each located (``file:line: …``); a missing file or
            folder is one of them.
    """
    problems: list[Problem] = []
    report = check_file(rules, with_cases=False)  # the rule table's YAML is read here, and only here
    problems += report.problems
    catalogs: Catalogs | None = None
    readable = True
    try:
        catalogs = Catalogs.load(locales)
    except CatalogError as exc:
        readable = False
        problems += exc.problems
    except ValueError as exc:
        # gettext refused a catalog's Plural-Forms expression while building its translator, without
        # saying where; check_catalogs below reads the files and names the header's file and line.
        problems.append(Problem(str(locales), 0, "", f"cannot build the translators: {exc}"))
    # Without the table's texts the catalogs cannot be checked against them; its problems say why.
    if readable and report.data is not None:
        expected = expected_messages(_PACKAGE, tables=[report.data])
        parsed = catalogs.catalogs if catalogs is not None else None
        found, warnings, _ = check_catalogs(locales, expected, catalogs=parsed)
        problems += found
        for warning in warnings:
            log.warning("catalog warning (the content is used all the same): %s", warning)
    if every_screen and not problems and report.engine is not None and catalogs is not None:
        problems += screens_too_long(report.engine, catalogs)
    if problems or report.table is None or catalogs is None:
        raise ProblemsError(problems or [Problem(str(rules), 0, "", "the rule table could not be loaded")])
    # The engine check_table explored with: its caches are warm, so no conversation is explored twice.
    return Content(report.engine or Engine(report.table), catalogs)
