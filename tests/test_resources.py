"""Where the shipped rule table and catalogs are found: installed package first, then the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import resources
from bot.cli import main
from tests.support.shipped import ROOT


def test_in_the_checkout_the_top_level_folders_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MASLAHAT_RULES", raising=False)
    monkeypatch.delenv("MASLAHAT_LOCALES", raising=False)
    assert resources.shipped_rules() == ROOT / "rules" / "decree-821.yaml"
    assert resources.shipped_locales() == ROOT / "locales"


def test_an_installed_package_uses_the_data_it_carries(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("MASLAHAT_RULES", raising=False)
    monkeypatch.delenv("MASLAHAT_LOCALES", raising=False)
    (tmp_path / "data" / "rules").mkdir(parents=True)
    (tmp_path / "data" / "locales").mkdir()
    monkeypatch.setattr(resources, "files", lambda package: tmp_path)
    assert resources.shipped_rules() == tmp_path / "data" / "rules" / "decree-821.yaml"
    assert resources.shipped_locales() == tmp_path / "data" / "locales"


def test_the_environment_overrides_what_is_shipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MASLAHAT_RULES", str(tmp_path / "other.yaml"))
    monkeypatch.setenv("MASLAHAT_LOCALES", str(tmp_path / "catalogs"))
    assert resources.shipped_rules() == tmp_path / "other.yaml"
    assert resources.shipped_locales() == tmp_path / "catalogs"


def test_check_from_another_directory_finds_the_shipped_table(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("MASLAHAT_RULES", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 0
    assert "decree-821.yaml" in capsys.readouterr().out


def test_the_wheel_maps_rules_and_locales_into_the_package() -> None:
    """pyproject.toml's force-include puts both where bot/resources.py looks for them."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    mapping = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert mapping == {"rules": "bot/data/rules", "locales": "bot/data/locales"}
    assert (ROOT / "rules" / resources.RULES_FILE).is_file()
