"""`maslahat i18n check` and `status`: every defect reported with file and line."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import babel
import pytest
from babel.messages.plurals import PLURALS, get_plural

from bot.cli import main
from bot.i18n import plurals
from bot.i18n.catalogs import parse_po_file
from bot.i18n.checkers import Expected, check_catalogs, expected_messages, language_status
from bot.i18n.plurals import PLURAL_SAMPLE
from bot.problems import ProblemsError
from bot.ruletable.yamlsource import read_yaml
from bot.service.content import Content, load_content
from tests.support.shipped import FIXTURES, ROOT, RULES

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
    problems, _, _ = check_catalogs(BROKEN, RU_EXPECTED, ["ru"])
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
    expected: dict[tuple[str, str | None], Expected] = {
        ("Why", None): Expected("Why", None, ("menu item, at most 5 characters",), False, 5)
    }
    problems, _, _ = check_catalogs(BROKEN, expected, ["ru"])
    assert [p.message for p in problems if p.line == 9] == ["is 6 characters; the comment allows at most 5"]


def test_limits_are_read_from_the_code_comments() -> None:
    from bot.i18n.checkers import load_expected
    from tests.support.shipped import ROOT

    expected = load_expected(ROOT / "bot", ROOT / "rules")
    description = next(e for e in expected.values() if e.msgid.startswith("Maslahat answers, in a few questions"))
    assert description.limit == 512
    assert expected[("A man", None)].button


def test_texts_from_a_table_already_read_are_those_from_its_file() -> None:
    """The reload gives the YAML the table's check read, rather than have the file read again."""
    data, _ = read_yaml(RULES.read_text(encoding="utf-8"), str(RULES))
    from_file = expected_messages(ROOT / "bot", [RULES])
    assert expected_messages(ROOT / "bot", tables=[data]) == from_file
    assert len(from_file) > len(expected_messages(ROOT / "bot"))  # the table adds texts of its own


def test_cyrillic_in_the_uzbek_latin_catalog_is_reported_except_abbreviations() -> None:
    problems, _, _ = check_catalogs(BROKEN, _expected("Why", "Sources", "Moldova"), ["uz"])
    assert [str(p) for p in problems] == [f"{UZ}:9: msgid 'Why': Cyrillic in a Latin-script catalog: Нега"]


def test_unparseable_catalog_is_reported_at_the_broken_line() -> None:
    problems, _, statuses = check_catalogs(FIXTURES / "i18n_unparseable", _expected("Why"), ["ru"])
    path = FIXTURES / "i18n_unparseable" / "ru" / "LC_MESSAGES" / "messages.po"
    assert [(p.path, p.line) for p in problems] == [(str(path), 14)]
    assert "not valid .po syntax" in problems[0].message
    assert statuses == []


