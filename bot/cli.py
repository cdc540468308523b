"""The `maslahat` command: check, chat, advise and graph."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.chat import format_outcome, format_question, run_chat
from bot.check import check_file
from bot.engine import Decision, Engine, EngineError
from bot.graph import build_graph, to_dot, to_markdown, to_mermaid
from bot.i18n import SOURCE_LANGUAGE, SourceLanguage, Translator
from bot.loader import TableError, load_table
from bot.present import outcome_view, question_view
from bot.table import Table

__all__ = ["default_rules_path", "main"]

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2


def default_rules_path() -> Path:
    """The rule table to use: $MASLAHAT_RULES, else the one shipped beside the package."""
    configured = os.environ.get("MASLAHAT_RULES")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / "rules" / "decree-821.yaml"


def _translator(lang: str) -> Translator:
    if lang != SOURCE_LANGUAGE:
        raise EngineError(f"language {lang!r} is not available; available: {SOURCE_LANGUAGE}")
    return SourceLanguage()


def _load(path: Path) -> Table:
    try:
        return load_table(path)
    except TableError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise SystemExit(EXIT_PROBLEMS) from exc


def _cmd_check(args: argparse.Namespace) -> int:
    report = check_file(args.rules)
    for problem in report.problems:
        print(problem)
    if report.summary is not None:
        s = report.summary
        print(
            f"{args.rules}: {s.questions} questions, {s.outcomes} outcomes, {s.rules} rules, "
            f"{s.conversations} distinct conversations, longest {s.longest} questions ({' > '.join(s.longest_path)})"
        )
    if report.problems:
        print(f"{len(report.problems)} problem(s) found", file=sys.stderr)
        return EXIT_PROBLEMS
    print("OK")
    return EXIT_OK


def _cmd_chat(args: argparse.Namespace) -> int:
    t = _translator(args.lang)
    return run_chat(Engine(_load(args.rules)), t)


def _parse_answers(pairs: Sequence[str]) -> dict[str, str]:
    answers: dict[str, str] = {}
    for pair in pairs:
        fact, sep, option = pair.partition("=")
        if not sep or not fact or not option:
            raise EngineError(f"--answer takes FACT=OPTION, not {pair!r}")
        answers[fact.strip()] = option.strip()
    return answers


def _cmd_advise(args: argparse.Namespace) -> int:
    t = _translator(args.lang)
    table = _load(args.rules)
    engine = Engine(table)
    session, ignored = engine.from_answers(_parse_answers(args.answer), args.lang)
    step = engine.step(session)
    if isinstance(step, Decision):
        view = outcome_view(table, step, session, t)
        result: dict[str, Any] = {"outcome": view}
        text = format_outcome(view, t)
    else:
        view = question_view(step, t)
        result = {"question": view}
        text = format_question(view, t)
    if ignored:
        result["ignored"] = ignored
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(text)
        if ignored:
            print(t.gettext("Not needed for this answer: {facts}").format(facts=", ".join(ignored)), file=sys.stderr)
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
        help="rule table file (default: $MASLAHAT_RULES or rules/decree-821.yaml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser("check", help="validate the rule table and summarise its conversations")
    check.set_defaults(run=_cmd_check)

    chat = commands.add_parser("chat", help="hold the conversation in this terminal")
    chat.add_argument("--lang", default=SOURCE_LANGUAGE, help="language code (default: en)")
    chat.set_defaults(run=_cmd_chat)

    advise = commands.add_parser("advise", help="print the next question or the outcome for given answers")
    advise.add_argument(
        "--answer", action="append", default=[], metavar="FACT=OPTION", help="an answer, e.g. sex=male (repeatable)"
    )
    advise.add_argument("--lang", default=SOURCE_LANGUAGE, help="language code (default: en)")
    advise.add_argument("--json", action="store_true", help="print JSON (the shape is documented in README.md)")
    advise.set_defaults(run=_cmd_advise)

    graph = commands.add_parser("graph", help="draw the conversation as a diagram")
    graph.add_argument("--format", choices=("mermaid", "dot", "markdown"), default="mermaid")
    graph.add_argument("--output", "-o", help="write to this file instead of standard output")
    graph.set_defaults(run=_cmd_graph)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = _parser().parse_args(argv)
    if args.rules is None:
        args.rules = default_rules_path()
    try:
        code: int = args.run(args)
    except EngineError as exc:
        print(f"maslahat: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
