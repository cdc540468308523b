"""Storage at scale: what one update costs the session store with 1,000 and with 1,000,000 people stored.

Per update, what ``bot.telegram.transaction.transact`` and the reply do: ``get``, a compare-and-set ``put`` with
the reply owed, ``settle``; on a SQLite file and a real redis-server filled with realistic records, each used by a
spawned worker process that imports the bot as a bot process does, small and large in alternating rounds, for
random existing people (uniform: the worst case for caches) and some new ones. Also each worker's memory, ``ping()``,
a py-spy profile, and SQLite's ``purge()`` of every tenth record while two workers on the file handle updates.
Over 300 lines: filling the stores, the worker processes and the purge serve one measurement.

    .venv/bin/python -m benchmarks.bench_storage            # the full run: about 4 minutes, ~2 GB of disk
    .venv/bin/python -m benchmarks.bench_storage --smoke    # tiny sizes, about 20 seconds
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import random
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import bot.telegram.application  # noqa: F401 - everything a bot process has loaded
from benchmarks.harness.measure import memory_kib, percentile, ratio, summary
from benchmarks.harness.profiling import has, start_py_spy, summarize, wait_py_spy
from benchmarks.harness.results import ROOT, machine, parse, run_benchmark
from bot.core.engine import Engine, Session
from bot.core.languages import LANGUAGES
from bot.ruletable.loader import load_table
from bot.storage.base import Conflict, Record, StoreUnavailable, encode_record, person_key
from bot.storage.outbox import Owed, seal
from bot.storage.redis import RedisStore
from bot.storage.sqlite import SQLiteStore
from bot.telegram.transaction import ATTEMPTS

TITLE = "Storage at scale: one update's store cost with 1,000 and 1,000,000 sessions, SQLite and Redis"
RULES = ROOT / "rules" / "decree-821.yaml"
SECRET = b"benchmark session secret"
TTL = 7 * 86400.0  # the bot's default retention (RETENTION_DAYS=7)
PREFIX = "maslahat"
WORKER_TIMEOUT = 300.0  # seconds a worker may take to answer one command
NEW_FRACTION = 0.1  # timed updates from a person never seen before
RATE = 500  # py-spy samples a second
FULL: dict[str, Any] = {"small": 1_000, "large": 1_000_000, "rounds": 40, "per_round": 1_000, "warmup": 3_000}
FULL.update(profile_seconds=8.0, hard_timeout_s=1500.0)
SMOKE = {**FULL, "small": 100, "large": 1_000, "rounds": 2, "per_round": 50, "warmup": 20, "profile_seconds": 1.0}
Pool = list[tuple[str, int, float]]  # stored records (JSON, version, expiry); user id i has record i % len(pool)


def session_pool(engine: Engine) -> list[Session]:
    """Every session a person can be in: each prefix of each conversation, in each language."""
    prefixes: dict[tuple[tuple[str, str], ...], str] = {}  # answers so far: the rule table's version
    for finished, _ in engine.conversations():
        answers = tuple(finished.answers.items())
        for n in range(len(answers) + 1):
            prefixes[answers[:n]] = finished.version
    return [Session(lang, dict(answers), version) for answers, version in prefixes.items() for lang in LANGUAGES]


def record_pool(sessions: list[Session], now: float) -> Pool:
    """20,000 records: a session, up to 20 recent update ids, its last activity within the retention time."""
    rng = random.Random(1)  # noqa: S311 - test data, not secrets
    pool = []
    for _ in range(20_000):
        session = rng.choice(sessions)
        version = len(session.answers) + rng.randint(1, 6)
        first = rng.randint(100_000_000, 900_000_000)
        recent = tuple(range(first + max(0, version - 20), first + version))
        touched = now - rng.uniform(0, TTL / 2)
        pool.append((encode_record(Record(session, version, recent, touched)), version, touched + TTL))
    return pool


def fill_sqlite(path: str, n: int, pool: Pool) -> None:
    """The schema as the bot creates it, then ``n`` records in one transaction."""
    store = SQLiteStore(path, TTL)
    asyncio.run(store.ping())  # connects, migrates
    asyncio.run(store.close())
    with contextlib.closing(sqlite3.connect(path)) as db:  # the last connection: closing it empties the WAL
        db.execute("PRAGMA cache_size = -1000000")  # this loader only: 1 GB, so the load itself is quick
        rows = ((person_key(SECRET, user_id), *pool[user_id % len(pool)]) for user_id in range(n))
        db.executemany("INSERT INTO sessions (key, data, version, expires) VALUES (?, ?, ?, ?)", rows)
        db.commit()  # the one transaction sqlite3 began for the inserts


def fill_redis(url: str, n: int, pool: Pool) -> None:
    """HSET version+data and the expiry as RedisStore writes them, through ``redis-cli --pipe`` (mass insertion)."""
    command = ["redis-cli", "-u", url, "--pipe"]  # installed with redis-server
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as cli:  # noqa: S603
        assert cli.stdin is not None
        for user_id in range(n):
            data, version, expires = pool[user_id % len(pool)]
            name = f"{PREFIX}:session:{person_key(SECRET, user_id)}".encode()
            hset = [b"HSET", name, b"version", b"%d" % version, b"data", data.encode()]
            for words in (hset, [b"PEXPIREAT", name, b"%d" % round(expires * 1000)]):  # in the Redis protocol
                cli.stdin.write(b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words))
        said = cli.communicate()[0]
    if cli.returncode or not said.endswith(b"errors: 0, replies: %d\n" % (2 * n)):
        raise RuntimeError(f"redis-cli --pipe did not write every record: {said[-300:]!r}")


def _us(ns: list[int]) -> dict[str, float]:
    """Latency figures in microseconds."""
    found = {f"p{q}_us": round(percentile(ns, q / 100) / 1000, 1) for q in (50, 90, 99, 99.9)}
    return {"count": len(ns), "mean_us": round(sum(ns) / len(ns) / 1000, 1), **found, "max_us": max(ns) / 1000}


class Cycles:
    """A worker process's store, opened as the bot opens it, and update cycles on it as transact does them."""

    here: Cycles  # in a worker process: its own, made by the process pool's initializer

    def __init__(self, backend: str, at: str, n: int, seed: int, warmup: int) -> None:
        self.sessions = session_pool(Engine(load_table(RULES)))
        self.store: Any = SQLiteStore(Path(at), TTL) if backend == "sqlite" else RedisStore(at, TTL, PREFIX)
        self.n = n  # people stored: user ids 0..n-1
        self.rng = random.Random(seed)  # noqa: S311
        self.update_id = 1_000_000_000
        self.ns: dict[str, list[int]] = {"existing_people": [], "new_people": []}  # each update's nanoseconds
        self.loop = asyncio.new_event_loop()
        self.loop.run_until_complete(self.run(warmup))  # connections, caches and code warm; not counted
        self.ns = {"existing_people": [], "new_people": []}
        Cycles.here = self

    async def one(self, key: str) -> int:
        """One update's get, put with the reply owed (again after a Conflict) and settle; nanoseconds taken."""
        self.update_id += 1
        session = self.rng.choice(self.sessions)
        started = time.perf_counter_ns()
        owed = Owed(self.update_id, seal(SECRET, key, 7_000_000), 12, "in place", "", session.lang, time.time())
        for _ in range(ATTEMPTS):  # as transact tries an update against a changing record
            record = await self.store.get(key) or Record(Session(session.lang, {}, session.version))
            after = record.after(session, self.update_id, time.time())
            with contextlib.suppress(Conflict):  # another process wrote this person meanwhile: read it again
                await self.store.put(key, after, expected=record.version, owed=owed)
                await self.store.settle(key, self.update_id, screen=12)
                return time.perf_counter_ns() - started
        raise RuntimeError("other writers kept changing a record")

    async def run(self, count: int) -> None:
        """``count`` updates, for random existing people and some new ones; each one's time noted."""
        for _ in range(count):
            new = self.rng.random() < NEW_FRACTION
            user_id = self.rng.randrange(self.n, 2**40) if new else self.rng.randrange(self.n)  # new: none stored
            key = person_key(SECRET, user_id)
            self.ns["new_people" if new else "existing_people"].append(await self.one(key))
            if new:
                await self.store.delete(key)  # untimed: the number stored stays as it was

    async def until(self, stop: str) -> dict[str, float]:
        """Updates until the file ``stop`` exists: how many, the longest in ms (a deletion too), how many failed."""
        ns = []
        unavailable = 0
        while not Path(stop).exists():
            started = time.perf_counter_ns()
            try:
                await self.run(1)
            except StoreUnavailable:
                unavailable += 1
            ns.append(time.perf_counter_ns() - started)
        return {"updates": len(ns), "update_max_ms": round(max(ns, default=0) / 1e6, 2), "unavailable": unavailable}

    async def purge(self, stop: str) -> dict[str, Any]:
        """purge() while this process handles updates, then ``stop`` touched; what it took, the updates meanwhile."""
        updates = asyncio.create_task(self.until(stop))
        await asyncio.sleep(0.05)  # updates under way
        started = time.perf_counter()
        removed = await self.store.purge()
        purge_s = round(time.perf_counter() - started, 4)
        Path(stop).touch()  # the updates here stop, and the other worker's
        return {"removed": removed, "purge_s": purge_s, "this_process": await updates}

    async def figures(self) -> dict[str, Any]:
        """Latency of the updates so far; 20 ``ping()`` timed, in ms; this process's memory in KiB."""
        pings = []
        for _ in range(20):
            started = time.perf_counter()
            await self.store.ping()
            pings.append(time.perf_counter() - started)
        both = self.ns["existing_people"] + self.ns["new_people"]
        latency = {"all": _us(both), **{kind: _us(ns) for kind, ns in self.ns.items()}}
        return {"latency": latency, "memory": memory_kib(), "ping_ms": summary(pings, 1000, 3)}

    @staticmethod
    def call(name: str, *args: Any) -> Any:
        """In a worker: ``Cycles.<name>(*args)`` on its event loop."""
        return Cycles.here.loop.run_until_complete(getattr(Cycles.here, name)(*args))


