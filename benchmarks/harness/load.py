"""The load: people talking to a bot over its webhook, one update at a time each, bounded in count and time.

A person sends /start and presses the buttons the fake shows them (Start, an answer, sometimes Back),
sometimes types text; at the outcome starts over or leaves for a newcomer. An echo bot gets the same
kinds of update. An update is *done* at its last Bot API call: a press's answerCallbackQuery, a
message's sendMessage (for Maslahat, the one with buttons).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from benchmarks.harness.bots import SECRET, SECRET_HEADER, BotProcess, bot_command, launch
from benchmarks.harness.fakeapi import JSON, FakeUser, Pending, TimedApi, free_port
from benchmarks.harness.measure import CpuWindow, percentile, summary

__all__ = ["Driver", "Slice", "driving", "fixed_rate", "latency_figures", "post", "saturation"]

LANGS = ("ru", "uz", "tg", "ky", "en")
P_TEXT, P_BACK = 0.10, 0.05  # per update mid-conversation: typing text, or pressing Back, instead of answering
P_LEAVE = 1 / 3  # at an outcome: the person leaves and a newcomer takes their place
P_DONE = 1 / 4.5  # an echo bot's person: an answer is the last, as after 4.5 answers on average in Maslahat
UPDATE_TIMEOUT = 15.0


@dataclass
class Person:
    """Someone talking to the bot; ``phase`` scripts an echo bot's conversation."""

    user: FakeUser
    rng: random.Random
    phase: str = "start"  # start, welcome, questions, outcome


#: What an echo bot's person presses in each phase, as Maslahat's buttons would offer it (kind: callback data).
ECHO_BUTTONS = {
    "welcome": {"s": ["s:5e1f0c"], "l": ["l:5e1f0c:ru"]},
    "questions": {"a": ["a:5e1f0c:sex:male"], "b": ["b:5e1f0c"]},
    "outcome": {"r": ["r:5e1f0c"]},
}


def _screen(api: TimedApi, person: Person, screens: bool) -> tuple[Any, dict[str, list[str]]]:
    """The message the person presses under and its buttons by kind; for Maslahat, the phase it shows."""
    chat = reversed(api.messages(person.user.id))
    last = next((m for m in chat if m.outgoing and (m.inline_keyboard or not screens)), None)
    if last is None:
        person.phase = "start"
    if not screens or last is None:
        return last, ECHO_BUTTONS.get(person.phase, {})
    buttons: dict[str, list[str]] = {}
    for row in last.inline_keyboard:
        for data in (b["callback_data"] for b in row if "callback_data" in b):
            buttons.setdefault(data.split(":", 1)[0], []).append(data)
    person.phase = "welcome" if "s" in buttons else "questions" if "a" in buttons else "outcome"
    return last, buttons


def next_update(screens: bool, api: TimedApi, person: Person, newcomer: Callable[[], FakeUser]) -> tuple[JSON, str]:
    """The person's next update (not queued) and its kind: start, text or press.

    ``screens``: the bot is Maslahat, whose buttons the person reads; otherwise an echo bot, pressed
    under its last reply along the same script.
    """
    rng = person.rng
    last, buttons = _screen(api, person, screens)
    if person.phase == "outcome" and rng.random() < P_LEAVE:
        person.user, person.phase = newcomer(), "start"
    if person.phase == "start" or (person.phase == "outcome" and rng.random() < 0.5):
        person.phase = "welcome"
        return api.message_update(person.user, text="/start", enqueue=False), "start"
    roll = rng.random()
    if person.phase == "questions" and roll < P_TEXT:
        return api.message_update(person.user, text="hello, what should I press?", enqueue=False), "text"
    if person.phase == "welcome":
        choice = rng.choice(buttons["l"]) if roll < 0.1 else buttons["s"][0]
        person.phase = "questions"
    elif person.phase == "questions" and roll < P_TEXT + P_BACK and "b" in buttons:
        choice = buttons["b"][0]
    elif person.phase == "questions":
        choice = rng.choice(buttons["a"])
        person.phase = "outcome" if rng.random() < P_DONE else person.phase  # (Maslahat's screen says where)
    else:  # the outcome: start again
        choice, person.phase = buttons["r"][0], "questions"
    assert last is not None
    return api.callback_update(person.user, last.message_id, choice, enqueue=False), "press"


