"""Was the table's version bumped? Compare its content with the table at an earlier git revision.

Forgetting ``meta.version`` keeps ``/readyz``, ``/version`` and the version tag on every button on
the old one, and forgetting ``meta.checked`` tells people an old "checked" date. When the table's
content differs from what it was at the revision given (by default the last tag, else ``HEAD``),
each unbumped field is a warning. Outside a git checkout (an installed package) there is nothing
to compare with, and nothing is said.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from bot.problems import Problem
from bot.ruletable.yamlsource import Map, YamlSyntaxError, read_yaml

__all__ = ["default_revision", "text_at", "unbumped"]

#: The fields a content change must move, and what each one names.
_BUMPED = {
    "version": "the table's version (/readyz, /version and the tag on every button name it)",
    "checked": "the date the information was checked (every outcome shows it)",
}


def _git(directory: Path, *args: str) -> str | None:
    """The output of a git command run in ``directory``; None if git or the revision is not there."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed git arguments, no shell
            ["git", *args],  # noqa: S607 - git from PATH, as a developer's checkout has it
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def default_revision(path: Path) -> str:
    """The last tag reachable from ``HEAD`` in the table's checkout, else ``HEAD``."""
    tag = _git(path.resolve().parent, "describe", "--tags", "--abbrev=0")
    return tag.strip() if tag and tag.strip() else "HEAD"


def text_at(path: Path, revision: str) -> str | None:
    """The file at ``path`` as it was at git ``revision``; None outside a checkout or if it was not there."""
    resolved = path.resolve()
    return _git(resolved.parent, "show", f"{revision}:./{resolved.name}")


def _content(data: Any) -> str:
    """The table's content as canonical JSON, without the fields a release bumps."""
    if isinstance(data, Map):
        data = dict(data)
        if isinstance(data.get("meta"), dict):
            data["meta"] = {k: v for k, v in data["meta"].items() if k not in _BUMPED}
    return json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)


def unbumped(path: Path, data: Any, revision: str) -> list[Problem]:
    """Warnings for ``meta`` fields left as they were at ``revision`` although the content changed."""
    old_text = text_at(path, revision)
    if old_text is None:
        return []
    try:
        old, _ = read_yaml(old_text, f"{revision}:{path}")
    except YamlSyntaxError:
        return []  # the old table was broken: anything now is a change, and a bump is welcome
    if _content(old) == _content(data) or not isinstance(old, Map) or not isinstance(data, Map):
        return []
    old_meta, meta = old.get("meta"), data.get("meta")
    if not isinstance(old_meta, dict) or not isinstance(meta, Map):
        return []
    return [
        Problem(
            str(path),
            meta.line_of(field),
            "meta",
            f"warning: the table changed since {revision} but {field} is still {meta.get(field)!s}: bump {what}",
        )
        for field, what in _BUMPED.items()
        if str(old_meta.get(field)) == str(meta.get(field))
    ]
