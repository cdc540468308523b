"""A stand-in language for tests: every text in capitals, so an untranslated text stands out."""

from __future__ import annotations

import re

__all__ = ["Shouting"]


class Shouting:
    """A stand-in language: every text in capitals, {placeholders} kept as they are."""

    lang = "xx"

    def gettext(self, message: str) -> str:
        return re.sub(r"[^{}]+(?=\{|$)", lambda m: m.group(0).upper(), message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)

    def pgettext(self, context: str, message: str) -> str:
        return self.gettext(message)
