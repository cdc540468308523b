"""A smoke run of benchmarks/bench_overhead.py: every bot answers every update; the figures are there and sane.

No speed is asserted (timing in tests is flaky); only that the benchmark ran end to end, each bot
(bare python-telegram-bot, bare aiogram, Maslahat, …) in its own process behind its webhook, and
wrote its JSON.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest

from benchmarks import bench_overhead

pytestmark = pytest.mark.bench


def test_smoke_run_answers_every_update_and_writes_the_json(tmp_path: Path) -> None:
    out = tmp_path / "overhead.json"
    report = bench_overhead.main(["--smoke", "--out", str(out)])

    assert json.loads(out.read_text(encoding="utf-8")) == report
    assert report["benchmark"] == "overhead"
    assert report["machine"]["cpu_count"] > 0
    # The command as typed, this machine's temporary directory put in general terms.
    assert (
        report["command"]
        == f"python -m benchmarks.bench_overhead --smoke --out <tmp>/{out.relative_to(tempfile.gettempdir())}"
    )
    assert set(report["figures"]) == {"bare", "aiogram", "maslahat"}
    for kind, figures in report["figures"].items():
        assert "failures" not in figures, f"{kind}: {figures.get('failures')}"
        saturation, fixed = figures["saturation"], figures["fixed_rate"]
        assert saturation["updates_per_s"] > 0, kind
        assert saturation["bot_cpu_ms_per_update"] > 0, kind
        assert saturation["bot_api_calls_per_update"] >= 1, kind
        for round_ in saturation["rounds"]:
            assert round_["updates"] > 0, kind
            assert "failed" not in round_["mix"], f"{kind}: an update was not answered"
            assert {"start", "press"} <= set(round_["mix"]), kind
        assert fixed["updates"] > 0, kind
        assert "failed" not in fixed["mix"], f"{kind}: an update was not answered"
        latency = fixed["latency_ms"]
        assert 0 < latency["p50"] <= latency["p99"] <= latency["max"], kind
    for pair in ("maslahat_over_bare", "aiogram_over_bare", "maslahat_over_aiogram"):
        ratios = report["ratios"][pair]
        for name in ("throughput", "bot_cpu_per_update", "latency_p50", "latency_p99"):
            assert math.isfinite(ratios[name]), (pair, name)
            assert ratios[name] > 0, (pair, name)
    assert set(report["targets"]) == {"throughput_at_least_0.8_of_bare", "p99_at_most_2x_bare"}
    aiogram = report["summary"]["aiogram: updates/s, bot CPU ms per update, latency p50 and p99 ms"]
    assert aiogram[0] == report["figures"]["aiogram"]["saturation"]["updates_per_s"]
