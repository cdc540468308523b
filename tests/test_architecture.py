"""The package's plan holds: the core knows nothing of the adapters, and nothing imports upward.

Read from the source with :mod:`ast`, so a forbidden import fails here even if no test runs it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.support.shipped import ROOT

PACKAGE = ROOT / "bot"

#: Sub-package -> the parts of bot it may import (besides itself). Top-level modules
#: (bot.settings, bot.metrics, bot.resources, bot.problems) are named as such.
ALLOWED: dict[str, set[str]] = {
    "core": {"problems"},
    "ruletable": {"core", "problems"},
    "i18n": {"core", "ruletable", "problems"},
    "storage": {"core", "problems"},
}
#: What no library sub-package may import: the adapters and the programs built on it.
ADAPTERS = {"telegram", "service", "cli"}


def bot_imports(path: Path) -> Iterable[tuple[int, str]]:
    """(line, first part under bot) of every ``bot.*`` import in a module, at any depth."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "bot" else [f"bot.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "bot" and len(parts) > 1:
                yield node.lineno, parts[1]


def violations(package: Path) -> list[str]:
    """Every import that breaks the plan, as ``file:line: sub-package imports part``."""
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if len(relative.parts) < 2:
            continue  # a top-level module
        own = relative.parts[0]
        for line, part in bot_imports(path):
            if part == own:
                continue
            if own in ALLOWED and part not in ALLOWED[own]:
                found.append(f"{path}:{line}: bot.{own} imports bot.{part}")
            elif own not in ALLOWED and own in ADAPTERS and part == "cli":
                found.append(f"{path}:{line}: bot.{own} imports bot.cli")
    return found


def test_the_package_keeps_its_plan() -> None:
    assert violations(PACKAGE) == []


def test_every_sub_package_is_known() -> None:
    """A new sub-package must be placed in the plan above, not slip past it."""
    subpackages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert subpackages == set(ALLOWED) | ADAPTERS


@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        ("core/engine.py", "from bot.telegram import screens", "bot.core imports bot.telegram"),
        ("core/engine.py", "import bot.storage.base", "bot.core imports bot.storage"),
        ("core/engine.py", "from bot import metrics", "bot.core imports bot.metrics"),
        ("storage/base.py", "from bot.service.app import Service", "bot.storage imports bot.service"),
        ("ruletable/loader.py", "from bot.cli.main import main", "bot.ruletable imports bot.cli"),
        ("telegram/send.py", "from bot.cli import main", "bot.telegram imports bot.cli"),
    ],
)
def test_a_forbidden_import_is_caught(tmp_path: Path, module: str, line: str, expected: str) -> None:
    for path in PACKAGE.rglob("*.py"):
        copy = tmp_path / "bot" / path.relative_to(PACKAGE)
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    target = tmp_path / "bot" / module
    # Inside a function, where a lazy import would hide from a reader of the module's head.
    target.write_text(target.read_text(encoding="utf-8") + f"\n\ndef _sneak() -> None:\n    {line}\n", "utf-8")
    found = violations(tmp_path / "bot")
    assert len(found) == 1, found
    assert found[0].endswith(expected)
