"""`maslahat i18n`: status, check and transliterate — the operators' translation tools."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from babel.messages.pofile import write_po

from bot.i18n.catalogs import CatalogError, Catalogs, catalog_path, parse_po_file
from bot.i18n.checkers import Expected, LanguageStatus, check_catalogs, load_expected, template_problems
from bot.i18n.translation import LATIN_IN_CYRILLIC
from bot.i18n.translit import latin_to_cyrillic
from bot.problems import Problem
from bot.ruletable.check import check_file
from bot.ruletable.loader import TableError
from bot.ruletable.yamlsource import YamlSyntaxError
from bot.telegram.fit import screens_too_long

__all__ = ["add_i18n_commands"]

# The whole package (bot/), whose code holds texts too: this module sits one folder down.
_PACKAGE = Path(__file__).resolve().parent.parent


def _rules_dir(args: argparse.Namespace) -> Path:
    return Path(args.rules).parent


def _check(
    args: argparse.Namespace, catalogs: Catalogs | None = None
) -> tuple[dict[tuple[str, str | None], Expected], list[Problem], list[Problem], list[LanguageStatus]]:
    """The texts to translate, every catalog error, every catalog warning, and each catalog's status.

    ``catalogs``: the catalogs already parsed, so that they are not read twice.

    Raises:
        TableError: a rule table is not YAML (main() prints it and exits 1).
    """
    try:
        expected = load_expected(_PACKAGE, _rules_dir(args))
    except YamlSyntaxError as exc:
        raise TableError(exc.problems) from exc
    parsed = catalogs.catalogs if catalogs is not None else None
    problems, warnings, statuses = check_catalogs(args.locales, expected, catalogs=parsed)
    return expected, problems, warnings, statuses


def _catalogs(locales: Path) -> Catalogs | None:
    """Every catalog, parsed once; None if one cannot be read (check_catalogs reads the files and says why)."""
    try:
        return Catalogs.load(locales)
    except (CatalogError, ValueError):  # ValueError: gettext refused a Plural-Forms expression
        return None


def _screens_too_long(args: argparse.Namespace, catalogs: Catalogs) -> list[Problem]:
    """Screens that a translation makes too long for one Telegram message (bot.telegram.fit)."""
    report = check_file(args.rules, with_cases=False)
    if report.engine is None or not report.ok:
        return []  # `maslahat check` says what is wrong with the table
    return screens_too_long(report.engine, catalogs)


def _cmd_status(args: argparse.Namespace) -> int:
    expected, problems, _warnings, statuses = _check(args)
    print(f"{'language':<10}{'translated':>11}{'fuzzy':>7}{'missing':>9}{'obsolete':>10}{'done':>8}")
    for s in statuses:
        print(f"{s.lang:<10}{s.translated:>11}{s.fuzzy:>7}{s.missing:>9}{s.obsolete:>10}{s.percent:>7.1f}%")
    print(f"{len(expected)} texts to translate")
    unreadable = [p for p in problems if "syntax" in p.message or "cannot" in p.message]
    for problem in unreadable:
        print(problem, file=sys.stderr)
    return 1 if unreadable else 0


def _warning(problem: Problem) -> str:
    """A warning as ``file:line: warning: …``, the form compilers use."""
    where = f" {problem.where}:" if problem.where else ""
    return f"{problem.path}:{problem.line}: warning:{where} {problem.message}"


def _cmd_check(args: argparse.Namespace) -> int:
    catalogs = _catalogs(args.locales)
    expected, problems, warnings, statuses = _check(args, catalogs)
    problems = template_problems(args.locales / "messages.pot", expected) + problems
    if not problems and catalogs is not None:
        problems = _screens_too_long(args, catalogs)
    for warning in warnings:
        print(_warning(warning), file=sys.stderr)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) in the catalogs", file=sys.stderr)
        return 1
    if warnings and args.strict:
        print(f"{len(warnings)} warning(s) in the catalogs, and --strict fails on warnings", file=sys.stderr)
        return 1
    noted = f"; {len(warnings)} warning(s), which readers do not see" if warnings else ""
    print(f"OK: {len(statuses)} catalogs, {len(expected)} texts each, all translated and checked{noted}")
    return 0


def _cmd_transliterate(args: argparse.Namespace) -> int:
    """Draft uz_Cyrl from uz: fill entries that are empty (or all, with --all), marked fuzzy."""
    try:
        latin = parse_po_file(catalog_path(args.locales, "uz"), "uz")
        cyrillic_path = catalog_path(args.locales, "uz_Cyrl")
        cyrillic = parse_po_file(cyrillic_path, "uz_Cyrl")
    except CatalogError as exc:
        print(exc, file=sys.stderr)
        return 1
    drafted = 0
    for message in latin:
        if not message.id or not message.string or message.fuzzy:
            continue
        target = cyrillic.get(message.id, message.context)
        if target is None:
            continue  # not in the template yet: run `make messages` first
        draft = latin_to_cyrillic(str(message.string), keep=LATIN_IN_CYRILLIC)
        if (not target.string or target.fuzzy or args.all) and target.string != draft:
            target.string = draft
            target.flags.add("fuzzy")
            drafted += 1
    buffer = io.BytesIO()
    write_po(buffer, cyrillic, width=0)
    cyrillic_path.write_bytes(buffer.getvalue())
    print(f"{drafted} entries drafted in {cyrillic_path}, marked fuzzy: review each, then remove the fuzzy flag")
    return 0


def add_i18n_commands(commands: Any) -> None:
    """Register `maslahat i18n ...` on the main parser's subcommands."""
    i18n = commands.add_parser("i18n", help="translation tools: status, check, transliterate")
    tools = i18n.add_subparsers(dest="i18n_command", required=True, metavar="TOOL")
    tools.add_parser("status", help="per language: translated, fuzzy, missing, obsolete").set_defaults(run=_cmd_status)
    check = tools.add_parser("check", help="fail with file:line for anything a release must not ship")
    check.add_argument("--strict", action="store_true", help="fail on warnings too (differences from Babel's data)")
    check.set_defaults(run=_cmd_check)
    translit = tools.add_parser("transliterate", help="draft the Uzbek Cyrillic catalog from the Latin one")
    translit.add_argument("--all", action="store_true", help="redraft every entry, not only empty ones")
    translit.set_defaults(run=_cmd_transliterate)
