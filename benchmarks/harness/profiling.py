"""Profiles: py-spy samples a process from outside; its collapsed stacks are summed by area and by bot/ function."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Areas", "function", "has", "is_bot_frame", "start_py_spy", "summarize", "wait_py_spy"]

#: Named rules for where a sample's time goes; the first that matches the stack (root first) wins.
Areas = Sequence[tuple[str, Callable[[list[str]], bool]]]


def has(frames: list[str], text: str) -> bool:
    """Whether any frame of the stack contains ``text``."""
    return any(text in frame for frame in frames)


def start_py_spy(pid: int, seconds: float, rate: int, raw: Path) -> subprocess.Popen[bytes]:
    """Start sampling process ``pid`` (every thread) for ``seconds`` at ``rate`` Hz into ``raw``."""
    binary = Path(sys.executable).with_name("py-spy")  # the dev extra installs it in this virtualenv
    command = f"record -p {pid} -d {int(seconds)} -r {rate} --format raw -o".split()
    return subprocess.Popen(  # noqa: S603 - py-spy on our own child
        [str(binary) if binary.exists() else "py-spy", *command, str(raw)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_py_spy(spy: subprocess.Popen[bytes], raw: Path) -> str:
    """The collapsed stacks once py-spy is done; RuntimeError with its words if it could not sample."""
    _, err = spy.communicate(timeout=120)
    if spy.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy could not sample: {err.decode(errors='replace').strip()[:300]}")
    return raw.read_text()


def is_bot_frame(frame: str) -> bool:
    """Whether a frame ("function (path:line)") is in Maslahat's bot/ package."""
    where = frame.rpartition(" (")[2]
    return where.startswith("bot/") or ("/bot/" in where and "site-packages" not in where)


def function(frame: str) -> str:
    """A frame's function, without its class (py-spy 0.3 samples ``select``, 0.4 ``EpollSelector.select``)."""
    return frame.rpartition(" (")[0].rpartition(".")[2]


def _frame_name(frame: str) -> str:
    """ "function (bot/file.py:123)" -> "bot/file.py:function"."""
    name, _, where = frame.rpartition(" (")
    return f"bot/{where.rsplit(':', 1)[0].split('bot/', 1)[1]}:{name}"


def summarize(
    raw: str,
    areas: Areas,
    updates: int,
    seconds_per_sample: float,
    *,
    wrappers: Sequence[str] = (),
    library_call: Callable[[list[str]], bool] | None = None,
) -> dict[str, Any]:
    """py-spy's collapsed stacks summed per area and, when ``library_call`` is given, per bot/ function.

    Per bot/ function: as the deepest bot/ frame (its own time and the libraries it
    calls, deeper bot/ functions excluded; ``wrappers`` only wrap library work and do not count as
    deepest; stacks where the deepest frame is inside ``library_call`` are not counted as its own).
    Each figure as a share of all samples and as milliseconds per update.
    """
    total = 0
    by_area: Counter[str] = Counter()
    deepest: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count, frames = int(count_text), stack.split(";")
        total += count
        by_area[next(name for name, rule in areas if rule(frames))] += count
        if library_call is None:
            continue
        own = [f for f in frames if is_bot_frame(f) and function(f) not in wrappers]
        if own and not library_call(frames[frames.index(own[-1]) :]):
            deepest[_frame_name(own[-1])] += count

    def table(counter: Counter[str], n: int | None = None) -> dict[str, dict[str, float]]:
        return {
            name: {
                "pct": round(100 * c / max(total, 1), 1),
                "ms_per_update": round(c * seconds_per_sample * 1000 / max(updates, 1), 3),
            }
            for name, c in counter.most_common(n)
        }

    found: dict[str, Any] = {"samples": total, "updates": updates, "areas": table(by_area)}
    if library_call is not None:
        found["bot_deepest_own_frame"] = table(deepest, 20)
    return found
