"""Settings: one clear message per problem, secrets never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, Settings, read_environment, settings_from

TOKEN = "123456:ABCdefGhIJKlmNoPQRstuVWXyz0123456789"


def test_token_and_defaults() -> None:
    settings = settings_from({"BOT_TOKEN": TOKEN})
    assert settings.token == TOKEN
    assert settings.api_base_url == "https://api.telegram.org"
    assert settings.webhook_url is None
    assert settings.retention_days == 7
    assert TOKEN not in repr(settings)


def test_token_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text(TOKEN + "\n", encoding="utf-8")
    assert settings_from({"BOT_TOKEN_FILE": str(secret)}).token == TOKEN


@pytest.mark.parametrize(
    ("env", "overrides", "message"),
    [
        ({}, {}, "BOT_TOKEN is not set: get a token from @BotFather"),
        ({"BOT_TOKEN": "nonsense"}, {}, "does not look like a token"),
        ({"BOT_TOKEN": TOKEN}, {"webhook_url": "https://bot.example.org/hook"}, "a webhook needs a secret"),
        ({"BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": "s3cret"}, {"webhook_url": "http://bot.example.org"}, "full https URL"),
        ({"BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": "has spaces"}, {}, "WEBHOOK_SECRET may hold only"),
        ({"BOT_TOKEN": TOKEN}, {"api_base_url": "localhost:8081"}, "BOT_API_BASE_URL must be a full"),
        ({"BOT_TOKEN": TOKEN, "PORT": "http"}, {}, "PORT must be a number"),
        ({"BOT_TOKEN": TOKEN, "RETENTION_DAYS": "0"}, {}, "RETENTION_DAYS must be a whole number"),
        ({"BOT_TOKEN": TOKEN, "CONCURRENT_CHATS": "0"}, {}, "CONCURRENT_CHATS must be a whole number from 1"),
        ({"BOT_TOKEN": TOKEN, "CONCURRENT_CHATS": "many"}, {}, "CONCURRENT_CHATS must be a whole number from 1"),
        ({"BOT_TOKEN": TOKEN, "MESSAGES_PER_SECOND": "31"}, {}, "MESSAGES_PER_SECOND must be a whole number from 1"),
        ({"BOT_TOKEN": TOKEN, "MESSAGES_PER_SECOND": "0"}, {}, "MESSAGES_PER_SECOND must be a whole number from 1"),
        ({"BOT_TOKEN_FILE": "/nonexistent/token"}, {}, "BOT_TOKEN_FILE /nonexistent/token"),
    ],
)
def test_each_problem_has_its_message(env: dict[str, str], overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from(env, **overrides)
    assert any(message in p for p in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from({"PORT": "0", "RETENTION_DAYS": "x"}, webhook_url="ftp://x")
    assert len(caught.value.problems) == 5


def test_messages_per_second_defaults_to_telegrams_30_and_can_be_shared_by_replicas() -> None:
    assert settings_from({"BOT_TOKEN": TOKEN}).messages_per_second == 30
    assert settings_from({"BOT_TOKEN": TOKEN, "MESSAGES_PER_SECOND": "15"}).messages_per_second == 15


def test_concurrent_chats_defaults_to_64_and_can_be_set() -> None:
    assert settings_from({"BOT_TOKEN": TOKEN}).concurrent_chats == 64
    assert settings_from({"BOT_TOKEN": TOKEN, "CONCURRENT_CHATS": "1"}).concurrent_chats == 1


def test_command_line_overrides_the_environment() -> None:
    settings = settings_from(
        {"BOT_TOKEN": TOKEN, "PORT": "8000", "WEBHOOK_SECRET": "abc"}, port="9000", webhook_url="https://x.org/tg"
    )
    assert (settings.port, settings.webhook_path) == (9000, "tg")


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"BOT_TOKEN={TOKEN}\nPORT=9001\n", encoding="utf-8")
    monkeypatch.setenv("PORT", "9002")
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    env = read_environment(dotenv)
    assert env["BOT_TOKEN"] == TOKEN
    assert env["PORT"] == "9002"


def test_settings_secret_is_stable_when_configured() -> None:
    one = settings_from({"BOT_TOKEN": TOKEN, "SESSION_SECRET": "same"})
    two = settings_from({"BOT_TOKEN": TOKEN, "SESSION_SECRET": "same"})
    assert one.session_secret == two.session_secret == b"same"
    assert isinstance(Settings(token=TOKEN).session_secret, bytes)
