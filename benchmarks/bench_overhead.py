"""Framework overhead: Maslahat against a bare python-telegram-bot echo bot, same load, webhook mode.

Run from the repository root (one command; about 4-5 minutes on 2 cores)::

    .venv/bin/python -m benchmarks.bench_overhead            # --full is the default
    .venv/bin/python -m benchmarks.bench_overhead --smoke    # ~10 seconds, tiny sizes

Processes, so that no two measured parties share an event loop:

* the **driver** (this process): the fake Telegram Bot API (``tests/support/fakebotapi.FakeBotApi`` on
  127.0.0.1, subclassed here only to timestamp calls as they arrive, untouched otherwise) and the
  load generator (an aiohttp client POSTing updates to the bot's webhook with the secret header).
  They share one loop because the generator reads the fake API's state (the buttons each person
  sees) to press valid buttons, and so that latency is measured on one clock.
* the **bare bot** (its own process): an ``Application`` with one ``MessageHandler`` (answers with
  ``send_message``) and one ``CallbackQueryHandler`` (``send_message``, then
  ``answer_callback_query``: two Bot API calls per press, like Maslahat's edit + answer), behind a
  minimal aiohttp webhook doing what ``bot.service.app.Service`` does: check the secret header,
  ``Update.de_json``, ``application.update_queue.put``, answer 200.
* **Maslahat** (its own process), as shipped: ``bot.telegram.application.build_application`` over a ``Runtime`` with
  the shipped rule table and catalogs (loaded and validated as ``maslahat run`` does) and a
  ``MemoryStore``, run by ``bot.service.app.Service`` (its aiohttp server: webhook, /healthz, /readyz,
  /metrics; logging configured as ``maslahat run`` does). Compared with the bare bot with
  ``rate_limit=False``; measured once more as shipped (``rate_limit=True``: the AIORateLimiter
  keeping to Telegram's ~30 messages a second, a cap by design).

* **bare, same stack** (its own process): the bare bot on Maslahat's transport and update
  processing, so that what Maslahat's own handlers cost is also measured like for like.
* **Maslahat before** (its own process): the same, but with what this round of changes replaced:
  python-telegram-bot's default transport (``HTTPXRequest``, as the bare bot) and one update at a
  time (``CONCURRENT_CHATS=1``), so before and after are measured in the same run.

The bare bot uses python-telegram-bot's defaults: ``HTTPXRequest`` and one update at a time.
Maslahat as shipped uses ``bot.telegram.http.AiohttpRequest`` and ``bot.telegram.updates`` (chats
side by side, each chat's updates in order).

Load: people, each waiting for the bot to finish one update before sending the next. For Maslahat
a person sends /start, presses Start (sometimes a language), answers the current question with one
of its buttons (callback data read from the message the fake API shows), sometimes types text
(10 %) or presses Back (5 %); at the outcome starts over (/start or Start over) or leaves, and a
newcomer takes their place (so the bot keeps meeting new people). The bare bot gets the same
sequence of kinds. An update is *done* when its last Bot API call arrives: the answerCallbackQuery
of a press, the sendMessage of a message (for Maslahat, the one with buttons).

* **saturation**: ``senders`` people-loops, each over ``per_sender`` people, primed first; updates
  done per second in each measured window; the bots take turns (ABC CBA …), since the machine may
  be shared and its load drifts; a throughput ratio is the median of the ratios of neighbouring
  rounds.
* **latency**: updates started at a fixed rate (``load`` × the lower saturation throughput of the
  run, unless ``--rate``), each for the next idle person, in alternating slices; latency = from
  the POST to the first sendMessage/editMessageText of that update reaching the fake API.
* **round-trip experiment**: every Bot API call answered ``rtt_ms`` late, as over the network to
  Telegram: one-at-a-time processing, not the CPU, then bounds throughput; the bare bot once more
  with python-telegram-bot's ``concurrent_updates`` (which gives up each chat's order).
* **profile**: each bot at saturation once more, sampled from outside by py-spy (pyinstrument in
  the bot process if py-spy cannot attach); the samples are summed by area and by bot/ function.

CPU seconds of every process are read from /proc over each window: the bot's CPU per update is the
steadiest overhead figure; the driver's and other processes' shares show what else ran.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import contextvars
import gc
import json
import math
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from benchmarks.common import machine, write_results  # noqa: E402
from support.fakebotapi import TEST_TOKEN, FakeBotApi, FakeUser, free_port  # noqa: E402

RULES = ROOT / "rules" / "decree-821.yaml"
LOCALES = ROOT / "locales"
RESULTS = ROOT / "benchmarks" / "results" / "overhead.json"
SECRET = "bench_secret_0123456789"  # noqa: S105 - a fixed webhook secret for loopback only
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - the header's name
WEBHOOK_PATH = "telegram"
KINDS = ("bare", "maslahat", "maslahat_before", "bare_same_stack", "maslahat_rate_limited")
#: Measured side by side (saturation rounds and latency slices in turn).
COMPARED = ("bare", "maslahat", "maslahat_before", "bare_same_stack")
#: Only for the round-trip experiment: the bare bot with python-telegram-bot's concurrent_updates.
CONCURRENT = ("bare_concurrent",)
CONCURRENT_UPDATES = 64
RTT_KINDS = ("bare", "bare_concurrent", "maslahat_before", "maslahat")
LANGS = ("ru", "uz", "tg", "ky", "en")
#: Chances, per update mid-conversation, of typing text or pressing Back instead of answering.
P_TEXT = 0.10
P_BACK = 0.05
#: Chance, at an outcome, that the person leaves and a newcomer takes their place.
P_LEAVE = 1 / 3
UPDATE_TIMEOUT = 15.0

_ARRIVED: contextvars.ContextVar[float] = contextvars.ContextVar("arrived", default=0.0)


# --------------------------------------------------------------------------------------------------
# The fake Bot API, timestamping what arrives


@dataclass
class Pending:
    """One update in flight: when it was posted, and what finishes it."""

    posted: float
    query_id: str | None  # a press: done at answerCallbackQuery of this query
    needs_keyboard: bool  # a message: done at a sendMessage (with buttons, if this is set)
    done: asyncio.Future[None]
    first_reply: float = 0.0  # arrival of the first sendMessage / editMessageText
    finished: float = 0.0
    what: str = ""  # start, text or press


class TimedApi(FakeBotApi):
    """FakeBotApi that notes when each call arrives and tells the generator when an update is done."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__()
        self.delay = delay  # added to every call, as the round trip to Telegram's servers
        self.pending: dict[int, Pending] = {}  # by chat
        self.queries: dict[str, int] = {}  # open callback query -> chat
        self.statuses: Counter[int] = Counter()
        for name in ("sendmessage", "editmessagetext", "answercallbackquery"):
            self._handlers[name] = self._timed(name, self._handlers[name])

    def expect(self, chat_id: int, pending: Pending) -> None:
        self.pending[chat_id] = pending
        if pending.query_id is not None:
            self.queries[pending.query_id] = chat_id

    def abandon(self, chat_id: int) -> None:
        pending = self.pending.pop(chat_id, None)
        if pending is not None and pending.query_id is not None:
            self.queries.pop(pending.query_id, None)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        _ARRIVED.set(time.monotonic())
        if self.delay:
            await asyncio.sleep(self.delay)
        response = await super()._handle(request)
        self.statuses[response.status] += 1
        return response

    def _timed(self, name: str, handler: Callable[[Any], Awaitable[Any]]) -> Callable[[Any], Awaitable[Any]]:
        async def timed(params: Any) -> Any:
            arrived = _ARRIVED.get()
            if name == "answercallbackquery":
                chat_id = self.queries.pop(str(params.get("callback_query_id")), 0)
            else:
                chat_id = int(params.get("chat_id") or 0)
            pending = self.pending.get(chat_id)
            if pending is not None and not pending.first_reply and name != "answercallbackquery":
                pending.first_reply = arrived
            try:
                return await handler(params)  # the chat shows the message before the generator looks
            finally:
                if pending is not None and (
                    name == "answercallbackquery"
                    or (
                        name == "sendmessage"
                        and pending.query_id is None
                        and (bool(params.get("reply_markup")) or not pending.needs_keyboard)
                    )
                ):
                    self.pending.pop(chat_id, None)
                    pending.finished = arrived
                    if not pending.done.done():
                        pending.done.set_result(None)

        return timed

    def take_calls(self) -> int:
        """How many Bot API calls arrived since the last time, forgetting them (they are not needed)."""
        count = len(self.calls)
        self.calls.clear()
        self.callback_answers.clear()
        return count


