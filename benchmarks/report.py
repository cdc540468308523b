"""Assemble benchmarks/RESULTS.md from the JSON each benchmark writes to benchmarks/results/.

Run: `.venv/bin/python -m benchmarks.report` (after running the benchmarks; see benchmarks/README.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ORDER = ["overhead", "storage", "rules", "startup", "burst"]


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(value, dict):
        rows: list[tuple[str, str]] = []
        for key, item in value.items():
            rows += _flatten(item, f"{prefix}.{key}" if prefix else str(key))
        return rows
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        rows = []
        for index, item in enumerate(value):
            rows += _flatten(item, f"{prefix}[{index}]")
        return rows
    if isinstance(value, float):
        return [(prefix, f"{value:.6g}")]
    return [(prefix, json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value))]


def _section(name: str, data: dict[str, Any]) -> str:
    lines = [f"## {data.get('title', name)}", ""]
    for key in ("command", "date", "machine"):
        if key in data:
            shown = data[key] if isinstance(data[key], str) else json.dumps(data[key], ensure_ascii=False)
            lines.append(f"- **{key}**: `{shown}`" if key == "command" else f"- **{key}**: {shown}")
    for key in ("summary", "conclusion", "targets"):
        if key in data:
            lines += ["", f"**{key.capitalize()}**", ""]
            lines += [f"- {k}: {v}" for k, v in _flatten(data[key])]
    rest = {
        k: v
        for k, v in data.items()
        if k not in {"title", "command", "date", "machine", "summary", "conclusion", "targets"}
    }
    if rest:
        lines += ["", "| figure | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in _flatten(rest)]
    return "\n".join(lines) + "\n"


def render(results: Path = HERE / "results") -> str:
    """The whole RESULTS.md text from every JSON file in ``results``."""
    files = {path.stem: path for path in results.glob("*.json")}
    names = [n for n in ORDER if n in files] + sorted(set(files) - set(ORDER))
    parts = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks.report` from `benchmarks/results/*.json`; each section says the",
        "command that produced it, the machine and the date. Figures are from one run on that machine and",
        "are compared with a baseline measured in the same run.",
        "",
    ]
    for name in names:
        parts.append(_section(name, json.loads(files[name].read_text(encoding="utf-8"))))
    return "\n".join(parts)


def main() -> int:
    (HERE / "RESULTS.md").write_text(render(), encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
