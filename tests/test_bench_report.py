"""The benchmark report assembles every result file into RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.report import render


def test_report_has_a_section_per_result_with_command_and_figures(tmp_path: Path) -> None:
    (tmp_path / "storage.json").write_text(
        json.dumps({"title": "Storage at scale", "command": "python -m benchmarks.bench_storage", "p50_ratio": 1.04}),
        encoding="utf-8",
    )
    (tmp_path / "overhead.json").write_text(
        json.dumps({"title": "Overhead", "throughput": {"bare": 900.0}}), encoding="utf-8"
    )
    text = render(tmp_path)
    assert text.index("## Overhead") < text.index("## Storage at scale")
    assert "`python -m benchmarks.bench_storage`" in text
    assert "| p50_ratio | 1.04 |" in text
    assert "| throughput.bare | 900 |" in text
