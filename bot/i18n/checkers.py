"""Check the catalogs a release ships: complete, reviewed, right script, placeholders, lengths, markup.

An error is something a reader of the bot would see wrong; a warning is a difference from a
dependency's data (Babel's) that readers do not see. Errors stop a release, a start and a reload;
warnings never do.
"""

from __future__ import annotations

import functools
import gettext
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import babel
from babel.core import UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.plurals import get_plural

from bot.core.languages import LANGUAGES, SOURCE_LANGUAGE
from bot.i18n.catalogs import CatalogError, catalog_path, parse_po_file
from bot.i18n.extract import BUTTON_LIMIT, table_texts
from bot.ruletable.yamlsource import Problem, YamlSyntaxError, read_yaml

__all__ = [
    "PLURAL_SAMPLE",
    "Expected",
    "LanguageStatus",
    "check_catalogs",
    "expected_messages",
    "language_status",
]

#: Keywords marking translatable strings in the Python code (as in `make messages`).
KEYWORDS = {"gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2), "N_": None}

_KEYWORD_WORD = re.compile(rb"\b(?:" + b"|".join(re.escape(k.encode()) for k in KEYWORDS) + rb")\b")

#: Russian abbreviations migrants know, allowed in brackets in the Uzbek Latin catalog.
CYRILLIC_IN_LATIN = {"ВНЖ", "РВП", "МЧС", "МВД"}
#: Latin words allowed in Cyrillic catalogs: names of outlets and organisations written in Latin.
LATIN_IN_CYRILLIC = {"RFE", "RL", "TASS", "RBC", "Systema", "Azattyq", "Asia", "Svoboda", "Sputnik", "Telegram"}
#: Catalogs written in Latin letters; all others are written in Cyrillic.
LATIN_SCRIPT = {"uz"}
#: A translator comment that says an identical translation is meant (a name spelled alike).
SAME = "same as English"
TELEGRAM_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "blockquote",
}

_CYRILLIC_WORD = re.compile(r"[\u0400-\u04ff]+")
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z\u02bb\u02bc'’‘]*")
# Not words of the language: URLs, domains, {placeholders}, markup tags and entities, /commands.
_SKIP = re.compile(
    r"https?://\S+|\b[\w.-]+\.(?:tj|uz|kg|ru|org|com|net)\b|\{[^{}]*\}|</?[a-zA-Z][^>]*>|&\w+;|(?<![\w/])/[a-z_]+\b"
)
_TAG = re.compile(r"</?([a-zA-Z][\w-]*)")
# A limit stated in a translator comment: "keep under 30 characters", "at most 512 characters".
_LIMIT = re.compile(r"(?:under|at most) (\d+) characters")
_PLURAL_FORMS = re.compile(r"nplurals\s*=\s*(?P<count>\d+)\s*;\s*plural\s*=\s*(?P<expr>[^;]*?)\s*;?\s*")
# The line of a .po file on which the header's Plural-Forms field starts.
_PLURAL_FORMS_LINE = re.compile(r'^\s*"(?:[^"]*\\n)?Plural-Forms:', re.IGNORECASE)

#: The numbers at which a catalog's Plural-Forms and Babel's are both evaluated to see whether
#: they select the same form. Enough because Babel's formulas are generated from CLDR's integer
#: rules, which test only n against constants below 100, n % 10 and n % 100 against ranges, and
#: n % 1000, n % 100000 and n % 1000000, which occur only for multiples of 1,000 (n % 1000 == 0,
#: Cornish's n % 100000 in 1000..20000, n % 1000000 == 0 or 100000; see
#: babel/messages/plurals.py, and tests/i18n/test_checkers.py, which checks this of the installed
#: Babel). So 0..1,099 covers every small n and every n % 100; any larger n that is not a
#: multiple of 1,000 selects what some n in 100..1,099 with its n % 100 selects; and a multiple
#: of 1,000 selects what the multiple of 1,000 up to 1,000,000 with its n % 1000000 selects.
#: The numbers around powers of ten (1,000,001, 1,000,011, ...) are a margin for hand-written
#: formulas that test n against large constants.
PLURAL_SAMPLE: tuple[int, ...] = tuple(
    sorted(
        {
            *range(1100),
            *range(1000, 1_000_001, 1000),
            *(n for power in (4, 5, 6, 7, 8, 9, 12) for n in range(10**power - 1, 10**power + 112)),
        }
    )
)


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


def expected_messages(package: Path, rules: Iterable[Path]) -> dict[tuple[str, str | None], Expected]:
    """Every text the bot can show, extracted afresh from the code and the rule tables.

    Raises:
        YamlSyntaxError: a rule table is not YAML.
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
    for path in rules:
        data, _ = read_yaml(path.read_text(encoding="utf-8"), str(path))
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
    try:
        return parse_po_file(catalog_path(locales, lang), lang), []
    except CatalogError as exc:
        return None, list(exc.problems)


def _is_translated(message: Message) -> bool:
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


def _placeholders(text: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<malformed braces>"}


class _TagChecker(HTMLParser):
    """Collects tags and notices unbalanced or unknown ones."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> does not close an open tag")
        else:
            self.stack.pop()


def _markup_problems(msgid: str, text: str) -> list[str]:
    if not _TAG.search(msgid) and not _TAG.search(text):
        return []
    checker = _TagChecker()
    checker.feed(text)
    checker.close()
    errors = list(checker.errors)
    errors += [f"<{tag}> is never closed" for tag in checker.stack]
    errors += [f"<{tag}> is not a tag Telegram accepts" for tag in set(checker.tags) - TELEGRAM_TAGS]
    source = _TagChecker()
    source.feed(msgid)
    if sorted(source.tags) != sorted(checker.tags):
        errors.append(f"tags {sorted(checker.tags)} differ from the source's {sorted(source.tags)}")
    return errors


