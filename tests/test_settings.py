"""Settings: one clear message per problem, secrets never shown."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from bot.problems import Problem, ProblemsError
from bot.settings import ConfigError, SettingProblem, Settings, read_environment, settings_from

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
        settings_from(env, **overrides)  # type: ignore[arg-type]
    assert any(message in str(p) for p in caught.value.problems), caught.value.problems


SECRET = "a-b_C9"
HOOK = "https://bot.example.org/telegram"


@pytest.mark.parametrize(
    ("secret", "url", "problem"),
    [
        # WEBHOOK_SECRET as Telegram checks it: 1-256 characters, each A-Z a-z 0-9 _ -
        ("a-b_C9", HOOK, None),
        ("x" * 256, HOOK, None),
        ("секрет2026", HOOK, "WEBHOOK_SECRET may hold only 1-256 characters A-Z a-z 0-9 _ -; it has others"),
        ("x" * 257, HOOK, "WEBHOOK_SECRET may hold only 1-256 characters A-Z a-z 0-9 _ -; it has 257 characters"),
        ("has spaces", HOOK, "WEBHOOK_SECRET may hold only"),
        ("sécret", None, "WEBHOOK_SECRET may hold only"),  # checked even without a webhook
        ("", HOOK, "a webhook needs a secret: set WEBHOOK_SECRET"),
        # WEBHOOK_URL as Telegram checks it: https, on port 443, 80, 88 or 8443
        (SECRET, "https://bot.example.org:443/telegram", None),
        (SECRET, "https://bot.example.org:80/telegram", None),
        (SECRET, "https://bot.example.org:88/telegram", None),
        (SECRET, "https://bot.example.org:8443/telegram", None),
        (SECRET, "http://bot.example.org/telegram", "WEBHOOK_URL must be a full https URL"),
        (SECRET, "https://bot.example.org:8080/telegram", "WEBHOOK_URL must use port 443, 80, 88 or 8443"),
        (SECRET, "https://bot.example.org:99999/telegram", "WEBHOOK_URL must use port 443, 80, 88 or 8443"),
        (SECRET, "https://bot.example.org:0/telegram", "WEBHOOK_URL must use port 443, 80, 88 or 8443"),
        (SECRET, "https://bot.example.org:https/telegram", "WEBHOOK_URL must use port 443, 80, 88 or 8443"),
    ],
)
def test_webhook_settings_are_checked_as_telegram_checks_them(
    secret: str, url: str | None, problem: str | None
) -> None:
    env = {"BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": secret, **({"WEBHOOK_URL": url} if url else {})}
    if problem is None:
        settings = settings_from(env)
        assert (settings.webhook_url, settings.webhook_secret) == (url, secret)
        return
    with pytest.raises(ConfigError) as caught:
        settings_from(env)
    assert len(caught.value.problems) == 1, caught.value.problems
    (found,) = caught.value.problems
    message = str(found)
    assert problem in message, message
    assert "\n" not in message
    if secret:
        assert secret not in message  # the secret never reaches a log


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


SAME = "the same secret, thirty-two bytes or more"


def test_settings_secret_is_stable_when_configured() -> None:
    one = settings_from({"BOT_TOKEN": TOKEN, "SESSION_SECRET": SAME})
    two = settings_from({"BOT_TOKEN": TOKEN, "SESSION_SECRET": SAME})
    assert one.session_secret == two.session_secret == SAME.encode()
    assert isinstance(Settings(token=TOKEN).session_secret, bytes)


@pytest.mark.parametrize("secret", ["x", "short but not 32 bytes"])
def test_a_session_secret_shorter_than_32_bytes_is_a_configuration_error(secret: str) -> None:
    """Before: SESSION_SECRET=x was accepted, and a stolen store could be matched to ids by brute force."""
    with pytest.raises(ConfigError, match="SESSION_SECRET must be at least 32 bytes"):
        settings_from({"BOT_TOKEN": TOKEN, "SESSION_SECRET": secret})


def test_the_session_key_file_and_its_directory_are_the_owners_alone_whatever_the_umask(tmp_path: Path) -> None:
    """Before: under a umask of 022 the key's directory was readable by every user of the host."""
    key = tmp_path / "state" / "session.key"
    old = os.umask(0o022)
    try:
        settings_from({"BOT_TOKEN": TOKEN, "SESSION_SECRET_FILE": str(key)})
    finally:
        os.umask(old)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700


# Where each problem stands: settings problems are Problems like the rule table's and catalogs'.


def test_a_setting_problem_names_the_setting_and_reads_as_it_always_has() -> None:
    with pytest.raises(ConfigError) as caught:
        settings_from({"BOT_TOKEN": TOKEN, "PORT": "http"})
    assert isinstance(caught.value, ProblemsError)
    (problem,) = caught.value.problems
    assert isinstance(problem, Problem)
    assert (problem.path, problem.line, problem.where) == ("environment", 0, "PORT")
    # Printed as the sentence alone: operators read "maslahat: PORT must be ..." as before.
    assert str(problem) == problem.message == "PORT must be a number from 1 to 65535, not 'http'"
    assert str(caught.value) == "PORT must be a number from 1 to 65535, not 'http'"


def test_a_problem_with_a_setting_from_a_dotenv_file_names_the_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f'# settings\nBOT_TOKEN={TOKEN}\n\nLOG_LEVEL="very\nloud"\nPORT=http\n', encoding="utf-8")
    for name in ("BOT_TOKEN", "BOT_TOKEN_FILE", "LOG_LEVEL", "PORT", "WEBHOOK_URL", "WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RETENTION_DAYS", "0")
    with pytest.raises(ConfigError) as caught:
        settings_from(read_environment(dotenv), webhook_url="ftp://x")
    located = {p.where: (p.path, p.line) for p in caught.value.problems}
    assert located == {
        "LOG_LEVEL": (str(dotenv), 4),  # a value over two lines is located where it starts
        "PORT": (str(dotenv), 6),
        "RETENTION_DAYS": ("environment", 0),  # the environment wins over the file
        "WEBHOOK_URL": ("command line", 0),
        "WEBHOOK_SECRET": ("environment", 0),  # not set anywhere
    }


def test_a_bare_sentence_becomes_a_problem_of_the_environment() -> None:
    """What `maslahat stats` raises for a bad STORAGE_URL, which it checks itself."""
    error = ConfigError(["STORAGE_URL must start with sqlite://"])
    assert error.problems == [SettingProblem("environment", 0, "", "STORAGE_URL must start with sqlite://")]
    assert [str(p) for p in error.problems] == ["STORAGE_URL must start with sqlite://"]
