"""Settings from the environment and an optional .env file, validated with one message per problem."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from dotenv import dotenv_values
from dotenv.parser import parse_stream

from bot.problems import Problem, ProblemsError
from bot.storage import DEFAULT_STORAGE_URL, storage_problem
from bot.storage.base import private_directory

__all__ = [
    "DEFAULT_API",
    "WEBHOOK_PORTS",
    "ConfigError",
    "Environment",
    "SettingProblem",
    "Settings",
    "read_environment",
    "settings_from",
]

DEFAULT_API = "https://api.telegram.org"
#: The shortest SESSION_SECRET accepted: it keys the hash of every user id (256 bits, as generated).
MIN_SECRET_BYTES = 32
#: Where a setting given in neither a .env file nor on the command line is read from (or missing).
ENVIRONMENT = "environment"
#: Where a setting given as an option of the command stands.
COMMAND_LINE = "command line"


@dataclass(frozen=True, order=True)
class SettingProblem(Problem):
    """A setting that cannot be used: ``path`` and ``line`` say where it was set, ``where`` names it.

    Printed as its sentence alone, as operators have always read it: the sentence names the setting.
    """

    def __str__(self) -> str:
        return self.message


class ConfigError(ProblemsError, ValueError):
    """The settings cannot be used; ``problems`` has one :class:`SettingProblem` per problem, in the order found."""

    def __init__(self, problems: Iterable[Problem | str]) -> None:
        # A bare sentence (from a command that checks one setting itself) is a problem of the environment.
        super().__init__(p if isinstance(p, Problem) else SettingProblem(ENVIRONMENT, 0, "", p) for p in problems)


class Environment(dict[str, str]):
    """Setting values by name, each remembering where it was set: the environment or a line of a .env file."""

    def __init__(
        self, values: Mapping[str, str] | None = None, origins: Mapping[str, tuple[str, int]] | None = None
    ) -> None:
        super().__init__(values or {})
        self.origins = dict(origins or {})

    def origin(self, name: str) -> tuple[str, int]:
        """The file and line (0: none) where ``name`` was set."""
        return self.origins.get(name, (ENVIRONMENT, 0))


@dataclass(frozen=True)
class Settings:
    """How to run the Telegram bot. Secrets never appear in repr()."""

    token: str = field(repr=False)
    api_base_url: str = DEFAULT_API
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    listen: str = "127.0.0.1"
    port: int = 8080
    session_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    retention_days: int = 7
    concurrent_chats: int = 64
    messages_per_second: int = 30
    storage_url: str = DEFAULT_STORAGE_URL
    operator_ids: frozenset[int] = frozenset()
    log_level: str = "INFO"
    log_format: str = "text"
    #: The key file this start created because it was missing (None if it was there or not used).
    created_secret_file: Path | None = None

    @property
    def webhook_path(self) -> str:
        """The path the webhook listens on: the URL's path, never containing the token."""
        return urlparse(self.webhook_url or "").path.lstrip("/")


def read_environment(dotenv: Path | None = Path(".env")) -> Environment:
    """The process environment over the values of a .env file (the environment wins)."""
    values = {k: v for k, v in (dotenv_values(dotenv) if dotenv and dotenv.is_file() else {}).items() if v is not None}
    origins = {name: (str(dotenv), line) for name, line in _dotenv_lines(dotenv).items() if name in values}
    values.update(os.environ)
    return Environment(values, {name: where for name, where in origins.items() if name not in os.environ})


def _dotenv_lines(dotenv: Path | None) -> dict[str, int]:
    """The line on which each name in a .env file is set (the last, as that is the one that counts)."""
    if not dotenv or not dotenv.is_file():
        return {}
    lines: dict[str, int] = {}
    with dotenv.open(encoding="utf-8") as stream:
        for binding in parse_stream(stream):
            if binding.key is not None:
                written = binding.original.string
                # The parser counts the blank lines before a binding as its own.
                blank = written[: len(written) - len(written.lstrip())]
                lines[binding.key] = binding.original.line + blank.count("\n")
    return lines


#: What Telegram accepts as a webhook's secret_token (Bot API, setWebhook).
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: The only ports Telegram sends webhooks to (Bot API, setWebhook).
WEBHOOK_PORTS = (443, 80, 88, 8443)


