"""Storage at scale: what one update costs the session store with 1,000 and with 1,000,000 people stored.

Per update, what ``bot.telegram.transaction.transact`` and the reply do: ``get``, a compare-and-set ``put`` with
the reply owed, ``settle``; on a SQLite file and a real redis-server filled with realistic records, each used by a
spawned worker process that imports the bot as a bot process does, small and large in alternating rounds, for
random existing people (uniform: the worst case for caches) and some new ones. Also each worker's VmRSS, ``ping()``,
a py-spy profile, and SQLite's ``purge()`` of every tenth record while two workers on the file handle updates.

    .venv/bin/python -m benchmarks.bench_storage            # the full run: about 4 minutes, ~2 GB of disk
    .venv/bin/python -m benchmarks.bench_storage --smoke    # tiny sizes, about 20 seconds
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
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
FULL: dict[str, Any] = {"small": 1_000, "large": 1_000_000, "rounds": 40, "per_round": 1_000, "warmup": 3_000}
FULL.update(profile_seconds=8.0, hard_timeout_s=1500.0)
SMOKE = {**FULL, "small": 100, "large": 1_000, "rounds": 2, "per_round": 50, "warmup": 20, "profile_seconds": 1.0}
Pool = list[tuple[str, int, float]]  # stored records: (JSON, version, last touched)
Filler = Callable[[str, int], None]  # fills one store (file or URL) with so many people


def session_pool(engine: Engine) -> list[Session]:
    """Every session a person can be in: each prefix of each conversation, in each language."""
    seen: dict[tuple[tuple[str, str], ...], Session] = {}
    for finished, _ in engine.conversations():
        answers = list(finished.answers.items())
        for n in range(len(answers) + 1):
            seen.setdefault(tuple(answers[:n]), Session("", dict(answers[:n]), finished.version))
    return [Session(lang, dict(s.answers), s.version) for s in seen.values() for lang in LANGUAGES]


def record_pool(sessions: list[Session], now: float, count: int) -> Pool:
    """``count`` records: a session, up to 20 recent update ids, its last activity within the retention time."""
    pool, rng = [], random.Random(1)  # noqa: S311 - test data, not secrets
    for _ in range(count):
        session = rng.choice(sessions)
        version, first = len(session.answers) + rng.randint(1, 6), rng.randint(100_000_000, 900_000_000)
        recent = tuple(first + i for i in range(max(0, version - 20), version))
        touched = now - rng.uniform(0, TTL / 2)
        pool.append((encode_record(Record(session, version, recent, touched)), version, touched))
    return pool


def stored_rows(n: int, pool: Pool) -> Iterator[tuple[str, str, int, float]]:
    """(person key, JSON, version, touched) for user ids 0..n-1."""
    rng = random.Random(n)  # noqa: S311
    for user_id in range(n):
        yield (person_key(SECRET, user_id), *pool[rng.randrange(len(pool))])


def fill_sqlite(path: str, n: int, pool: Pool) -> None:
    """The schema as the bot creates it, then ``n`` records in one transaction."""
    store = SQLiteStore(path, TTL)
    asyncio.run(store.ping())  # connects, migrates
    asyncio.run(store.close())
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("PRAGMA cache_size = -1000000")  # this loader only: 1 GB, so the load itself is quick
        rows = ((key, data, version, touched + TTL) for key, data, version, touched in stored_rows(n, pool))
        db.executemany("INSERT INTO sessions (key, data, version, expires) VALUES (?, ?, ?, ?)", rows)
        db.commit()  # the one transaction sqlite3 began for the inserts
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def fill_redis(url: str, n: int, pool: Pool) -> None:
    """HSET version+data and the expiry as RedisStore writes them, through ``redis-cli --pipe`` (mass insertion)."""
    command = [shutil.which("redis-cli") or "redis-cli", "-u", url, "--pipe"]
    with subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as cli:  # noqa: S603
        assert cli.stdin is not None
        for key, data, version, touched in stored_rows(n, pool):
            name, expires_ms = f"{PREFIX}:session:{key}".encode(), b"%d" % round((touched + TTL) * 1000)
            hset = [b"HSET", name, b"version", b"%d" % version, b"data", data.encode()]
            for words in (hset, [b"PEXPIREAT", name, expires_ms]):  # in the Redis protocol
                cli.stdin.write(b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words))
        said = cli.communicate()[0]
    if cli.returncode or not said.endswith(b"errors: 0, replies: %d\n" % (2 * n)):
        raise RuntimeError(f"redis-cli --pipe did not write every record: {said[-300:]!r}")


class Cycles:
    """A worker process's store, opened as the bot opens it, and update cycles on it as transact does them."""

    here: Cycles  # in a worker process: its own, made by the process pool's initializer

    def __init__(self, backend: str, at: str, n: int, seed: int) -> None:
        self.sessions, self.before_store = session_pool(Engine(load_table(RULES))), memory_kib()
        self.store: Any = SQLiteStore(Path(at), TTL) if backend == "sqlite" else RedisStore(at, TTL, PREFIX)
        self.n, self.rng, self.loop = n, random.Random(seed), asyncio.new_event_loop()  # noqa: S311
        self.next_new, self.update_id = 10 * n + 10_000_000, 1_000_000_000  # next_new: user ids no one stored has
        Cycles.here = self

    async def one(self, key: str) -> int:
        """One update's get, put with the reply owed (again after a Conflict) and settle; nanoseconds taken."""
        self.update_id += 1
        session, started = self.rng.choice(self.sessions), time.perf_counter_ns()
        owed = Owed(self.update_id, seal(SECRET, key, 7_000_000), 12, "in place", "", session.lang, time.time())
        for _ in range(ATTEMPTS):  # as transact tries an update against a changing record
            record = await self.store.get(key) or Record(Session(session.lang, {}, session.version))
            after = record.after(session, self.update_id, time.time())
            with contextlib.suppress(Conflict):  # another process wrote this person meanwhile: read it again
                await self.store.put(key, after, expected=record.version, owed=owed)
                await self.store.settle(key, self.update_id, screen=12)
                return time.perf_counter_ns() - started
        raise RuntimeError("other writers kept changing a record")

    async def run(self, count: int) -> tuple[list[int], list[int]]:
        """Latencies in ns of ``count`` updates: (existing people, new people)."""
        existing, new = list[int](), list[int]()
        for _ in range(count):
            if self.rng.random() >= NEW_FRACTION:
                existing.append(await self.one(person_key(SECRET, self.rng.randrange(self.n))))
                continue
            self.next_new += 1
            new.append(await self.one(key := person_key(SECRET, self.next_new)))
            await self.store.delete(key)  # untimed: the number stored stays as it was
        return existing, new

    async def until(self, stop: str) -> dict[str, float]:
        """Updates until the file ``stop`` exists: how many, the longest (a new person deleted too), how many failed."""
        ns, unavailable = list[int](), 0
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
        found = {"removed": await self.store.purge(), "purge_s": round(time.perf_counter() - started, 4)}
        Path(stop).touch()  # the updates here stop, and the other worker's
        wal_mib = round(wal.stat().st_size / 2**20, 1) if (wal := Path(f"{self.store.path}-wal")).exists() else 0.0
        return {**found, "this_process": await updates, "wal_file_mib_after": wal_mib}

    async def probes(self) -> dict[str, Any]:
        """Seconds each of 20 ``ping()`` took; this process's memory in KiB before the store was opened and now."""
        pings = []
        for _ in range(20):
            started = time.perf_counter()
            await self.store.ping()
            pings.append(time.perf_counter() - started)
        memory = {"before_store_kib": self.before_store, "after_cycles_kib": memory_kib()}
        return {"memory": memory, "ping_ms": summary(pings, 1000, 3)}

    @staticmethod
    def call(name: str, *args: Any) -> Any:
        """In a worker: ``Cycles.<name>(*args)`` on its event loop."""
        return Cycles.here.loop.run_until_complete(getattr(Cycles.here, name)(*args))


