"""The storage benchmark runs: a smoke run at tiny sizes writes sane figures (never judged for speed).

Also here, because benchmarks/bench_storage.py is what changed it: SQLiteStore.purge() deletes in
batches, and a purge of several batches removes every expired record and only those.
"""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

import pytest

from benchmarks import bench_storage
from bot.core.engine import Session
from bot.storage import sqlite as store_sqlite
from bot.storage.base import Record, person_key
from bot.storage.sqlite import SQLiteStore

pytestmark = pytest.mark.bench


def _positive_numbers(figures: dict[str, float]) -> None:
    for name, value in figures.items():
        assert isinstance(value, int | float), name
        assert value > 0, name


def test_smoke_run_writes_sane_figures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "results" / "storage.json"
    returned = bench_storage.main(["--smoke", "--out", str(out), "--workdir", str(tmp_path)])

    results = json.loads(out.read_text())
    assert results == json.loads(json.dumps(returned))
    assert "sqlite: large/small" in capsys.readouterr().out
    assert {"platform", "cpu_count", "python"} <= results["machine"].keys()
    assert results["command"].startswith("python -m benchmarks.bench_storage")
    sizes = {label: results["parameters"][label] for label in ("small", "large")}
    assert 0 < sizes["small"] < sizes["large"]
    expected_updates = results["parameters"]["rounds"] * results["parameters"]["per_round"]
    for backend in ("sqlite", "redis"):
        section = results[backend]
        for label in sizes:
            latency = section["latency"][label]
            assert latency["all"]["count"] == expected_updates
            assert latency["existing_people"]["count"] + latency["new_people"]["count"] == expected_updates
            _positive_numbers({k: v for k, v in latency["all"].items()})
            assert latency["all"]["p50_us"] <= latency["all"]["p99_us"] <= latency["all"]["max_us"]
            assert section["memory"][label]["VmRSS"] > 10_000, "a bot process takes more than 10 MiB"
            ping = section["ping_ms"][label]
            assert ping["n"] == 20
            assert 0 < ping["p50"] <= ping["max"]
        _positive_numbers(section["latency_ratio_large_to_small"])
        profile = section["profile_large"]
        assert profile["updates"] > 0
        assert sum(area["pct"] for area in profile["areas"].values()) > 99
        store_area = "SQLite: statements and commit, in the store's thread" if backend == "sqlite" else "redis-py"
        assert any(area.startswith(store_area) for area in profile["areas"]), "the store's own work is found"
        target = results["targets"][backend]
        _positive_numbers({"p50": target["p50_ratio"], "p99": target["p99_ratio"], "rss": target["rss_ratio"]})
    purge = results["sqlite"]["purge"]["large"]
    assert purge["expired"] == sizes["large"] // 10
    assert 0 <= purge["removed"] <= purge["expired"]  # updates meanwhile may renew a few
    assert purge["purge_s"] > 0
    for process in ("this_process", "other_process"):
        assert purge[process]["unavailable"] == 0, process
        assert purge[process]["updates"] > 0, process
        assert purge[process]["update_max_ms"] > 0, process
    assert purge["wal_file_mib_after"] >= 0
    assert list(results["sqlite"]["purge"]) == ["large"]  # the large file only
    assert not list(tmp_path.glob("maslahat-bench-storage-*")), "its working files are removed"
    assert not multiprocessing.active_children(), "its worker processes are gone"


async def test_sqlite_purge_in_batches_removes_every_expired_record_and_only_those(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_sqlite, "PURGE_BATCH", 3)
    now = [1_800_000_000.0]
    store = SQLiteStore(tmp_path / "sessions.db", 100.0, clock=lambda: now[0])
    try:
        record = Record(Session("ru")).after(Session("ru", {"sex": "male"}), 1, now[0])
        for user_id in range(10):  # these expire
            await store.put(person_key(b"secret", user_id), record, expected=0)
        now[0] += 50
        for user_id in range(10, 14):  # these stay
            await store.put(person_key(b"secret", user_id), record, expected=0)
        now[0] += 60
        assert await store.purge() == 10  # four batches: 3 + 3 + 3 + 1
        assert await store.size() == 4
        assert await store.purge() == 0
        assert await store.get(person_key(b"secret", 12)) is not None
    finally:
        await store.close()
