"""Operators own the rule table: three everyday edits pass every check with no Python touched.

In a copy of the repository, as an operator following docs/rules.md would: add a country, add a
help contact, change a rule's confidence; write the cases that say what the edits mean; bump the
version and the date checked; run `make messages` and translate the new texts. Then the checks CI
runs pass in the copy (`maslahat check --strict`, `maslahat i18n check`, scripts/check-generated),
and so do the copy's tests of everything the table feeds: the engine, the terminal, `advise`,
the outcome's sections, the catalogs, and whole Telegram conversations of every case, its new
ones included. Before, the same edits failed 21 tests whose fixes were all in Python.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po, write_po

from tests.support.shipped import ROOT

pytestmark = pytest.mark.slow

VENV = Path(sys.executable).parent.parent

#: (where it goes, what is there, what the operator writes instead), in the rule table.
TABLE_EDITS = [
    # 1. A country: an answer to the citizenship question, and the note on its law.
    ('        label: "Ukraine"\n', '        label: "Ukraine"\n      - id: "mongolia"\n        label: "Mongolia"\n'),
    ('"moldova", "ukraine", "other"]', '"moldova", "ukraine", "mongolia", "other"]'),
    # 2. A help contact for Uzbek citizens, offered wherever the Uzbek Migration Agency is.
    (
        '  - id: "kyrgyz_embassy"\n',
        '  - id: "samarkand_desk"\n'
        '    name: "The Samarkand community desk in Moscow"\n'
        '    text: "Volunteers who speak Uzbek read your documents with you."\n'
        "    when:\n"
        '      citizenship: "uzbekistan"\n'
        '  - id: "kyrgyz_embassy"\n',
    ),
    ('"uzbek_migration_agency", "kyrgyz_embassy"]', '"uzbek_migration_agency", "kyrgyz_embassy", "samarkand_desk"]'),
    # 3. A rule's confidence, after a second source is found.
    (
        '      residence_basis: "other_without_temporary_permit"\n    outcome: "not_affected_without_rvp"\n'
        '    sources: ["mvd_2025_12", "rusvesna_2025_11"]\n    confidence: "low"',
        '      residence_basis: "other_without_temporary_permit"\n    outcome: "not_affected_without_rvp"\n'
        '    sources: ["mvd_2025_12", "rusvesna_2025_11"]\n    confidence: "medium"',
    ),
]

CASE_EDITS = [
    # The IT specialist's case says what the new confidence is.
    (
        '      outcome: "not_affected_without_rvp"\n      verdict: "not_affected"\n      questions: 5\n'
        '      confidence: "low"\n',
        '      outcome: "not_affected_without_rvp"\n      verdict: "not_affected"\n      questions: 5\n'
        '      confidence: "medium"\n',
    ),
]

NEW_CASES = """
  - name: "Mongolian man applying for VNZh after RVP, no service"
    answers:
      sex: "male"
      age: "18_64"
      citizenship: "mongolia"
      application: "residence_permit"
      residence_basis: "after_temporary_permit"
      service: "none"
    expect:
      outcome: "affected_residence"
      notes: ["other_country_law"]
  - name: "Uzbek man on RVP with no service is offered the Samarkand desk"
    answers:
      sex: "male"
      age: "18_64"
      citizenship: "uzbekistan"
      application: "residence_permit"
      residence_basis: "after_temporary_permit"
      service: "none"
    expect:
      verdict: "affected"
      help: ["uzbek_migration_agency", "samarkand_desk"]