# --------------------------------------------------------------------------------------------------
# People and what they send


@dataclass
class Person:
    """Someone talking to the bot: one update at a time; at an outcome, starts over or leaves for good
    (the next update then comes from a newcomer, so the bot keeps meeting new people)."""

    user: FakeUser
    rng: random.Random
    phase: str = "start"  # bare bot's script: start, welcome, questions, outcome
    left: int = 0


def _last_with_buttons(api: FakeBotApi, chat_id: int) -> Any:
    for message in reversed(api.messages(chat_id)):
        if message.outgoing and message.inline_keyboard:
            return message
    return None


def _last_outgoing(api: FakeBotApi, chat_id: int) -> Any:
    for message in reversed(api.messages(chat_id)):
        if message.outgoing:
            return message
    return None


def next_update(
    kind: str, api: FakeBotApi, person: Person, newcomer: Callable[[], FakeUser]
) -> tuple[dict[str, Any], str]:
    """The person's next update (not queued) and its kind: start, text or press."""
    rng, user = person.rng, person.user
    at_outcome = person.phase == "outcome"
    shown, by_kind = None, dict[str, list[str]]()
    if not kind.startswith("bare"):
        shown = _last_with_buttons(api, user.id)
        data = (
            [b["callback_data"] for row in shown.inline_keyboard for b in row if "callback_data" in b] if shown else []
        )
        for item in data:
            by_kind.setdefault(item.split(":", 1)[0], []).append(item)
        at_outcome = shown is not None and not {"s", "a"} & set(by_kind)
    if at_outcome and rng.random() < P_LEAVE:
        person.user, person.phase = newcomer(), "welcome"
        return api.message_update(person.user, text="/start", enqueue=False), "start"
    if not kind.startswith("bare"):
        if shown is None:
            return api.message_update(user, text="/start", enqueue=False), "start"
        if "s" in by_kind:  # the welcome
            choice = rng.choice(by_kind["l"]) if rng.random() < 0.1 else by_kind["s"][0]
        elif "a" in by_kind:  # a question
            roll = rng.random()
            if roll < P_TEXT:
                return api.message_update(user, text="hello, what should I press?", enqueue=False), "text"
            choice = by_kind["b"][0] if roll < P_TEXT + P_BACK and "b" in by_kind else rng.choice(by_kind["a"])
        elif rng.random() < 0.5:  # the outcome: start again
            return api.message_update(user, text="/start", enqueue=False), "start"
        else:
            choice = by_kind["r"][0]
        return api.callback_update(user, shown.message_id, choice, enqueue=False), "press"
    # The bare bot: the same sequence of kinds, pressing under its last reply.
    last = _last_outgoing(api, user.id)
    if person.phase == "start" or last is None:
        person.phase = "welcome"
        return api.message_update(user, text="/start", enqueue=False), "start"
    data = "a:5e1f0c:sex:male"
    if person.phase == "welcome":
        person.phase, person.left = "questions", rng.randint(3, 6)
        data = "s:5e1f0c"
    elif person.phase == "questions":
        roll = rng.random()
        if roll < P_TEXT:
            return api.message_update(user, text="hello, what should I press?", enqueue=False), "text"
        if roll >= P_TEXT + P_BACK:
            person.left -= 1
            if person.left <= 0:
                person.phase = "outcome"
    elif rng.random() < 0.5:
        person.phase = "welcome"
        return api.message_update(user, text="/start", enqueue=False), "start"
    else:
        person.phase, person.left, data = "questions", rng.randint(3, 6), "r:5e1f0c"
    return api.callback_update(user, last.message_id, data, enqueue=False), "press"