async def post(http: aiohttp.ClientSession, url: str, update: JSON, *, attempts: int = 1) -> int | str:
    """POST ``update`` to a webhook with the secret, as Telegram delivers it: the status, or the error's name."""
    outcome: int | str = "not tried"
    for attempt in range(attempts):
        if attempt:
            await asyncio.sleep(0.1)  # Telegram, too, delivers again after a failure
        try:
            async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                await response.read()
                outcome = response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            outcome = type(error).__name__
        if outcome == 200:
            break
    return outcome


@dataclass
class Driver:
    """The load on one bot process: its people, and the fake Bot API it talks to."""

    bot: BotProcess
    api: TimedApi
    http: aiohttp.ClientSession
    next_user_id: int = 0
    failures: Counter[str] = field(default_factory=Counter)  # why updates failed, for the results

    @property
    def screens(self) -> bool:
        """Whether the bot shows Maslahat's screens (otherwise it echoes)."""
        return self.bot.kind.startswith("maslahat")

    def newcomer(self) -> FakeUser:
        """Someone the bot has never met."""
        self.next_user_id += 1
        return FakeUser(self.next_user_id, "Test", None, LANGS[self.next_user_id % len(LANGS)])

    def groups(self, loops: int, per_loop: int, seed: int) -> list[list[Person]]:
        """``loops`` groups of ``per_loop`` new people, each group for one people-loop; reproducible."""
        rng = random.Random(seed)  # noqa: S311 - a reproducible load, not cryptography
        return [
            [Person(self.newcomer(), random.Random(rng.random())) for _ in range(per_loop)]  # noqa: S311
            for _ in range(loops)
        ]

    async def one(self, person: Person, mix: Counter[str]) -> Pending | None:
        """Send the person's next update and wait until the bot is done with it; None on failure."""
        update, what = next_update(self.screens, self.api, person, self.newcomer)
        mix[what] += 1
        query = update.get("callback_query")
        loop = asyncio.get_running_loop()
        pending = Pending(time.monotonic(), query and query["id"], self.screens, loop.create_future())
        self.api.expect(person.user.id, pending)
        status = await post(self.http, self.bot.webhook, update)
        try:
            if status != 200:
                raise RuntimeError(f"the webhook answered {status}")
            await asyncio.wait_for(pending.done, UPDATE_TIMEOUT)
        except (TimeoutError, RuntimeError) as error:
            self.api.abandon(person.user.id)
            mix["failed"] += 1
            seen = [m.raw_text and m.raw_text[:30] for m in self.api.messages(person.user.id) if m.outgoing][-2:]
            self.failures[f"{what}: {error or 'no answer in time'}; the chat shows {seen}"] += 1
            return None
        return pending

    async def settle(self) -> None:
        """Wait until nothing is in flight (a previous phase's stragglers), at most UPDATE_TIMEOUT."""
        for _ in range(int(UPDATE_TIMEOUT * 100)):
            if not self.api.pending:
                return
            await asyncio.sleep(0.01)


@contextlib.asynccontextmanager
async def driving(kind: str, *, delay: float = 0.0) -> AsyncIterator[Driver]:
    """The fake Bot API in this process (answering ``delay`` late), bot ``kind`` in its own, and a driver."""
    async with TimedApi(delay) as api:
        port = free_port()
        command = bot_command(kind, api.base_url, api.token, port)
        async with (
            launch(command, port, kind=kind) as bot,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
        ):
            yield Driver(bot, api, http)


