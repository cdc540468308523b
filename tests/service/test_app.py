"""Running for months: configuration errors, health and metrics over HTTP, reload, operators, SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import json
import logging
import os
import re
import shutil
import signal
import sys
import threading
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from telegram.error import InvalidToken

from bot.cli import main
from bot.problems import Problem, ProblemsError
from bot.service import app as app_module
from bot.service.app import Service, backoff
from bot.service.content import Content
from bot.service.logs import JsonFormatter
from bot.storage.base import MemoryStore, Record, StoreUnavailable
from bot.storage.sqlite import SQLiteStore
from bot.telegram import screens
from bot.telegram.application import Runtime, build_application, handled_updates
from bot.telegram.http import AiohttpRequest
from tests.support.bot import TABLE, answer, make_runtime, t
from tests.support.catalogs import locales_with
from tests.support.fakebotapi import FakeBotApi, FakeUser, free_port
from tests.support.processes import eventually, http_get, relay, reserved_port, start_bot, wait_for
from tests.support.shipped import ROOT, RULES
from tests.support.stores import GatedStore
from tests.support.tgclient import TelegramUser

pytestmark = pytest.mark.e2e

OPERATOR = 424242

# Configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "args", "message"),
    [
        ({}, [], "BOT_TOKEN is not set: get a token from @BotFather"),
        (
            {"BOT_TOKEN": "123:abc", "WEBHOOK_URL": "not a url", "WEBHOOK_SECRET": "s"},
            [],
            "WEBHOOK_URL must be a full https URL",
        ),
        ({"BOT_TOKEN": "123:abc"}, ["--webhook-url", "https://bot.example.org/tg"], "a webhook needs a secret"),
        ({"BOT_TOKEN": "123:abc", "STORAGE_URL": "mysql://x"}, [], "STORAGE_URL must start with"),
        ({"BOT_TOKEN": "123:abc", "OPERATOR_IDS": "alice"}, [], "OPERATOR_IDS must be Telegram user ids"),
        ({"BOT_TOKEN": "123:abc", "LOG_FORMAT": "xml"}, [], "LOG_FORMAT must be text or json"),
        ({"BOT_TOKEN": "123:abc", "WEBHOOK_SECRET": "секрет2026"}, [], "WEBHOOK_SECRET may hold only"),
        (
            {"BOT_TOKEN": "123:abc", "WEBHOOK_SECRET": "s"},
            ["--webhook-url", "https://bot.example.org:8080/tg"],
            "WEBHOOK_URL must use port 443, 80, 88 or 8443",
        ),
    ],
)
def test_each_configuration_error_has_its_message_and_a_non_zero_exit(
    env: dict[str, str],
    args: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    for name in (
        "BOT_TOKEN",
        "BOT_TOKEN_FILE",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "STORAGE_URL",
        "OPERATOR_IDS",
        "LOG_FORMAT",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)  # no .env, and nothing written into the repository
    assert main(["run", *args]) == 2
    assert message in capsys.readouterr().err


def test_a_configuration_error_is_a_json_line_when_logs_are_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("BOT_TOKEN_FILE", "WEBHOOK_URL", "STORAGE_URL", "OPERATOR_IDS", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_TOKEN", "123:abc")
    monkeypatch.setenv("WEBHOOK_SECRET", "секрет2026")
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    monkeypatch.chdir(tmp_path)
    assert main(["run"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    entry = json.loads(line)
    assert entry["level"] == "CRITICAL"
    assert entry["message"].startswith("WEBHOOK_SECRET may hold only 1-256 characters")
    assert "секрет2026" not in line
    assert set(entry) == {"time", "level", "logger", "message"}  # the shape of every other log line


async def test_content_problems_at_start_are_json_lines_when_logs_are_json(tmp_path: Path) -> None:
    rules = tmp_path / "decree-821.yaml"
    rules.write_text(
        RULES.read_text(encoding="utf-8").replace('outcome: "affected_residence"', 'outcome: "nowhere"'),
        encoding="utf-8",
    )
    async with FakeBotApi() as api:
        process = await start_bot(api, tmp_path, MASLAHAT_RULES=str(rules), LOG_FORMAT="json")
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode == 1
    entries = [json.loads(line) for line in stderr.decode().splitlines()]  # every line is JSON
    problems = [e["message"] for e in entries if e["level"] == "CRITICAL"]
    assert any("unknown outcome 'nowhere'" in p and str(rules) in p for p in problems), problems
    assert not api.calls, "content problems stop the bot before it talks to Telegram"


# The HTTP server ---------------------------------------------------------------------------


class DownStore(MemoryStore):
    """A memory store whose ping can fail, as a store that is down."""

    down = False

    async def ping(self) -> None:
        if self.down:
            raise StoreUnavailable("test: down")


@contextlib.asynccontextmanager
async def serving(
    api: FakeBotApi, runtime: Runtime, rules: Path = RULES, port: int | None = None
) -> AsyncIterator[tuple[Service, str]]:
    port = port or free_port()
    runtime.settings = dataclasses.replace(runtime.settings, port=port)
    service = Service(build_application(runtime), runtime, rules, ROOT / "locales")
    task = asyncio.create_task(service.run())
    base = f"http://127.0.0.1:{port}"
    # /healthz answers before Telegram does; /readyz once updates are handled.
    async with aiohttp.ClientSession() as http:
        for _ in range(1000):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{base}/readyz") as response:
                    if response.status == 200:
                        break
            await asyncio.sleep(0.01)
    try:
        yield service, base
    finally:
        service.stopping.set()
        await asyncio.wait_for(task, timeout=20)


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


async def test_health_readiness_and_metrics_over_http() -> None:
    async with FakeBotApi() as api:
        runtime = make_runtime(api)
        store = DownStore(ttl=3600)
        runtime.store = store
        async with serving(api, runtime) as (service, base):
            assert await _get(f"{base}/healthz") == (200, "ok\n")
            status, body = await _get(f"{base}/readyz")
            assert status == 200
            ready = json.loads(body)
            assert ready["storage"] == "ok"
            assert ready["rules"] == TABLE.version_tag
            assert ready["catalogs"] == ["ky", "ru", "tg", "uz", "uz_Cyrl"]
            # What was loaded is out of the cyclic collector's way (no ~27 ms full collections).
            assert gc.get_freeze_count() > 10_000
            user = TelegramUser(api, lambda: handled_updates(service.application), language_code="tg")
            await user.send("/start")
            await answer(user, "tg", {"sex": "female"})
            api.fail_next("sendMessage", "server_error")
            await user.send("/help")
            status, metrics = await _get(f"{base}/metrics")
            assert status == 200
            assert 'maslahat_updates_total{kind="command"} 2.0' in metrics
            assert 'maslahat_updates_total{kind="button"} 2.0' in metrics
            assert 'maslahat_outcomes_total{lang="tg",verdict="not_affected"} 1.0' in metrics
            assert 'maslahat_telegram_retries_total{reason="network"} 1.0' in metrics
            assert "maslahat_update_seconds_bucket" in metrics
            assert "maslahat_chats_in_flight 0.0" in metrics  # nothing is being handled right now
            families = {f.name: f.samples for f in text_string_to_metric_families(metrics)}
            build = [(s.labels["rules"], s.labels["rules_version"], s.value) for s in families["maslahat_build_info"]]
            assert build == [(TABLE.meta.id, TABLE.meta.version, 1.0)]
            # At 0 before the first such outcome, so that rate() and alerts work from the start.
            assert 'maslahat_outcomes_total{lang="uz_Cyrl",verdict="affected"} 0.0' in metrics
            assert "process_resident_memory_bytes" in metrics
            store.down = True
            status, body = await _get(f"{base}/readyz")
            assert status == 503
            assert json.loads(body)["storage"] == "unavailable"
        assert gc.get_freeze_count() == 0  # a stopped service leaves the process's collector as it was


def webhook_runtime(api: FakeBotApi, port: int) -> Runtime:
    """The test runtime, configured for a webhook on ``port`` with the secret "s3cret_value"."""
    runtime = make_runtime(api)
    runtime.settings = dataclasses.replace(
        runtime.settings, webhook_url=f"https://127.0.0.1:{port}/telegram", webhook_secret="s3cret_value"
    )
    return runtime


async def test_webhook_requests_without_the_secret_get_403_on_the_same_server() -> None:
    async with FakeBotApi() as api:
        port = free_port()
        async with serving(api, webhook_runtime(api, port), port=port) as (service, base):
            user = FakeUser(61, "Test", None, "ru")
            update = {**api.message_update(user, text="/start", enqueue=False), "update_id": 5}
            assert await api.post_to_webhook(update, secret=None, url=f"{base}/telegram") == 403
            assert await api.post_to_webhook(update, secret="wrong", url=f"{base}/telegram") == 403
            assert await api.post_to_webhook(update, secret="s3cret_value", url=f"{base}/telegram") == 200
            client = TelegramUser(api, lambda: handled_updates(service.application), language_code="ru", user_id=61)
            await client.wait()
            assert t("ru").gettext(screens.WELCOME) in (client.last_message().text or "")
            assert api.calls_to("setWebhook")[-1]["secret_token"] == "s3cret_value"
            assert (await _get(f"{base}/healthz"))[0] == 200


async def test_the_webhook_answers_200_only_once_the_update_is_saved() -> None:
    """Before: 200 went back before the update was handled; a kill -9 then lost the press for good."""
    async with FakeBotApi() as api:
        port = free_port()
        runtime = webhook_runtime(api, port)
        store = GatedStore()
        store.gate.clear()  # writes wait
        runtime.store = store
        async with serving(api, runtime, port=port) as (_, base):
            user = FakeUser(63, "Test", None, "ru")
            update = {**api.message_update(user, text="/start", enqueue=False), "update_id": 7}
            posted = asyncio.create_task(api.post_to_webhook(update, secret="s3cret_value", url=f"{base}/telegram"))
            try:
                await asyncio.sleep(0.5)
                assert not posted.done(), "answered before the update was saved"
            finally:
                store.gate.set()
            assert await asyncio.wait_for(posted, 5) == 200


# Telegram unreachable at start ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 0.25, 0.5), (2, 0.5, 1.0), (3, 1.0, 2.0), (7, 15.0, 30.0), (8, 15.0, 30.0), (1000, 15.0, 30.0)],
)
def test_backoff_doubles_up_to_the_cap_with_jitter(attempt: int, low: float, high: float) -> None:
    assert backoff(attempt, 0.5, 30.0, rand=lambda: 0.0) == low
    assert backoff(attempt, 0.5, 30.0, rand=lambda: 1.0) == high
    assert low <= backoff(attempt, 0.5, 30.0) <= high


async def test_telegram_down_at_start_alive_not_ready_then_serving_once_it_answers() -> None:
    port = free_port()
    with reserved_port() as down:
        async with FakeBotApi() as api:
            runtime = make_runtime(api)
            runtime.settings = dataclasses.replace(
                runtime.settings,
                api_base_url=f"http://127.0.0.1:{down.getsockname()[1]}",
                port=port,
                webhook_url="https://127.0.0.1:8443/telegram",
                webhook_secret="s3cret_value",
            )
            service = Service(build_application(runtime), runtime, RULES, ROOT / "locales")
            service.retry_base, service.retry_cap = 0.05, 0.2  # a test need not wait 30 s
            task = asyncio.create_task(service.run())
            base = f"http://127.0.0.1:{port}"
            try:
                await eventually(lambda: _readyz_says(base, 503, "unreachable: retrying"), "/readyz 503")
                assert await _get(f"{base}/healthz") == (200, "ok\n")
                user = FakeUser(62, "Test", None, "ru")
                update = {**api.message_update(user, text="/start", enqueue=False), "update_id": 6}
                assert await api.post_to_webhook(update, secret="s3cret_value", url=f"{base}/telegram") == 503
                assert not task.done()
                async with relay(down, int(api.base_url.rsplit(":", 1)[1])):
                    await eventually(lambda: _readyz_says(base, 200, "ok"), "/readyz 200", timeout=10)
                    assert api.calls_to("setWebhook")[-1]["url"] == "https://127.0.0.1:8443/telegram"
                    assert await api.post_to_webhook(update, secret="s3cret_value", url=f"{base}/telegram") == 200
                    client = TelegramUser(
                        api, lambda: handled_updates(service.application), language_code="ru", user_id=62
                    )
                    await client.wait()
                    assert t("ru").gettext(screens.WELCOME) in (client.last_message().text or "")
                    service.stopping.set()
                    await asyncio.wait_for(task, timeout=20)
            finally:
                service.stopping.set()
                await asyncio.wait_for(task, timeout=20)


async def _readyz_says(base: str, status: int, telegram: str) -> bool:
    answer = await http_get(f"{base}/readyz")
    return answer is not None and answer[0] == status and json.loads(answer[1])["telegram"] == telegram


async def test_a_refused_token_raises_invalid_token_and_leaves_nothing_open() -> None:
    async with FakeBotApi() as api:
        runtime = make_runtime(api)
        port = free_port()
        runtime.settings = dataclasses.replace(runtime.settings, token="999:AAnotTheTokenTelegramKnows", port=port)
        service = Service(build_application(runtime), runtime, RULES, ROOT / "locales")
        with pytest.raises(InvalidToken):
            await asyncio.wait_for(service.run(), timeout=20)
        assert not service.stopping.is_set()
        assert await http_get(f"http://127.0.0.1:{port}/healthz") is None  # the HTTP server is closed
        request = service.application.bot.request
        assert isinstance(request, AiohttpRequest)
        with pytest.raises(RuntimeError, match="not initialized"):  # its connections are closed
            await request.do_request("http://127.0.0.1:9/", "GET")
        assert len(api.calls_to("getMe")) == 0  # refused before any method ran


# Operators ---------------------------------------------------------------------------------


def _operators(runtime: Runtime) -> Runtime:
    runtime.settings = dataclasses.replace(runtime.settings, operator_ids=frozenset({OPERATOR}))
    return runtime


@pytest.mark.parametrize("command", ["/stats", "/reload", "/version"])
async def test_operator_commands_look_unknown_to_everyone_else(command: str) -> None:
    async with FakeBotApi() as api:
        runtime = _operators(make_runtime(api))
        async with serving(api, runtime) as (service, _):
            stranger = TelegramUser(api, lambda: handled_updates(service.application), language_code="uz", user_id=7)
            await stranger.send(command)
            assert stranger.last_message().text == t("uz").gettext(screens.UNKNOWN_COMMAND)


async def test_operators_get_version_and_statistics() -> None:
    async with FakeBotApi() as api:
        runtime = _operators(make_runtime(api))
        async with serving(api, runtime) as (service, _):
            person = TelegramUser(api, lambda: handled_updates(service.application), language_code="ky", user_id=8)
            await person.send("/start")
            await answer(person, "ky", {"sex": "female"})
            operator = TelegramUser(
                api, lambda: handled_updates(service.application), language_code="ru", user_id=OPERATOR
            )
            await operator.send("/version")
            version = operator.last_message().text or ""
            assert TABLE.meta.version in version
            assert re.search(r"Catalog ky: (\d+)/\1 translated", version), "every text translated"
            await operator.send("/stats")
            stats = operator.last_message().text or ""
            assert "finished ky: 1" in stats
            assert "outcome not_affected_woman: 1" in stats


async def test_reload_by_operator_command_swaps_good_content_and_refuses_broken(tmp_path: Path) -> None:
    rules = tmp_path / "decree-821.yaml"
    shutil.copy(RULES, rules)
    async with FakeBotApi() as api:
        runtime = _operators(make_runtime(api))
        async with serving(api, runtime, rules) as (service, base):
            operator = TelegramUser(
                api, lambda: handled_updates(service.application), language_code="ru", user_id=OPERATOR
            )
            rules.write_text(
                RULES.read_text(encoding="utf-8").replace(f'version: "{TABLE.meta.version}"', 'version: "2099.01.01"'),
                encoding="utf-8",
            )
            old_engine = weakref.ref(runtime.engine)
            service.refreeze_after = 0.05
            await operator.send("/reload")
            assert "Reloaded: rules decree-821@2099.01.01" in (operator.last_message().text or "")
            await asyncio.sleep(0.2)
            assert gc.get_freeze_count() > 10_000  # frozen again...
            assert old_engine() is None  # ...without the replaced rule table
            assert json.loads((await _get(f"{base}/readyz"))[1])["rules"] == "decree-821@2099.01.01"
            rules.write_text("rules: [this is: not, valid", encoding="utf-8")
            await operator.send("/reload")
            refused = operator.last_message().text or ""
            assert "Reload refused; still running decree-821@2099.01.01" in refused
            assert f"{rules}:" in refused
            person = TelegramUser(api, lambda: handled_updates(service.application), language_code="en", user_id=9)
            await person.send("/start")
            await person.click("Start")
            assert "Are you a man or a woman?" in (person.last_message().text or "")


def _idle_service(rules: Path = RULES, locales: Path = ROOT / "locales") -> tuple[Service, Runtime]:
    """A service that is not running, whose reload() and signal handlers can be used."""
    runtime = make_runtime(FakeBotApi())
    return Service(build_application(runtime), runtime, rules, locales), runtime


async def test_reload_with_the_rules_file_deleted_reports_it_and_keeps_the_running_content(tmp_path: Path) -> None:
    """It raised FileNotFoundError out of the /reload handler and the SIGHUP task."""
    rules = tmp_path / "decree-821.yaml"
    shutil.copy(RULES, rules)
    service, runtime = _idle_service(rules)
    running = runtime.engine, runtime.catalogs
    rules.unlink()
    assert await service.reload() == [f"{rules}:0: cannot read the file: No such file or directory"]
    assert (runtime.engine, runtime.catalogs) == running
    assert runtime.metrics["reloads_refused"] == 1


async def test_reload_with_the_locales_folder_gone_reports_it_and_keeps_the_running_content(tmp_path: Path) -> None:
    service, runtime = _idle_service(locales=tmp_path / "locales")
    running = runtime.engine, runtime.catalogs
    assert await service.reload() == [f"{tmp_path / 'locales'}:0: cannot read the catalogs: no such directory"]
    assert (runtime.engine, runtime.catalogs) == running


async def test_a_reload_refuses_a_translation_too_long_for_one_message_and_keeps_the_running_content(
    tmp_path: Path,
) -> None:
    """A start-up does not measure every screen (bot.telegram.fit); a reload has the time to."""
    explanation = TABLE.outcomes["affected_residence"].explanation
    locales = locales_with(tmp_path, "uz", explanation, "Bu izoh juda uzun, qonun matni koʻchirilgan. " * 100)
    service, runtime = _idle_service(locales=locales)
    running = runtime.engine, runtime.catalogs
    [problem] = await service.reload()
    assert problem.startswith(f"{RULES}:{TABLE.outcomes['affected_residence'].line}: outcome affected_residence: ")
    assert "characters in uz: one Telegram message holds 4,096" in problem
    assert (runtime.engine, runtime.catalogs) == running
    assert runtime.metrics["reloads_refused"] == 1


async def test_a_reload_reads_and_parses_the_rules_file_once(yaml_reads: tuple[list[str], list[str]]) -> None:
    """The table's check and the extraction of its texts each read and parsed it."""
    service, runtime = _idle_service()
    assert await service.reload() == []
    assert yaml_reads == ([str(RULES)], [str(RULES)])
    assert runtime.metrics["reloads"] == 1


