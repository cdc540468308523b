"""A smoke run of benchmarks/bench_startup.py: `maslahat run` starts once and becomes ready.

No speed is asserted (timing in tests is flaky); only that the figures are there, positive, and the
JSON is written.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from benchmarks import bench_startup
from bot.i18n.checkers import KEYWORDS, _code_method_map, check_catalogs, expected_messages
from bot.service.content import load_content
from tests.support.shipped import ROOT, RULES

pytestmark = pytest.mark.bench

PACKAGE = ROOT / "bot"
LOCALES = ROOT / "locales"


def test_smoke_run_starts_the_bot_and_writes_sane_figures(tmp_path: Path) -> None:
    out = tmp_path / "startup.json"
    report = bench_startup.main(["--smoke", "--out", str(out)])

    assert json.loads(out.read_text(encoding="utf-8")) == report
    assert report["benchmark"] == "startup"
    assert report["machine"]["cpu_count"] > 0
    assert "--smoke" in report["command"]
    assert report["ready_s"]["runs"] == 1
    assert report["ready_s"]["min"] > report["first_bot_api_call_s"]["min"] > 0
    imports = {f"python -c {code!r}" for code in bench_startup.IMPORTS}
    assert set(report["baselines_s"]) == {"bare bot ready", "aiogram bot ready", *imports}
    assert all(figures["median"] > 0 for figures in report["baselines_s"].values())
    assert "maslahat run" in report["setup"]
    phases = report["phases_s"]
    assert phases["import bot.cli"] > 0
    assert phases["open store + ping"] > 0
    assert phases["build_application"] > 0
    parts = {f"load_content: {name}" for name in ("check_file", "Catalogs.load", "expected_messages", "check_catalogs")}
    assert parts <= set(phases)
    assert phases["load_content"] >= sum(phases[part] for part in parts) > 0  # the parts are within it
    assert report["target"] == "ready in under 1 s"
    assert isinstance(report["target_met"], bool)


# What the start-up fixes rely on: each shortcut gives exactly what the long way gave.


def test_leaving_out_files_without_a_keyword_extracts_the_same_texts() -> None:
    def extract(method_map: list[tuple[str, str]]) -> list[tuple[object, ...]]:
        found = extract_from_dir(str(PACKAGE), method_map=method_map, keywords=KEYWORDS, comment_tags=("Translators:",))
        return list(found)

    assert extract(_code_method_map(PACKAGE)) == extract([("**.py", "python")])
    assert len(_code_method_map(PACKAGE)) < len(list(PACKAGE.rglob("*.py")))


def test_checking_the_catalogs_already_parsed_finds_what_reading_them_again_finds() -> None:
    content = load_content(RULES, LOCALES)
    assert not isinstance(content, list)
    expected = expected_messages(PACKAGE, [RULES])
    again = check_catalogs(LOCALES, expected)
    assert check_catalogs(LOCALES, expected, catalogs=content.catalogs.catalogs) == again
    partial = {"ru": content.catalogs.catalogs["ru"]}  # the others are read from their files
    assert check_catalogs(LOCALES, expected, catalogs=partial) == again


def test_the_loaded_engine_is_the_one_the_check_explored() -> None:
    content = load_content(RULES, LOCALES)
    assert not isinstance(content, list)
    cached = content.engine._remaining.cache_info()
    assert cached.currsize > 0  # every conversation already explored: a first question costs no exploration
    content.engine.step(content.engine.new_session())
    assert content.engine._remaining.cache_info().misses == cached.misses
