"""A stand-in language for tests: every text in capitals, so an untranslated text stands out."""

from __future__ import annotations

import re

from bot.core.dates import PATTERN_CONTEXT

__all__ = ["Shouting"]


class Shouting:
    """A stand-in language: every text in capitals, {placeholders} kept as they are."""

    lang = "xx"

    def gettext(self, message: str) -> str:
        return re.sub(r"[^{}]+(?=\{|$)", lambda m: m.group(0).upper(), message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)

    def pgettext(self, context: str, message: str) -> str:
        # A date pattern is not text: its letters are fields (D is the day of the year, not d).
        return message if context == PATTERN_CONTEXT else self.gettext(message)