@pytest.mark.parametrize(
    ("outcome", "logged"),
    [
        ("applied", "reload on SIGHUP finished: the new content is in use"),
        ("refused", "reload on SIGHUP finished: refused, 1 problem(s)"),
        ("failed", "reload on SIGHUP failed, keeping the running content"),
    ],
)
async def test_a_sighup_reload_is_kept_until_done_and_its_outcome_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, outcome: str, logged: str
) -> None:
    """The task was made with ensure_future and not kept: the loop holds tasks weakly, so it could be
    collected mid-run, and an exception in it went unreported."""
    service, _ = _idle_service()
    release = threading.Event()
    real_load = app_module.load_content

    def held_load(rules: Path, locales: Path, *, every_screen: bool = False) -> Content:
        assert every_screen, "a reload measures every screen"
        release.wait(10)  # the reload stays under way until the test has looked at it
        if outcome == "refused":
            raise ProblemsError([Problem(str(rules), 0, "", "test: refused")])
        if outcome == "failed":
            raise RuntimeError("test: the disk is on fire")
        return real_load(rules, locales, every_screen=every_screen)

    monkeypatch.setattr(app_module, "load_content", held_load)
    loop = asyncio.get_running_loop()
    service._on_signals()
    try:
        with caplog.at_level(logging.INFO, logger="bot.service.app"):
            os.kill(os.getpid(), signal.SIGHUP)
            await wait_for(lambda: bool(service.reloading), "the reload SIGHUP starts", timeout=5)
            (task,) = service.reloading
            gc.collect()
            assert not task.done()
            release.set()
            await asyncio.wait({task}, timeout=10)
            await asyncio.sleep(0)  # done callbacks run on the loop's next turn
    finally:
        release.set()
        for handled in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(handled)
    assert service.reloading == set()
    records = [r for r in caplog.records if r.getMessage().startswith("reload on SIGHUP")]
    assert [r.getMessage() for r in records] == [logged]
    if outcome == "failed":
        assert records[0].exc_info is not None
        assert "the disk is on fire" in str(records[0].exc_info[1])