def _url_problem(value: str, name: str, *, https: bool) -> str | None:
    """Why ``value`` of setting ``name`` is not a full http(s) URL, in one sentence; None if it is."""
    parsed = urlparse(value)
    schemes = ("https",) if https else ("http", "https")
    if parsed.scheme not in schemes or not parsed.netloc:
        return f"{name} must be a full {'https' if https else 'http(s)'} URL, not {value!r}"
    return None


def _webhook_url_problem(url: str) -> str | None:
    """Why Telegram would refuse ``url`` as a webhook, in one sentence; None if it would not."""
    try:
        given = urlparse(url).port
    except ValueError:  # a port that is not a number from 0 to 65535
        given = -1
    port = 443 if given is None else given
    if port not in WEBHOOK_PORTS:
        ports = ", ".join(str(p) for p in WEBHOOK_PORTS[:-1]) + f" or {WEBHOOK_PORTS[-1]}"
        return f"WEBHOOK_URL must use port {ports} (Telegram sends webhooks to no other), not {url!r}"
    return None


def _webhook_secret_problem(secret: str) -> str | None:
    """Why Telegram would refuse ``secret`` as a webhook's secret token; None if it would not."""
    # The secret itself is never quoted: the message goes to the logs.
    if _WEBHOOK_SECRET.fullmatch(secret):
        return None
    rule = "WEBHOOK_SECRET may hold only 1-256 characters A-Z a-z 0-9 _ -"
    if len(secret) > 256:
        return f"{rule}; it has {len(secret)} characters"
    return f"{rule}; it has others (spaces, non-Latin letters or punctuation)"


