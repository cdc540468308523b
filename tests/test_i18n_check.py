"""`maslahat i18n check` and `status`: every defect reported with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.catalogs import parse_po_file
from bot.i18n_check import Expected, check_catalogs, language_status
from conftest import FIXTURES

BROKEN = FIXTURES / "i18n_broken"
RU = str(BROKEN / "ru" / "LC_MESSAGES" / "messages.po")
UZ = str(BROKEN / "uz" / "LC_MESSAGES" / "messages.po")


def _expected(*msgids: str, buttons: tuple[str, ...] = ()) -> dict[tuple[str, str | None], Expected]:
    return {(m, None): Expected(m, None, (), m in buttons) for m in msgids}


RU_EXPECTED = _expected(
    "Why",
    "Sources",
    "What is not known",
    "Information checked on {date}.",
    "Where to get help",
    "A man",
    "Your options and their risks",
    "<b>Unclear</b>",
    "RFE/RL investigation",
    "Send /forget to delete it; Telegram keeps the chat.",
    "Never extracted into this catalog",
    buttons=("A man",),
)


@pytest.fixture(scope="module")
def ru_problems() -> list[str]:
    problems, _ = check_catalogs(BROKEN, RU_EXPECTED, ["ru"])
    return [str(p) for p in problems]


@pytest.mark.parametrize(
    ("line", "phrase"),
    [
        (13, "not translated"),
        (17, "fuzzy"),
        (21, "placeholders ['data'] differ from the source's ['date']"),
        (25, "Latin words in a Cyrillic-script catalog: help"),
        (29, "button label is 43 characters; at most 30"),
        (33, "identical to the English source"),
        (37, "<b> is never closed"),
    ],
)
def test_each_defect_is_reported_at_its_line(ru_problems: list[str], line: int, phrase: str) -> None:
    matching = [p for p in ru_problems if p.startswith(f"{RU}:{line}:")]
    assert matching, f"nothing reported at line {line}: {ru_problems}"
    assert any(phrase in p for p in matching), matching


def test_missing_entry_is_reported_with_the_fix(ru_problems: list[str]) -> None:
    assert any("Never extracted" in p and "run `make messages`" in p for p in ru_problems)


def test_correct_entries_are_not_reported(ru_problems: list[str]) -> None:
    assert not [p for p in ru_problems if p.startswith((f"{RU}:9:", f"{RU}:41:", f"{RU}:45:"))]
    assert len(ru_problems) == 9  # the identical entry is also Latin in a Cyrillic catalog


def test_a_length_limit_stated_in_a_translator_comment_is_enforced() -> None:
    expected = {("Why", None): Expected("Why", None, ("menu item, at most 5 characters",), False, 5)}
    problems, _ = check_catalogs(BROKEN, expected, ["ru"])
    assert [p.message for p in problems if p.line == 9] == ["is 6 characters; the comment allows at most 5"]


def test_limits_are_read_from_the_code_comments() -> None:
    from bot.i18n_check import load_expected
    from conftest import ROOT

    expected = load_expected(ROOT / "bot", ROOT / "rules")
    description = next(e for e in expected.values() if e.msgid.startswith("Maslahat answers, in a few questions"))
    assert description.limit == 512
    assert expected[("A man", None)].button


def test_cyrillic_in_the_uzbek_latin_catalog_is_reported_except_abbreviations() -> None:
    problems, _ = check_catalogs(BROKEN, _expected("Why", "Sources", "Moldova"), ["uz"])
    assert [str(p) for p in problems] == [f"{UZ}:9: msgid 'Why': Cyrillic in a Latin-script catalog: Нега"]


def test_unparseable_catalog_is_reported_at_the_broken_line() -> None:
    problems, statuses = check_catalogs(FIXTURES / "i18n_unparseable", _expected("Why"), ["ru"])
    path = FIXTURES / "i18n_unparseable" / "ru" / "LC_MESSAGES" / "messages.po"
    assert [(p.path, p.line) for p in problems] == [(str(path), 14)]
    assert "not valid .po syntax" in problems[0].message
    assert statuses == []


def test_wrong_plural_forms_header_is_reported(tmp_path: Path) -> None:
    target = tmp_path / "ky" / "LC_MESSAGES"
    target.mkdir(parents=True)
    text = (BROKEN / "uz" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    (target / "messages.po").write_text(text.replace("nplurals=2; plural=(n != 1)", "nplurals=1; plural=0"), "utf-8")
    problems, _ = check_catalogs(tmp_path, {}, ["ky"])
    assert any("Plural-Forms" in p.message for p in problems)


def test_status_counts_translated_fuzzy_missing_and_obsolete() -> None:
    catalog = parse_po_file(Path(RU), "ru")
    status = language_status(catalog, _expected("Why", "Sources", "What is not known", "Not in the catalog"))
    assert (status.translated, status.fuzzy, status.missing) == (1, 1, 2)
    assert status.obsolete == 7  # entries in the catalog the code no longer shows
    assert status.percent == pytest.approx(25.0)