# Signals, in a real process ----------------------------------------------------------------


async def _process(
    api: FakeBotApi, state: Path, port: int, rules: Path = RULES, **extra: str
) -> asyncio.subprocess.Process:
    """A bot process that is ready: /readyz answers 200."""
    process = await start_bot(
        api,
        state,
        SESSION_SECRET="one secret for both runs, 32 bytes+",
        MASLAHAT_RULES=str(rules),
        PORT=str(port),
        **extra,
    )
    async with aiohttp.ClientSession() as http:
        for _ in range(1000):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                    if response.status == 200:
                        return process
            await asyncio.sleep(0.02)
    raise AssertionError("the bot did not become ready")


async def test_sighup_reloads_good_rules_and_keeps_running_on_broken_ones(tmp_path: Path) -> None:
    rules = tmp_path / "decree-821.yaml"
    shutil.copy(RULES, rules)
    port = free_port()
    async with FakeBotApi() as api:
        process = await _process(api, tmp_path, port, rules, LOG_FORMAT="json")
        try:
            shipped = f'version: "{TABLE.meta.version}"'
            assert shipped in RULES.read_text(encoding="utf-8")
            rules.write_text(
                RULES.read_text(encoding="utf-8").replace(shipped, 'version: "2099.01.01"'), encoding="utf-8"
            )
            process.send_signal(signal.SIGHUP)
            await _wait_for_rules(port, "decree-821@2099.01.01")
            rules.write_text(
                RULES.read_text(encoding="utf-8").replace('outcome: "affected_residence"', 'outcome: "nowhere"'),
                encoding="utf-8",
            )
            process.send_signal(signal.SIGHUP)
            await asyncio.sleep(1.0)  # give the refused reload time to be logged; the old rules must stay
            assert json.loads((await _get(f"http://127.0.0.1:{port}/readyz"))[1])["rules"] == "decree-821@2099.01.01"
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
        lines = [json.loads(line) for line in stderr.decode().splitlines() if line.startswith("{")]
        messages = [entry["message"] for entry in lines]
        assert any("reloaded rules decree-821@2099.01.01" in m for m in messages)
        assert any("reload refused" in m for m in messages)
        assert any("unknown outcome 'nowhere'" in m for m in messages)
        assert process.returncode == 0


