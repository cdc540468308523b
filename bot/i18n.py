"""Translation hook: what the core needs from a language, and the source language itself."""

from __future__ import annotations

from typing import Protocol

__all__ = ["N_", "SOURCE_LANGUAGE", "SourceLanguage", "Translator"]

SOURCE_LANGUAGE = "en"


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


class Translator(Protocol):
    """Turns English source texts into one language."""

    lang: str

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...


class SourceLanguage:
    """English, the language every text is written in: returns texts unchanged."""

    lang = SOURCE_LANGUAGE

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural
