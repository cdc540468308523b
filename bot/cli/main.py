"""The `maslahat` command: its parser and one function per subcommand.

About 400 lines; a subcommand with more to do than load and print has a module of its own
(advise, diff, i18n, preview, terminal).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from telegram.error import InvalidToken, TelegramError

from bot.cli.advise import advise, parse_answers
from bot.cli.diff import print_diff
from bot.cli.i18n import add_i18n_commands
from bot.cli.preview import write_preview
from bot.cli.terminal import run_chat
from bot.core.engine import Engine, EngineError
from bot.core.languages import LANGUAGES, SOURCE_LANGUAGE, Translator
from bot.core.table import Table
from bot.i18n.catalogs import CatalogError, Catalogs
from bot.problems import ProblemsError
from bot.resources import shipped_locales, shipped_rules
from bot.ruletable.cases import cases_path
from bot.ruletable.check import check_file
from bot.ruletable.diff import diff_tables
from bot.ruletable.graph import build_graph, to_dot, to_markdown, to_mermaid
from bot.ruletable.loader import TableError, load_table, parse_yaml, read_table_file, table_from_yaml
from bot.ruletable.release import default_revision, text_at, unbumped
from bot.service.app import Service
from bot.service.content import load_content
from bot.service.logs import configure_logging, json_line
from bot.settings import ConfigError, read_environment, settings_from
from bot.storage import DEFAULT_STORAGE_URL, open_store, storage_problem
from bot.storage.base import StoreUnavailable
from bot.telegram.application import Runtime, build_application
from bot.telegram.fit import screens_too_long

__all__ = ["default_locales_path", "default_rules_path", "main"]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def default_rules_path() -> Path:
    """The rule table to use: $MASLAHAT_RULES, else the one shipped with the package."""
    return shipped_rules()


def default_locales_path() -> Path:
    """The message catalogs to use: $MASLAHAT_LOCALES, else the ones shipped with the package."""
    return shipped_locales()


def _translator(args: argparse.Namespace) -> Translator:
    if args.lang not in LANGUAGES:
        raise EngineError(f"language {args.lang!r} is not available; available: {', '.join(LANGUAGES)}")
    return Catalogs.load(args.locales).translator(args.lang)


def _load(path: Path) -> Table:
    """Load the rule table; :func:`main` reports a :class:`TableError` and returns 1."""
    return load_table(path)


def _cmd_check(args: argparse.Namespace) -> int:
    report = check_file(args.rules, args.cases)
    if report.data is not None:
        rules = Path(args.rules)
        report.warnings += unbumped(rules, report.data, args.since or default_revision(rules))
    if report.engine is not None and report.ok:
        try:
            report.problems += screens_too_long(report.engine, Catalogs.load(args.locales))
        except CatalogError:
            print(f"{args.locales}: not read, so the screens are not measured; `maslahat i18n check` says why")
    for problem in [*report.problems, *report.warnings]:
        print(problem)
    if report.summary is not None:
        s = report.summary
        print(
            f"{args.rules}: {s.questions} questions, {s.outcomes} outcomes, {s.rules} rules, "
            f"{s.conversations} distinct conversations, longest {s.longest} questions ({' > '.join(s.longest_path)})"
        )
    if report.cases is not None:
        passed = report.cases - report.cases_failed
        print(f"{cases_path(args.rules) if args.cases is None else args.cases}: {passed} of {report.cases} cases pass")
    if report.problems:
        print(f"{len(report.problems)} problem(s) found", file=sys.stderr)
        return EXIT_PROBLEMS
    if report.warnings and args.strict:
        print(f"{len(report.warnings)} warning(s), and --strict fails on warnings", file=sys.stderr)
        return EXIT_PROBLEMS
    print(f"OK, with {len(report.warnings)} warning(s)" if report.warnings else "OK")
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace) -> int:
    """What a change to the rule table does: every conversation whose outcome changes, and the new texts."""
    if len(args.tables) not in (0, 2):
        raise ConfigError(["diff takes two tables (OLD NEW), or none to compare --rules with --since REV"])
    if args.tables:
        old_path, new_path = args.tables
        old_data, old_problems = read_table_file(old_path)
        old_name = str(old_path)
    else:
        new_path = Path(args.rules)
        revision = args.since or default_revision(new_path)
        text = text_at(new_path, revision)
        if text is None:
            raise ConfigError([f"cannot read {new_path} at git revision {revision!r} (is this a git checkout?)"])
        old_name = f"{revision}:{new_path.name}"
        old_data, old_problems = parse_yaml(text, old_name)
    new_data, new_problems = read_table_file(new_path)
    old = table_from_yaml(old_data, old_name, old_problems)
    new = table_from_yaml(new_data, str(new_path), new_problems)
    found = diff_tables(old, new, old_data, new_data)
    if args.json:
        print(json.dumps({"old": old_name, "new": str(new_path), **found.to_json()}, indent=2, ensure_ascii=False))
    else:
        print_diff(found, old_name, str(new_path))
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    """The Telegram bot when a token is configured; otherwise, at a terminal, the terminal conversation."""
    env = read_environment()
    if not (env.get("BOT_TOKEN") or env.get("BOT_TOKEN_FILE")) and sys.stdin.isatty():
        print(
            "No BOT_TOKEN set, so the conversation starts here in the terminal. To run the Telegram bot, "
            "create one with @BotFather in Telegram and put its token in BOT_TOKEN (or in a .env file).",
            file=sys.stderr,
        )
        return _cmd_chat(args)
    # Read before the settings are checked, so that their errors too are JSON lines when asked for.
    json_format = (env.get("LOG_FORMAT") or "").lower() == "json"
    try:
        settings = settings_from(
            env,
            secret_file_default=Path("state/session.key"),
            api_base_url=args.api_base_url,
            webhook_url=args.webhook_url,
            webhook_secret=args.webhook_secret,
            listen=args.listen,
            port=args.port,
        )
    except ConfigError as exc:
        _fatal([str(p) for p in exc.problems], json_format)
        return EXIT_USAGE
    configure_logging(settings.log_level, [settings.token, settings.webhook_secret or ""], settings.log_format)
    try:
        loaded = load_content(args.rules, args.locales)
    except ProblemsError as exc:
        _fatal([str(p) for p in exc.problems], json_format, prefix="")
        return EXIT_PROBLEMS
    store = open_store(settings.storage_url, settings.retention_days * 86400)
    if settings.created_secret_file is not None and (stranded := _sessions_held(settings.storage_url)):
        # A new key would make every stored session unreachable, silently: say so instead.
        settings.created_secret_file.unlink()
        _fatal(
            [
                f"the session key {settings.created_secret_file} is missing, but the store holds {stranded} "
                "session(s) made with the old key: restore the key file (or set SESSION_SECRET to the old "
                "secret); to start afresh on purpose, delete the store first"
            ],
            json_format,
        )
        return EXIT_PROBLEMS
    runtime = Runtime(loaded.engine, loaded.catalogs, store, settings)
    service = Service(build_application(runtime), runtime, args.rules, args.locales)
    try:
        asyncio.run(service.run())
    except InvalidToken as exc:
        # A configuration error like the others: restarting cannot fix it (systemd does not, on exit 2).
        _fatal([_refused_token(exc, settings.token)], json_format)
        return EXIT_USAGE
    except TelegramError as exc:
        # Telegram's messages can quote the token: never print it.
        message = str(exc).replace(settings.token, "«token»")
        _fatal([f"Telegram refused to start the bot ({type(exc).__name__}): {message}"], json_format)
        return EXIT_PROBLEMS
    except OSError as exc:
        # The HTTP server could not listen (the port taken, say): exit 1, as a restart may find it free.
        _fatal([str(exc.strerror or exc)], json_format)
        return EXIT_PROBLEMS
    return EXIT_OK


def _sessions_held(storage_url: str) -> int:
    """How many sessions the store at ``storage_url`` holds now; 0 if it cannot be read yet."""

    async def count() -> int:
        store = open_store(storage_url, 60)  # its own connection, closed here; the bot opens its own
        try:
            return await store.size()
        except StoreUnavailable:
            return 0
        finally:
            await store.close()

    return asyncio.run(count())


def _fatal(messages: Iterable[str], json_format: bool, prefix: str = "maslahat: ") -> None:
    """Print why the bot cannot start: plain lines, or JSON log lines under LOG_FORMAT=json."""
    for message in messages:
        print(json_line(message) if json_format else prefix + message, file=sys.stderr)


def _refused_token(exc: InvalidToken, token: str) -> str:
    """The one line saying Telegram refused BOT_TOKEN, and how, without the token."""
    # python-telegram-bot raises Telegram's answer ("Unauthorized", "Not Found") again with the token
    # quoted; the answer itself is the cause.
    answer = str(exc.__cause__ or "").replace(token, "«token»").strip()
    status = {"unauthorized": "401 Unauthorized", "not found": "404 Not Found"}.get(answer.lower(), answer or "refused")
    return f"Telegram refused BOT_TOKEN ({status}): check the token @BotFather gave you"


def _cmd_stats(args: argparse.Namespace) -> int:
    """Anonymous statistics: conversations started and finished per day, language, outcome, verdict."""
    env = read_environment()
    url = env.get("STORAGE_URL") or DEFAULT_STORAGE_URL
    problem = storage_problem(url)
    if problem:
        raise ConfigError([problem])

    async def read() -> list[tuple[str, str, str, int]]:
        store = open_store(url, 86400)
        try:
            return await store.totals()
        finally:
            await store.close()

    try:
        totals = asyncio.run(read())
    except StoreUnavailable as exc:
        print(f"maslahat: the store cannot be read: {exc}", file=sys.stderr)
        return EXIT_PROBLEMS
    if args.json:
        print(json.dumps([{"day": d, "name": n, "label": lb, "count": c} for d, n, lb, c in totals], indent=2))
        return EXIT_OK
    if not totals:
        print("no statistics yet")
        return EXIT_OK
    print(f"{'day':<12}{'counter':<10}{'label':<32}{'count':>7}")
    for day, name, label, count in totals:
        print(f"{day:<12}{name:<10}{label:<32}{count:>7}")
    return EXIT_OK


def _cmd_chat(args: argparse.Namespace) -> int:
    t = _translator(args)
    return run_chat(Engine(_load(args.rules)), t)


def _cmd_advise(args: argparse.Namespace) -> int:
    t = _translator(args)
    return advise(_load(args.rules), t, args.lang, args.answer, as_json=args.json)


def _cmd_preview(args: argparse.Namespace) -> int:
    langs = args.lang or list(LANGUAGES)
    unknown = [lang for lang in langs if lang not in LANGUAGES]
    if unknown:
        raise EngineError(f"language {unknown[0]!r} is not available; available: {', '.join(LANGUAGES)}")
    where = write_preview(_load(args.rules), args.locales, langs, parse_answers(args.answer), args.output)
    if args.output is not None:
        print(f"wrote {where}: open it in a browser", file=sys.stderr)
    return EXIT_OK


def _cmd_graph(args: argparse.Namespace) -> int:
    table = _load(args.rules)
    graph = build_graph(Engine(table))
    render = {"mermaid": to_mermaid, "dot": to_dot, "markdown": to_markdown}[args.format]
    text = render(table, graph)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        print(text, end="")
    return EXIT_OK


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maslahat", description="Advice on Russia's Decree No. 821, with sources.")
    parser.add_argument(
        "--rules",
        type=Path,
        default=None,
        help="rule table file (default: $MASLAHAT_RULES, else the table shipped with maslahat)",
    )
    parser.add_argument(
        "--locales",
        type=Path,
        default=None,
        help="message catalogs directory (default: $MASLAHAT_LOCALES, else the catalogs shipped with maslahat)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="validate the rule table and summarise its conversations")
    check.add_argument(
        "--strict", action="store_true", help="fail on warnings too (something defined that no one is ever shown)"
    )
    check.add_argument(
        "--since",
        metavar="REV",
        help="the git revision whose table the release bumps from (default: the last tag, else HEAD)",
    )
    check.add_argument(
        "--cases",
        type=Path,
        metavar="FILE",
        help="the table's cases to play (default: <table>.cases.yaml beside the table, if there is one)",
    )
    check.set_defaults(run=_cmd_check)

    diff = commands.add_parser(
        "diff", help="what a change to the rule table does: each conversation that changes, and the new texts"
    )
    diff.add_argument("tables", nargs="*", type=Path, metavar="OLD NEW", help="two rule table files to compare")
    diff.add_argument(
        "--since",
        metavar="REV",
        help="with no files: compare the table (--rules) with itself at this git revision "
        "(default: the last tag, else HEAD)",
    )
    diff.add_argument("--json", action="store_true", help="print JSON")
    diff.set_defaults(run=_cmd_diff)

    chat = commands.add_parser("chat", help="hold the conversation in this terminal")
    chat.add_argument("--lang", default=SOURCE_LANGUAGE, help=f"language: {', '.join(LANGUAGES)} (default: en)")
    chat.set_defaults(run=_cmd_chat)

    advise = commands.add_parser("advise", help="print the next question or the outcome for given answers")
    advise.add_argument(
        "--answer", action="append", default=[], metavar="FACT=OPTION", help="an answer, e.g. sex=male (repeatable)"
    )
    advise.add_argument("--lang", default=SOURCE_LANGUAGE, help=f"language: {', '.join(LANGUAGES)} (default: en)")
    advise.add_argument("--json", action="store_true", help="print JSON (the shape is documented in README.md)")
    advise.set_defaults(run=_cmd_advise)

    preview = commands.add_parser(
        "preview", help="the screens a person sees, as a phone-width HTML page (for translators and reviewers)"
    )
    preview.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="FACT=OPTION",
        help="an answer (repeatable); none: every outcome",
    )
    preview.add_argument(
        "--lang", action="append", metavar="LANG", help=f"language, repeatable: {', '.join(LANGUAGES)} (default: all)"
    )
    preview.add_argument("--output", "-o", type=Path, help="write the page to this file instead of standard output")
    preview.set_defaults(run=_cmd_preview)

    graph = commands.add_parser("graph", help="draw the conversation as a diagram")
    graph.add_argument("--format", choices=("mermaid", "dot", "markdown"), default="mermaid")
    graph.add_argument("--output", "-o", help="write to this file instead of standard output")
    graph.set_defaults(run=_cmd_graph)

    run = commands.add_parser("run", help="run the Telegram bot (the terminal conversation if no token is set)")
    run.add_argument("--webhook-url", help="receive updates by webhook at this https URL ($WEBHOOK_URL)")
    run.add_argument("--webhook-secret", help="secret Telegram sends with each webhook request ($WEBHOOK_SECRET)")
    run.add_argument("--listen", help="address the webhook server listens on ($LISTEN, default 127.0.0.1)")
    run.add_argument("--port", help="port the webhook server listens on ($PORT, default 8443)")
    run.add_argument("--api-base-url", help="another Bot API server ($BOT_API_BASE_URL)")
    run.add_argument("--lang", default=SOURCE_LANGUAGE, help="language of the terminal conversation without a token")
    run.set_defaults(run=_cmd_run, token=None)

    stats = commands.add_parser("stats", help="anonymous statistics: conversations per day, language, outcome")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(run=_cmd_stats)

    add_i18n_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    if args.rules is None:
        args.rules = default_rules_path()
    if args.locales is None:
        args.locales = default_locales_path()
    try:
        code: int = args.run(args)
    except EngineError as exc:
        print(f"maslahat: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (TableError, CatalogError) as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_PROBLEMS
    except ConfigError as exc:
        for message in exc.problems:
            print(f"maslahat: {message}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"maslahat: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_PROBLEMS
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
