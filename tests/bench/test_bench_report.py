"""The benchmark report assembles every result file into RESULTS.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.report import render

pytestmark = pytest.mark.bench


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


def test_report_opens_with_every_target_and_the_findings(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    (results / "startup.json").write_text(
        json.dumps(
            {"title": "Start-up", "date": "2026-11-21T13:00:00", "target": "ready in under 1.0 s", "target_met": True}
        ),
        encoding="utf-8",
    )
    (results / "storage.json").write_text(
        json.dumps({"title": "Storage", "targets": {"sqlite": {"p50_ratio": 1.13, "latency_met (<= 1.2)": True}}}),
        encoding="utf-8",
    )
    (results / "overhead.json").write_text(
        json.dumps({"title": "Overhead", "targets": {"p99_at_most_2x_bare": False}}), encoding="utf-8"
    )
    (tmp_path / "FINDINGS.md").write_text("# What profiling found\n\nThe transport.\n", encoding="utf-8")
    text = render(results)
    assert "| Start-up | ready in under 1.0 s | yes |  | 2026-11-21 |" in text
    assert "| Storage | sqlite: latency_met (<= 1.2) | yes | p50_ratio 1.13 |  |" in text
    assert "| Overhead | p99_at_most_2x_bare | **no** |  |  |" in text
    assert text.index("## Targets") < text.index("## What profiling found") < text.index("## Overhead")
    assert "The transport." in text
