"""The command line every benchmark shares, and its results: JSON with the machine, never its paths."""

from __future__ import annotations

import argparse
import datetime as dt
import faulthandler
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "machine", "parse", "run_benchmark", "write_results"]

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # tests.support (the fake Bot API, redis-server) is the tests' own, not installed


def machine() -> dict[str, Any]:
    """The machine and Python that produced the figures."""
    return {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": platform.python_version()}


def write_results(results: dict[str, Any], out: Path) -> dict[str, Any]:
    """Write a benchmark's results as JSON for the report, this machine's paths put in general terms; return them."""
    # Results are committed: they must not carry where the repository or Python live on one machine.
    text = json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    places = {str(ROOT): "<repo>", sys.base_prefix: "<python>", sys.prefix: "<venv>", tempfile.gettempdir(): "<tmp>"}
    for place, name in sorted(places.items(), key=lambda item: -len(item[0])):
        text = text.replace(place, name) if len(place) > 1 else text
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}", flush=True)
    written: dict[str, Any] = json.loads(text)
    return written


def parse(
    name: str,
    doc: str,
    full: dict[str, Any],
    smoke: dict[str, Any],
    argv: Sequence[str] | None,
    options: Callable[[argparse.ArgumentParser], None] | None = None,
) -> argparse.Namespace:
    """The full sizes, or ``--smoke``'s, each overridable with ``--set NAME=VALUE``; ``--out``."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds (the test suite runs it)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override one size")
    parser.add_argument("--out", type=Path, help=f"where to write the JSON (default: benchmarks/results/{name}.json)")
    if options is not None:
        options(parser)
    raw = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(raw)
    args.sizes = dict(smoke if args.smoke else full)
    # A smoke run measures nothing worth keeping: it must never replace the recorded results.
    default = Path(tempfile.gettempdir()) / f"maslahat-bench-{name}-smoke.json" if args.smoke else None
    args.out = args.out or default or ROOT / "benchmarks" / "results" / f"{name}.json"
    known = [k for k, v in args.sizes.items() if not isinstance(v, tuple)]
    for key, _, value in (item.partition("=") for item in args.set):
        if key not in known:
            parser.error(f"--set: unknown size {key!r}; known: {', '.join(known)}")
        kind = type(args.sizes[key])
        args.sizes[key] = value.lower() in {"1", "true", "yes"} if kind is bool else kind(value)
    args.command = f"python -m benchmarks.bench_{name} {shlex.join(raw)}".strip()
    args.as_command = argv is None
    return args


def run_benchmark(
    name: str, title: str, args: argparse.Namespace, run: Callable[[argparse.Namespace], dict[str, Any]]
) -> dict[str, Any]:
    """Run ``run(args)`` under a watchdog, wrap what it returns with where, when and how, and write it."""
    started = time.monotonic()
    hard_timeout = float(args.sizes.get("hard_timeout_s", 0))
    # The hard stop: even if something hangs where asyncio cannot cancel it, a command-line run ends.
    # (Never under pytest, which the exit would take down too; smoke runs are small and bounded.)
    if args.as_command and hard_timeout > 0:
        faulthandler.dump_traceback_later(hard_timeout, exit=True)
    body = run(args)
    faulthandler.cancel_dump_traceback_later()
    results = {
        "benchmark": name,
        "title": title,
        "machine": machine(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": args.command,
        "mode": "smoke" if args.smoke else "full",
        "duration_s": round(time.monotonic() - started, 1),
        "parameters": args.sizes,
        **body,
    }
    return write_results(results, args.out)
