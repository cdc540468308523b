"""What every benchmark records: the machine it ran on, and its results file."""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import Any

__all__ = ["machine", "write_results"]


def machine() -> dict[str, Any]:
    """The machine and Python that produced the figures."""
    return {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": platform.python_version()}


def write_results(results: dict[str, Any], out: Path) -> None:
    """Write a benchmark's results as JSON for benchmarks/report.py, and say where."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")
