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
    people = report["parameters"]["people"]
    assert people > 0
    scenarios = report["scenarios"]
    assert set(scenarios) == {"baseline-unlimited", "even", "burst"}
    for name, result in scenarios.items():
        assert result["finished_before_deadline"], name
        assert result["webhook_failures"] == 0, name
        assert result["updates_handled"] >= people, name  # Telegram may deliver an update again
        assert result["people_with_exactly_the_welcome"] == people, name
        assert result["messages_lost"] == result["duplicate_messages"] == 0, name
        assert result["examples_wrong"] == {}, name
        assert result["http_429"] == sum(result["http_429_by_window"].values()), name
        assert set(result["bot_retries_metric"]) >= {"flood", "network"}, name
        assert 0 < result["max_messages_in_any_1s_window"] <= people, name
        assert result["last_answer_after_first_press_s"] > 0, name
        assert result["latency_s"]["n"] == people, name
        assert result["latency_s"]["max"] >= result["latency_s"]["p50"] >= 0, name
    for name in ("even", "burst"):
        assert scenarios[name]["max_messages_in_any_1s_window"] <= 30, name  # the fake refuses more
        assert scenarios[name]["theoretical_min_s"] >= people / 30, name
        assert scenarios[name]["ratio_actual_to_theoretical"] > 0, name
        assert scenarios[name]["ratio_to_unlimited_baseline"] > 0, name
    baseline = scenarios["baseline-unlimited"]
    assert "theoretical_min_s" not in baseline
    assert "ratio_to_unlimited_baseline" not in baseline
    assert scenarios["even"]["arrival_span_s"] > 0  # spread over the window
    targets = report["targets"]
    assert targets["every person gets every reply, nothing lost"] is True
    assert isinstance(targets["few or no 429s (at most 1 per 100 messages)"], bool)
    assert set(targets["last answer / theoretical minimum at 30 messages/s"]) == {"even", "burst"}


def test_max_in_window_counts_the_busiest_second_as_the_fake_does() -> None:
    assert bench_burst._max_in_window([]) == 0
    assert bench_burst._max_in_window([1.6, 0.0, 1.0, 0.5, 1.5]) == 3  # (0.6, 1.6]: 1.0, 1.5, 1.6
    assert bench_burst._max_in_window([0.0, 1.0, 2.0]) == 1  # a message exactly 1 s earlier is out of the window