class Worker(ProcessPoolExecutor):
    """A worker process, spawned: a fresh interpreter as a bot process is, not a fork of this one with its stores."""

    def __init__(self, backend: str, at: str, n: int, seed: int, warmup: int) -> None:
        super().__init__(1, multiprocessing.get_context("spawn"), Cycles, (backend, at, n, seed, warmup))
        self.pid = self.submit(os.getpid)  # it starts now (a second to import the bot, the warm-up), beside others

    def ask(self, name: str, *args: Any) -> Any:
        """``Cycles.<name>(*args)`` in the worker, and its answer (TimeoutError after WORKER_TIMEOUT)."""
        return self.submit(Cycles.call, name, *args).result(WORKER_TIMEOUT)

    def __exit__(self, *exc: Any) -> None:
        """The worker gone; after a failure, this benchmark's workers killed first, as one may hang."""
        for process in multiprocessing.active_children() if exc[0] else ():
            process.kill()
        super().__exit__(*exc)


THREAD = "_bootstrap ("  # a stack with this root is a thread of its own (py-spy 0.4: "Thread._bootstrap (")
HAND_OFF = ("to_thread", "futures/thread", "futures/_base", "call_soon_threadsafe")
AREAS = (  # where a sampled stack's time goes: the first rule that matches, in this order
    ("idle: waiting in epoll", lambda fs: fs[-1].startswith(("EpollSelector.select (", "select (selectors"))),
    ("SQLite: statements and commit, in the store's thread", lambda fs: has(fs, "sqlite.py") and THREAD in fs[0]),
    ("idle: the executor's threads waiting for work", lambda fs: THREAD in fs[0]),
    ("JSON: encode_record / decode_record", lambda fs: has(fs, "encode_record (") or has(fs, "decode_record (")),
    ("redis-py: commands, Lua CAS, socket", lambda fs: has(fs, "(redis/")),
    ("thread hand-off on the event loop: to_thread, futures, wake-ups", lambda fs: any(has(fs, t) for t in HAND_OFF)),
    ("bot/ store code on the event loop", lambda fs: has(fs, "(bot/storage/")),
    ("event loop, benchmark loop and other", lambda fs: True),
)


