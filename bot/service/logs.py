"""Logging that cannot leak: secrets and personal data are removed as records are made.

Two layers, installed on the log record factory so that they apply to every record of every
logger at every level, whichever handler writes it:

- secrets (the bot token, the webhook secret) are replaced wherever they appear;
- personal data: whatever is shaped like a Telegram update, message, chat or user. A raw update
  or API answer passed as an argument (python-telegram-bot logs the data it could not parse at
  ERROR and CRITICAL) is replaced by its length and a short hash, so that two reports of the same
  data can still be matched; and in what remains, the values of the fields that identify a person
  or hold what they typed (ids, names, usernames, texts, button data) are replaced, in JSON,
  Python-dict and object-repr form alike, tracebacks included.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import traceback
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "CAPPED_LOGGERS",
    "JsonFormatter",
    "configure_logging",
    "json_line",
    "redact_personal",
    "redact_personal_data",
    "redact_secrets",
]

#: The fields of Telegram objects that identify a person or hold what they typed or chose.
_PERSONAL_FIELDS = (
    "id", "user_id", "chat_id", "sender_chat_id", "first_name", "last_name", "username", "full_name", "name",
    "title", "text", "caption", "data", "query", "phone_number", "email", "question", "bio", "description",
    "invite_link", "link", "vcard", "address", "latitude", "longitude", "file_id", "file_unique_id",
)  # fmt: skip
_KEYS = "|".join(_PERSONAL_FIELDS)
_VALUE = r"""(?:"(?:[^"\\]|\\.)*"?|'(?:[^'\\]|\\.)*'?|-?\d+(?:\.\d+)?)"""
# "key": value and 'key': value (JSON, Python dicts), and key=value (python-telegram-bot's reprs).
_FIELD = re.compile(rf"""(?P<key>["'](?:{_KEYS})["']\s*:\s*|\b(?:{_KEYS})=){_VALUE}""")
#: A string argument this long that starts like JSON is logged as its size and hash, never shown.
_RAW_MIN = 120

#: These libraries log request URLs (which hold the token) or whole updates (names, ids, text)
#: at DEBUG or INFO; they never log below WARNING here.
CAPPED_LOGGERS = ("httpx", "httpcore", "telegram", "tornado", "apscheduler", "asyncio")

_installed: set[str] = set()


def redact_personal(text: str) -> str:
    """``text`` with the value of every personal field (ids, names, usernames, texts) replaced."""
    return _FIELD.sub(lambda m: m.group("key") + "«redacted»", text)


def _summary(value: object) -> str:
    """A raw update or answer as its size and a hash, to match two reports without showing either."""
    raw = value if isinstance(value, bytes | bytearray) else repr(value).encode("utf-8", "replace")
    return f"«{type(value).__name__} of {len(raw)} bytes, sha256 {hashlib.sha256(raw).hexdigest()[:12]}»"


def _is_raw(value: object) -> bool:
    """Whether a log argument is raw data from Telegram (a parsed update, an answer body)."""
    if isinstance(value, dict | list | tuple | bytes | bytearray):
        return True
    return isinstance(value, str) and len(value) >= _RAW_MIN and value.lstrip()[:1] in {"{", "["}


def _scrub_traces(record: logging.LogRecord, scrub: Callable[[str], str]) -> None:
    """Apply ``scrub`` to the record's traceback and stack, which quote exception messages and data.

    Formatters use ``exc_text`` when it is set, so the unscrubbed text is never made.
    """
    if record.exc_info and record.exc_info[1] is not None:
        text = record.exc_text or "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = scrub(text)
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def _personal_factory(previous: Any) -> Any:
    """A record factory that removes personal data from each record ``previous`` makes."""

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.args:
            values = record.args if isinstance(record.args, tuple) else (record.args,)
            if any(_is_raw(v) for v in values):
                record.args = tuple(_summary(v) if _is_raw(v) else v for v in values)
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed format string: shown as written, redacted
            message = f"{record.msg} {record.args!r}"
        redacted = redact_personal(message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, None
        _scrub_traces(record, redact_personal)
        return record

    return factory


_personal_installed = False


def redact_personal_data() -> None:
    """Remove personal data from every log record created from now on, by any logger (once per process)."""
    global _personal_installed  # one factory per process, however often logging is configured
    if not _personal_installed:
        logging.setLogRecordFactory(_personal_factory(logging.getLogRecordFactory()))
        _personal_installed = True


def redact_secrets(secrets: Iterable[str]) -> None:
    """Replace each secret by «redacted» in every log record created from now on, by any logger."""
    new = {s for s in secrets if s and len(s) >= 8} - _installed
    if not new:
        return
    _installed.update(new)
    previous = logging.getLogRecordFactory()

    def scrub(text: str) -> str:
        for secret in new:
            text = text.replace(secret, "«redacted»")
        return text

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        message = record.getMessage()
        if any(s in message for s in new):
            record.msg, record.args = scrub(message), None
        _scrub_traces(record, scrub)
        return record

    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def json_line(message: str, *, logger: str = "bot.cli", level: int = logging.CRITICAL) -> str:
    """``message`` as a JSON log line, for fatal start-up errors printed before logging is configured."""
    return JsonFormatter().format(logging.LogRecord(logger, level, __file__, 0, message, None, None))


def configure_logging(level: str = "INFO", secrets: Iterable[str] = (), fmt: str = "text") -> None:
    """Logs on standard error, human-readable or JSON lines, with secrets redacted and libraries capped."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    for name in CAPPED_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    redact_personal_data()
    redact_secrets(secrets)
