"""Every screen an outcome's buttons open fits one Telegram message; a translation that breaks it is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.core.engine import Engine
from bot.i18n.catalogs import Catalogs
from bot.telegram.fit import screens_too_long
from bot.telegram.html import LIMIT
from tests.support.bot import CATALOGS
from tests.support.catalogs import locales_with
from tests.support.shipped import RULES, TAJIK, play

#: Words of a reasonable Uzbek paragraph, repeated past one message: what pasting a long text does.
LONG = "Bu izoh juda uzun, chunki unga qonunning butun matni koʻchirilgan. " * 70


def test_every_screen_of_the_shipped_content_fits_one_message(engine: Engine) -> None:
    assert screens_too_long(engine, CATALOGS) == []


def long_explanation(engine: Engine, folder: Path) -> tuple[Path, str]:
    """Locales whose Uzbek explanation of the Tajik story's outcome is longer than a message."""
    _, decision, _ = play(engine, TAJIK)
    assert len(LONG) > LIMIT
    return locales_with(folder, "uz", decision.outcome.explanation, LONG), decision.outcome.id


def test_a_translation_too_long_for_a_message_is_named_with_the_outcomes_line(engine: Engine, tmp_path: Path) -> None:
    locales, outcome = long_explanation(engine, tmp_path)
    [problem] = screens_too_long(engine, Catalogs.load(locales))
    assert (problem.path, problem.line) == (str(RULES), engine.table.outcomes[outcome].line)
    assert problem.where == f"outcome {outcome}"
    assert "what its 'why' button opens is " in problem.message
    assert " characters in uz: one Telegram message holds 4,096" in problem.message
    assert ", in " not in problem.message, "only Uzbek is too long"


@pytest.mark.parametrize("command", [["check"], ["i18n", "check"]])
def test_check_and_i18n_check_refuse_it(
    engine: Engine, tmp_path: Path, command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    locales, outcome = long_explanation(engine, tmp_path)
    assert main(["--locales", str(locales), *command]) == 1
    out = capsys.readouterr().out
    assert f"{RULES}:{engine.table.outcomes[outcome].line}: outcome {outcome}: what its 'why' button opens" in out