async def saturation(driver: Driver, groups: list[list[Person]], *, warmup: float, seconds: float) -> dict[str, Any]:
    """Updates done per second with one people-loop per group always busy, and the CPU it took."""
    await driver.settle()
    mix: Counter[str] = Counter()
    done: list[Pending] = []
    measure_from = time.monotonic() + warmup
    stop_at = measure_from + seconds
    cpu: dict[str, float] = {}
    driver.api.take_calls()

    async def loop(people: list[Person]) -> None:
        i = 0
        while time.monotonic() < stop_at:
            result = await driver.one(people[i % len(people)], mix)
            i += 1
            if result is not None and measure_from <= result.finished < stop_at:
                done.append(result)

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
        window = CpuWindow(driver.bot.pid)
        await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
        cpu.update(window.close())

    await asyncio.gather(sample_cpu(), *(loop(people) for people in groups))
    calls = driver.api.take_calls()
    first = [p.first_reply - p.posted for p in done]
    return {
        "updates_per_s": round(len(done) / cpu["wall"], 1),
        "updates": len(done),
        "window_s": round(cpu["wall"], 2),
        **CpuWindow.figures(cpu, len(done)),
        "bot_api_calls_per_update": round(calls / max(sum(mix.values()) - mix["failed"], 1), 2),
        "latency_ms": {"p50": round(percentile(first, 0.5) * 1000, 2), "p99": round(percentile(first, 0.99) * 1000, 2)},
        "mix": dict(mix),
    }


@dataclass
class Slice:
    """What one stretch at a fixed rate measured."""

    samples: list[Pending]
    mix: Counter[str]
    skipped: int
    cpu: dict[str, float]


async def fixed_rate(driver: Driver, idle: deque[Person], *, rate: float, warmup: float, seconds: float) -> Slice:
    """Start an update every 1/rate s, each for a person not waiting on the bot; keep those started after warmup."""
    await driver.settle()
    mix: Counter[str] = Counter()
    samples: list[Pending] = []
    tasks: set[asyncio.Task[None]] = set()
    skipped = 0

    async def one(person: Person, keep: bool) -> None:
        result = await driver.one(person, mix)
        if result is not None and keep:
            samples.append(result)
        idle.append(person)

    # No cyclic collection in the driver meanwhile: the fake keeps every chat's messages, and its full
    # collections grew to tens of ms and landed on whichever bot's slice ran (p99 spikes of 20-38 ms).
    gc.collect()
    gc.disable()
    try:
        start = time.monotonic()
        window = CpuWindow(driver.bot.pid)
        first_kept = int(rate * warmup)
        for i in range(int(rate * (warmup + seconds))):
            await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
            if i == first_kept:
                window = CpuWindow(driver.bot.pid)
            if not idle:
                skipped += 1
                continue
            task = asyncio.create_task(one(idle.popleft(), i >= first_kept))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            await asyncio.wait(tasks, timeout=UPDATE_TIMEOUT + 5)
    finally:
        gc.enable()
    return Slice(samples, mix, skipped, window.close())


def latency_figures(slices: list[Slice], rate: float) -> dict[str, Any]:
    """Latency (POST to the first reply at the fake) over the slices of one bot, and its CPU."""
    samples = [p for s in slices for p in s.samples]
    mix: Counter[str] = Counter()
    for s in slices:
        mix.update(s.mix)
    cpu = {key: sum(s.cpu[key] for s in slices) for key in ("wall", "bot", "me", "others")}
    return {
        "rate_per_s": round(rate, 1),
        "updates": len(samples),
        "slices": len(slices),
        "skipped_no_idle_person": sum(s.skipped for s in slices),
        "latency_ms": summary([p.first_reply - p.posted for p in samples], 1000),
        "until_done_ms": summary([p.finished - p.posted for p in samples], 1000),
        **CpuWindow.figures(cpu, len(samples)),
        "mix": dict(mix),
    }
