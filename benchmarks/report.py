"""Write benchmarks/RESULTS.md from benchmarks/results/*.json: ``.venv/bin/python -m benchmarks.report``.

It opens with each benchmark's targets, then ``benchmarks/FINDINGS.md`` (written by hand:
what profiling found and what was changed, before and after), then a section per benchmark: its
command, machine and date, its summary and targets, and every figure in a folded table.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

__all__ = ["main", "render"]

HERE = Path(__file__).resolve().parent
ORDER = ["overhead", "storage", "rules", "startup", "burst"]


def _flatten(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted name, shown value) for every leaf of ``value``."""
    if isinstance(value, dict):
        return [row for key, item in value.items() for row in _flatten(item, f"{prefix}.{key}".lstrip("."))]
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return [row for index, item in enumerate(value) for row in _flatten(item, f"{prefix}[{index}]")]
    if isinstance(value, float):
        return [(prefix, f"{value:.6g}")]
    return [(prefix, json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else str(value))]


HEAD = ("title", "command", "date", "machine", "summary", "conclusion", "targets")


def _section(name: str, data: dict[str, Any]) -> str:
    """One benchmark's section: where and when, its summary and targets, every figure folded."""
    lines = [f"## {data.get('title', name)}", ""]
    lines += [f"- **command**: `{data['command']}`"] if "command" in data else []
    for key in (k for k in HEAD[2:4] if k in data):
        lines.append(f"- **{key}**: {data[key] if isinstance(data[key], str) else json.dumps(data[key])}")
    for key in (k for k in HEAD[4:] if k in data):
        lines += ["", f"**{key.capitalize()}**", "", *(f"- {k}: {v}" for k, v in _flatten(data[key]))]
    if rest := {k: v for k, v in data.items() if k not in HEAD}:
        lines += ["", "<details><summary>Every figure of this run</summary>", "", "| figure | value |", "|---|---|"]
        lines += [*(f"| {k} | {v} |" for k, v in _flatten(rest)), "", "</details>"]
    return "\n".join(lines) + "\n"


def _targets(results: dict[str, dict[str, Any]]) -> list[str]:
    """One row per target of every benchmark: met or not, the figures it rests on, and when it was measured."""

    def shown(met: Any) -> str:
        return "yes" if met is True else "**no**" if met is False else str(met)

    rows = ["| benchmark | target | met | figures | measured |", "|---|---|---|---|---|"]
    for name, data in results.items():
        title, day = data.get("title", name), str(data.get("date", ""))[:10]
        targets = dict(data.get("targets") or {})
        if "target" in data and "target_met" in data:
            targets[str(data["target"])] = data["target_met"]
        for target, met in targets.items():
            if isinstance(met, dict):  # {"latency_met (…)": True, "p50_ratio": 1.1, …}
                figures = ", ".join(f"{k} {v}" for k, v in met.items() if not isinstance(v, bool))
                checks = [(f"{target}: {key}", shown(value)) for key, value in met.items() if isinstance(value, bool)]
                for label, result in checks or [(target, "(figure)")]:  # or figures only, no pass or fail
                    rows.append(f"| {title} | {label} | {result} | {figures} | {day} |")
            else:
                rows.append(f"| {title} | {target} | {shown(met)} |  | {day} |")
    return rows if len(rows) > 2 else []


def render(results: Path = HERE / "results") -> str:
    """The whole RESULTS.md text from every JSON file in ``results``."""
    files = {path.stem: path for path in results.glob("*.json")}
    names = [n for n in ORDER if n in files] + sorted(set(files) - set(ORDER))
    loaded = {name: json.loads(files[name].read_text(encoding="utf-8")) for name in names}
    parts = [
        "# Benchmark results",
        "",
        "Written by `python -m benchmarks.report` from `benchmarks/results/*.json`: each section's figures are from",
        "the one run it names (command, machine, date), compared with a baseline measured in that run.",
        "",
    ]
    targets = _targets(loaded)
    if targets:
        parts += ["## Targets", "", *targets, ""]
    findings = results.parent / "FINDINGS.md"
    if findings.is_file():
        # Its headings go one level down, under RESULTS.md's title.
        text = re.sub(r"^(#+) ", r"#\1 ", findings.read_text(encoding="utf-8"), flags=re.MULTILINE)
        parts.append(text.strip() + "\n")
    for name in names:
        parts.append(_section(name, loaded[name]))
    return "\n".join(parts)


def main() -> None:
    """Write RESULTS.md."""
    (HERE / "RESULTS.md").write_text(render(), encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