# --------------------------------------------------------------------------------------------------
# Driving one bot


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> float:
    """CPU seconds the whole machine has been busy (every core, every process), from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def _ms(value: float) -> float:
    return round(value * 1000, 2)


@dataclass
class Bot:
    """A bot process under test and the fake API it talks to."""

    kind: str
    api: TimedApi
    process: subprocess.Popen[bytes]
    port: int
    http: aiohttp.ClientSession
    people: list[Person] = field(default_factory=list)
    next_user_id: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{WEBHOOK_PATH}"

    def newcomer(self) -> FakeUser:
        self.next_user_id += 1
        return FakeUser(self.next_user_id, "Test", None, LANGS[self.next_user_id % len(LANGS)])

    def new_people(self, count: int, seed: int) -> list[Person]:
        rng = random.Random(seed)  # noqa: S311 - a reproducible load, not cryptography
        return [Person(self.newcomer(), random.Random(rng.random())) for _ in range(count)]  # noqa: S311

    async def one(self, person: Person, mix: Counter[str]) -> Pending | None:
        """Send the person's next update and wait until the bot is done with it; None on failure."""
        update, what = next_update(self.kind, self.api, person, self.newcomer)
        mix[what] += 1
        query = update.get("callback_query")
        loop = asyncio.get_running_loop()
        wants_buttons = not self.kind.startswith("bare")  # Maslahat's last message of an update has buttons
        query_id = query["id"] if query else None
        pending = Pending(time.monotonic(), query_id, wants_buttons, loop.create_future(), what=what)
        self.api.expect(person.user.id, pending)
        try:
            async with self.http.post(self.url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"webhook answered {response.status}")
            await asyncio.wait_for(pending.done, UPDATE_TIMEOUT)
        except (TimeoutError, RuntimeError, aiohttp.ClientError):
            self.api.abandon(person.user.id)
            mix["failed"] += 1
            return None
        return pending


async def _settle(bot: Bot) -> None:
    """Wait until nothing is in flight (a previous phase's stragglers)."""
    for _ in range(int(UPDATE_TIMEOUT * 100)):
        if not bot.api.pending:
            return
        await asyncio.sleep(0.01)