def test_wrong_plural_forms_header_is_reported(tmp_path: Path) -> None:
    target = tmp_path / "ky" / "LC_MESSAGES"
    target.mkdir(parents=True)
    text = (BROKEN / "uz" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    (target / "messages.po").write_text(text.replace("nplurals=2; plural=(n != 1)", "nplurals=1; plural=0"), "utf-8")
    problems, warnings, _ = check_catalogs(tmp_path, {}, ["ky"])
    path = str(target / "messages.po")
    assert [(p.path, p.line, p.where) for p in problems] == [(path, 5, "header")] * 2
    assert "nplurals=1" in problems[0].message
    assert "nplurals=2" in problems[0].message
    assert "selects form 0 for n=0" in problems[1].message
    assert "selects form 1" in problems[1].message
    assert warnings == []


def test_status_counts_translated_fuzzy_missing_and_obsolete() -> None:
    catalog = parse_po_file(Path(RU), "ru")
    status = language_status(catalog, _expected("Why", "Sources", "What is not known", "Not in the catalog"))
    assert (status.translated, status.fuzzy, status.missing) == (1, 1, 2)
    assert status.obsolete == 7  # entries in the catalog the code no longer shows
    assert status.percent == pytest.approx(25.0)


# Plural-Forms: compared by the form each formula selects, not by its text.

#: The Russian header locales/ru/LC_MESSAGES/messages.po ships (Babel 2.14 to 2.18 write it so).
SHIPPED_RU = "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);"
#: What Babel 2.19.0's get_plural('ru').plural_forms returns: other text, the same form for every n.
BABEL_2_19_RU = (
    "nplurals=3; plural=n % 10 == 1 && n % 100 != 11 ? 0 : n % 10 >= 2 && n % 10 <= 4 && (n % 100 < 12 || n % 100 > 14)"
    " ? 1 : 2;"
)
#: The same rule again, ordered differently from both: no Babel writes it, so it always differs in text.
REORDERED_RU = "nplurals=3; plural=(n%100>=11 && n%100<=14 ? 2 : n%10==1 ? 0 : n%10>=2 && n%10<=4 ? 1 : 2);"
LOCALES = ROOT / "locales"


def _header_line(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if line.startswith('"Plural-Forms: '))


def _ru_with_header(tmp_path: Path, header: str, source: Path = BROKEN) -> Path:
    """A copy of a Russian catalog with ``header`` as its Plural-Forms; returns the file."""
    path = tmp_path / "ru" / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True)
    text = (source / "ru" / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    assert SHIPPED_RU in text
    path.write_text(text.replace(SHIPPED_RU, header), encoding="utf-8")
    return path


def _babel_says(monkeypatch: pytest.MonkeyPatch, header: str) -> None:
    """Make the check compare with ``header`` as if the installed Babel's data said so."""
    monkeypatch.setattr(plurals, "get_plural", lambda lang: SimpleNamespace(plural_forms=header))


def test_the_shipped_russian_header_is_the_one_these_tests_name() -> None:
    assert parse_po_file(LOCALES / "ru" / "LC_MESSAGES" / "messages.po", "ru").plural_forms == SHIPPED_RU
    assert _header_line(LOCALES / "ru" / "LC_MESSAGES" / "messages.po") > 1


@pytest.mark.parametrize(
    "babels", [SHIPPED_RU, BABEL_2_19_RU, get_plural("ru").plural_forms], ids=["shipped", "2.19", "installed"]
)
@pytest.mark.parametrize(
    "ours",
    [SHIPPED_RU, BABEL_2_19_RU, REORDERED_RU, get_plural("ru").plural_forms],
    ids=["shipped", "2.19", "reordered", "installed"],
)
def test_russian_headers_that_select_the_same_forms_are_equal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ours: str, babels: str
) -> None:
    """Babel 2.19 rewrote the Russian formula; old and new (and the installed Babel's) are no error."""
    path = _ru_with_header(tmp_path, ours, source=LOCALES)
    _babel_says(monkeypatch, babels)
    problems, warnings, _ = check_catalogs(tmp_path, {}, ["ru"])
    assert problems == []
    if parse_po_file(path, "ru").plural_forms == babels:
        assert warnings == []
    else:
        assert [(w.path, w.line, w.where) for w in warnings] == [(str(path), _header_line(path), "header")]
        assert "selects the same form for every n" in warnings[0].message


@pytest.mark.parametrize(
    ("header", "n", "ours", "babels"),
    [
        ("nplurals=3; plural=(n==1 ? 0 : n<5 ? 1 : 2);", 0, 1, 2),
        # One operand wrong (n instead of n%100): right for every n below 111.
        (SHIPPED_RU.replace("n%100!=11", "n!=11"), 111, 0, 2),
        # Wrong only from a million on.
        (SHIPPED_RU.replace("n%10==1 &&", "n<1000000 && n%10==1 &&"), 1_000_001, 2, 0),
    ],
)
def test_a_formula_selecting_other_forms_is_an_error_at_the_first_such_n(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, header: str, n: int, ours: int, babels: int
) -> None:
    path = _ru_with_header(tmp_path, header)
    _babel_says(monkeypatch, BABEL_2_19_RU)
    problems, warnings, _ = check_catalogs(tmp_path, {}, ["ru"])
    assert [str(p) for p in problems] == [
        f"{path}:5: header: Plural-Forms selects form {ours} for n={n}, "
        f"where Babel {babel.__version__}'s {BABEL_2_19_RU!r} selects form {babels}"
    ]
    assert warnings == []


def test_a_wrong_formula_is_an_error_with_the_installed_babel_too(tmp_path: Path) -> None:
    path = _ru_with_header(tmp_path, "nplurals=3; plural=(n==1 ? 0 : n<5 ? 1 : 2);")
    problems, _, _ = check_catalogs(tmp_path, {}, ["ru"])
    assert [(p.path, p.line) for p in problems] == [(str(path), 5)]
    assert "selects form 1 for n=0" in problems[0].message


def test_a_different_number_of_forms_is_an_error(tmp_path: Path) -> None:
    path = _ru_with_header(tmp_path, "nplurals=2; plural=(n%10==1 && n%100!=11 ? 0 : 1);")
    problems, warnings, _ = check_catalogs(tmp_path, {}, ["ru"])
    assert [(p.path, p.line, p.where) for p in problems] == [(str(path), 5, "header")] * 2
    assert "nplurals=2" in problems[0].message
    assert "nplurals=3" in problems[0].message
    assert "selects form 1 for n=0" in problems[1].message  # Russian says 0 days, the many form: 2
    assert warnings == []


