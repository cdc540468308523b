"""Logging never shows a secret: not in messages, arguments or tracebacks."""

from __future__ import annotations

import json
import logging

import pytest

from bot.service.logs import configure_logging, redact_personal, redact_secrets
from tests.support.logscan import LogScan

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


UPDATE = {
    "update_id": 5,
    "message": {
        "message_id": 1,
        "from": {"id": 555000111, "is_bot": False, "first_name": "Dilnoza", "username": "dilnoza_k"},
        "chat": {"id": 555000111, "type": "private"},
        "text": "паспорт FA1234567",
    },
}
PRIVATE = ("555000111", "Dilnoza", "dilnoza_k", "FA1234567")


def _formatted(caplog: pytest.LogCaptureFixture) -> str:
    handler = logging.StreamHandler()
    return "\n".join(handler.format(record) for record in caplog.records)


def test_raw_updates_and_answers_are_logged_as_their_size_and_hash(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("DEBUG")
    log = logging.getLogger("telegram.ext.ExtBot")
    with caplog.at_level(logging.DEBUG):
        log.critical("Error while parsing updates! Received data was %r", [UPDATE])
        log.error('Can not load invalid JSON data: "%s"', json.dumps({"ok": True, "result": UPDATE})[:150])
        log.critical("Received data was: %r", UPDATE)
    text = _formatted(caplog)
    assert [p for p in PRIVATE if p in text] == []
    assert text.count("sha256") == 3, "each raw datum is named by its size and hash, to match reports"


def test_personal_fields_are_redacted_in_messages_reprs_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("DEBUG")
    log = logging.getLogger("maslahat.test")
    with caplog.at_level(logging.DEBUG):
        log.warning(f"update {UPDATE}")  # a dict formatted into the message itself
        log.warning("User(first_name='Dilnoza', id=555000111, is_bot=False, username='dilnoza_k')")
        try:
            raise ValueError(f"cannot handle {json.dumps(UPDATE, ensure_ascii=False)}")
        except ValueError:
            log.exception("handler failed")
    text = _formatted(caplog)
    assert [p for p in PRIVATE if p in text] == []
    assert "handler failed" in text
    assert "ValueError" in text, "the traceback is kept, its data redacted"


def test_redaction_keeps_what_names_no_one() -> None:
    assert redact_personal("reloaded rules decree-821@2026.12.02 in 0.4 s") == (
        "reloaded rules decree-821@2026.12.02 in 0.4 s"
    )
    assert redact_personal('{"update_id": 5, "id": 42}') == '{"update_id": 5, "id": «redacted»}'


def test_the_suites_log_scan_finds_what_a_person_sent_in_any_record() -> None:
    """The scan tests/conftest.py runs over the whole suite's logs can fail: shown here on purpose."""
    scan = LogScan()
    log = logging.getLogger("tests.logscan")
    log.addHandler(scan)
    log.propagate = False  # these leaks are on purpose: kept from the suite's own scan
    try:
        log.warning("handled a press from %s", "Dilnoza_Karimova")
        try:
            raise ValueError("update from user 987654321")
        except ValueError:
            log.exception("failed")
        log.warning("nothing personal here")
    finally:
        log.removeHandler(scan)
        log.propagate = True
    personal = {"Dilnoza_Karimova", "987654321", "never logged"}
    assert sorted(token for token, _ in scan.leaks(personal)) == ["987654321", "Dilnoza_Karimova"]