class Window:
    """CPU seconds of the bot, of this driver and of every other process over a stretch of wall time."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.wall, self.bot = time.monotonic(), _cpu_seconds(pid)
        self.me, self.all = time.process_time(), _machine_busy()

    def close(self) -> dict[str, float]:
        wall = time.monotonic() - self.wall
        bot = _cpu_seconds(self.pid) - self.bot
        me = time.process_time() - self.me
        others = max(0.0, _machine_busy() - self.all - bot - me)
        return {"wall": wall, "bot": bot, "me": me, "others": others}


def _cpu_figures(cpu: dict[str, float], updates: int) -> dict[str, float]:
    wall = max(cpu["wall"], 1e-9)
    return {
        "bot_cpu_util": round(cpu["bot"] / wall, 3),
        "driver_cpu_util": round(cpu["me"] / wall, 3),
        "other_processes_cpu_util": round(cpu["others"] / wall, 3),
        "bot_cpu_ms_per_update": round(cpu["bot"] * 1000 / max(updates, 1), 3),
        "driver_cpu_ms_per_update": round(cpu["me"] * 1000 / max(updates, 1), 3),
    }


async def saturation(bot: Bot, groups: list[list[Person]], *, warmup: float, seconds: float) -> dict:
    """Updates done per second with one people-loop per group always busy."""
    await _settle(bot)
    mix: Counter[str] = Counter()
    done: list[Pending] = []
    start = time.monotonic()
    measure_from, stop_at = start + warmup, start + warmup + seconds
    cpu: dict[str, float] = {}
    bot.api.take_calls()

    async def sender(people: list[Person]) -> None:
        i = 0
        while time.monotonic() < stop_at:
            result = await bot.one(people[i % len(people)], mix)
            i += 1
            if result is not None and measure_from <= result.finished < stop_at:
                done.append(result)

    async def sample_cpu() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
        window = Window(bot.process.pid)
        await asyncio.sleep(max(0.0, stop_at - time.monotonic()))
        cpu.update(window.close())

    await asyncio.gather(sample_cpu(), *(sender(people) for people in groups))
    calls = bot.api.take_calls()
    first = [p.first_reply - p.posted for p in done]
    return {
        "updates_per_s": round(len(done) / cpu["wall"], 1),
        "updates": len(done),
        "window_s": round(cpu["wall"], 2),
        **_cpu_figures(cpu, len(done)),
        "bot_api_calls_per_update": round(calls / max(sum(mix.values()) - mix["failed"], 1), 2),
        "latency_ms": {"p50": _ms(_percentile(first, 0.5)), "p99": _ms(_percentile(first, 0.99))},
        "mix": dict(mix),
        "people": sum(len(g) for g in groups),
        "distinct_people_so_far": bot.next_user_id,
    }


@dataclass
class Slice:
    """What one stretch at a fixed rate measured."""

    samples: list[Pending]
    mix: Counter[str]
    skipped: int
    cpu: dict[str, float]


async def fixed_rate_slice(bot: Bot, idle: deque[Person], *, rate: float, warmup: float, seconds: float) -> Slice:
    """Start an update every 1/rate seconds, each for a person not waiting on the bot; keep those
    started after ``warmup``."""
    await _settle(bot)
    mix: Counter[str] = Counter()
    samples: list[Pending] = []
    tasks: set[asyncio.Task[None]] = set()
    skipped = 0

    async def one(person: Person, keep: bool) -> None:
        result = await bot.one(person, mix)
        if result is not None and keep:
            samples.append(result)
        idle.append(person)

    start = time.monotonic()
    window = Window(bot.process.pid)
    first_kept = int(rate * warmup)
    for i in range(int(rate * (warmup + seconds))):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if i == first_kept:
            window = Window(bot.process.pid)
        if not idle:
            skipped += 1
            continue
        task = asyncio.create_task(one(idle.popleft(), i >= first_kept))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=UPDATE_TIMEOUT + 5)
    return Slice(samples, mix, skipped, window.close())


def latency_figures(slices: list[Slice], rate: float) -> dict:
    samples = [p for s in slices for p in s.samples]
    first = [p.first_reply - p.posted for p in samples]
    whole = [p.finished - p.posted for p in samples]
    mix: Counter[str] = Counter()
    for s in slices:
        mix.update(s.mix)
    cpu = {key: sum(s.cpu[key] for s in slices) for key in ("wall", "bot", "me", "others")}
    return {
        "rate_per_s": round(rate, 1),
        "updates": len(samples),
        "slices": len(slices),
        "skipped_no_idle_person": sum(s.skipped for s in slices),
        "latency_ms": {
            "p50": _ms(_percentile(first, 0.5)),
            "p90": _ms(_percentile(first, 0.9)),
            "p99": _ms(_percentile(first, 0.99)),
            "max": _ms(max(first, default=float("nan"))),
        },
        "until_done_ms": {"p50": _ms(_percentile(whole, 0.5)), "p99": _ms(_percentile(whole, 0.99))},
        "latency_ms_by_kind": {
            what: {
                "p50": _ms(_percentile(values, 0.5)),
                "p99": _ms(_percentile(values, 0.99)),
                "max": _ms(max(values)),
                "n": len(values),
            }
            for what in sorted({p.what for p in samples})
            if (values := [p.first_reply - p.posted for p in samples if p.what == what])
        },
        **_cpu_figures(cpu, len(samples)),
        "mix": dict(mix),
    }


@contextlib.asynccontextmanager
async def running(kind: str, *, pyinstrument: Path | None = None, delay: float = 0.0):  # type: ignore[no-untyped-def]
    """Start the fake API here and the bot in its own process; stop both afterwards."""
    async with TimedApi(delay) as api:
        port = free_port()
        command = [sys.executable, "-m", "benchmarks.bench_overhead", "--serve", kind]
        command += ["--api", api.base_url, "--port", str(port)]
        if pyinstrument is not None:
            command += ["--pyinstrument", str(pyinstrument)]
        process = subprocess.Popen(  # noqa: S603 - this file, run by this interpreter
            command, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL
        )
        connector = aiohttp.TCPConnector(limit=0)
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                await _wait_healthy(http, port, process)
                yield Bot(kind, api, process, port, http)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, 10)


async def _wait_healthy(http: aiohttp.ClientSession, port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(3000):
        if process.poll() is not None:
            raise RuntimeError(f"the bot process exited with {process.returncode}")
        with contextlib.suppress(aiohttp.ClientError):
            # /readyz, not /healthz: Maslahat answers /healthz while it still connects to Telegram.
            async with http.get(f"http://127.0.0.1:{port}/readyz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.01)
    raise RuntimeError("the bot did not come up within 30 s")


# --------------------------------------------------------------------------------------------------
# The bots (run with --serve, each in its own process)


async def serve_bare(api: str, port: int, *, concurrent: bool = False, same_stack: bool = False) -> None:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, CallbackQueryHandler, ContextTypes, MessageHandler, filters

    async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        assert update.effective_message is not None
        await context.bot.send_message(update.effective_chat.id, update.effective_message.text or "?")

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, f"pressed {query.data}")
        await context.bot.answer_callback_query(query.id)

    builder = ApplicationBuilder().token(TEST_TOKEN).base_url(f"{api}/bot").base_file_url(f"{api}/file/bot")
    if same_stack:  # Maslahat's transport and update processing, none of its handlers
        from bot.telegram.http import AiohttpRequest
        from bot.telegram.updates import PerChatUpdateProcessor

        builder = builder.request(AiohttpRequest(256)).get_updates_request(AiohttpRequest(1))
        builder = builder.concurrent_updates(PerChatUpdateProcessor(CONCURRENT_UPDATES))
    app = (builder.concurrent_updates(CONCURRENT_UPDATES) if concurrent else builder).build()
    app.add_handler(MessageHandler(filters.ALL, on_message))
    app.add_handler(CallbackQueryHandler(on_button))

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != SECRET:
            return web.Response(status=403)
        await app.update_queue.put(Update.de_json(await request.json(), app.bot))
        return web.Response(text="ok\n")

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    web_app = web.Application()
    web_app.router.add_post(f"/{WEBHOOK_PATH}", webhook)
    web_app.router.add_get("/healthz", healthz)
    # Started only once Telegram answered, like Maslahat's /readyz, which the driver waits for.
    web_app.router.add_get("/readyz", healthz)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stop in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(stop, stopping.set)
    async with app:
        await app.start()
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await stopping.wait()
        await app.stop()
        await runner.cleanup()


async def serve_maslahat(api: str, port: int, *, rate_limit: bool, before: bool = False) -> None:
    from bot.service.app import Service
    from bot.service.content import load_content
    from bot.service.logs import configure_logging
    from bot.settings import Settings
    from bot.storage.base import MemoryStore
    from bot.telegram.application import Runtime, build_application

    settings = Settings(
        token=TEST_TOKEN,
        api_base_url=api,
        webhook_url=f"https://127.0.0.1:{port}/{WEBHOOK_PATH}",  # the fake API accepts loopback
        webhook_secret=SECRET,
        port=port,
        session_secret=b"bench secret, 32 bytes long.....",
        storage_url="memory://",
        concurrent_chats=1 if before else Settings.concurrent_chats,
    )
    configure_logging(settings.log_level, [settings.token, SECRET], settings.log_format)
    loaded = load_content(RULES, LOCALES)
    if isinstance(loaded, list):
        raise SystemExit("\n".join(loaded))
    runtime = Runtime(loaded.engine, loaded.catalogs, MemoryStore(settings.retention_days * 86400), settings)
    if before:  # python-telegram-bot's default transport, as before bot/telegram/http.py
        from telegram.request import HTTPXRequest

        import bot.telegram.application as telegram_bot

        def httpx_request(connection_pool_size: int, **timeouts: float) -> HTTPXRequest:
            return HTTPXRequest(connection_pool_size=connection_pool_size, **timeouts)

        telegram_bot.AiohttpRequest = httpx_request  # type: ignore[assignment,misc]
    await Service(build_application(runtime, rate_limit=rate_limit), runtime, RULES, LOCALES).run()


def serve(kind: str, api: str, port: int, pyinstrument: str | None) -> None:
    def go() -> None:
        concurrent = kind in CONCURRENT
        if kind.startswith("bare"):
            asyncio.run(serve_bare(api, port, concurrent=concurrent, same_stack=kind == "bare_same_stack"))
        else:
            asyncio.run(
                serve_maslahat(api, port, rate_limit=kind == "maslahat_rate_limited", before=kind == "maslahat_before")
            )

    if not pyinstrument:
        go()
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001, async_mode="disabled")
    profiler.start()
    try:
        go()
    finally:
        profiler.stop()
        Path(pyinstrument).write_text(profiler.output_text(unicode=False, color=False, show_all=False))


# --------------------------------------------------------------------------------------------------
# Profiling

#: Where a sample's time goes: the first rule that matches the stack, in this order.
AREAS: tuple[tuple[str, Callable[[list[str]], bool]], ...] = (
    ("idle: waiting in epoll", lambda fs: fs[-1].startswith("EpollSelector.select ")),
    ("httpcore: a failed `import sniffio` on every request", lambda fs: _has(fs, "current_async_library (httpcore")),
    ("Bot API calls: PTB method, transport (httpx, aiohttp), socket, de_json", lambda fs: _in_bot_api_call(fs)),
    ("webhook: aiohttp server, request.json, Update.de_json", lambda fs: _has(fs, "aiohttp/web")),
    ("bot/ own code (not in a Bot API call)", lambda fs: any(_ours(f) and not _wrapper(f) for f in fs)),
    ("PTB dispatch: update processor, handlers, filters", lambda fs: _has(fs, "(telegram/")),
    ("event loop and other", lambda fs: True),
)
#: bot/ frames that only wrap library work (their time is the library's): not counted as "deepest".
WRAPPERS = (
    "retrying",
    "Service._webhook",
    "send",
    "edit",
    "AiohttpRequest.do_request",
    "_body",
    "PerChatUpdateProcessor.do_process_update",
)


def _has(frames: list[str], text: str) -> bool:
    return any(text in f for f in frames)


def _in_bot_api_call(frames: list[str]) -> bool:
    """Inside a python-telegram-bot Bot method (send_message, edit_message_text, answer_callback_query…)."""
    return _has(frames, "(telegram/_bot.py:") or _has(frames, "(telegram/ext/_extbot.py:")


def _wrapper(frame: str) -> bool:
    return frame.rpartition(" (")[0] in WRAPPERS


def _ours(frame: str) -> bool:
    where = frame.rpartition(" (")[2]
    return where.startswith("bot/") or ("/bot/" in where and "site-packages" not in where)


def _frame_name(frame: str) -> str:
    """ "function (bot/file.py:123)" -> "bot/file.py:function"."""
    function, _, where = frame.rpartition(" (")
    path = where.rsplit(":", 1)[0]
    return f"bot/{path.split('bot/', 1)[1]}:{function}"


def summarize_raw_profile(raw: str, updates: int, seconds_per_sample: float, top: int = 20) -> dict:
    """py-spy's collapsed stacks summed: per area, per bot/ function (inclusive) and per deepest bot/
    frame (its own time and the libraries it calls, deeper bot/ functions excluded), as a share of
    all samples and as milliseconds per update."""
    total = 0
    areas: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    deepest: Counter[str] = Counter()
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count, frames = int(count_text), stack.split(";")
        total += count
        areas[next(name for name, rule in AREAS if rule(frames))] += count
        ours = [f for f in frames if _ours(f)]
        for name in dict.fromkeys(_frame_name(f) for f in ours):
            inclusive[name] += count
        own = [f for f in ours if not _wrapper(f)]
        if own and not _in_bot_api_call(frames[frames.index(own[-1]) :]):
            deepest[_frame_name(own[-1])] += count

    def table(counter: Counter[str], n: int | None = None) -> dict[str, dict[str, float]]:
        return {
            name: {
                "pct": round(100 * c / max(total, 1), 1),
                "ms_per_update": round(c * seconds_per_sample * 1000 / max(updates, 1), 3),
            }
            for name, c in counter.most_common(n)
        }

    return {
        "samples": total,
        "updates": updates,
        "areas": table(areas),
        "bot_functions_inclusive": table(inclusive, top),
        "bot_deepest_own_frame": table(deepest, top),
    }


def people_groups(bot: Bot, senders: int, per_sender: int, seed: int) -> list[list[Person]]:
    """One group of people per people-loop."""
    return [bot.new_people(per_sender, seed * 1000 + i) for i in range(senders)]


async def prime(bot: Bot, groups: list[list[Person]], seconds: float) -> None:
    """Drive the bot for a while unmeasured, so the people are spread over their conversations."""
    if seconds > 0:
        await saturation(bot, groups, warmup=0.0, seconds=seconds)


async def profile(kind: str, args: argparse.Namespace, work: Path) -> dict:
    """One bot at saturation once more, sampled by py-spy (or by pyinstrument inside the bot)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    raw = work / f"{kind}.pyspy.txt"
    rate = 250
    if Path(py_spy).exists():
        async with running(kind) as bot:
            groups = people_groups(bot, args.senders, args.per_sender, seed=7)
            await prime(bot, groups, args.prime)
            record = ["record", "-p", str(bot.process.pid), "-d", str(int(args.profile_seconds)), "-r", str(rate)]
            spy = subprocess.Popen(  # noqa: S603 - py-spy from this virtualenv, on our own child
                [py_spy, *record, "--format", "raw", "-o", str(raw)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            await asyncio.sleep(1.0)  # py-spy attaching
            figures = await saturation(bot, groups, warmup=0.0, seconds=args.profile_seconds - 2.0)
            _, err = await asyncio.to_thread(spy.communicate, None, 60)
        if spy.returncode == 0 and raw.exists():
            # The samples cover profile_seconds; the updates done meanwhile are estimated from the rate.
            updates = int(figures["updates_per_s"] * args.profile_seconds)
            summary = summarize_raw_profile(raw.read_text(), updates, 1 / rate)
            return {
                "tool": f"py-spy record --format raw -r {rate} (sampling from outside the bot process)",
                "raw_file": str(raw),
                "updates_per_s_while_sampled": figures["updates_per_s"],
                "mix": figures["mix"],
                **summary,
            }
        print(f"py-spy could not sample ({err.decode().strip()[:200]}); using pyinstrument", file=sys.stderr)
    out = work / f"{kind}.pyinstrument.txt"
    async with running(kind, pyinstrument=out) as bot:
        groups = people_groups(bot, args.senders, args.per_sender, seed=9)
        await prime(bot, groups, args.prime)
        figures = await saturation(bot, groups, warmup=0.0, seconds=args.profile_seconds)
    for _ in range(100):
        if out.exists():
            break
        await asyncio.sleep(0.1)
    return {"tool": "pyinstrument (inside the bot process)", "text_file": str(out), **figures}


# --------------------------------------------------------------------------------------------------
# The run


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else float("nan")


def _say(text: str) -> None:
    print(text, flush=True)


@contextlib.contextmanager
def _driver_collector_paused() -> Iterator[None]:
    """No cyclic collection in the driver while it measures latency.

    The driver's fake Bot API keeps every chat's messages; its full collections grew to tens of
    milliseconds and landed on whichever bot's slice was running (measured: the bots' own full
    collections take ~2 ms once frozen, yet p99 spikes of 20-38 ms hit Maslahat as shipped in one
    run and Maslahat before in the next).
    """
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def run(args: argparse.Namespace) -> dict:
    if args.profile_only:
        work = Path(tempfile.mkdtemp(prefix="bench_overhead_"))  # the raw profiles stay there
        return {"profile": {kind: await profile(kind, args, work) for kind in COMPARED}}
    sat: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    slices: dict[str, list[Slice]] = {kind: [] for kind in KINDS}
    rates: dict[str, float] = {}
    async with contextlib.AsyncExitStack() as stack:
        bots = {kind: await stack.enter_async_context(running(kind)) for kind in COMPARED}
        groups = {kind: people_groups(bot, args.senders, args.per_sender, seed=100) for kind, bot in bots.items()}
        for kind in bots:
            await prime(bots[kind], groups[kind], args.prime)
        # Alternating rounds (ABBA…), so load from other processes on the machine falls on both alike.
        for round_ in range(args.rounds):
            for kind in COMPARED if round_ % 2 == 0 else COMPARED[::-1]:
                figures = await saturation(bots[kind], groups[kind], warmup=args.warmup, seconds=args.seconds)
                sat[kind].append(figures)
                _say(
                    f"saturation {kind:15} round {round_ + 1}: {figures['updates_per_s']:6.1f} updates/s; CPU "
                    f"ms/update bot {figures['bot_cpu_ms_per_update']:.2f}, driver "
                    f"{figures['driver_cpu_ms_per_update']:.2f}; cores: bot {figures['bot_cpu_util']:.2f}, driver "
                    f"{figures['driver_cpu_util']:.2f}, other processes {figures['other_processes_cpu_util']:.2f}"
                )
        slowest = min(_median([r["updates_per_s"] for r in sat[k]]) for k in COMPARED)
        rate = args.rate or max(1.0, round(args.load * slowest))
        rates.update(dict.fromkeys(COMPARED, rate))
        # The same people, mid-conversation, one update each at a time, drawn in turn.
        idle = {kind: deque(p for group in groups[kind] for p in group) for kind in bots}
        for slice_ in range(args.slices):
            for kind in COMPARED if slice_ % 2 == 0 else COMPARED[::-1]:
                with _driver_collector_paused():
                    slices[kind].append(
                        await fixed_rate_slice(
                            bots[kind], idle[kind], rate=rate, warmup=args.slice_warmup, seconds=args.slice_seconds
                        )
                    )
        for kind in COMPARED:
            figures = latency_figures(slices[kind], rate)
            _say(
                f"latency    {kind:15} at {rate:.0f}/s: p50 {figures['latency_ms']['p50']} ms, "
                f"p99 {figures['latency_ms']['p99']} ms ({figures['updates']} updates)"
            )
    if args.rate_limited:
        kind = "maslahat_rate_limited"
        async with running(kind) as limited:
            few = people_groups(limited, args.senders, 1, seed=300)
            await prime(limited, few, args.prime)
            figures = await saturation(limited, few, warmup=args.warmup, seconds=args.seconds)
            sat[kind].append(figures)
            rates[kind] = max(1.0, round(args.load * figures["updates_per_s"]))
            people = deque(p for group in few for p in group)
            slices[kind].append(
                await fixed_rate_slice(
                    limited, people, rate=rates[kind], warmup=args.slice_warmup, seconds=args.slice_seconds
                )
            )
            lat = latency_figures(slices[kind], rates[kind])
            _say(
                f"Maslahat with the shipped rate limiter: {figures['updates_per_s']} updates/s; at "
                f"{rates[kind]:.0f}/s p50 {lat['latency_ms']['p50']} ms, p99 {lat['latency_ms']['p99']} ms"
            )

    experiment: dict[str, Any] = {}
    if args.rtt_ms:
        experiment = {
            "what": f"every Bot API call answered {args.rtt_ms:.0f} ms late, as over the network to Telegram; "
            f"saturation with {args.rtt_senders} people-loops of one person each (primed without the delay); "
            f"bare_concurrent: python-telegram-bot's concurrent_updates({CONCURRENT_UPDATES}) (no order per chat); "
            "maslahat: as shipped (bot.telegram.updates, one update at a time per chat, CONCURRENT_CHATS=64); "
            "maslahat_before: one update at a time",
        }
        for kind in RTT_KINDS:
            async with running(kind) as bot:
                few = people_groups(bot, args.rtt_senders, 1, seed=400)
                await prime(bot, few, args.prime)
                bot.api.delay = args.rtt_ms / 1000
                figures = await saturation(bot, few, warmup=args.warmup, seconds=args.rtt_seconds)
            keys = ("updates_per_s", "bot_api_calls_per_update", "bot_cpu_ms_per_update", "bot_cpu_util", "latency_ms")
            experiment[kind] = {key: figures[key] for key in (*keys, "other_processes_cpu_util", "mix")}
            _say(f"with {args.rtt_ms:.0f} ms per Bot API call, {kind:19}: {figures['updates_per_s']:6.1f} updates/s")

    figures_out: dict[str, Any] = {}
    for kind in KINDS:
        if not sat[kind]:
            continue
        rounds = sat[kind]
        figures_out[kind] = {
            "saturation": {
                "updates_per_s": _median([r["updates_per_s"] for r in rounds]),
                "bot_cpu_ms_per_update": round(_median([r["bot_cpu_ms_per_update"] for r in rounds]), 3),
                "driver_cpu_ms_per_update": round(_median([r["driver_cpu_ms_per_update"] for r in rounds]), 3),
                "bot_api_calls_per_update": _median([r["bot_api_calls_per_update"] for r in rounds]),
                "rounds": rounds,
            },
            "fixed_rate": latency_figures(slices[kind], rates[kind]),
        }
    b = figures_out["bare"]
    ratios = _ratios(figures_out["maslahat"], b)
    if "maslahat_rate_limited" in figures_out:
        ratios["throughput_with_shipped_rate_limiter"] = _ratio(
            figures_out["maslahat_rate_limited"]["saturation"]["updates_per_s"], b["saturation"]["updates_per_s"]
        )
    result: dict[str, Any] = {
        "figures": figures_out,
        "ratios_maslahat_over_bare": ratios,
        "ratios_before_over_bare": _ratios(figures_out["maslahat_before"], b),
        "ratios_maslahat_over_before": _ratios(figures_out["maslahat"], figures_out["maslahat_before"]),
        # Like for like: the bare bot on Maslahat's transport and update processing.
        "ratios_maslahat_over_bare_same_stack": _ratios(figures_out["maslahat"], figures_out["bare_same_stack"]),
        "targets": {
            "throughput_at_least_0.8_of_bare": ratios["throughput"] >= 0.8,
            "p99_at_most_2x_bare": ratios["latency_p99"] <= 2.0,
        },
    }
    if experiment:
        result["round_trip_experiment"] = experiment
    if args.profile:
        work = Path(tempfile.mkdtemp(prefix="bench_overhead_"))  # the raw profiles stay there
        result["profile"] = {kind: await profile(kind, args, work) for kind in COMPARED}
    return result


def _ratios(m: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """``m`` over ``b``: each round's figure over the one measured next to it, then the median over rounds.

    The machine may be shared and its load drifts; neighbouring rounds see about the same load.
    """
    pairs = list(zip(m["saturation"]["rounds"], b["saturation"]["rounds"], strict=True))
    per_round = [_ratio(x["updates_per_s"], y["updates_per_s"]) for x, y in pairs]
    cpu_per_round = [_ratio(x["bot_cpu_ms_per_update"], y["bot_cpu_ms_per_update"]) for x, y in pairs]
    return {
        "throughput": round(_median(per_round), 3),
        "throughput_per_round": per_round,
        "throughput_of_medians": _ratio(m["saturation"]["updates_per_s"], b["saturation"]["updates_per_s"]),
        "bot_cpu_per_update": round(_median(cpu_per_round), 3),
        "bot_cpu_per_update_per_round": cpu_per_round,
        "latency_p50": _ratio(m["fixed_rate"]["latency_ms"]["p50"], b["fixed_rate"]["latency_ms"]["p50"]),
        "latency_p99": _ratio(m["fixed_rate"]["latency_ms"]["p99"], b["fixed_rate"]["latency_ms"]["p99"]),
    }


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """The few figures a reader wants first."""
    if "figures" not in result:  # --profile-only
        return {}
    figures, ratios = result["figures"], result["ratios_maslahat_over_bare"]
    summary: dict[str, Any] = {}
    for kind, data in figures.items():
        summary[f"{kind}_updates_per_s"] = data["saturation"]["updates_per_s"]
        summary[f"{kind}_bot_cpu_ms_per_update"] = data["saturation"]["bot_cpu_ms_per_update"]
        latency = data["fixed_rate"]["latency_ms"]
        summary[f"{kind}_latency_ms_p50_p99"] = [
            latency["p50"],
            latency["p99"],
            f"at {data['fixed_rate']['rate_per_s']}/s",
        ]
    summary["ratio_throughput"] = ratios["throughput"]
    summary["ratio_throughput_before"] = result["ratios_before_over_bare"]["throughput"]
    summary["ratio_latency_p99_before"] = result["ratios_before_over_bare"]["latency_p99"]
    summary["ratio_throughput_over_bare_same_stack"] = result["ratios_maslahat_over_bare_same_stack"]["throughput"]
    summary["ratio_bot_cpu_per_update_over_bare_same_stack"] = result["ratios_maslahat_over_bare_same_stack"][
        "bot_cpu_per_update"
    ]
    summary["ratio_bot_cpu_per_update"] = ratios["bot_cpu_per_update"]
    summary["ratio_latency_p50"] = ratios["latency_p50"]
    summary["ratio_latency_p99"] = ratios["latency_p99"]
    profiles = result.get("profile", {})
    if all("areas" in profiles.get(kind, {}) for kind in COMPARED):
        # Sampled wall time per update at saturation, one figure per bot in COMPARED order, by where it went.
        areas = dict.fromkeys(area for kind in COMPARED for area in profiles[kind]["areas"])
        summary["profile_ms_per_update_" + "_".join(COMPARED)] = {
            area: [profiles[kind]["areas"].get(area, {}).get("ms_per_update", 0.0) for kind in COMPARED]
            for area in areas
        }
        summary["maslahat_bot_own_code_share_pct"] = (
            profiles["maslahat"]["areas"].get("bot/ own code (not in a Bot API call)", {}).get("pct", 0.0)
        )
    if "round_trip_experiment" in result:
        summary["updates_per_s_with_slow_bot_api"] = {
            kind: data["updates_per_s"] for kind, data in result["round_trip_experiment"].items() if kind != "what"
        }
    return summary


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--full", action="store_true", help="the full run (default)")
    size.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    parser.add_argument("--rate", type=float, default=0.0, help="fixed rate for the latency phase (default: auto)")
    parser.add_argument("--before", type=Path, help="embed the figures of an earlier run's JSON as 'before'")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="override a size")
    parser.add_argument("--no-profile", dest="profile", action="store_false", default=None)
    parser.add_argument("--profile-only", action="store_true", help="only profile both bots at saturation")
    parser.add_argument("--serve", choices=KINDS + CONCURRENT, help=argparse.SUPPRESS)
    parser.add_argument("--api", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--pyinstrument", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark (or, with --serve, one bot under test); return what was written."""
    raw_argv = sys.argv[1:] if argv is None else argv
    args = _parser().parse_args(raw_argv)
    if args.serve:
        serve(args.serve, args.api, args.port, args.pyinstrument)
        return {}
    smoke = args.smoke
    sizes: dict[str, float | int] = {
        "senders": 4 if smoke else 32,  # saturation: concurrent people-loops
        "per_sender": 3,  # … each over this many people (who come and go: P_LEAVE)
        "prime": 0.5 if smoke else 3.0,  # seconds of unmeasured load first, to spread people over the conversation
        "warmup": 0.5 if smoke else 1.5,  # saturation: seconds before measuring, each round
        "seconds": 1.0 if smoke else 6.0,  # saturation: seconds measured, each round
        "rounds": 1 if smoke else 6,  # saturation rounds per bot, alternating
        "load": 0.4,  # the fixed rate, as a share of the lower saturation throughput of the run
        "slices": 1 if smoke else 4,  # fixed rate: stretches per bot, alternating
        "slice_warmup": 0.3 if smoke else 1.0,
        "slice_seconds": 1.0 if smoke else 6.0,
        "profile_seconds": 10.0,
        "rtt_ms": 0.0 if smoke else 50.0,  # the round-trip experiment (0: skipped)
        "rtt_senders": 64,
        "rtt_seconds": 5.0,
    }
    for item in args.set:
        key, _, value = item.partition("=")
        if key not in sizes:
            raise SystemExit(f"--set: unknown size {key!r}; known: {', '.join(sizes)}")
        sizes[key] = type(sizes[key])(value)
    for key, value in sizes.items():
        setattr(args, key, value)
    args.rate_limited = not smoke
    if args.profile is None:
        args.profile = not smoke
    started = time.monotonic()
    result = asyncio.run(run(args))
    output: dict[str, Any] = {
        "benchmark": "overhead",
        "title": "Framework overhead: Maslahat against a bare python-telegram-bot echo bot (webhook)",
        "machine": machine(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m benchmarks.bench_overhead", *raw_argv]),
        "mode": "smoke" if smoke else "full",
        "duration_s": round(time.monotonic() - started, 1),
        "setup": {
            "processes": "driver (fake Bot API + load generator, one event loop) | bot under test (its own process)",
            "bare": "PTB Application: MessageHandler(send_message) + CallbackQueryHandler(send_message, "
            "answer_callback_query), behind a minimal aiohttp webhook (secret check, de_json, update_queue)",
            "maslahat": "bot.telegram.application.build_application(rate_limit=False) over Runtime(shipped rules and "
            "catalogs, MemoryStore) behind bot.service.app.Service (aiohttp: webhook, /healthz, /readyz, /metrics)",
            "maslahat_before": "the same before this round of changes: python-telegram-bot's default transport "
            "(HTTPXRequest) and one update at a time (CONCURRENT_CHATS=1)",
            "bare_same_stack": "the bare bot on Maslahat's transport (AiohttpRequest) and update processing "
            "(PerChatUpdateProcessor(64)): what Maslahat's own handlers cost, like for like",
            "maslahat_rate_limited": "the same with rate_limit=True, as shipped (AIORateLimiter: 30 chat calls/s)",
            "update_processing": "bare: python-telegram-bot's default, one update at a time; maslahat: as shipped, "
            "chats side by side, each chat's updates in order (bot.telegram.updates, CONCURRENT_CHATS=64)",
            "transport": "bare and maslahat_before: HTTPXRequest (python-telegram-bot's default); maslahat: "
            "bot.telegram.http.AiohttpRequest",
            "latency": "POST start -> first sendMessage/editMessageText of that update at the fake API; "
            "the driver's cyclic garbage collector is paused during each latency slice",
            "done": "answerCallbackQuery of a press; the sendMessage of a message (for Maslahat the one with buttons)",
            "load_from_other_processes": "the machine is shared; see other_processes_cpu_util in each window",
        },
        "parameters": sizes,
        "summary": _summary(result),
        **result,
    }
    if args.before:
        before = json.loads(args.before.read_text())
        output["before"] = {
            key: before.get(key)
            for key in ("date", "command", "figures", "ratios_maslahat_over_bare", "targets", "profile")
        }
    output = write_results(output, args.out)
    _say(json.dumps({key: output[key] for key in ("ratios_maslahat_over_bare", "targets") if key in output}))
    return output


if __name__ == "__main__":
    main()
