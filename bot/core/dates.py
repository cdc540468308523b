"""Dates as a person reads them, in their language ("2 декабря 2026", "mart 2026"), never ISO.

Each catalog gives the pattern its language writes a date with (Babel/CLDR syntax), because
CLDR's own "long" formats are stiff in some of ours (Tajik "02 Декабр 2026", Kyrgyz
"2026-ж., 2-декабрь") and Russian's ends in "г.", which a sentence's full stop then doubles.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date

from bot.core.languages import Translator

__all__ = ["PATTERN_CONTEXT", "long_date", "source_date"]

log = logging.getLogger(__name__)

#: The msgctxt of the date patterns in the catalogs (checked by bot.i18n.translation as patterns).
PATTERN_CONTEXT = "date pattern"


def _locale(lang: str) -> Locale:
    """Babel's locale for one of our language codes (``uz_Cyrl`` is a CLDR locale too)."""
    try:
        return Locale.parse(lang)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


@functools.lru_cache(maxsize=4096)
def _format(day: dt.date, pattern: str, fallback: str, lang: str) -> str:
    """``day`` in the catalog's pattern; in CLDR's own format if the pattern is broken.

    Cached: an outcome shows a dozen dates, the same ones to everyone, and Babel takes about 40 µs
    for each (parsing the locale and the pattern again every time). A new catalog's pattern is a new key.
    """
    try:
        return format_date(day, pattern, locale=_locale(lang))
    except (ValueError, KeyError, AttributeError):
        # `maslahat i18n check` refuses such a catalog; a running bot still shows the date.
        log.warning("date pattern %r of %s does not format; using CLDR's", pattern, lang)
        return format_date(day, fallback, locale=_locale(lang))


def long_date(day: dt.date, t: Translator) -> str:
    """A full date in words: ``2 December 2026`` in the person's language."""
    # Translators: how your language writes a full date, e.g. 2 December 2026, as a Babel (CLDR)
    # pattern: d = day, MMMM = month name (as after a day number), y = year, other words in
    # 'single quotes'. Russian: d MMMM y; Kyrgyz: y-'жыл', d-MMMM. Keep the letters d, MMMM, y.
    return _format(day, t.pgettext("date pattern", "d MMMM y"), "long", t.lang)


def _month(day: dt.date, t: Translator) -> str:
    """A month and year in words: ``March 2026``."""
    # Translators: how your language writes a month and year, e.g. March 2026, as a Babel (CLDR)
    # pattern: LLLL = month name on its own, y = year, other words in 'single quotes'. Russian: LLLL y.
    return _format(day, t.pgettext("date pattern", "LLLL y"), "MMMM y", t.lang)


def source_date(text: str, t: Translator) -> str:
    """A source's date as precise as it was given ("2026", "2026-03", "2026-03-14"), in words."""
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 1:
        return str(parts[0])
    if len(parts) == 2:
        return _month(dt.date(parts[0], parts[1], 1), t)
    return long_date(dt.date(*parts), t)
