"""Check the catalogs a release ships: complete, reviewed, right script, placeholders, lengths, markup.

An error is something a reader of the bot would see wrong; a warning is a difference from a
dependency's data (Babel's) that readers do not see. Errors stop a release, a start and a reload;
warnings never do. The checks of one translation are in :mod:`bot.i18n.translation`, those of the
Plural-Forms header in :mod:`bot.i18n.plurals`; this module finds the texts and runs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir

from bot.core.languages import LANGUAGES, SOURCE_LANGUAGE
from bot.i18n.catalogs import CatalogError, catalog_path, parse_po_file
from bot.i18n.extract import table_texts
from bot.i18n.plurals import plural_check
from bot.i18n.translation import translation_problems
from bot.problems import Problem
from bot.ruletable.yamlsource import YamlSyntaxError, read_yaml

__all__ = [
    "KEYWORDS",
    "Expected",
    "LanguageStatus",
    "YamlSyntaxError",
    "check_catalogs",
    "expected_messages",
    "language_status",
    "load_expected",
    "template_problems",
]

#: Keywords marking translatable strings in the Python code (as in `make messages`).
KEYWORDS = {"gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None}

_KEYWORD_WORD = re.compile(rb"\b(?:" + b"|".join(re.escape(k.encode()) for k in KEYWORDS) + rb")\b")

# A limit stated in a translator comment: "keep under 30 characters", "at most 512 characters".
_LIMIT = re.compile(r"(?:under|at most) (\d+) characters")


@dataclass(frozen=True)
class Expected:
    """A text the code or the rule table shows, with where it comes from."""

    msgid: str
    context: str | None
    comments: tuple[str, ...]
    button: bool
    #: The most characters a translation may have, when a translator comment states it.
    limit: int | None = None


@dataclass(frozen=True)
class LanguageStatus:
    """Counts for one language's catalog against the texts the bot shows."""

    lang: str
    translated: int
    fuzzy: int
    missing: int
    obsolete: int

    @property
    def percent(self) -> float:
        total = self.translated + self.fuzzy + self.missing
        return 100.0 * self.translated / total if total else 100.0


