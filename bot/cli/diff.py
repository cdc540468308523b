"""`maslahat diff` in plain text: the summary first, then one line per changed conversation and text."""

from __future__ import annotations

from bot.ruletable.diff import Change, Played, TableDiff

__all__ = ["print_diff"]


def _played(played: Played) -> str:
    return f"{played.verdict} ({played.outcome}, {played.confidence} confidence, {len(played.asked)} questions)"


def _line(change: Change) -> str:
    path = ", ".join(f"{fact}={option}" for fact, option in change.answers.items())
    if change.old is None:
        assert change.new is not None
        return f"  new path        {path}\n                  -> {_played(change.new)}"
    if change.new is None:
        return f"  path gone       {path}\n                  was {_played(change.old)}"
    what = ", ".join(change.what)
    details = []
    if change.old.asked != change.new.asked:
        more = [f for f in change.new.asked if f not in change.old.asked]
        fewer = [f for f in change.old.asked if f not in change.new.asked]
        details += [f"now asks {', '.join(more)}"] if more else []
        details += [f"no longer asks {', '.join(fewer)}"] if fewer else []
    said = f"  ({'; '.join(details)})" if details else ""
    was, now = _played(change.old), _played(change.new)
    return f"  {what:<15} {path}\n                  {was}\n               -> {now}{said}"


def print_diff(found: TableDiff, old_name: str, new_name: str) -> None:
    """Print the report: summary, conversations, texts."""
    total = found.conversations
    print(f"{old_name} -> {new_name}")
    (old_version, old_checked), (new_version, new_checked) = found.releases
    print(f"version {old_version} -> {new_version}, checked {old_checked} -> {new_checked}")
    print(f"{len(found.changes)} of {total} conversations change:")
    for kind, label in (
        ("verdict", "change verdict"),
        ("outcome", "reach another outcome"),
        ("confidence", "change confidence"),
        ("questions", "ask other questions"),
        ("added", "are new (an answer that was not offered)"),
        ("removed", "are gone (an answer no longer offered)"),
    ):
        if count := found.count(kind):
            print(f"  {count} {label}")
    new_texts = [t for t in found.texts if t.new]
    print(f"{len(new_texts)} text(s) new or changed, for the translators; {len(found.texts) - len(new_texts)} gone")
    if found.changes:
        print("\nConversations:")
        for change in found.changes:
            print(_line(change))
    if found.texts:
        print("\nTexts:")
        for text in found.texts:
            if not text.old:
                print(f"  new      {text.where}: {text.new}")
            elif not text.new:
                print(f"  gone     {text.where}: {text.old}")
            else:
                print(f"  changed  {text.where}:\n           was: {text.old}\n           now: {text.new}")