def _script_problems(lang: str, text: str) -> list[str]:
    bare = _SKIP.sub(" ", text)
    if lang in LATIN_SCRIPT:
        wrong = [w for w in _CYRILLIC_WORD.findall(bare) if w not in CYRILLIC_IN_LATIN]
        return [f"Cyrillic in a Latin-script catalog: {', '.join(wrong)}"] if wrong else []
    wrong = [w for w in _LATIN_WORD.findall(bare) if w not in LATIN_IN_CYRILLIC]
    return [f"Latin words in a Cyrillic-script catalog: {', '.join(wrong)}"] if wrong else []


def _same_on_purpose(message: Message) -> bool:
    return any(SAME in comment for comment in message.user_comments)


def _message_problems(lang: str, entry: Expected, message: Message) -> list[str]:
    problems: list[str] = []
    texts = message.string if isinstance(message.string, tuple | list) else (message.string,)
    wanted = sorted(_placeholders(entry.msgid))
    for text in (str(t or "") for t in texts):
        if sorted(_placeholders(text)) != wanted:
            problems.append(f"placeholders {sorted(_placeholders(text))} differ from the source's {wanted}")
        problems += _script_problems(lang, text)
        problems += _markup_problems(entry.msgid, text)
        if entry.button and len(text) > BUTTON_LIMIT:
            problems.append(f"button label is {len(text)} characters; at most {BUTTON_LIMIT} fit a phone screen")
        elif entry.limit is not None and len(text) > entry.limit:
            problems.append(f"is {len(text)} characters; the comment allows at most {entry.limit}")
        if text == entry.msgid and re.search(r"[A-Za-z]{2}", _SKIP.sub(" ", text)) and not _same_on_purpose(message):
            problems.append(f"translation is identical to the English source; if meant, add the comment '# {SAME}'")
    return problems


def _plural_forms(header: str) -> tuple[int, str]:
    """The number of forms and the C expression of a ``nplurals=N; plural=EXPR;`` header value.

    Raises:
        ValueError: the value does not have that shape.
    """
    match = _PLURAL_FORMS.fullmatch(header.strip())
    if match is None:
        raise ValueError(f"{header!r} is not 'nplurals=N; plural=EXPR;'")
    return int(match["count"]), match["expr"]


@functools.lru_cache(maxsize=32)
def _forms(expr: str) -> tuple[int, ...]:
    """The form a C plural expression selects for each n of :data:`PLURAL_SAMPLE`.

    Raises:
        ValueError: the expression cannot be parsed, or fails (divides by zero) for some n.
    """
    # gettext's own evaluator: the bot's translators are Babel Translations, i.e. gettext's
    # GNUTranslations, which run the compiled catalog's Plural-Forms through this same c2py.
    select = gettext.c2py(expr)
    forms: list[int] = []
    for n in PLURAL_SAMPLE:
        try:
            forms.append(select(n))
        except ArithmeticError as exc:
            raise ValueError(f"it fails for n={n}: {exc}") from exc
    return tuple(forms)


def _header_line(path: Path) -> int:
    """The line of ``path`` on which the Plural-Forms header starts; 0 if it has none."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 0
    return next((number for number, line in enumerate(lines, start=1) if _PLURAL_FORMS_LINE.match(line)), 0)


def _plural_check(path: Path, lang: str, catalog: Catalog) -> tuple[list[Problem], list[Problem]]:
    """Errors and warnings about a catalog's Plural-Forms, compared with Babel's data for its language.

    Readers see only which form is picked for each n, so a formula picking differently, or a
    different number of forms, is an error; the same formula written differently is a warning.
    """
    have = catalog.plural_forms  # what the compiled catalog carries, hence what the bot evaluates
    try:
        want = get_plural(lang).plural_forms
    except UnknownLocaleError:
        want = None
    if have == want:
        return [], []

    def at(message: str) -> Problem:
        return Problem(str(path), _header_line(path), "header", message)

    babels = f"Babel {babel.__version__}'s"
    if want is None:
        return [], [at(f"Babel {babel.__version__} has no data for {lang!r}, so Plural-Forms was not compared")]
    try:
        count, expr = _plural_forms(have)
        ours = _forms(expr)
    except ValueError as exc:
        return [at(f"Plural-Forms {have!r} cannot be parsed or evaluated: {exc}")], []
    try:
        want_count, want_expr = _plural_forms(want)
        theirs = _forms(want_expr)
    except ValueError as exc:
        return [], [at(f"{babels} Plural-Forms {want!r} cannot be parsed ({exc}), so the catalog's was not compared")]
    errors = []
    if count != want_count:
        errors.append(at(f"Plural-Forms has nplurals={count}; {babels} data has nplurals={want_count}: {want!r}"))
    differ = next((i for i, (a, b) in enumerate(zip(ours, theirs, strict=True)) if a != b), None)
    if differ is not None:
        n, a, b = PLURAL_SAMPLE[differ], ours[differ], theirs[differ]
        errors.append(at(f"Plural-Forms selects form {a} for n={n}, where {babels} {want!r} selects form {b}"))
    if errors:
        return errors, []
    same = "selects the same form for every n, so readers see no difference"
    return [], [at(f"Plural-Forms {have!r} is written differently from {babels} {want!r} but {same}")]


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
        errors, notes = _plural_check(path, lang, catalog)
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
            problems += [Problem(shown, line, where, text) for text in _message_problems(lang, entry, message)]
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
    return expected_messages(package, sorted(rules_dir.glob("*.yaml")))


__all__ += ["YamlSyntaxError", "load_expected", "template_problems"]