@pytest.mark.parametrize("expr", ["(n==1 ? 0 : )", "n ? 1", "n === 1", "n % 0"])
def test_an_expression_that_cannot_be_evaluated_is_an_error_at_its_line(tmp_path: Path, expr: str) -> None:
    path = _ru_with_header(tmp_path, f"nplurals=3; plural={expr};")
    problems, warnings, _ = check_catalogs(tmp_path, {}, ["ru"])
    assert [(p.path, p.line, p.where) for p in problems] == [(str(path), 5, "header")]
    assert "cannot be parsed" in problems[0].message
    assert expr in problems[0].message
    assert warnings == []


def test_the_header_line_is_found_where_the_field_starts(tmp_path: Path) -> None:
    path = _ru_with_header(tmp_path, "nplurals=3; plural=0;")
    text = path.read_text(encoding="utf-8").replace('"Language: ru\\n"\n', "")
    path.write_text(text.replace('"Plural-Forms:', '"Language: ru\\nPlural-Forms:'), encoding="utf-8")
    problems, _, _ = check_catalogs(tmp_path, {}, ["ru"])
    assert {p.line for p in problems} == {4}


def test_babels_formulas_test_only_what_the_plural_sample_covers() -> None:
    """PLURAL_SAMPLE's reasoning holds for the installed Babel's table (generated from CLDR)."""
    for lang, (_count, expr) in PLURALS.items():
        bare = [int(c) for c in re.findall(r"(?<![%\w])n\s*(?:==|!=|<=|>=|<|>)\s*(\d+)", expr)]
        assert all(c < 100 for c in bare), (lang, expr)
        for modulus, constant in re.findall(r"n\s*%\s*(\d+)\s*(?:==|!=|<=|>=|<|>)\s*(\d+)", expr):
            assert int(modulus) in {10, 100, 1000, 100000, 1000000}, (lang, expr)
            if int(modulus) >= 1000:
                assert int(constant) % 1000 == 0, (lang, expr)
            if int(modulus) == 1000:
                assert int(constant) == 0, (lang, expr)
            if int(modulus) == 100000:
                assert re.search(r"n\s*%\s*1000\s*==\s*0 &&", expr), (lang, expr)
    assert {0, 1_099, 100_000, 1_000_000, 1_000_011} <= set(PLURAL_SAMPLE)
    assert list(PLURAL_SAMPLE) == sorted(set(PLURAL_SAMPLE))


# Warnings: differences from Babel's data that readers do not see never refuse content.


def _content_copy(tmp_path: Path) -> tuple[Path, Path]:
    """Copies of rules/ and locales/, the Russian catalog's formula written unlike any Babel's."""
    shutil.copytree(ROOT / "rules", tmp_path / "rules")
    shutil.copytree(LOCALES, tmp_path / "locales")
    ru = tmp_path / "locales" / "ru" / "LC_MESSAGES" / "messages.po"
    ru.write_text(ru.read_text(encoding="utf-8").replace(SHIPPED_RU, REORDERED_RU), encoding="utf-8")
    return tmp_path / "rules" / RULES.name, tmp_path / "locales"


def test_a_warning_does_not_refuse_content(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rules, locales = _content_copy(tmp_path)
    with caplog.at_level(logging.WARNING, logger="bot.service.content"):
        loaded = load_content(rules, locales)
    assert isinstance(loaded, Content), loaded
    ru = locales / "ru" / "LC_MESSAGES" / "messages.po"
    assert [r.getMessage() for r in caplog.records if f"{ru}:15: header: Plural-Forms" in r.getMessage()]


def test_a_warning_is_printed_but_i18n_check_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules, locales = _content_copy(tmp_path)
    assert main(["--rules", str(rules), "--locales", str(locales), "i18n", "check"]) == 0
    out, err = capsys.readouterr()
    ru = locales / "ru" / "LC_MESSAGES" / "messages.po"
    assert f"{ru}:15: warning: header: Plural-Forms {REORDERED_RU!r} is written differently" in err
    assert out.startswith("OK: 5 catalogs")
    assert main(["--rules", str(rules), "--locales", str(locales), "i18n", "check", "--strict"]) == 1
    assert "--strict fails on warnings" in capsys.readouterr().err


def test_an_unparseable_formula_refuses_content_naming_file_and_line(tmp_path: Path) -> None:
    """gettext cannot build the translator; the content is refused with the header's file and line."""
    rules, locales = _content_copy(tmp_path)
    ru = locales / "ru" / "LC_MESSAGES" / "messages.po"
    ru.write_text(ru.read_text(encoding="utf-8").replace(REORDERED_RU, "nplurals=3; plural=(n ? 1);"), "utf-8")
    with pytest.raises(ProblemsError) as caught:
        load_content(rules, locales)
    problems = [str(p) for p in caught.value.problems]
    assert any(p.startswith(f"{ru}:15: header: Plural-Forms") and "cannot be parsed" in p for p in problems), problems
