"""What every benchmark records: the machine it ran on, and its results file."""

from __future__ import annotations

import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["machine", "scrub_paths", "write_results"]

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, Any]:
    """The machine and Python that produced the figures."""
    return {"platform": platform.platform(), "cpu_count": os.cpu_count(), "python": platform.python_version()}


def scrub_paths(value: Any) -> Any:
    """``value`` with this machine's paths (checkout, Python, temporary directory) put in general terms.

    Results are committed: they must not carry where the repository or Python live on one machine.
    """
    if isinstance(value, dict):
        return {key: scrub_paths(item) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub_paths(item) for item in value]
    if not isinstance(value, str):
        return value
    places = {str(ROOT): "<repo>", sys.base_prefix: "<python>", sys.prefix: "<venv>", tempfile.gettempdir(): "<tmp>"}
    for place, name in sorted(places.items(), key=lambda item: -len(item[0])):
        if len(place) > 1:
            value = value.replace(place, name)
    return value


def write_results(results: dict[str, Any], out: Path) -> dict[str, Any]:
    """Write a benchmark's results as JSON for benchmarks/report.py, and say where; return what was written.

    This machine's paths are scrubbed first (see :func:`scrub_paths`).
    """
    scrubbed: dict[str, Any] = scrub_paths(results)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(scrubbed, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return scrubbed