async def _wait_for_rules(port: int, version: str) -> None:
    for _ in range(500):
        status, body = await _get(f"http://127.0.0.1:{port}/readyz")
        if status == 200 and json.loads(body)["rules"] == version:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"rules {version} were not loaded")


async def test_sigterm_during_a_conversation_loses_nothing(tmp_path: Path) -> None:
    user = FakeUser(77077, "Test", None, "en")
    async with FakeBotApi() as api:
        process = await _process(api, tmp_path, free_port())

        async def press(label: str) -> None:
            shown = api.messages(user.id)[-1]
            data = next(b["callback_data"] for row in shown.inline_keyboard for b in row if b["text"] == label)
            api.callback_update(user, shown.message_id, data)

        api.message_update(user, text="/start")
        await wait_for(lambda: bool(api.messages(user.id)) and api.messages(user.id)[-1].outgoing, "the welcome")
        await press("Start")
        await wait_for(lambda: "Are you a man" in (api.messages(user.id)[-1].text or ""), "the first question")
        await press("A man")
        process.send_signal(signal.SIGTERM)  # at once, while the press is being fetched or handled
        await asyncio.wait_for(process.wait(), timeout=20)
        assert process.returncode == 0
        process = await _process(api, tmp_path, free_port())  # whatever was not handled is handled now
        try:
            await wait_for(lambda: "How old are you?" in (api.messages(user.id)[-1].text or ""), "the next question")
        finally:
            process.send_signal(signal.SIGTERM)
            await asyncio.wait_for(process.wait(), timeout=20)
    store = SQLiteStore(tmp_path / "maslahat.db", ttl=3600)
    from bot.storage.base import person_key

    record: Record | None = await store.get(person_key(b"one secret for both runs, 32 bytes+", user.id))
    await store.close()
    assert record is not None
    assert dict(record.session.answers) == {"sex": "male"}


