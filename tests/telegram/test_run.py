"""Running the bot for real: webhook mode, and `maslahat run` as a process against a fake Bot API."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import tempfile
import time
from pathlib import Path

import pytest

from bot.telegram import screens
from bot.telegram.application import build_application, handled_updates, register_menus
from tests.support.bot import make_runtime
from tests.support.fakebotapi import FakeBotApi, FakeUser, free_port
from tests.support.processes import eventually, http_get, relay, reserved_port, start_bot, wait_for
from tests.support.tgclient import TelegramUser

pytestmark = pytest.mark.e2e

SECRET = "webhook_secret_for_tests"
#: The address Telegram would post to; the fake Bot API only records it (a port Telegram accepts).
HOOK = "https://127.0.0.1:8443/telegram"


async def test_webhook_mode_answers_and_rejects_requests_without_the_secret() -> None:
    async with FakeBotApi() as api:
        app = build_application(make_runtime(api))
        port = free_port()
        async with app:
            assert app.updater is not None
            await app.updater.start_webhook(
                listen="127.0.0.1",
                port=port,
                url_path="telegram",
                secret_token=SECRET,
                webhook_url=f"http://127.0.0.1:{port}/telegram",
            )
            await app.start()
            user = TelegramUser(api, lambda: handled_updates(app), language_code="ky")
            await user.send("/start")
            await user.click(make_runtime(api).t("ky").gettext(screens.START))
            assert make_runtime(api).t("ky").gettext("Are you a man or a woman?") in (user.last_message().text or "")
            update = api.message_update(user.user, text="/start", enqueue=False)
            assert await api.post_to_webhook(update, secret=None) == 403
            assert await api.post_to_webhook(update, secret="wrong") == 403
            await app.updater.stop()
            await app.stop()


async def _run_process(api: FakeBotApi, *args: str) -> asyncio.subprocess.Process:
    return await start_bot(api, Path(tempfile.mkdtemp(prefix="maslahat-state-")), *args, LOG_LEVEL="DEBUG")


async def _stop(process: asyncio.subprocess.Process) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def test_maslahat_run_polls_registers_menus_answers_and_never_logs_the_token() -> None:
    async with FakeBotApi() as api:
        process = await _run_process(api)
        try:
            await wait_for(lambda: bool(api.short_descriptions) and bool(api.calls_to("getUpdates")), "start-up")
            user = FakeUser(4242, "Aziz", "aziz_msk", "tg")
            api.message_update(user, text="/start")
            await wait_for(lambda: len(api.messages(user.id)) >= 2, "the welcome")
        finally:
            stderr = await _stop(process)
        welcome = api.messages(user.id)[-1].text or ""
        assert make_runtime(api).t("tg").gettext(screens.WELCOME) in welcome
        assert [c["command"] for c in api.commands_for("tg")] == [name for name, _ in screens.COMMANDS]
        assert api.token not in stderr
        assert api.token.split(":")[1] not in stderr
        for private in ("4242", "Aziz", "aziz_msk"):
            assert private not in stderr


async def test_maslahat_run_webhook_rejects_requests_without_the_secret() -> None:
    async with FakeBotApi() as api:
        port = free_port()
        process = await _run_process(api, "--webhook-url", HOOK, "--webhook-secret", SECRET, "--port", str(port))
        try:
            await wait_for(lambda: bool(api.calls_to("setWebhook")), "setWebhook")
            assert api.calls_to("setWebhook")[-1]["secret_token"] == SECRET
            user = FakeUser(5151, "Farrukh", None, "uz")
            update = {**api.message_update(user, text="/start", enqueue=False), "update_id": 900_001}
            local = f"http://127.0.0.1:{port}/telegram"
            await wait_for(lambda: _listening(port), "the webhook server")
            assert await api.post_to_webhook(update, secret=None, url=local) == 403
            assert await api.post_to_webhook(update, secret="not-the-secret", url=local) == 403
            assert await api.post_to_webhook(update, secret=SECRET, url=local) == 200
            await wait_for(lambda: len(api.messages(user.id)) >= 2, "the welcome")
        finally:
            stderr = await _stop(process)
        assert SECRET not in stderr
        assert api.token not in stderr


REFUSED_TOKEN = "999:AAnotTheTokenTelegramKnows_abcdef"


@pytest.mark.parametrize(
    ("token", "answer", "log_format"),
    [
        (REFUSED_TOKEN, "401 Unauthorized", "text"),  # well-formed, but not a bot's
        ("bot999:AAnotEvenAWellFormedToken_abcdef", "404 Not Found", "text"),  # what Telegram says to garbage
        (REFUSED_TOKEN, "401 Unauthorized", "json"),
    ],
)
async def test_a_refused_token_exits_2_with_one_line_naming_bot_token(
    token: str, answer: str, log_format: str, tmp_path: Path
) -> None:
    async with FakeBotApi() as api:
        process = await start_bot(api, tmp_path, BOT_TOKEN=token, LOG_FORMAT=log_format)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    text = stderr.decode()
    assert process.returncode == 2, text
    # Other lines there may be (warnings about the content, as in any start); one says what stopped it.
    naming = [line for line in text.splitlines() if "BOT_TOKEN" in line]
    assert naming == text.splitlines()[-1:], text
    expected = f"Telegram refused BOT_TOKEN ({answer}): check the token @BotFather gave you"
    if log_format == "json":
        entry = json.loads(naming[0])
        assert (entry["level"], entry["logger"], entry["message"]) == ("CRITICAL", "bot.cli", expected)
    else:
        assert naming == [f"maslahat: {expected}"]
    assert "Traceback" not in text
    assert "Unclosed" not in text
    assert token.split(":")[1] not in text


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_port_in_use_exits_1_with_one_line(log_format: str, tmp_path: Path) -> None:
    with reserved_port() as taken:
        taken.listen()
        async with FakeBotApi() as api:
            process = await start_bot(api, tmp_path, PORT=str(taken.getsockname()[1]), LOG_FORMAT=log_format)
            _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    text = stderr.decode()
    assert process.returncode == 1, text
    last = text.splitlines()[-1]
    message = json.loads(last)["message"] if log_format == "json" else last
    assert "address already in use" in message, text
    assert "Traceback" not in text
    assert "Unclosed" not in text


def _attempts(stderr: str) -> list[tuple[int, float]]:
    """The attempts to reach Telegram that the bot logged: (number, seconds to the next)."""
    found = re.findall(r"WARNING .*Telegram cannot be reached \(attempt (\d+): .*next attempt in ([\d.]+) s", stderr)
    return [(int(n), float(delay)) for n, delay in found]


async def _readyz(port: int) -> tuple[int, dict[str, object]] | None:
    answer = await http_get(f"http://127.0.0.1:{port}/readyz")
    return None if answer is None else (answer[0], json.loads(answer[1]))


@pytest.mark.parametrize("down", ["refused", "silent"])
async def test_sigterm_while_waiting_for_telegram_stops_at_once(down: str, tmp_path: Path) -> None:
    """Nothing listening (refused) or a server that never answers (silent, a call in flight): exit 0 at once."""
    port = free_port()
    with reserved_port() as dead:
        if down == "silent":
            dead.listen()  # connections are accepted by the kernel, and nobody answers
        api_url = f"http://127.0.0.1:{dead.getsockname()[1]}"
        async with FakeBotApi() as api:
            args = ("--webhook-url", HOOK, "--webhook-secret", SECRET, "--port", str(port))
            process = await start_bot(api, tmp_path, *args, api_base_url=api_url)
            try:
                await eventually(lambda: _answers(port), "the HTTP server")
                assert await http_get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")
                expected = "unreachable: retrying" if down == "refused" else "connecting"
                await eventually(lambda: _telegram_is(port, expected), f"/readyz to say {expected!r}", timeout=10)
                update = api.message_update(FakeUser(31, "T", None, "ru"), text="/start", enqueue=False)
                local = f"http://127.0.0.1:{port}/telegram"
                assert await api.post_to_webhook(update, secret=None, url=local) == 403
                assert await api.post_to_webhook(update, secret=SECRET, url=local) == 503  # Telegram sends it again
                if down == "refused":
                    await asyncio.sleep(1.0)  # a few attempts, so the last one is waiting out its delay
            finally:
                began = time.monotonic()
                process.send_signal(signal.SIGTERM)
                _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
            took = time.monotonic() - began
    text = stderr.decode()
    assert process.returncode == 0, text
    assert took < 3, f"SIGTERM took {took:.1f} s"
    assert "Traceback" not in text
    assert "Unclosed" not in text
    assert api.token not in text
    if down == "refused":
        attempts = _attempts(text)
        assert [n for n, _ in attempts] == list(range(1, len(attempts) + 1)), text
        assert len(attempts) >= 2, text


async def _answers(port: int) -> bool:
    return await http_get(f"http://127.0.0.1:{port}/healthz") is not None


async def _telegram_is(port: int, state: str) -> bool:
    answer = await _readyz(port)
    return answer is not None and answer[0] == 503 and answer[1]["telegram"] == state


@pytest.mark.slow
async def test_maslahat_run_waits_out_a_bot_api_that_comes_up_60_s_late(tmp_path: Path) -> None:
    """Telegram unreachable at boot: alive, not ready, retrying with backoff; serving once it answers."""
    port = free_port()
    user = FakeUser(6060, "Dilshod", None, "uz")
    with reserved_port() as down:
        api_url = f"http://127.0.0.1:{down.getsockname()[1]}"
        async with FakeBotApi() as api:
            began = time.monotonic()
            process = await start_bot(api, tmp_path, api_base_url=api_url, PORT=str(port))
            try:
                await eventually(lambda: _telegram_is(port, "unreachable: retrying"), "/readyz 503", timeout=20)
                assert await http_get(f"http://127.0.0.1:{port}/healthz") == (200, "ok\n")
                await asyncio.sleep(max(0.0, 60 - (time.monotonic() - began)))
                assert process.returncode is None, "the bot gave up"
                assert await _telegram_is(port, "unreachable: retrying")
                async with relay(down, _port_of(api.base_url)):
                    # Whatever attempt comes next finds it: at most the 30 s cap away, plus start-up.
                    await eventually(lambda: _ready(port), "/readyz 200", timeout=45)
                    api.message_update(user, text="/start")
                    await wait_for(lambda: len(api.messages(user.id)) >= 2, "the welcome")
                    assert make_runtime(api).t("uz").gettext(screens.WELCOME) in (api.messages(user.id)[-1].text or "")
                    process.send_signal(signal.SIGTERM)
                    _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
    text = stderr.decode()
    assert process.returncode == 0, text
    attempts = _attempts(text)
    # Backoff, not a busy loop: a handful of attempts in a minute, none more than 30 s apart.
    assert 3 <= len(attempts) <= 15, f"{len(attempts)} attempts: {text[-3000:]}"
    assert max(delay for _, delay in attempts) <= 30.0
    assert "running in polling mode" in text
    assert api.token not in text
    assert api.token.split(":")[1] not in text
    assert "Traceback" not in text


async def _ready(port: int) -> bool:
    answer = await _readyz(port)
    return answer is not None and answer[0] == 200 and answer[1]["telegram"] == "ok"


def _port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def _listening(port: int) -> bool:
    import socket

    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


async def test_register_menus_survives_telegram_errors() -> None:
    async with FakeBotApi() as api:
        app = build_application(make_runtime(api), rate_limit=False)
        api.fail_next("setMyCommands", "forbidden", times=100)
        async with app:
            await register_menus(app)  # must not raise
        assert api.descriptions, "what could be registered was"
