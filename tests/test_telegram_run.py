"""Running the bot for real: webhook mode, and `maslahat run` as a process against a fake Bot API."""

from __future__ import annotations

import asyncio
import signal
import tempfile
from pathlib import Path

from bot import screens
from bot.telegram_bot import build_application, handled_updates, register_menus
from fakebotapi import FakeBotApi, FakeUser, free_port
from processes import start_bot, wait_for
from test_telegram_bot import make_runtime
from tgclient import TelegramUser

SECRET = "webhook_secret_for_tests"


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
        process = await _run_process(
            api, "--webhook-url", f"https://127.0.0.1:{port}/telegram", "--webhook-secret", SECRET, "--port", str(port)
        )
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


async def test_maslahat_run_reports_a_refused_token_without_printing_it() -> None:
    async with FakeBotApi() as api:
        real = api.token
        api.token = "999:AAnotTheTokenTelegramKnows_abcdef"
        process = await _run_process(api)
        api.token = real
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=20)
    text = stderr.decode()
    assert process.returncode == 1
    assert "Telegram refused to start the bot (InvalidToken)" in text
    assert "AAnotTheTokenTelegramKnows" not in text


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