# Logs ----------------------------------------------------------------------------------------


def test_json_log_lines_are_valid_json_with_the_traceback() -> None:
    logger = logging.getLogger("maslahat.json.test")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logger.makeRecord(logger.name, logging.ERROR, __file__, 1, "it failed: %s", ("x",), sys.exc_info())
    entry: dict[str, Any] = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "ERROR"
    assert entry["message"] == "it failed: x"
    assert "ValueError: boom" in entry["exception"]


async def test_sighups_that_come_during_a_reload_are_folded_into_one_more(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: 20 SIGHUPs in a second ran 20 full reloads."""
    service, runtime = _idle_service()
    release = threading.Event()
    real_load = app_module.load_content
    loads: list[Path] = []

    def held_load(rules: Path, locales: Path, *, every_screen: bool = False) -> Content:
        loads.append(rules)
        release.wait(10)
        return real_load(rules, locales, every_screen=every_screen)

    monkeypatch.setattr(app_module, "load_content", held_load)
    loop = asyncio.get_running_loop()
    service._on_signals()
    try:
        os.kill(os.getpid(), signal.SIGHUP)
        await wait_for(lambda: bool(service.reloading), "the first reload starts", timeout=5)
        for _ in range(19):
            os.kill(os.getpid(), signal.SIGHUP)
            await asyncio.sleep(0.01)
        release.set()
        await wait_for(lambda: len(loads) == 2 and not service.reloading, "the one reload that follows", timeout=10)
        await asyncio.sleep(0.2)
    finally:
        release.set()
        for handled in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.remove_signal_handler(handled)
    assert len(loads) == 2, "one reload, then one more for every signal that came during it"
    assert runtime.metrics["reloads"] == 2