def bench_backend(backend: str, at: dict[str, str], s: dict[str, Any], pool: Pool, workdir: Path) -> tuple[dict, dict]:
    """Filled stores: latency in alternating rounds, memory, ping, a profile of the large one's worker; the targets."""
    fill = fill_sqlite if backend == "sqlite" else fill_redis
    for label, where in at.items():
        fill(where, s[label], pool)
    stop = workdir / f"{backend}.stop"
    with contextlib.ExitStack() as stack:
        workers = {label: stack.enter_context(Worker(backend, at[label], s[label], 7, s["warmup"])) for label in at}
        for number in range(s["rounds"]):
            for label in ("small", "large") if number % 2 == 0 else ("large", "small"):  # neither always goes first
                workers[label].ask("run", s["per_round"])
        found = {label: worker.ask("figures") for label, worker in workers.items()}
        updates = workers["large"].submit(Cycles.call, "until", str(stop))
        raw = workdir / f"{backend}.pyspy"
        text = wait_py_spy(start_py_spy(workers["large"].pid.result(), s["profile_seconds"], RATE, raw), raw)
        stop.touch()
        count = updates.result(WORKER_TIMEOUT)["updates"]
    large = found["large"]["latency"]["all"]
    small = found["small"]["latency"]["all"]
    ratios = {f"all_{q}": ratio(large[f"{q}_us"], small[f"{q}_us"]) for q in ("p50", "p99", "mean", "p99.9")}
    profile = {"updates_per_s": round(count / s["profile_seconds"], 1), **summarize(text, AREAS, count, 1 / RATE)}
    figures = {key: {label: f[key] for label, f in found.items()} for key in ("latency", "memory", "ping_ms")}
    rss = ratio(found["large"]["memory"]["VmRSS"], found["small"]["memory"]["VmRSS"])
    targets = {"p50_ratio": ratios["all_p50"], "p99_ratio": ratios["all_p99"], "rss_ratio": rss}
    targets["latency_met (both <= 1.2)"] = ratios["all_p50"] <= 1.2 and ratios["all_p99"] <= 1.2
    targets["rss_met (<= 1.10)"] = rss <= 1.10
    print(f"{backend}: large/small {targets}", flush=True)
    return {**figures, "latency_ratio_large_to_small": ratios, "profile_large": profile}, targets


