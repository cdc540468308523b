"""The harness every benchmark shares: results without machine paths, the command line, figures, the launcher."""

from __future__ import annotations

import json
import math
import sys
import tempfile
from pathlib import Path

import pytest

from benchmarks import bench_overhead
from benchmarks.harness.bots import launch
from benchmarks.harness.fakeapi import CountingLimits, free_port
from benchmarks.harness.measure import percentile, summary
from benchmarks.harness.profiling import function, summarize
from benchmarks.harness.results import ROOT, parse, write_results

pytestmark = pytest.mark.bench


def test_results_carry_no_path_of_this_machine(tmp_path: Path) -> None:
    results = {
        "command": f"python -m benchmarks.bench_startup --out {tempfile.gettempdir()}/startup.json",
        "nested": [{"results": f"{ROOT}/benchmarks/results", "python": f"{sys.base_prefix}/lib/tokenize.py"}],
        "figure": 1.5,
    }
    written = write_results(results, tmp_path / "out.json")
    text = (tmp_path / "out.json").read_text(encoding="utf-8")
    assert json.loads(text) == written
    assert written["command"] == "python -m benchmarks.bench_startup --out <tmp>/startup.json"
    assert written["nested"] == [{"results": "<repo>/benchmarks/results", "python": "<python>/lib/tokenize.py"}]
    assert written["figure"] == 1.5
    for place in (str(ROOT), tempfile.gettempdir(), sys.base_prefix):
        assert place not in text


def test_sizes_are_full_by_default_smoke_on_request_and_each_can_be_set() -> None:
    full, smoke = {"people": 1000, "window": 10.0, "profile": True}, {"people": 12, "window": 0.3, "profile": False}
    assert parse("burst", "", full, smoke, []).sizes == full
    args = parse("burst", "", full, smoke, ["--smoke", "--set", "people=30", "--set", "profile=yes"])
    assert args.sizes == {"people": 30, "window": 0.3, "profile": True}
    assert args.command == "python -m benchmarks.bench_burst --smoke --set people=30 --set profile=yes"
    with pytest.raises(SystemExit):
        parse("burst", "", full, smoke, ["--set", "persons=3"])


def test_percentiles_are_nearest_rank_and_say_how_many() -> None:
    values = [0.001 * n for n in range(1, 101)]  # 1..100 ms
    assert percentile(values, 0.5) == pytest.approx(0.050)
    assert percentile(values, 0.99) == pytest.approx(0.099)
    assert math.isnan(percentile([], 0.5))
    assert summary(values, 1000) == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0, "n": 100}


def test_counting_limits_say_which_window_refused() -> None:
    limits = CountingLimits(per_second=2, per_chat_per_second=1)
    assert limits.check(1, 10.0) is None
    assert limits.check(1, 10.1) == 1  # the chat's window is full
    assert limits.check(2, 10.2) is None
    assert limits.check(3, 10.3) == 1  # the bot's window is full
    assert limits.check(1, 11.5) is None  # a second later, both have room again
    assert dict(limits.refused) == {"per_chat": 1, "overall": 1}
    assert {chat: len(times) for chat, times in limits.accepted.items()} == {1: 2, 2: 1}


def test_profile_summary_attributes_samples_to_areas_and_bot_functions() -> None:
    raw = "\n".join(
        [
            "run (asyncio/runners.py:1);EpollSelector.select (selectors.py:468) 5",
            "run (asyncio/runners.py:1);_on_button (bot/telegram/application.py:400);"
            "_transact (bot/telegram/application.py:130) 3",
            "run (asyncio/runners.py:1);_on_button (bot/telegram/application.py:400);send (bot/telegram/send.py:73);"
            "retrying (bot/telegram/send.py:37);Bot.send_message (telegram/_bot.py:1138) 1",
            "run (asyncio/runners.py:1);feed_update (aiogram/dispatcher/dispatcher.py:9);"
            "Bot.__call__ (aiogram/client/bot.py:500) 1",
        ]
    )
    summary = summarize(
        raw,
        bench_overhead.AREAS,
        updates=10,
        seconds_per_sample=0.004,
        wrappers=bench_overhead.WRAPPERS,
        library_call=bench_overhead._in_bot_api_call,
    )
    assert summary["samples"] == 10
    areas = {name: figures["pct"] for name, figures in summary["areas"].items()}
    assert areas["idle: waiting in epoll"] == 50.0
    assert areas["bot/ own code (not in a Bot API call)"] == 30.0
    assert areas[bench_overhead.AREAS[1][0]] == 20.0  # a Bot API call, in either framework
    assert summary["bot_deepest_own_frame"]["bot/telegram/application.py:_transact"]["ms_per_update"] == 1.2
    assert "bot/telegram/send.py:retrying" not in summary["bot_deepest_own_frame"]


async def test_launch_fails_with_what_the_bot_said_when_it_never_gets_ready() -> None:
    command = [sys.executable, "-c", "import sys; sys.exit('no token for you')"]
    with pytest.raises(RuntimeError, match=r"not ready .*exit 1.*no token for you"):
        async with launch(command, free_port(), kind="broken"):
            pass


async def test_launch_fails_when_the_bot_does_not_stop_cleanly() -> None:
    port = free_port()
    server = f"""
import http.server, signal, sys
class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
signal.signal(signal.SIGTERM, lambda *_: sys.exit(4))
http.server.HTTPServer(("127.0.0.1", {port}), Ready).serve_forever()
"""
    with pytest.raises(RuntimeError, match="exited 4 after SIGTERM"):
        async with launch([sys.executable, "-c", server], port, kind="unclean") as bot:
            assert bot.ready >= bot.started


@pytest.mark.parametrize(
    "idle_leaf",
    ["EpollSelector.select (selectors.py:468)", "select (selectors.py:468)"],  # py-spy 0.4, py-spy 0.3 (the floor)
)
def test_profile_areas_read_py_spy_frames_of_the_lowest_and_newest_versions(idle_leaf: str) -> None:
    wrapper = "PerChatUpdateProcessor.do_process_update" if "Epoll" in idle_leaf else "do_process_update"
    raw = "\n".join(
        [
            f"run (asyncio/runners.py:1);{idle_leaf} 2",
            f"run (asyncio/runners.py:1);{wrapper} (bot/telegram/updates.py:80);Queue.put (asyncio/queues.py:1) 3",
        ]
    )
    summary = summarize(raw, bench_overhead.AREAS, 1, 0.004, wrappers=bench_overhead.WRAPPERS)
    assert summary["areas"]["idle: waiting in epoll"]["pct"] == 40.0
    assert "bot/ own code (not in a Bot API call)" not in summary["areas"], "a wrapper is the library's time"
    assert function(f"{wrapper} (bot/telegram/updates.py:80)") == "do_process_update"
