"""A smoke run of benchmarks/bench_overhead.py: both bots answer every update; the figures are there and sane.

No speed is asserted (timing in tests is flaky); only that the benchmark ran end to end, each bot
in its own process behind its webhook, and wrote its JSON.
"""

from __future__ import annotations

import importlib
import json
import math
import sys
from pathlib import Path

import pytest

from support.shipped import ROOT

pytestmark = pytest.mark.bench

sys.path.insert(0, str(ROOT))  # benchmarks/ is not installed; it lives next to tests/
bench_overhead = importlib.import_module("benchmarks.bench_overhead")


def test_smoke_run_answers_every_update_and_writes_the_json(tmp_path: Path) -> None:
    out = tmp_path / "overhead.json"
    report = bench_overhead.main(["--smoke", "--out", str(out)])

    assert json.loads(out.read_text(encoding="utf-8")) == report
    assert report["benchmark"] == "overhead"
    assert report["machine"]["cpu_count"] > 0
    assert report["machine"]["python"]
    assert "--smoke" in report["command"]
    assert set(report["figures"]) == {"bare", "maslahat", "maslahat_before", "bare_same_stack"}
    for kind, figures in report["figures"].items():
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
    ratios = report["ratios_maslahat_over_bare"]
    for name in ("throughput", "bot_cpu_per_update", "latency_p50", "latency_p99"):
        assert math.isfinite(ratios[name]), name
        assert ratios[name] > 0, name
    assert set(report["targets"]) == {"throughput_at_least_0.8_of_bare", "p99_at_most_2x_bare"}
    assert report["summary"]["ratio_throughput"] == ratios["throughput"]


def test_profile_summary_attributes_samples_to_areas_and_bot_functions() -> None:
    raw = "\n".join(
        [
            "run (asyncio/runners.py:1);EpollSelector.select (selectors.py:468) 5",
            "run (asyncio/runners.py:1);_on_button (bot/telegram/application.py:400);"
            "_transact (bot/telegram/application.py:130) 3",
            "run (asyncio/runners.py:1);_on_button (bot/telegram/application.py:400);send (bot/telegram/send.py:73);"
            "retrying (bot/telegram/send.py:37);Bot.send_message (telegram/_bot.py:1138) 2",
        ]
    )
    summary = bench_overhead.summarize_raw_profile(raw, updates=10, seconds_per_sample=0.004)
    assert summary["samples"] == 10
    assert summary["areas"]["idle: waiting in epoll"]["pct"] == 50.0
    assert summary["areas"]["bot/ own code (not in a Bot API call)"]["pct"] == 30.0
    assert summary["bot_functions_inclusive"]["bot/telegram/application.py:_on_button"]["pct"] == 50.0
    assert summary["bot_deepest_own_frame"]["bot/telegram/application.py:_transact"]["ms_per_update"] == 1.2
    assert "bot/telegram/send.py:retrying" not in summary["bot_deepest_own_frame"]
