"""The operators' commands: /stats, /reload and /version, for the user ids in OPERATOR_IDS only.

To anyone else they are unknown commands, so the bot does not reveal that they exist.
"""

from __future__ import annotations

from html import escape

from bot import __version__
from bot.telegram import screens
from bot.telegram.handlers import Turn, handler
from bot.telegram.runtime import BotData, Runtime
from bot.telegram.screens import Screen
from bot.telegram.send import send

__all__ = ["OPERATOR_COMMANDS", "on_operator", "operator_version"]

OPERATOR_COMMANDS = ("stats", "reload", "version")


@handler
async def on_operator(turn: Turn) -> None:
    """/stats, /reload, /version for the configured operators; to anyone else, an unknown command."""
    user = turn.update.effective_user
    if user is None or user.id not in turn.rt.settings.operator_ids:
        await turn.say(screens.UNKNOWN_COMMAND)
        return
    assert turn.chat_id is not None
    command = turn.command
    if command == "stats":
        text = await _stats(turn.rt)
    elif command == "version":
        text = operator_version(turn.rt)
    else:
        text = await _reload(turn.context.bot_data)
    for chunk in screens.split_html(escape(text).split("\n\n")):
        await send(turn.context, turn.chat_id, Screen(chunk))


async def _stats(rt: Runtime) -> str:
    """The anonymous counters, one line each."""
    lines = [f"{day} {name} {label or '-'}: {count}" for day, name, label, count in await rt.store.totals()]
    if not lines:
        return "No statistics yet."
    return "\n".join(["Anonymous statistics (day, counter, label: count):", *lines])


async def _reload(shared: BotData) -> str:
    """Reload rules and catalogs; what is running afterwards, or why the reload was refused."""
    problems = await shared.reload() if shared.reload else ["reload works only in a bot started with `maslahat run`"]
    # The live runtime, not this update's snapshot: it shows what a reload swapped in.
    current = shared.runtime.engine.table.version_tag
    if not problems:
        return f"Reloaded: rules {current}, catalogs checked."
    return "\n".join([f"Reload refused; still running {current}. Problems:", *problems])


def operator_version(rt: Runtime) -> str:
    """Code version, rule table version and date, and how complete each catalog is."""
    meta = rt.engine.table.meta
    lines = [f"Maslahat {__version__}", f"Rules: {meta.id} {meta.version}, checked {meta.checked.isoformat()}"]
    for lang, catalog in sorted(rt.catalogs.catalogs.items()):
        translated = sum(1 for m in catalog if m.id and m.string and not m.fuzzy)
        total = sum(1 for m in catalog if m.id)
        lines.append(f"Catalog {lang}: {translated}/{total} translated")
    return "\n".join(lines)
