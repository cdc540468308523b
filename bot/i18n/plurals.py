"""Compare a catalog's Plural-Forms with Babel's data for its language, as readers would see them differ.

Readers see only which form is picked for each n, so a formula picking differently, or a
different number of forms, is an error; the same formula written differently is a warning.
"""

from __future__ import annotations

import functools
import gettext
import re
from pathlib import Path

import babel
from babel.core import UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural

from bot.problems import Problem

__all__ = ["PLURAL_SAMPLE", "plural_check"]

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


def plural_check(path: Path, lang: str, catalog: Catalog) -> tuple[list[Problem], list[Problem]]:
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
