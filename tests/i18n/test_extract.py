"""The Babel extractor finds every text of the rule table, with comments, exactly as the loader reads it."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.extract import extract

from bot.core.table import Table
from bot.i18n.extract import extract_rules, table_texts
from bot.ruletable.yamlsource import read_yaml
from tests.support.shipped import ROOT, RULES


def _shipped_texts(table: Table) -> set[str]:
    texts = {table.meta.title, table.meta.disclaimer}
    texts |= {s.title for s in table.sources.values()}
    for fact in table.facts:
        texts.add(fact.question)
        texts |= {o.label for o in fact.options} | {o.hint for o in fact.options if o.hint}
    texts |= {d.text for d in table.documents.values()}
    texts |= {a.text for a in table.actions.values()} | {a.risk for a in table.actions.values()}
    texts |= {u.text for u in table.unknowns.values()}
    texts |= {h.name for h in table.help.values()} | {h.text for h in table.help.values()}
    texts |= {n.text for n in table.notes}
    texts |= {o.headline for o in table.outcomes.values()} | {o.explanation for o in table.outcomes.values()}
    return texts


def test_extractor_finds_every_text_the_loader_reads(table: Table) -> None:
    data, _ = read_yaml(RULES.read_text(encoding="utf-8"), str(RULES))
    extracted = {msgid for _, msgid, _ in table_texts(data)}
    assert extracted == _shipped_texts(table)


def test_babel_runs_the_registered_extraction_method() -> None:
    """`pybabel extract` finds the method by its entry point name, as locales/babel.cfg names it."""
    with RULES.open("rb") as handle:
        results = list(extract("maslahat_rules", handle))
    by_msgid = {msgid: (line, comments) for line, msgid, comments, _ in results}
    line, comments = by_msgid["A man"]
    assert comments == ["question sex, answer male: button label, keep under 30 characters"]
    assert RULES.read_text(encoding="utf-8").splitlines()[line - 1].strip() == 'label: "A man"'
    headline = next(
        c
        for m, (_, c) in by_msgid.items()
        if isinstance(m, str) and m.startswith("Without a Russian military document you cannot apply for a residence")
    )
    assert headline[0].startswith("outcome affected_residence (affected): headline")


def test_folded_yaml_text_is_extracted_on_one_line() -> None:
    source = b'meta:\n  title: "T"\n  disclaimer: >-\n    Two lines\n    of text.\n'
    results = list(extract_rules(io.BytesIO(source), [], [], {}))
    assert [(line, msg) for line, _, msg, _ in results] == [(2, "T"), (3, "Two lines of text.")]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_messages_on_an_untouched_tree_changes_nothing(tmp_path: Path) -> None:
    """Before: every run rewrote the template's date, so `git status` was never clean after it."""
    venv = Path(sys.executable).parent.parent
    for part in ("Makefile", "pyproject.toml", "bot", "rules", "locales", "docs"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, tmp_path / part)
    command = ["make", "-s", "-o", f"{venv}/bin/maslahat", "messages", f"VENV={venv}"]
    # Once, so that the files are as this Babel writes them (the oldest supported one writes a little
    # differently from the one the catalogs were last written with); then again, which must do nothing.
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True)
    template = tmp_path / "locales" / "messages.pot"
    dated = re.sub(
        r'"POT-Creation-Date: [^"]*"', r'"POT-Creation-Date: 2000-01-01 00:00+0000\\n"', template.read_text()
    )
    template.write_text(dated)  # as if extracted long ago: a run now must not rewrite it for its date alone
    files = [*sorted((tmp_path / "locales").rglob("*.po*")), tmp_path / "docs" / "conversation.md"]
    before = {f: f.read_bytes() for f in files}
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True)
    assert sorted((tmp_path / "locales").rglob("*.po*")) == files[:-1], "no file added or removed"
    assert [f.name for f in files if f.read_bytes() != before[f]] == []
