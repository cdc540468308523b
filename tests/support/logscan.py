"""The whole suite's logs, scanned for what people sent: no user id, name, username or text may appear.

The fake Bot API notes the ids, names, usernames and texts of every update it makes
(:data:`PERSONAL`); :class:`LogScan`, on the root logger for the whole run, keeps every record
logged in the test process, as the bot's own logging would show it (bot.service.logs redacts
each record as it is made; the suite installs that as `maslahat run` does), and
tests.support.processes copies here what each bot process it starts writes on standard error
(:data:`PROCESS_LOGS`). At the end of the run, tests/conftest.py fails the run if any of them
appears in any record.
"""

from __future__ import annotations

import logging
import traceback

__all__ = ["PERSONAL", "PROCESS_LOGS", "LogScan", "note_personal"]

#: What the fake Bot API put in updates that names or quotes a person.
PERSONAL: set[str] = set()
#: What the bot processes the tests started wrote on standard error, in chunks.
PROCESS_LOGS: list[bytes] = []

#: Shorter tokens (ids like 61, names like "Test") also occur in ordinary log lines: not scanned.
_SHORTEST = 5


def note_personal(*values: object) -> None:
    """Remember ``values`` (ids, names, usernames, texts) as things no log may contain."""
    for value in values:
        text = "" if value is None else str(value)
        if len(text) >= _SHORTEST and not text.startswith("/"):
            PERSONAL.add(text)


class LogScan(logging.Handler):
    """Keeps every record it is given, as text: the message, the traceback and the stack."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        parts = [f"{record.levelname} {record.name}: {record.getMessage()}"]
        if record.exc_text:  # what formatters show when it is set (bot.service.logs sets it, redacted)
            parts.append(record.exc_text)
        elif record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        if record.stack_info:
            parts.append(record.stack_info)
        self.lines.append("\n".join(parts))

    def leaks(self, personal: set[str] | None = None) -> list[tuple[str, str]]:
        """Each (token, line) where something a person sent appears in a record."""
        tokens = PERSONAL if personal is None else personal
        lines = self.lines if personal is not None else [*self.lines, *_process_lines()]
        return [(token, line) for line in lines for token in tokens if token in line]


def _process_lines() -> list[str]:
    return b"".join(PROCESS_LOGS).decode("utf-8", "replace").splitlines()
