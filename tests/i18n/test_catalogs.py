"""Catalogs load from .po with no compile step; a missing text falls back to Russian, then English."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core.languages import LANGUAGES, language_for
from bot.i18n.catalogs import CatalogError, Catalogs, catalog_path
from tests.support.shipped import FIXTURES, ROOT

LOCALES = ROOT / "locales"


def _copy_locales(tmp_path: Path) -> Path:
    target = tmp_path / "locales"
    shutil.copytree(LOCALES, target)
    return target


def _remove_entry(path: Path, msgid: str) -> None:
    text = path.read_text(encoding="utf-8")
    start = text.index(f'msgid "{msgid}"')
    end = text.index("\n\n", start)
    path.write_text(text[:start] + f'msgid "{msgid}"\nmsgstr ""' + text[end:], encoding="utf-8")


def test_every_supported_language_has_a_translator() -> None:
    catalogs = Catalogs.load(LOCALES)
    assert set(catalogs.translators) == set(LANGUAGES)
    assert catalogs.translator("ru").gettext("A man") != "A man"
    assert catalogs.translator("en").gettext("A man") == "A man"


def test_edited_po_file_is_used_on_next_load_without_compiling(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    path = catalog_path(locales, "tg")
    text = path.read_text(encoding="utf-8")
    old = Catalogs.load(locales).translator("tg").gettext("Why")
    path.write_text(text.replace(f'msgstr "{old}"', 'msgstr "Барои чӣ (нав)"', 1), encoding="utf-8")
    assert Catalogs.load(locales).translator("tg").gettext("Why") == "Барои чӣ (нав)"


def test_missing_text_falls_back_to_russian_then_english(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    _remove_entry(catalog_path(locales, "ky"), "Why")
    catalogs = Catalogs.load(locales)
    assert catalogs.translator("ky").gettext("Why") == catalogs.translator("ru").gettext("Why")
    _remove_entry(catalog_path(locales, "ru"), "Why")
    assert Catalogs.load(locales).translator("ky").gettext("Why") == "Why"


def test_fuzzy_entries_are_not_shown(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    path = catalog_path(locales, "uz")
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('msgid "Why"', '#, fuzzy\nmsgid "Why"', 1), encoding="utf-8")
    catalogs = Catalogs.load(locales)
    assert catalogs.translator("uz").gettext("Why") == catalogs.translator("ru").gettext("Why")


def test_broken_catalog_names_file_and_line(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    shutil.copy(FIXTURES / "i18n_unparseable" / "ru" / "LC_MESSAGES" / "messages.po", catalog_path(locales, "ru"))
    with pytest.raises(CatalogError) as caught:
        Catalogs.load(locales)
    assert [(p.path, p.line) for p in caught.value.problems] == [(str(catalog_path(locales, "ru")), 14)]


def test_missing_catalog_is_an_error(tmp_path: Path) -> None:
    locales = _copy_locales(tmp_path)
    catalog_path(locales, "tg").unlink()
    with pytest.raises(CatalogError, match="cannot read the catalog"):
        Catalogs.load(locales)


@pytest.mark.parametrize("make", ["missing", "a file"])
def test_a_locales_folder_that_is_not_one_is_one_problem_naming_it(tmp_path: Path, make: str) -> None:
    locales = tmp_path / "locales"
    if make == "a file":
        locales.write_text("not a folder", encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        Catalogs.load(locales)
    reason = "no such directory" if make == "missing" else "not a directory"
    assert [str(p) for p in caught.value.problems] == [f"{locales}:0: cannot read the catalogs: {reason}"]


def test_plural_forms_follow_babel_locale_data() -> None:
    catalogs = Catalogs.load(LOCALES)
    assert catalogs.catalogs["ru"].num_plurals == 3
    assert catalogs.catalogs["tg"].num_plurals == 2


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("uz", "uz"),
        ("uz-UZ", "uz"),
        ("uz_Cyrl", "uz_Cyrl"),
        ("tg", "tg"),
        ("ky", "ky"),
        ("ru", "ru"),
        ("en", "en"),
        ("en-GB", "en"),
        ("az", "ru"),
        ("de", "ru"),
        (None, "ru"),
        ("", "ru"),
    ],
)
def test_language_for_client_codes(code: str | None, lang: str) -> None:
    assert language_for(code) == lang