def expected_messages(
    package: Path, rules: Iterable[Path] = (), *, tables: Iterable[Any] = ()
) -> dict[tuple[str, str | None], Expected]:
    """Every text the bot can show, extracted afresh from the code and the rule tables.

    ``rules``: rule table files to read; ``tables``: rule tables' YAML already read (by
    :func:`bot.ruletable.check.check_file`), so that no file is read and parsed twice.

    Raises:
        YamlSyntaxError: a rule table file is not YAML.
    """
    found: dict[tuple[str, str | None], Expected] = {}

    def add(msgid: str, context: str | None, comments: Iterable[str]) -> None:
        key = (msgid, context)
        old = found.get(key)
        merged = tuple(dict.fromkeys([*(old.comments if old else ()), *comments]))
        limits = [int(n) for c in merged for n in _LIMIT.findall(c)]
        found[key] = Expected(
            msgid, context, merged, any("button label" in c for c in merged), min(limits) if limits else None
        )

    for _file, _line, message, comments, context in extract_from_dir(
        str(package), method_map=_code_method_map(package), keywords=KEYWORDS, comment_tags=("Translators:",)
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        add(msgid, context, comments)
    read = [read_yaml(path.read_text(encoding="utf-8"), str(path))[0] for path in rules]
    for data in [*read, *tables]:
        for _line, msgid, comment in table_texts(data):
            add(msgid, None, [comment])
    return found


def _code_method_map(package: Path) -> list[tuple[str, str]]:
    """Babel's method map for the Python files that name a keyword at all; the others cannot hold a text.

    Tokenising every file costs about as much as the rest of the start-up checks; a file in which no
    keyword occurs as a word has no call to one, so leaving it out changes nothing extracted.
    """
    return [
        (path.relative_to(package).as_posix(), "python")
        for path in sorted(package.rglob("*.py"))
        if _KEYWORD_WORD.search(path.read_bytes())
    ]


def _catalog_or_problems(locales: Path, lang: str) -> tuple[Catalog | None, list[Problem]]:
    """One language's catalog read from its file, or None and why it cannot be read."""
    try:
        return parse_po_file(catalog_path(locales, lang), lang), []
    except CatalogError as exc:
        return None, list(exc.problems)


def _is_translated(message: Message) -> bool:
    """Whether every form of the message has a translation."""
    strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
    return all(strings)


def language_status(catalog: Catalog, expected: Mapping[tuple[str, str | None], Expected]) -> LanguageStatus:
    """Count translated, fuzzy, missing and obsolete entries of one catalog."""
    translated = fuzzy = missing = 0
    for msgid, context in expected:
        message = catalog.get(msgid, context)
        if message is None or not _is_translated(message):
            missing += 1
        elif message.fuzzy:
            fuzzy += 1
        else:
            translated += 1
    stale = sum(1 for m in catalog if m.id and (m.id if isinstance(m.id, str) else m.id[0], m.context) not in expected)
    return LanguageStatus(
        str(catalog.locale_identifier or ""), translated, fuzzy, missing, stale + len(catalog.obsolete)
    )


def check_catalogs(
    locales: Path,
    expected: Mapping[tuple[str, str | None], Expected],
    langs: Iterable[str] | None = None,
    *,
    catalogs: Mapping[str, Catalog] | None = None,
) -> tuple[list[Problem], list[Problem], list[LanguageStatus]]:
    """Every error and every warning in every catalog, with file and line, and each catalog's status.

    Errors are what a reader would see wrong; warnings are differences from Babel's data that
    readers do not see (see the module's docstring).

    ``catalogs``: catalogs already parsed from ``locales`` (by :meth:`bot.i18n.catalogs.Catalogs.load`),
    so they are not read twice; a language missing from it is read from its file.
    """
    problems: list[Problem] = []
    warnings: list[Problem] = []
    statuses: list[LanguageStatus] = []
    for lang in langs or [code for code in LANGUAGES if code != SOURCE_LANGUAGE]:
        path = catalog_path(locales, lang)
        shown = str(path)
        parsed = catalogs.get(lang) if catalogs is not None else None
        catalog, found = (parsed, []) if parsed is not None else _catalog_or_problems(locales, lang)
        problems += found
        if catalog is None:
            continue
        statuses.append(language_status(catalog, expected))
        errors, notes = plural_check(path, lang, catalog)
        problems += errors
        warnings += notes
        for key, entry in expected.items():
            message = catalog.get(*key)
            where = f"msgid {entry.msgid[:50]!r}"
            if message is None:
                problems.append(Problem(shown, 0, where, "missing: run `make messages` to add it, then translate it"))
                continue
            line = message.lineno or 0
            if not _is_translated(message):
                problems.append(Problem(shown, line, where, "not translated"))
                continue
            if message.fuzzy:
                problems.append(
                    Problem(shown, line, where, "fuzzy: review the translation, then remove the fuzzy flag")
                )
            found_here = translation_problems(lang, entry.msgid, message, button=entry.button, limit=entry.limit)
            problems += [Problem(shown, line, where, text) for text in found_here]
    return sorted(problems), sorted(warnings), statuses


def template_problems(template: Path, expected: Mapping[tuple[str, str | None], Expected]) -> list[Problem]:
    """Whether locales/messages.pot lists exactly the texts the code and rules show."""
    try:
        pot = parse_po_file(template, SOURCE_LANGUAGE)
    except CatalogError as exc:
        return list(exc.problems)
    have = {(m.id if isinstance(m.id, str) else m.id[0], m.context) for m in pot if m.id}
    if have == set(expected):
        return []
    added, removed = len(set(expected) - have), len(have - set(expected))
    return [Problem(str(template), 0, "", f"out of date ({added} new, {removed} removed texts): run `make messages`")]


def load_expected(package: Path, rules_dir: Path) -> dict[tuple[str, str | None], Expected]:
    """Expected messages from the package and every rule table in ``rules_dir``.

    Raises:
        YamlSyntaxError: a rule table is not YAML.
    """
    tables = [path for path in sorted(rules_dir.glob("*.yaml")) if not path.name.endswith(".cases.yaml")]
    return expected_messages(package, tables)  # a table's cases hold no text a person reads