class Worker(ProcessPoolExecutor):
    """A worker process, spawned: a fresh interpreter as a bot process is, not a fork of this one with its stores."""

    def __init__(self, backend: str, at: str, n: int, seed: int, warmup: int = 0) -> None:
        super().__init__(1, multiprocessing.get_context("spawn"), Cycles, (backend, at, n, seed))
        self.submit(Cycles.call, "run", warmup)  # it starts now (a second to import the bot), beside the others

    def ask(self, name: str, *args: Any) -> Any:
        """``Cycles.<name>(*args)`` in the worker, and its answer (TimeoutError after WORKER_TIMEOUT)."""
        return self.submit(Cycles.call, name, *args).result(WORKER_TIMEOUT)

    def __exit__(self, *exc: Any) -> None:
        """The worker gone; after a failure killed first, as it may hang."""
        for process in self._processes.values() if exc[0] else ():
            process.kill()
        super().__exit__(*exc)


def _us(ns: list[int]) -> dict[str, float]:
    """Latency figures in microseconds."""
    found = {f"p{q}_us": round(percentile(ns, q / 100) / 1000, 1) for q in (50, 90, 99, 99.9)}
    return {"count": len(ns), "mean_us": round(sum(ns) / len(ns) / 1000, 1), **found, "max_us": max(ns) / 1000}


