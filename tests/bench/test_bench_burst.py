"""A smoke run of benchmarks/bench_burst.py: a few people press /start; the figures are there and sane.

No speed is asserted (timing in tests is flaky); only that every person was answered once and the
JSON says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import bench_burst

pytestmark = pytest.mark.bench


def test_smoke_run_answers_everyone_and_writes_the_json(tmp_path: Path) -> None:
    out = tmp_path / "burst.json"
    report = bench_burst.main(["--smoke", "--out", str(out)])

    assert json.loads(out.read_text(encoding="utf-8")) == report
    assert report["benchmark"] == "burst"
    assert report["machine"]["cpu_count"] > 0
    assert "--smoke" in report["command"]
    scenarios = report["scenarios"]
    assert set(scenarios) == {"baseline-unlimited", "even", "burst"}
    for name, result in scenarios.items():
        people = result["people"]
        assert people > 0, name
        assert result["finished_before_deadline"], name
        assert result["updates_delivered"] == result["updates_handled"] == people, name
        assert result["people_answered"] == result["people_with_exactly_the_welcome"] == people, name
        assert result["messages_per_chat"] == {"1": people}, name
        assert result["messages_lost"] == result["duplicate_messages"] == 0, name
        assert result["accepted_messages"] == people, name
        assert result["send_message_calls"] == people + result["http_429"], name
        assert result["last_answer_after_first_press_s"] > 0, name
        assert result["throughput_msgs_per_s"] > 0, name
        assert result["latency_s"]["max"] >= result["latency_s"]["p50"] >= 0, name
    for name in ("even", "burst"):
        assert scenarios[name]["flood_limits"] == {"per_second": 30, "per_chat_per_second": 1}
        assert scenarios[name]["theoretical_min_s"] > 0
        assert scenarios[name]["ratio_actual_to_theoretical"] > 0
        assert scenarios[name]["max_messages_in_any_1s_window"] <= 30
    targets = report["targets"]
    assert targets["every person gets every reply, nothing lost"] is True
    assert set(targets["last answer / theoretical minimum at 30 messages/s"]) == {"even", "burst"}
    assert scenarios["baseline-unlimited"]["flood_limits"] is None
    assert scenarios["baseline-unlimited"]["limiter_config"] is None
    assert scenarios["burst"]["limiter_config"]["class"] == "PerChatRateLimiter"  # as shipped
