"""Load the message catalogs (.po) at start-up, with no compile step, and translate with fallbacks."""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from bot.core.languages import FALLBACKS, LANGUAGES, SOURCE_LANGUAGE, Translator
from bot.problems import Problem, ProblemsError

__all__ = ["CatalogError", "Catalogs", "catalog_path", "parse_po_file"]

DOMAIN = "messages"

# A .po line is a comment, a keyword with a quoted string, or a quoted continuation string.
_PO_LINE = re.compile(
    r"""^(?:\#.*|(?:msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)[ \t]+"(?:[^"\\]|\\.)*"|"(?:[^"\\]|\\.)*")[ \t]*$"""
)


class CatalogError(ProblemsError):
    """One or more catalogs cannot be used; ``problems`` locates each reason, in file order."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        super().__init__(sorted(problems))


def catalog_path(locales: Path, lang: str) -> Path:
    """Where the catalog of one language lives."""
    return locales / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _syntax_problems(text: str, shown: str) -> list[Problem]:
    """Lines Babel's lenient parser would silently misread (unterminated strings, stray text)."""
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not _PO_LINE.match(stripped):
            problems.append(Problem(shown, number, "", f"not valid .po syntax: {stripped[:60]!r}"))
    return problems


def parse_po_file(path: Path, lang: str) -> Catalog:
    """Read one .po file strictly.

    Raises:
        CatalogError: the file cannot be read or is not valid .po syntax, with file and line.
    """
    shown = str(path)
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except OSError as exc:
        raise CatalogError([Problem(shown, 0, "", f"cannot read the catalog: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CatalogError([Problem(shown, line, "", "the catalog is not UTF-8 text")]) from exc
    problems = _syntax_problems(text, shown)
    if problems:
        raise CatalogError(problems)
    try:
        return read_po(io.BytesIO(data), locale=lang, domain=DOMAIN, abort_invalid=True)
    except Exception as exc:  # Babel raises PoFileError and ValueError subclasses for bad input
        line = getattr(exc, "lineno", 0)
        raise CatalogError([Problem(shown, line, "", f"cannot parse the catalog: {exc}")]) from exc


def _compile(catalog: Catalog) -> bytes:
    """Compile in memory, as `pybabel compile` would; fuzzy entries are left out."""
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    return buffer.getvalue()


@dataclass(frozen=True)
class _ChainTranslator:
    """One language, falling back to Russian, then to the English source."""

    lang: str
    _translations: NullTranslations

    def gettext(self, message: str) -> str:
        return self._translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._translations.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return str(self._translations.pgettext(context, message))


@dataclass(frozen=True)
class Catalogs:
    """Every supported language's catalog, parsed from the .po files, and their translators."""

    locales: Path
    catalogs: Mapping[str, Catalog]
    translators: Mapping[str, Translator]

    @classmethod
    def load(cls, locales: Path) -> Catalogs:
        """Read every language's catalog and build its translator.

        Raises:
            CatalogError: a catalog is missing or broken; every problem with file and line.
        """
        if not locales.is_dir():
            # One problem naming the folder, rather than one for each catalog it should hold.
            reason = "not a directory" if locales.exists() else "no such directory"
            raise CatalogError([Problem(str(locales), 0, "", f"cannot read the catalogs: {reason}")])
        catalogs: dict[str, Catalog] = {}
        problems: list[Problem] = []
        for lang in LANGUAGES:
            if lang == SOURCE_LANGUAGE:
                continue
            try:
                catalogs[lang] = parse_po_file(catalog_path(locales, lang), lang)
            except CatalogError as exc:
                problems.extend(exc.problems)
        if problems:
            raise CatalogError(problems)
        compiled = {lang: _compile(catalog) for lang, catalog in catalogs.items()}
        translators = {lang: _chain(lang, compiled) for lang in LANGUAGES}
        return cls(locales, MappingProxyType(catalogs), MappingProxyType(translators))

    def translator(self, lang: str) -> Translator:
        """A translator for ``lang`` that falls back to Russian, then English.

        Raises:
            KeyError: ``lang`` is not a supported language.
        """
        return self.translators[lang]


def _chain(lang: str, compiled: Mapping[str, bytes]) -> Translator:
    """Link a language's translations to its fallbacks; English is the untranslated source."""
    translations: NullTranslations = NullTranslations()
    # The chain ends where it reaches English: the source texts need no catalog.
    codes = list(itertools.takewhile(lambda code: code != SOURCE_LANGUAGE, dict.fromkeys((lang, *FALLBACKS))))
    for code in reversed(codes):
        # A fresh object per chain (add_fallback mutates it), from each language's compiled bytes.
        link = Translations(io.BytesIO(compiled[code]), domain=DOMAIN)
        link.add_fallback(translations)
        translations = link
    return _ChainTranslator(lang, translations)