AREAS = (  # where a sampled stack's time goes: the first rule that matches, in this order
    ("idle: waiting in epoll", lambda fs: fs[-1].startswith("EpollSelector.select ")),
    (
        "SQLite: statements and commit, in the store's thread",
        lambda fs: has(fs, "(bot/storage/sqlite.py") and has(fs, "Thread._bootstrap"),
    ),
    ("idle: the executor's threads waiting for work", lambda fs: has(fs, "Thread._bootstrap")),
    ("JSON: encode_record / decode_record", lambda fs: has(fs, "encode_record (") or has(fs, "decode_record (")),
    ("redis-py: commands, Lua CAS, socket", lambda fs: has(fs, "(redis/")),
    (
        "thread hand-off on the event loop: asyncio.to_thread, futures, wake-ups",
        lambda fs: any(has(fs, t) for t in ("to_thread", "futures/thread", "futures/_base", "call_soon_threadsafe")),
    ),
    ("bot/ store code on the event loop", lambda fs: has(fs, "(bot/storage/")),
    ("event loop, benchmark loop and other", lambda fs: True),
)


def bench_backend(backend: str, at: dict[str, str], s: dict[str, Any], fill: Filler, workdir: Path) -> dict[str, Any]:
    """Filled stores: latency in alternating rounds, memory, ping, py-spy on the large one's worker (every thread)."""
    ns: dict[str, tuple[list[int], list[int]]] = {"small": ([], []), "large": ([], [])}  # existing, new people
    for label, where in at.items():
        fill(where, s[label])
    with contextlib.ExitStack() as stack:
        workers = {k: stack.enter_context(Worker(backend, at[k], s[k], 7, s["warmup"])) for k in ns}
        for number in range(s["rounds"]):
            for label in ("small", "large") if number % 2 == 0 else ("large", "small"):  # neither always goes first
                for mine, more in zip(ns[label], workers[label].ask("run", s["per_round"]), strict=True):
                    mine.extend(more)
        probes = {label: one.ask("probes") for label, one in workers.items()}
        raw, stop, rate, seconds = workdir / f"{backend}.pyspy", workdir / f"{backend}.stop", 500, s["profile_seconds"]
        updates = workers["large"].submit(Cycles.call, "until", str(stop))
        text = wait_py_spy(start_py_spy(next(iter(workers["large"]._processes)), seconds, rate, raw), raw)
        stop.touch()
        count = updates.result(WORKER_TIMEOUT)["updates"]
    latency = {k: {"all": _us(a + b), "existing_people": _us(a), "new_people": _us(b)} for k, (a, b) in ns.items()}
    large, small = latency["large"]["all"], latency["small"]["all"]
    ratios = {f"all_{q}": ratio(large[f"{q}_us"], small[f"{q}_us"]) for q in ("p50", "p99", "mean", "p99.9")}
    tool = f"py-spy record --format raw -r {rate}, every thread of the worker, while it ran update cycles"
    profile = {"tool": tool, "updates_per_s": round(count / seconds, 1), **summarize(text, AREAS, count, 1 / rate)}
    probed = {key: {label: p[key] for label, p in probes.items()} for key in ("memory", "ping_ms")}
    return {"latency": latency, "latency_ratio_large_to_small": ratios, **probed, "profile_large": profile}