def settings_from(
    env: Mapping[str, str], *, secret_file_default: Path | None = None, **overrides: str | int | None
) -> Settings:
    """Build settings from environment values and command-line overrides (which win).

    Raises:
        ConfigError: every problem, each in one sentence, located where its setting was given
            (in ``env`` as :func:`read_environment` returns it: the .env file and line, if there).
    """

    problems: list[SettingProblem] = []
    given: set[str] = set()  # the settings given on the command line

    def pick(name: str, env_name: str) -> str | None:
        """The command line's value for ``name``, else the environment's for ``env_name``."""
        value = overrides.get(name)
        if value in (None, ""):
            return env.get(env_name) or None
        given.add(env_name)
        return str(value)

    def fail(name: str, message: str) -> None:
        """Record a problem with setting ``name``, located where the setting was given."""
        if name in given:
            path, line = COMMAND_LINE, 0
        else:
            path, line = env.origin(name) if isinstance(env, Environment) else (ENVIRONMENT, 0)
        problems.append(SettingProblem(path, line, name, message))

    token = pick("token", "BOT_TOKEN")
    given_as = "BOT_TOKEN"
    token_file = env.get("BOT_TOKEN_FILE")
    if not token and token_file:
        given_as = "BOT_TOKEN_FILE"
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            fail(given_as, f"BOT_TOKEN_FILE {token_file}: {exc.strerror}")
    if not token:
        fail(given_as, "BOT_TOKEN is not set: get a token from @BotFather in Telegram")
    elif ":" not in token:
        fail(given_as, "BOT_TOKEN does not look like a token from @BotFather (it has the form 123456:ABC…)")
    api = pick("api_base_url", "BOT_API_BASE_URL") or DEFAULT_API
    api_problem = _url_problem(api, "BOT_API_BASE_URL", https=False)
    if api_problem:
        fail("BOT_API_BASE_URL", api_problem)
    webhook_url = pick("webhook_url", "WEBHOOK_URL")
    webhook_secret = pick("webhook_secret", "WEBHOOK_SECRET")
    if webhook_url:
        # The port is checked only in a URL that is one.
        url_problem = _url_problem(webhook_url, "WEBHOOK_URL", https=True) or _webhook_url_problem(webhook_url)
        if url_problem:
            fail("WEBHOOK_URL", url_problem)
        if not webhook_secret:
            fail("WEBHOOK_SECRET", "a webhook needs a secret: set WEBHOOK_SECRET (1-256 characters A-Z a-z 0-9 _ -)")
    # Checked as Telegram checks it, so a secret it would refuse stops the bot here, not at setWebhook
    # (str.isalnum() would let "секрет2026" through).
    secret_problem = _webhook_secret_problem(webhook_secret) if webhook_secret else None
    if secret_problem:
        fail("WEBHOOK_SECRET", secret_problem)
    port_text = pick("port", "PORT") or "8080"
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        fail("PORT", f"PORT must be a number from 1 to 65535, not {port_text!r}")
    retention_text = env.get("RETENTION_DAYS", "7")
    if not retention_text.isdigit() or int(retention_text) < 1:
        fail("RETENTION_DAYS", f"RETENTION_DAYS must be a whole number of days, at least 1, not {retention_text!r}")
    concurrent_text = env.get("CONCURRENT_CHATS", "64")
    if not concurrent_text.isdigit() or not 1 <= int(concurrent_text) <= 1000:
        fail("CONCURRENT_CHATS", f"CONCURRENT_CHATS must be a whole number from 1 to 1000, not {concurrent_text!r}")
    rate_text = env.get("MESSAGES_PER_SECOND", "30")
    if not rate_text.isdigit() or not 1 <= int(rate_text) <= 30:
        fail("MESSAGES_PER_SECOND", f"MESSAGES_PER_SECOND must be a whole number from 1 to 30, not {rate_text!r}")
    operators = [part.strip() for part in (env.get("OPERATOR_IDS") or "").split(",") if part.strip()]
    if not all(part.isdigit() for part in operators):
        fail("OPERATOR_IDS", "OPERATOR_IDS must be Telegram user ids (numbers) separated by commas")
    log_level = (env.get("LOG_LEVEL") or "INFO").upper()
    if log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        fail("LOG_LEVEL", f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {log_level!r}")
    log_format = (env.get("LOG_FORMAT") or "text").lower()
    if log_format not in {"text", "json"}:
        fail("LOG_FORMAT", f"LOG_FORMAT must be text or json, not {log_format!r}")
    storage_url = env.get("STORAGE_URL") or DEFAULT_STORAGE_URL
    storage = storage_problem(storage_url)
    if storage:
        fail("STORAGE_URL", storage)
    session_secret: bytes | None = env["SESSION_SECRET"].encode() if env.get("SESSION_SECRET") else None
    if session_secret is not None and len(session_secret) < MIN_SECRET_BYTES:
        fail(
            "SESSION_SECRET",
            f"SESSION_SECRET must be at least {MIN_SECRET_BYTES} bytes (it keys the hash of every user id); "
            "make one with: python -c 'import secrets; print(secrets.token_hex(32))'",
        )
    secret_file = env.get("SESSION_SECRET_FILE") or (str(secret_file_default) if secret_file_default else None)
    created_secret_file: Path | None = None
    if session_secret is None and secret_file:
        try:
            if not Path(secret_file).exists():
                created_secret_file = Path(secret_file)
            session_secret = _read_or_create_secret(Path(secret_file))
        except OSError as exc:
            fail("SESSION_SECRET_FILE", f"SESSION_SECRET_FILE {secret_file}: {exc.strerror}")
    if problems:
        raise ConfigError(problems)
    assert token is not None
    return Settings(
        token=token,
        api_base_url=api.rstrip("/"),
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        listen=pick("listen", "LISTEN") or "127.0.0.1",
        port=int(port_text),
        session_secret=session_secret or secrets.token_bytes(32),
        retention_days=int(retention_text),
        concurrent_chats=int(concurrent_text),
        messages_per_second=int(rate_text),
        storage_url=storage_url,
        operator_ids=frozenset(int(part) for part in operators),
        log_level=log_level,
        log_format=log_format,
        created_secret_file=created_secret_file,
    )


def _read_or_create_secret(path: Path) -> bytes:
    """The session-hashing secret kept in ``path``, created (readable by the owner only) if missing.

    It must outlive restarts, or stored sessions could no longer be found; it is kept apart from
    the session store, so a copy of the store alone cannot be matched against user ids.
    """
    if not path.exists():
        private_directory(path.parent)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    return path.read_text(encoding="utf-8").strip().encode()