def measure_purge(path: str, n: int) -> dict[str, Any]:
    """purge() of a file with every tenth record expired, while a second worker on the file handles updates too."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:  # as if they had left a week ago
        expired = db.execute("UPDATE sessions SET expires = ? WHERE rowid % 10 = 0", (time.time() - 60,)).rowcount
    stop = f"{path}.stop"
    with Worker("sqlite", path, n, 8, 0) as purger, Worker("sqlite", path, n, 9, 200) as other:
        other.ask("run", 0)  # started and warm
        elsewhere = other.submit(Cycles.call, "until", stop)
        result = purger.ask("purge", stop)  # which touches the stop file
        result["other_process"] = elsewhere.result(WORKER_TIMEOUT)
        result["wal_file_mib_after"] = round(Path(f"{path}-wal").stat().st_size / 2**20, 1)
    return {"rows": n, "expired": expired, **result}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Fill, measure and probe both stores; the targets."""
    from tests.support.redis_server import RedisServer  # the tests' own; harness.results put the clone on the path

    s = args.sizes
    pool = record_pool(session_pool(Engine(load_table(RULES))), time.time())
    record_bytes = round(sum(len(data.encode()) for data, _, _ in pool) / len(pool), 1)
    results: dict[str, Any] = {"machine": {**machine(), "sqlite": sqlite3.sqlite_version}, "record_bytes": record_bytes}
    targets: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="maslahat-bench-storage-", dir=args.workdir) as tmp:
        paths = {label: f"{tmp}/sessions-{s[label]}.db" for label in ("small", "large")}
        results["sqlite"], targets["sqlite"] = bench_backend("sqlite", paths, s, pool, Path(tmp))
        results["sqlite"]["purge"] = {"large": measure_purge(paths["large"], s["large"])}
        with RedisServer() as small, RedisServer() as large:
            version = subprocess.check_output([small.binary, "--version"], text=True)  # noqa: S603
            results["machine"]["redis_server"] = version.strip()
            urls = {"small": small.url, "large": large.url}
            results["redis"], targets["redis"] = bench_backend("redis", urls, s, pool, Path(tmp))
    return {**results, "targets": targets}


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workdir", type=Path, help="where the SQLite files go (default: the temporary directory)")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    return run_benchmark("storage", TITLE, parse("storage", __doc__ or "", FULL, SMOKE, argv, _options), run)


if __name__ == "__main__":
    main()