"""

#: What the translators write for the three new texts.
TRANSLATIONS = {
    "Mongolia": {"ru": "Монголия", "uz": "Mongoliya", "uz_Cyrl": "Монголия", "tg": "Муғулистон", "ky": "Монголия"},
    "The Samarkand community desk in Moscow": {
        "ru": "Самаркандская община в Москве",
        "uz": "Moskvadagi Samarqand jamoasi",
        "uz_Cyrl": "Москвадаги Самарқанд жамоаси",
        "tg": "Ҷамъияти Самарқанд дар Маскав",
        "ky": "Москвадагы Самарканд жамааты",
    },
    "Volunteers who speak Uzbek read your documents with you.": {
        "ru": "Волонтёры, которые говорят по-узбекски, прочитают документы вместе с вами.",
        "uz": "Oʻzbekcha gapiradigan koʻngillilar hujjatlaringizni siz bilan birga oʻqiydi.",
        "uz_Cyrl": "Ўзбекча гапирадиган кўнгиллилар ҳужжатларингизни сиз билан бирга ўқийди.",
        "tg": "Ихтиёриёни ӯзбекзабон ҳуҷҷатҳои шуморо бо шумо якҷоя мехонанд.",
        "ky": "Өзбекче сүйлөгөн ыктыярчылар документтериңизди сиз менен бирге окушат.",
    },
}

#: The copy's tests of everything the rule table feeds (the rest test machinery on fixtures).
COPY_TESTS = [
    "tests/core",
    "tests/cli",
    "tests/ruletable",
    "tests/i18n",
    "tests/service/test_content.py",
    "tests/telegram/test_application.py",
]


def _edit(path: Path, edits: list[tuple[str, str]]) -> None:
    text = path.read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) >= 1, f"the edit's anchor is gone from {path.name}: {old!r}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def _run(copy: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MASLAHAT_RULES", None)
    env.pop("MASLAHAT_LOCALES", None)
    done = subprocess.run(command, cwd=copy, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done


def _translate(copy: Path) -> None:
    """What a translator does in Poedit: fill in each new text."""
    for lang in ("ru", "uz", "uz_Cyrl", "tg", "ky"):
        path = copy / "locales" / lang / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as f:
            catalog = read_po(f, locale=lang)
        for msgid, translated in TRANSLATIONS.items():
            message = catalog.get(msgid)
            assert message is not None, f"make messages did not add {msgid!r} to {lang}"
            assert not message.string, "a new text arrives untranslated"
            message.string = translated[lang]
        with path.open("wb") as f:
            write_po(f, catalog, width=0, include_previous=True)


def test_three_operator_edits_pass_every_check_without_touching_python(tmp_path: Path) -> None:
    copy = tmp_path / "maslahat"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    for name in filter(None, tracked.decode().split("\0")):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    git = ["git", "-c", "user.name=operator", "-c", "user.email=operator@example.org"]
    _run(copy, *git, "init", "-q")
    _run(copy, *git, "add", "-A")
    _run(copy, *git, "commit", "-qm", "the release before the edits")

    rules = copy / "rules" / "decree-821.yaml"
    _edit(rules, TABLE_EDITS)
    _edit(copy / "rules" / "decree-821.cases.yaml", CASE_EDITS)
    with (copy / "rules" / "decree-821.cases.yaml").open("a", encoding="utf-8") as cases:
        cases.write(NEW_CASES)
    # Not bumped yet: check says so, and --strict fails on it.
    unbumped = subprocess.run(
        [str(VENV / "bin" / "maslahat"), "--rules", str(rules), "check", "--strict", "--since", "HEAD"],
        cwd=copy,
        capture_output=True,
        text=True,
        check=False,
    )
    assert unbumped.returncode == 1
    assert "the table changed since HEAD but version is still" in unbumped.stdout
    _edit(
        rules,
        [('  version: "', '  version: "2026.12.05"  # was "'), ('  checked: "', '  checked: "2026-12-05"  # was "')],
    )

    make_args = ["-o", f"{VENV}/bin/maslahat", f"VENV={VENV}"]  # this venv, as it is
    _run(copy, "make", "-s", "messages", *make_args)
    _translate(copy)
    _run(copy, *git, "add", "-A")
    _run(copy, *git, "commit", "-qm", "Mongolia, the Samarkand desk, a second source for the grounds without RVP")

    checked = _run(copy, "maslahat", "--rules", str(rules), "check", "--strict", "--since", "HEAD~1")
    assert "27 of 27 cases pass" in checked.stdout
    _run(copy, "maslahat", "--rules", str(rules), "--locales", "locales", "i18n", "check")
    _run(copy, "scripts/check-generated", *make_args)
    diff = _run(copy, "maslahat", "--rules", str(rules), "diff", "--since", "HEAD~1").stdout
    assert "change confidence" in diff
    assert "are new (an answer that was not offered)" in diff
    assert "new      help samarkand_desk: name of a place to get help" in diff

    tests = _run(copy, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not bench", *COPY_TESTS)
    assert " passed" in tests.stdout
    assert " failed" not in tests.stdout
    changed = _run(copy, *git, "diff", "--name-only", "HEAD~1").stdout.split()
    assert [name for name in changed if name.endswith(".py")] == [], "no Python file was edited or added"
    assert _run(copy, *git, "status", "--porcelain").stdout == "", "nothing left over, nothing regenerated"
