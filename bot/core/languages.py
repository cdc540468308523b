"""Languages: which ones exist, what they are called, and what the core needs from one."""

from __future__ import annotations

from typing import Protocol

__all__ = [
    "DEFAULT_LANGUAGE",
    "FALLBACKS",
    "LANGUAGES",
    "N_",
    "SOURCE_LANGUAGE",
    "SourceLanguage",
    "Translator",
    "language_for",
]

SOURCE_LANGUAGE = "en"
DEFAULT_LANGUAGE = "ru"

#: Supported languages in picker order, each named in itself.
LANGUAGES: dict[str, str] = {
    "ru": "Русский",
    "uz": "Oʻzbekcha",
    "uz_Cyrl": "Ўзбекча",
    "tg": "Тоҷикӣ",
    "ky": "Кыргызча",
    "en": "English",
}

#: Where a text missing in the requested language is looked up next, in order.
FALLBACKS = ("ru", "en")


def N_(message: str) -> str:
    """Mark a string for extraction without translating it yet."""
    return message


def language_for(code: str | None) -> str:
    """Choose a supported language for a client's language code (e.g. Telegram's ``uz-UZ``).

    Exact codes win (``uz_Cyrl``); otherwise the primary subtag decides; anything else is Russian.
    """
    if not code:
        return DEFAULT_LANGUAGE
    normalized = code.replace("-", "_")
    for lang in LANGUAGES:
        if normalized.lower() == lang.lower():
            return lang
    primary = normalized.split("_")[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


class Translator(Protocol):
    """Turns English source texts into one language."""

    @property
    def lang(self) -> str: ...

    def gettext(self, message: str) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int) -> str: ...

    def pgettext(self, context: str, message: str) -> str: ...


class SourceLanguage:
    """English, the language every text is written in: returns texts unchanged."""

    lang = SOURCE_LANGUAGE

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return singular if n == 1 else plural

    def pgettext(self, context: str, message: str) -> str:
        return message
