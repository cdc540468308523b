"""`maslahat check` says when the table changed but its version or checked date was not bumped."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bot.cli import main
from tests.support.shipped import FIXTURES

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

VERSION = '  version: "1.0"'
CHECKED = '  checked: "2026-01-15"'


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git checkout holding the minimal table, committed and tagged as a release."""
    shutil.copy(FIXTURES / "minimal.yaml", tmp_path / "table.yaml")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qam", "x", "--allow-empty")
    _git(tmp_path, "add", "table.yaml")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "release 1.0")
    _git(tmp_path, "tag", "v1.0")
    return tmp_path


def _edit(repo: Path, *changes: tuple[str, str]) -> Path:
    path = repo / "table.yaml"
    text = path.read_text(encoding="utf-8")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")
    return path


def _check(path: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["--rules", str(path), "check", *args])
    return code, capsys.readouterr().out


def test_a_content_change_without_a_bump_is_a_warning_naming_each_field(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before: forgetting the version kept /readyz, /version and every button's tag on the old one."""
    path = _edit(repo, ('title: "An official explanation"', 'title: "An official explanation, corrected"'))
    code, out = _check(path, capsys)
    assert code == 0, "a warning, not a problem"
    assert f"{path}:6: meta: warning: the table changed since v1.0 but version is still 1.0" in out
    assert f"{path}:7: meta: warning: the table changed since v1.0 but checked is still 2026-01-15" in out
    assert _check(path, capsys, "--strict")[0] == 1


def test_a_bumped_release_and_an_untouched_table_say_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "warning" not in _check(repo / "table.yaml", capsys, "--strict")[1]
    path = _edit(
        repo,
        ('title: "An official explanation"', 'title: "An official explanation, corrected"'),
        (VERSION, '  version: "1.1"'),
        (CHECKED, '  checked: "2026-02-01"'),
    )
    code, out = _check(path, capsys, "--strict")
    assert code == 0
    assert "warning" not in out


def test_since_names_the_revision_to_compare_with(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _edit(repo, (VERSION, '  version: "1.1"'), (CHECKED, '  checked: "2026-02-01"'))
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qam", "release 1.1")
    path = _edit(repo, ('title: "A news report"', 'title: "A news report, updated"'))
    assert "changed since HEAD but version is still 1.1" in _check(path, capsys, "--since", "HEAD")[1]
    assert "warning" not in _check(path, capsys, "--since", "v1.0")[1], "1.0 -> 1.1 was bumped"


def test_outside_a_git_checkout_nothing_is_compared(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURES / "minimal.yaml", tmp_path / "table.yaml")
    code, out = _check(tmp_path / "table.yaml", capsys, "--strict")
    assert code == 0
    assert "warning" not in out