def measure_purge(path: str, n: int) -> dict[str, Any]:
    """purge() of a file with 10% of its records expired, while a second worker on the file handles updates too."""
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as db:  # as if they had left a week ago
        expired = db.execute("UPDATE sessions SET expires = ? WHERE rowid % 10 = 0", (time.time() - 60,)).rowcount
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with Worker("sqlite", path, n, 8) as purger, Worker("sqlite", path, n, 9, 200) as other:
        other.ask("run", 0)  # connected and warm
        elsewhere = other.submit(Cycles.call, "until", f"{path}.stop")
        result = purger.ask("purge", f"{path}.stop")  # which touches the stop file
        result["other_process"] = elsewhere.result(WORKER_TIMEOUT)
    with contextlib.closing(sqlite3.connect(path)) as db:
        left = db.execute("SELECT count(*) FROM sessions WHERE expires <= ?", (time.time(),)).fetchone()[0]
    if left or result["removed"] > expired:  # updates meanwhile may have renewed a few expired ones
        raise RuntimeError(f"purge removed {result['removed']} of {expired}; {left} expired are left")
    return {"rows": n, "expired": expired, **result}


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Fill, measure and probe both stores; the targets."""
    from tests.support.redis_server import RedisServer  # the tests' own; harness.results put the clone on the path

    s, sessions = args.sizes, session_pool(Engine(load_table(RULES)))
    pool = record_pool(sessions, time.time(), 20_000)
    results: dict[str, Any] = {
        "machine": {**machine(), "sqlite": sqlite3.sqlite_version},
        "setup": {
            "record_json_bytes_mean": round(sum(len(data.encode()) for data, _, _ in pool) / len(pool), 1),
            "distinct_sessions": len(sessions),
            "new_people_fraction": NEW_FRACTION,
        },
    }
    with tempfile.TemporaryDirectory(prefix="maslahat-bench-storage-", dir=args.workdir) as tmp:
        paths = {label: f"{tmp}/sessions-{s[label]}.db" for label in ("small", "large")}
        results["sqlite"] = bench_backend("sqlite", paths, s, lambda at, n: fill_sqlite(at, n, pool), Path(tmp))
        results["sqlite"]["purge"] = {"large": measure_purge(paths["large"], s["large"])}
        with RedisServer() as small, RedisServer() as large:
            version = [small.binary, "--version"]
            results["setup"]["redis_server"] = subprocess.check_output(version, text=True).strip()  # noqa: S603
            urls = {"small": small.url, "large": large.url}
            results["redis"] = bench_backend("redis", urls, s, lambda at, n: fill_redis(at, n, pool), Path(tmp))
    targets = {}
    for backend in ("sqlite", "redis"):
        lat, mem = results[backend]["latency_ratio_large_to_small"], results[backend]["memory"]
        rss = ratio(mem["large"]["after_cycles_kib"]["VmRSS"], mem["small"]["after_cycles_kib"]["VmRSS"])
        targets[backend] = {"p50_ratio": lat["all_p50"], "p99_ratio": lat["all_p99"], "rss_ratio": rss}
        targets[backend]["latency_met (both <= 1.2)"] = lat["all_p50"] <= 1.2 and lat["all_p99"] <= 1.2
        targets[backend]["rss_met (<= 1.10)"] = rss <= 1.10
        print(f"{backend}: large/small {targets[backend]}", flush=True)
    return {**results, "targets": targets}


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--workdir", type=Path, help="where the SQLite files go (default: the temporary directory)")


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Run the benchmark; return what was written."""
    return run_benchmark("storage", TITLE, parse("storage", __doc__ or "", FULL, SMOKE, argv, _options), run)


if __name__ == "__main__":
    main()
