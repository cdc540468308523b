"""Logging never shows a secret: not in messages, arguments or tracebacks."""

from __future__ import annotations

import logging

import pytest

from bot.service.logs import configure_logging, redact_secrets

SECRET = "987654:SECRETsecretSECRET_for_the_log_test"


def test_secret_is_redacted_from_messages_arguments_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    redact_secrets([SECRET])
    log = logging.getLogger("maslahat.test")
    with caplog.at_level(logging.DEBUG):
        log.info("GET https://api.telegram.org/bot%s/getMe", SECRET)
        log.warning(f"token {SECRET} inline")
        try:
            raise RuntimeError(f"The token `{SECRET}` was rejected by the server.")
        except RuntimeError:
            log.exception("start-up failed")
    handler = logging.StreamHandler()
    formatted = "\n".join(handler.format(record) for record in caplog.records)
    assert SECRET not in formatted
    assert formatted.count("«redacted»") == 3


def test_chatty_libraries_never_log_below_warning() -> None:
    configure_logging("DEBUG")
    for name in ("httpx", "httpcore", "telegram"):
        assert logging.getLogger(name).getEffectiveLevel() >= logging.WARNING
