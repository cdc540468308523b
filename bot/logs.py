"""Logging that cannot leak: secrets are removed as records are made, chatty libraries are capped."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterable
from typing import Any

__all__ = ["configure_logging", "redact_secrets"]

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


def configure_logging(level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """Human-readable logs on standard error, with secrets redacted and libraries capped."""
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in _CAPPED:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
    redact_secrets(secrets)
