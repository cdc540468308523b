"""What every benchmark writes: results without this machine's paths."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

import pytest

from benchmarks.common import ROOT, write_results

pytestmark = pytest.mark.bench


def test_results_carry_no_path_of_this_machine(tmp_path: Path) -> None:
    results = {
        "command": f"python -m benchmarks.bench_startup --compare {tempfile.gettempdir()}/before",
        "nested": [{"results": f"{ROOT}/benchmarks/results", "python": f"{sys.base_prefix}/lib/tokenize.py"}],
        "figure": 1.5,
    }
    written = write_results(results, tmp_path / "out.json")
    text = (tmp_path / "out.json").read_text(encoding="utf-8")
    assert json.loads(text) == written
    assert written["command"] == "python -m benchmarks.bench_startup --compare <tmp>/before"
    assert written["nested"] == [{"results": "<repo>/benchmarks/results", "python": "<python>/lib/tokenize.py"}]
    assert written["figure"] == 1.5
    for place in (str(ROOT), tempfile.gettempdir(), sys.base_prefix):
        assert place not in text
