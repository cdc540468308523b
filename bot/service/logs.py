"""Logging that cannot leak: secrets are removed as records are made, chatty libraries are capped."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Iterable
from typing import Any

__all__ = ["JsonFormatter", "configure_logging", "json_line", "redact_secrets"]

# These libraries log request URLs (which hold the token) or whole updates (names, ids, text)
# at DEBUG or INFO; they never log below WARNING here.
_CAPPED = ("httpx", "httpcore", "telegram", "tornado", "apscheduler", "asyncio")

_installed: set[str] = set()


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
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback quotes exception messages, which can hold the token (InvalidToken does).
            # Formatters use exc_text when it is set, so the unredacted text is never made.
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = scrub(text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
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
    for name in _CAPPED:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    redact_secrets(secrets)
