"""Fixtures for the service's tests: counting how often the rule table is read and parsed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.ruletable import yamlsource


@pytest.fixture
def yaml_reads(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[str]]:
    """Two lists filled as the test runs: every .yaml file read through pathlib, every YAML document parsed."""
    reads: list[str] = []
    parses: list[str] = []
    read_bytes, read_text = Path.read_bytes, Path.read_text

    def counted_bytes(self: Path) -> bytes:
        if self.suffix == ".yaml":
            reads.append(str(self))
        return read_bytes(self)

    def counted_text(self: Path, *args: Any, **kwargs: Any) -> str:
        if self.suffix == ".yaml":
            reads.append(str(self))
        return read_text(self, *args, **kwargs)

    def counted_parse(self: Any) -> Any:
        parses.append(self.path)
        # The parser after the line-tracking mixin: libyaml's or PyYAML's, whichever read_yaml chose.
        return super(yamlsource._Tracking, self).get_single_data()

    monkeypatch.setattr(Path, "read_bytes", counted_bytes)
    monkeypatch.setattr(Path, "read_text", counted_text)
    monkeypatch.setattr(yamlsource._Tracking, "get_single_data", counted_parse, raising=False)
    return reads, parses
