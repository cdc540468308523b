"""`maslahat preview`: the screens a person sees, as a phone-width page translators can open."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli.preview import screens_for
from bot.core.engine import Engine
from bot.core.languages import LANGUAGES, SourceLanguage
from bot.core.table import Table
from bot.i18n.catalogs import Catalogs
from bot.resources import shipped_locales
from tests.support.phone import CHAT_HEIGHT, Phone
from tests.support.shipped import TAJIK


def _frames(page: str) -> list[str]:
    return [unescape(frame) for frame in re.findall(r'<iframe srcdoc="([^"]*)"', page)]


def test_the_answers_lead_through_each_question_to_the_card_and_its_parts(
    tmp_path: Path, table: Table, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "preview.html"
    answers = [arg for fact, option in TAJIK.items() for arg in ("--answer", f"{fact}={option}")]
    assert main(["preview", "--lang", "ru", *answers, "-o", str(out)]) == 0
    assert f"wrote {out}" in capsys.readouterr().err
    frames = _frames(out.read_text(encoding="utf-8"))
    ru = Catalogs.load(shipped_locales()).translator("ru")
    for fact in table.facts:
        if fact.id in TAJIK:
            assert any(ru.gettext(fact.question) in frame for frame in frames), fact.id
    outcome = table.outcomes["affected_residence"]
    assert ru.gettext(outcome.headline) in frames[-1]
    assert ru.gettext(table.meta.disclaimer) in frames[-1], "the card's parts are there too, the disclaimer whole"


def test_with_no_answers_every_outcome_is_shown_in_every_language(tmp_path: Path, table: Table) -> None:
    out = tmp_path / "preview.html"
    assert main(["preview", "-o", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert len(_frames(page)) == len(table.outcomes) * len(LANGUAGES)
    for name in LANGUAGES.values():
        assert f"{name} · " in page


def test_answers_that_stop_short_show_the_questions_up_to_the_open_one(table: Table) -> None:
    shown = screens_for(Engine(table), SourceLanguage(), {"sex": "male", "age": "18_64"})
    assert [caption for caption, _ in shown] == ["sex", "age", "citizenship"]


def test_a_question_with_hints_is_shown_with_and_without_them(table: Table) -> None:
    answers = {**TAJIK}
    shown = dict(screens_for(Engine(table), SourceLanguage(), answers))
    plain, explained = shown["residence_basis"]
    assert len(explained.text) > len(plain.text)


def test_unknown_answers_and_languages_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["preview", "--answer", "sex=mal"]) == 2
    assert "unknown option 'mal' for 'sex'" in capsys.readouterr().err
    assert main(["preview", "--lang", "xx"]) == 2
    assert "language 'xx' is not available" in capsys.readouterr().err


def test_the_preview_is_what_the_phone_measures(table: Table, phone: Phone) -> None:
    """The card in the preview is one screen tall on the phone, as the phone tests promise."""
    [*_, (_, [card, *_parts])] = screens_for(Engine(table), SourceLanguage(), TAJIK)
    [box] = phone.measure([card])
    assert box.height <= CHAT_HEIGHT
