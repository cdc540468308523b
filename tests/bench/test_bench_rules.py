"""A smoke run of benchmarks/bench_rules.py, and the generator's promise: tables `maslahat check` passes.

No speed is asserted (timing in tests is flaky); only that the figures are there, positive, and the
JSON is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import bench_rules
from bot.ruletable.check import check_table
from bot.ruletable.loader import load_table

pytestmark = pytest.mark.bench


@pytest.mark.parametrize(
    ("rules", "facts", "countries"), [(10, 6, 12), (30, 8, 16), (57, 10, 20), (100, 12, 30), (120, 14, 30)]
)
def test_generated_tables_have_the_size_asked_and_pass_the_check(
    tmp_path: Path, rules: int, facts: int, countries: int
) -> None:
    path = tmp_path / "table.yaml"
    bench_rules.write_table(bench_rules.generate_table((rules, facts, countries)), path)
    table = load_table(path)
    report = check_table(table)

    assert report.problems == []  # no shadowed rule, every outcome reached, every question asked
    assert len(table.rules) == rules
    assert dict(table.rules[-1].when) == {}
    assert all(1 <= len(rule.when) <= 4 for rule in table.rules[:-1])
    assert max(len(fact.options) for fact in table.facts) == countries + 1  # the citizenship question
    assert next(iter(table.rules[0].when)) == "sex"  # the early exclusions come first, as in the shipped table


def test_smoke_run_writes_sane_figures(tmp_path: Path) -> None:
    out = tmp_path / "rules.json"
    report = bench_rules.main(["--smoke", "--out", str(out)])

    assert json.loads(out.read_text(encoding="utf-8")) == report
    assert report["benchmark"] == "rules"
    assert report["machine"]["cpu_count"] > 0
    assert "--smoke" in report["command"]
    assert [r["rules"] for r in report["sizes"]] == [10, 30]
    for result in [report["reference"], *report["sizes"]]:
        assert result["conversations"] > 0
        assert result["engine_states_after_exploring"] > 0
        assert result["load_s"]["min"] > 0
        assert result["check_s"]["min"] > 0
        assert result["cold_first_step_us"]["runs"] == min(5, result["conversations"])
        assert result["cold_first_step_us"]["median"] > 0
        assert result["cold_per_answer_us"] > 0
        assert result["warm_per_answer_us"] > 0
    figures = report["ratios"]["30/10"]
    assert figures["rules"] == 3.0
    assert figures["check_s"] > 0
    assert set(figures["per_answer_no_worse_than_linear"]) == {"warm_per_answer", "cold_per_answer"}
    assert isinstance(report["target_met"], bool)
    probe = report["cross_cutting_probe"]["runs"]
    assert [run["rules"] for run in probe] == [4, 6]
    assert all(run["outcome"] == "finished" and run["conversations"] > 0 for run in probe)


def test_the_probe_reports_a_table_it_stops_exploring_as_capped() -> None:
    (run,) = bench_rules.explosion_probe([6], [2], cap_s=0.0)

    assert run["outcome"] == "capped"
    assert run["conversations"] == 1
