"""Storage at scale: what one update costs the session store with 1,000 and with 1,000,000 people stored.

One update costs the store what ``bot.telegram.application._transact`` does: ``get(key)`` then
``put(key, record.after(...), expected=record.version)`` — a compare-and-set write. This benchmark
fills a SQLite file (``bot.storage.sqlite.SQLiteStore``; executemany in one transaction) and a real
redis-server (``bot.storage.redis.RedisStore``'s layout: a hash with ``version`` and ``data`` and a
PEXPIRE, pipelined; the server is started here on 127.0.0.1) with realistic records — JSON from
``encode_record()`` under ``person_key()`` keys, sessions that are prefixes of real conversations of
the shipped rule table in every language, up to 20 recent update ids — once with the small and once
with the large number of people. It then times get+put cycles on random existing people (uniform
over everyone stored: the worst case for caches) and on some new people (a get that finds nothing,
then an insert; the new record is deleted again, untimed, so the number stored stays put).

Each store is used by its own worker process that imports the bot (``bot.telegram.application``) and opens
the store as the bot does. The small and the large worker run in alternating rounds of 1,000
updates, so that drift in the machine's speed (other work on it) falls on both alike.

Memory: the resident set (VmRSS, with RssAnon and RssFile) of each worker from /proc/self/status
after all its updates — the bot process, not redis-server. SQLite does not map the file (no
mmap_size), so the file's pages in the OS page cache are not in it; SQLite's own page cache
(cache_size, 2 MiB by default) is, in RssAnon.

Also measured: for SQLite, ``purge()`` of 1,000,000 records of which 10% are expired (every tenth
by rowid: scattered over the whole file, the worst case), while the purging process and a second
process on the same file keep handling updates, against the one DELETE the store ran before, on a
copy; ``ping()`` (each /readyz probe) against the count(*) it ran before; ``size()``. For Redis,
``ping()`` and ``size()``.

Run from the repository root (about 4 minutes; it needs ~2 GB of disk in the temp directory)::

    .venv/bin/python -m benchmarks.bench_storage            # --full, the default
    .venv/bin/python -m benchmarks.bench_storage --smoke    # tiny sizes, about 10 seconds

It prints its figures and writes ``benchmarks/results/storage.json`` (``--out`` to change).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import hmac
import json
import os
import platform
import random
import select
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from benchmarks.common import machine, write_results  # noqa: E402
from bot.core.engine import Engine, Session  # noqa: E402
from bot.core.languages import LANGUAGES  # noqa: E402
from bot.ruletable.loader import load_table  # noqa: E402
from bot.storage.base import Record, encode_record, person_key  # noqa: E402
from bot.storage.sqlite import PURGE_BATCH  # noqa: E402

RULES = ROOT / "rules" / "decree-821.yaml"
RESULTS = ROOT / "benchmarks" / "results" / "storage.json"
SECRET = b"benchmark session secret"
#: The bot's default retention (RETENTION_DAYS=7).
TTL = 7 * 86400.0
PREFIX = "maslahat"
#: How long a worker may take to answer one command before the benchmark gives up.
WORKER_TIMEOUT = 300.0
#: As bot.telegram.application.ATTEMPTS: how often an update is tried against a changing record.
ATTEMPTS = 5
#: Share of timed updates that come from a person never seen before.
NEW_FRACTION = 0.1


def _rng(seed: int) -> random.Random:
    return random.Random(seed)  # noqa: S311 -- test data, not secrets


# Realistic records -------------------------------------------------------------------------


def session_pool(engine: Engine) -> list[Session]:
    """Every session a person can be in: each prefix of each conversation, in each language."""
    seen: dict[tuple[tuple[str, str], ...], Session] = {}
    for finished, _decision in engine.conversations():
        answers = list(finished.answers.items())
        for length in range(len(answers) + 1):
            seen.setdefault(tuple(answers[:length]), Session("", dict(answers[:length]), finished.version))
    return [Session(lang, dict(s.answers), s.version) for s in seen.values() for lang in LANGUAGES]


def record_pool(sessions: list[Session], rng: random.Random, now: float, count: int) -> list[tuple[str, int, float]]:
    """``count`` stored records as (JSON, version, touched): a session, its recent update ids, its last activity."""
    pool = []
    for _ in range(count):
        session = rng.choice(sessions)
        version = len(session.answers) + rng.randint(1, 6)
        first_update = rng.randint(100_000_000, 900_000_000)
        recent = tuple(first_update + i for i in range(max(0, version - 20), version))
        touched = now - rng.uniform(0, TTL / 2)  # everyone active within the retention time
        record = Record(session, version, recent, touched)
        pool.append((encode_record(record), version, touched))
    return pool


def person_keys(n: int) -> list[str]:
    """person_key(SECRET, user_id) for user ids 0..n-1, by the one-shot HMAC (the same value, faster)."""
    keys = [hmac.digest(SECRET, str(user_id).encode(), "sha256").hex() for user_id in range(n)]
    assert keys[: min(n, 3)] == [person_key(SECRET, user_id) for user_id in range(min(n, 3))]
    return keys


def stored_rows(
    keys: list[str], pool: list[tuple[str, int, float]], seed: int
) -> Iterator[tuple[str, str, int, float]]:
    """(person key, JSON, version, touched) for each person, in the order of their user ids (random keys)."""
    rng = _rng(seed)
    for key in keys:
        data, version, touched = pool[rng.randrange(len(pool))]
        yield key, data, version, touched


# Filling the stores ------------------------------------------------------------------------


def fill_sqlite(path: Path, keys: list[str], pool: list[tuple[str, int, float]], seed: int) -> float:
    """Create the schema as the bot does, then insert ``n`` records in one transaction; seconds taken."""
    from bot.storage.sqlite import SQLiteStore

    started = time.perf_counter()

    async def create() -> None:
        store = SQLiteStore(path, TTL)
        await store.ping()  # connects, migrates
        await store.close()

    asyncio.run(create())
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA cache_size = -1000000")  # this loader only: 1 GB, so the load itself is quick
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO sessions (key, data, version, expires) VALUES (?, ?, ?, ?)",
            ((key, data, version, touched + TTL) for key, data, version, touched in stored_rows(keys, pool, seed)),
        )
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return time.perf_counter() - started


#: HSET name version <v> data <json> and PEXPIRE name <ms> in the Redis protocol (RESP).
_HSET = b"*6\r\n$4\r\nHSET\r\n$%d\r\n%s\r\n$7\r\nversion\r\n$%d\r\n%s\r\n$4\r\ndata\r\n$%d\r\n%s\r\n"
_PEXPIRE = b"*3\r\n$7\r\nPEXPIRE\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"


def fill_redis(url: str, keys: list[str], pool: list[tuple[str, int, float]], seed: int, batch: int = 10_000) -> float:
    """HSET version+data and PEXPIRE, as RedisStore's compare-and-set writes them, pipelined; seconds taken.

    Commands are written in the Redis protocol directly on a socket, ``batch`` records at a time
    (redis-py's pipeline takes twice as long to encode them), and every reply is checked.
    """
    from urllib.parse import urlparse

    started = time.perf_counter()
    now = time.time()
    address = urlparse(url)
    with socket.create_connection((address.hostname or "127.0.0.1", address.port or 6379), timeout=60) as sock:
        reader = sock.makefile("rb")
        commands: list[bytes] = []

        def flush() -> None:
            sock.sendall(b"".join(commands))
            for _ in range(2 * len(commands)):  # HSET and PEXPIRE each answer an integer
                answer = reader.readline()
                if not answer.startswith(b":"):
                    raise RuntimeError(f"redis-server refused a write: {answer!r}")
            commands.clear()

        for key, data, version, touched in stored_rows(keys, pool, seed):
            name = f"{PREFIX}:session:{key}".encode()
            body = data.encode()
            version_text = b"%d" % version
            ttl_text = b"%d" % max(1, round((touched + TTL - now) * 1000))
            commands.append(
                _HSET % (len(name), name, len(version_text), version_text, len(body), body)
                + _PEXPIRE % (len(name), name, len(ttl_text), ttl_text)
            )
            if len(commands) >= batch:
                flush()
        if commands:
            flush()
        sock.sendall(b"*1\r\n$6\r\nDBSIZE\r\n")
        if reader.readline() != b":%d\r\n" % len(keys):
            raise RuntimeError("redis-server does not hold what was written")
    return time.perf_counter() - started


# The worker: a bot process using one store -------------------------------------------------


def memory() -> dict[str, int]:
    """This process's memory from /proc/self/status, in KiB (RssFile: file pages mapped, e.g. libraries)."""
    gc.collect()
    found: dict[str, int] = {}
    with open("/proc/self/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in {"VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"}:
                found[name] = int(value.split()[0])
    return found


async def update_cycle(store: Any, key: str, session: Session, update_id: int) -> int:
    """One update's store operations, as _transact does them (read again after a Conflict); nanoseconds taken."""
    from bot.storage.base import Conflict

    started = time.perf_counter_ns()
    for _ in range(ATTEMPTS):
        record = await store.get(key)
        if record is None:
            record = Record(Session(session.lang, {}, session.version))
        try:
            await store.put(key, record.after(session, update_id, time.time()), expected=record.version)
        except Conflict:  # another process wrote this person meanwhile (only when two workers share a store)
            continue
        return time.perf_counter_ns() - started
    raise RuntimeError("other writers kept changing a record")


class Cycles:
    """Update cycles on one store: random existing people and some new ones."""

    def __init__(self, store: Any, n: int, seed: int, sessions: list[Session]) -> None:
        self.store = store
        self.n = n
        self.rng = _rng(seed)
        self.sessions = sessions
        self.next_new = 10 * n + 10_000_000  # user ids no one stored has
        self.update_id = 1_000_000_000

    async def run(self, count: int) -> tuple[list[int], list[int]]:
        """Latencies in ns of ``count`` updates: (existing people, new people)."""
        existing: list[int] = []
        new: list[int] = []
        for _ in range(count):
            self.update_id += 1
            session = self.rng.choice(self.sessions)
            if self.rng.random() < NEW_FRACTION:
                self.next_new += 1
                key = person_key(SECRET, self.next_new)
                new.append(await update_cycle(self.store, key, session, self.update_id))
                await self.store.delete(key)  # untimed: the number stored stays as it was
            else:
                key = person_key(SECRET, self.rng.randrange(self.n))
                existing.append(await update_cycle(self.store, key, session, self.update_id))
        return existing, new


#: The query SQLiteStore.ping() ran before this benchmark.
COUNT_ALL_PING = "SELECT count(*) FROM sessions"
#: The statement SQLiteStore.purge() ran before this benchmark: every expired record in one DELETE.
ONE_STATEMENT_PURGE = "DELETE FROM sessions WHERE expires <= ?"


async def purge_while_updating(store: Any, cycles: Cycles, mode: str) -> dict[str, Any]:
    """purge() while this process keeps handling updates; what the purge took and what updates waited.

    ``mode`` "store" is ``store.purge()`` as it is; "one_statement" runs ONE_STATEMENT_PURGE the
    way the store ran it before (one statement in the store's thread, under its lock): the baseline.
    """
    done = asyncio.Event()
    during: list[int] = []

    async def updates() -> None:
        while not done.is_set():
            existing, new = await cycles.run(1)
            during.extend(existing + new)

    async def old_purge() -> int:
        return int(await store._run(lambda db: db.execute(ONE_STATEMENT_PURGE, (time.time(),)).rowcount))

    task = asyncio.create_task(updates())
    await asyncio.sleep(0.05)  # updates under way
    started = time.perf_counter()
    removed = await (store.purge() if mode == "store" else old_purge())
    purge_seconds = time.perf_counter() - started
    done.set()
    await asyncio.wait_for(task, WORKER_TIMEOUT)
    wal = Path(str(store.path) + "-wal")
    return {
        "removed": removed,
        "purge_s": round(purge_seconds, 4),
        "updates_in_this_process": len(during),
        "update_max_ms_in_this_process": round(max(during, default=0) / 1e6, 2),
        "wal_file_mib_after": round(wal.stat().st_size / 2**20, 1) if wal.exists() else 0.0,
    }


async def updates_until(cycles: Cycles, stop: Path, max_seconds: float) -> dict[str, Any]:
    """Update cycles until the file ``stop`` exists: latencies in ns, and how many found the store unavailable."""
    from bot.storage.base import StoreUnavailable

    latencies: list[int] = []
    unavailable = 0
    deadline = time.monotonic() + max_seconds
    while not stop.exists() and time.monotonic() < deadline:
        started = time.perf_counter_ns()
        try:
            await cycles.run(1)
        except StoreUnavailable:
            unavailable += 1
        latencies.append(time.perf_counter_ns() - started)
    return {"latencies": latencies, "unavailable": unavailable}


async def timed(call: Any, repeat: int) -> list[float]:
    """Seconds per call, ``repeat`` times."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


def worker(spec: dict[str, Any]) -> None:
    """Serve commands (one JSON line each on stdin, one JSON line back on stdout) on one store."""
    import bot.telegram.application  # noqa: F401 -- everything a bot process has loaded
    from bot.storage.redis import RedisStore
    from bot.storage.sqlite import SQLiteStore

    loop = asyncio.new_event_loop()
    engine = Engine(load_table(RULES))
    sessions = session_pool(engine)
    before_store = memory()
    store: Any = (
        SQLiteStore(Path(spec["path"]), TTL) if spec["backend"] == "sqlite" else RedisStore(spec["url"], TTL, PREFIX)
    )
    cycles = Cycles(store, spec["n"], spec["seed"], sessions)

    def reply(data: object) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    reply({"ready": True})
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "cycles":
            existing, new = loop.run_until_complete(cycles.run(command["count"]))
            reply({"existing": existing, "new": new})
        elif op == "memory":
            reply({"before_store": before_store, "now": memory()})
        elif op == "purge":
            reply(loop.run_until_complete(purge_while_updating(store, cycles, command["mode"])))
        elif op == "updates_until":
            reply(loop.run_until_complete(updates_until(cycles, Path(command["stop"]), command["max_seconds"])))
        elif op == "probes":
            found = {
                "ping_s": loop.run_until_complete(timed(store.ping, command["repeat"])),
                "size_s": loop.run_until_complete(timed(store.size, command["size_repeat"])),
            }
            if spec["backend"] == "sqlite":  # the baseline: ping() as it was, a count of every record
                found["ping_count_all_s"] = loop.run_until_complete(
                    timed(lambda: store._run(lambda db: db.execute(COUNT_ALL_PING).fetchone()), command["repeat"])
                )
            reply(found)
        elif op == "quit":
            loop.run_until_complete(store.close())
            reply({"bye": True})
            break
    loop.close()


class Worker:
    """The benchmark's handle on one worker process."""

    def __init__(self, spec: dict[str, Any]) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(  # noqa: S603 -- our own interpreter and module
            [sys.executable, "-m", "benchmarks.bench_storage", "--worker", json.dumps(spec)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    @staticmethod
    def start(*specs: dict[str, Any]) -> list[Worker]:
        """Workers for ``specs``, started together (each takes a second to import the bot), once all are ready."""
        workers = [Worker(spec) for spec in specs]
        try:
            for worker_ in workers:
                worker_._read()
        except BaseException:
            for worker_ in workers:
                worker_.close()
            raise
        return workers

    def _read(self) -> Any:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], WORKER_TIMEOUT)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            self.close()
            raise RuntimeError("a benchmark worker stopped or did not answer; see its output above")
        return json.loads(line)

    def ask(self, op: str, **args: Any) -> Any:
        self.send(op, **args)
        return self.answer()

    def send(self, op: str, **args: Any) -> None:
        """Give a command without waiting for its answer (then call :meth:`answer`)."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self.process.stdin.flush()

    def answer(self) -> Any:
        return self._read()

    def close(self) -> None:
        if self.process.poll() is None:
            with contextlib.suppress(RuntimeError, OSError):
                self.ask("quit")
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


# Measuring ---------------------------------------------------------------------------------


def percentiles(ns: list[int]) -> dict[str, float]:
    """Latency figures in microseconds."""
    ordered = sorted(ns)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000

    return {
        "count": len(ordered),
        "mean_us": round(statistics.fmean(ordered) / 1000, 1),
        "p50_us": round(at(0.50), 1),
        "p90_us": round(at(0.90), 1),
        "p99_us": round(at(0.99), 1),
        "p999_us": round(at(0.999), 1),
        "max_us": round(ordered[-1] / 1000, 1),
    }


def measure_latency(
    specs: dict[str, dict[str, Any]], rounds: int, per_round: int, warmup: int
) -> tuple[dict[str, Any], dict[str, Worker]]:
    """Alternating rounds of update cycles on each worker; the workers stay open for more questions."""
    workers: dict[str, Worker] = {}
    try:
        workers = dict(zip(specs, Worker.start(*specs.values()), strict=True))
        for worker_ in workers.values():
            worker_.ask("cycles", count=warmup)
        existing: dict[str, list[int]] = {label: [] for label in specs}
        new: dict[str, list[int]] = {label: [] for label in specs}
        for number in range(rounds):
            order = list(workers.items())
            for label, worker_ in order if number % 2 == 0 else reversed(order):  # ABBA: neither always goes first
                answer = worker_.ask("cycles", count=per_round)
                existing[label] += answer["existing"]
                new[label] += answer["new"]
    except BaseException:
        for worker_ in workers.values():
            worker_.close()
        raise
    figures = {
        label: {
            "all": percentiles(existing[label] + new[label]),
            "existing_people": percentiles(existing[label]),
            "new_people": percentiles(new[label]),
        }
        for label in specs
    }
    return figures, workers


def ratio(large: float, small: float) -> float:
    return round(large / small, 3) if small else float("nan")


def latency_ratios(figures: dict[str, Any], small: str, large: str) -> dict[str, float]:
    return {
        f"{part}_{q}": ratio(figures[large][part][f"{q}_us"], figures[small][part][f"{q}_us"])
        for part in ("all", "existing_people", "new_people")
        for q in ("p50", "p99", "mean", "p999")
    }


def memory_figures(workers: dict[str, Worker]) -> dict[str, Any]:
    found = {}
    for label, worker_ in workers.items():
        answer = worker_.ask("memory")
        now, before = answer["now"], answer["before_store"]
        found[label] = {
            "before_store_kib": before,
            "after_cycles_kib": now,
            "rss_growth_since_store_opened_kib": now["VmRSS"] - before["VmRSS"],
        }
    return found


def expire_tenth(path: Path) -> int:
    """Make every tenth record (by rowid) expired, as if those people had left a week ago."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        changed = db.execute("UPDATE sessions SET expires = ? WHERE rowid % 10 = 0", (time.time() - 60,)).rowcount
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return changed


def storage_machine() -> dict[str, Any]:
    return {
        **machine(),
        "machine": platform.machine(),
        "sqlite": sqlite3.sqlite_version,
        "redis_server": subprocess.run(  # noqa: S603 -- a fixed command
            [shutil.which("redis-server") or "redis-server", "--version"], capture_output=True, text=True, check=False
        ).stdout.strip(),
    }


TITLE = "Storage at scale: one update's store cost with 1,000 and 1,000,000 sessions, SQLite and Redis"


def run(
    *,
    small: int,
    large: int,
    rounds: int,
    per_round: int,
    warmup: int,
    purge_sizes: tuple[str, ...] = ("small", "large"),
    profile_seconds: float = 8.0,
    out: Path,
    workdir: Path | None,
    command: str,
) -> dict[str, Any]:
    """The whole benchmark; returns (and writes to ``out``) the results."""
    from support.redis_server import RedisServer

    engine = Engine(load_table(RULES))
    sessions = session_pool(engine)
    now = time.time()
    pool = record_pool(sessions, _rng(1), now, 20_000)
    sizes = {"small": small, "large": large}
    keys = person_keys(max(sizes.values()))
    results: dict[str, Any] = {
        "benchmark": "storage",
        "title": TITLE,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": command,
        "machine": storage_machine(),
        "parameters": {
            "sizes": sizes,
            "rounds": rounds,
            "updates_per_round": per_round,
            "warmup_updates": warmup,
            "new_people_fraction": NEW_FRACTION,
            "ttl_s": TTL,
            "record_json_bytes_mean": round(statistics.fmean(len(data.encode()) for data, _, _ in pool), 1),
            "distinct_sessions": len(sessions),
            "memory_method": "VmRSS/RssAnon/RssFile of the worker process (imports bot.telegram.application, opens the"
            " store, runs every timed update) from /proc/self/status after its updates; redis-server's memory"
            " is reported apart; SQLite maps no file pages (no mmap_size), its 2 MiB page cache is in RssAnon",
            "latency_method": "per update: store.get + store.put(expected=version) as _transact does, timed with"
            " perf_counter_ns in the worker; existing people uniformly at random, some new people",
        },
    }
    base = Path(tempfile.mkdtemp(prefix="maslahat-bench-storage-", dir=workdir))
    results["machine"]["workdir_filesystem"] = _filesystem(base)
    try:
        results["sqlite"] = bench_sqlite(
            base, sizes, keys, pool, rounds, per_round, warmup, purge_sizes, profile_seconds
        )
        results["redis"] = bench_redis(RedisServer, sizes, keys, pool, rounds, per_round, warmup, base, profile_seconds)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    results["targets"] = targets(results)
    results["changes_to_bot"] = changes(results)
    results = write_results(results, out)
    return results


def bench_sqlite(
    base: Path,
    sizes: dict[str, int],
    keys: list[str],
    pool: list[tuple[str, int, float]],
    rounds: int,
    per_round: int,
    warmup: int,
    purge_sizes: tuple[str, ...],
    profile_seconds: float = 0.0,
) -> dict[str, Any]:
    paths = {label: base / f"sessions-{n}.db" for label, n in sizes.items()}
    fill = {label: round(fill_sqlite(paths[label], keys[:n], pool, seed=n), 2) for label, n in sizes.items()}
    file_mib = {label: round(paths[label].stat().st_size / 2**20, 1) for label in sizes}
    specs = {label: {"backend": "sqlite", "path": str(paths[label]), "n": n, "seed": 7} for label, n in sizes.items()}
    latency, workers = measure_latency(specs, rounds, per_round, warmup)
    try:
        mem = memory_figures(workers)
        probes = {label: workers[label].ask("probes", repeat=20, size_repeat=5) for label in sizes}
        profile = profile_updates(workers["large"], base, "sqlite", profile_seconds) if profile_seconds else None
    finally:
        for worker_ in workers.values():
            worker_.close()
    purge = {label: measure_purge(paths[label], n) for label, n in sizes.items() if label in purge_sizes}
    return {
        "fill_s": fill,
        "file_mib": file_mib,
        "latency": latency,
        "latency_ratio_large_to_small": latency_ratios(latency, "small", "large"),
        "memory": mem,
        "purge": purge,
        "ping_ms": {label: _ms_summary(p["ping_s"]) for label, p in probes.items()},
        "ping_count_all_baseline_ms": {label: _ms_summary(p["ping_count_all_s"]) for label, p in probes.items()},
        "size_ms": {label: _ms_summary(p["size_s"]) for label, p in probes.items()},
        **({"profile_large": profile} if profile else {}),
    }


#: Where a sampled stack's time goes: the first rule that matches, in this order.
PROFILE_AREAS: tuple[tuple[str, Any], ...] = (
    ("idle: waiting in epoll", lambda fs: fs[-1].startswith("EpollSelector.select ")),
    (
        "SQLite: statements and commit, in the store's thread",
        lambda fs: _has(fs, "(bot/storage/sqlite.py") and _has(fs, "Thread._bootstrap"),
    ),
    ("idle: the executor's threads waiting for work", lambda fs: _has(fs, "Thread._bootstrap")),
    ("JSON: encode_record / decode_record", lambda fs: _has(fs, "encode_record (") or _has(fs, "decode_record (")),
    ("redis-py: commands, Lua CAS, socket", lambda fs: _has(fs, "(redis/")),
    (
        "thread hand-off on the event loop: asyncio.to_thread, futures, wake-ups",
        lambda fs: any(t in f for f in fs for t in ("to_thread", "concurrent/futures", "call_soon_threadsafe")),
    ),
    ("bot/ store code on the event loop", lambda fs: _has(fs, "(bot/storage/")),
    ("event loop, benchmark loop and other", lambda fs: True),
)


def _has(frames: list[str], text: str) -> bool:
    return any(text in frame for frame in frames)


def profile_updates(worker_: Worker, workdir: Path, label: str, seconds: float) -> dict[str, Any]:
    """Sample the worker with py-spy (from outside, every thread) while it runs update cycles."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("py-spy is not installed: `make test` installs it (the dev extra)")
    raw, stop = workdir / f"{label}.pyspy.txt", workdir / f"{label}.profile.stop"
    rate = 500
    worker_.ask("cycles", count=500)  # warm
    worker_.send("updates_until", stop=str(stop), max_seconds=seconds + 30)
    try:
        record = [py_spy, "record", "-p", str(worker_.process.pid), "-d", str(int(seconds)), "-r", str(rate)]
        done = subprocess.run(  # noqa: S603 -- py-spy from this virtualenv, on our own child
            [*record, "--format", "raw", "-o", str(raw)], capture_output=True, text=True, check=False
        )
    finally:
        stop.touch()
    updates = len(worker_.answer()["latencies"])
    if done.returncode != 0 or not raw.exists():
        raise RuntimeError(f"py-spy failed: {done.stderr.strip()[:300]}")
    areas: dict[str, int] = dict.fromkeys((name for name, _ in PROFILE_AREAS), 0)
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        total += int(count)
        areas[next(name for name, matches in PROFILE_AREAS if matches(frames))] += int(count)
    per_update_ms = 1000 / rate / max(updates, 1)
    return {
        "tool": f"py-spy record --format raw -r {rate}, every thread of the worker, while it ran update cycles",
        "updates": updates,
        "updates_per_s": round(updates / seconds, 1),
        "samples": total,
        "areas": {
            name: {"pct": round(100 * n / max(total, 1), 1), "ms_per_update": round(n * per_update_ms, 4)}
            for name, n in sorted(areas.items(), key=lambda item: -item[1])
            if n
        },
    }


def measure_purge(path: Path, n: int) -> dict[str, Any]:
    """purge() of a file with 10% of its records expired, against the one-statement baseline on a copy.

    While a worker purges, it keeps handling updates itself, and a second worker process on the same
    file handles updates too (as a second bot process on one host would).
    """
    expired = expire_tenth(path)
    copy = path.with_name(path.stem + "-one-statement.db")
    shutil.copyfile(path, copy)
    found: dict[str, Any] = {"rows": n, "expired": expired}
    for mode, file in (("one_statement", copy), ("store", path)):
        stop = file.with_suffix(".stop")
        purger, other = Worker.start(
            {"backend": "sqlite", "path": str(file), "n": n, "seed": 8},
            {"backend": "sqlite", "path": str(file), "n": n, "seed": 9},
        )
        try:
            other.ask("cycles", count=200)  # connected and warm
            other.send("updates_until", stop=str(stop), max_seconds=WORKER_TIMEOUT / 2)
            time.sleep(0.05)
            result = purger.ask("purge", mode=mode)
            stop.touch()
            elsewhere = other.answer()
        finally:
            stop.touch()
            purger.close()
            other.close()
            stop.unlink(missing_ok=True)
        left = _expired_left(file)
        if left or result["removed"] > expired:  # updates meanwhile may have renewed a few expired ones
            raise RuntimeError(f"purge ({mode}) removed {result['removed']} of {expired}; {left} expired are left")
        latencies = elsewhere["latencies"]
        found[mode] = {
            **result,
            "updates_in_other_process": len(latencies),
            "update_max_ms_in_other_process": round(max(latencies, default=0) / 1e6, 2),
            "unavailable_in_other_process": elsewhere["unavailable"],
        }
    copy.unlink()
    found["purge_time_ratio_store_to_one_statement"] = ratio(
        found["store"]["purge_s"], found["one_statement"]["purge_s"]
    )
    found["max_update_wait_ratio_store_to_one_statement"] = ratio(
        found["store"]["update_max_ms_in_this_process"], found["one_statement"]["update_max_ms_in_this_process"]
    )
    return found


def _expired_left(path: Path) -> int:
    db = sqlite3.connect(path, isolation_level=None)
    try:
        return int(db.execute("SELECT count(*) FROM sessions WHERE expires <= ?", (time.time(),)).fetchone()[0])
    finally:
        db.close()


def bench_redis(
    server_class: Any,
    sizes: dict[str, int],
    keys: list[str],
    pool: list[tuple[str, int, float]],
    rounds: int,
    per_round: int,
    warmup: int,
    workdir: Path,
    profile_seconds: float = 0.0,
) -> dict[str, Any]:
    servers = {}
    try:
        for label in sizes:
            servers[label] = server_class()
        fill = {label: round(fill_redis(servers[label].url, keys[:n], pool, seed=n), 2) for label, n in sizes.items()}
        specs = {
            label: {"backend": "redis", "url": servers[label].url, "n": n, "seed": 7} for label, n in sizes.items()
        }
        latency, workers = measure_latency(specs, rounds, per_round, warmup)
        try:
            mem = memory_figures(workers)
            probes = {label: workers[label].ask("probes", repeat=20, size_repeat=1) for label in sizes}
            profile = profile_updates(workers["large"], workdir, "redis", profile_seconds) if profile_seconds else None
        finally:
            for worker_ in workers.values():
                worker_.close()
        server_mib = {label: round(_redis_used_memory(servers[label].url) / 2**20, 1) for label in sizes}
    finally:
        for server in servers.values():
            server.close()
    return {
        "fill_s": fill,
        "redis_server_used_memory_mib": server_mib,
        "latency": latency,
        "latency_ratio_large_to_small": latency_ratios(latency, "small", "large"),
        "memory": mem,
        "ping_ms": {label: _ms_summary(p["ping_s"]) for label, p in probes.items()},
        "size_ms": {label: _ms_summary(p["size_s"]) for label, p in probes.items()},
        **({"profile_large": profile} if profile else {}),
    }


def _redis_used_memory(url: str) -> int:
    from redis import Redis

    client = Redis.from_url(url)
    try:
        return int(client.info("memory")["used_memory"])
    finally:
        client.close()


def _ms_summary(seconds: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(seconds) * 1000, 3), "max_ms": round(max(seconds) * 1000, 3)}


def _filesystem(path: Path) -> str:
    found = subprocess.run(  # noqa: S603 -- a fixed command
        [shutil.which("df") or "df", "--output=fstype", str(path)], capture_output=True, text=True, check=False
    )
    return found.stdout.split()[-1] if found.stdout.split() else "unknown"


def targets(results: dict[str, Any]) -> dict[str, Any]:
    """Each target with its measured value and whether it is met."""
    found: dict[str, Any] = {}
    for backend in ("sqlite", "redis"):
        ratios = results[backend]["latency_ratio_large_to_small"]
        mem = results[backend]["memory"]
        rss_ratio = ratio(mem["large"]["after_cycles_kib"]["VmRSS"], mem["small"]["after_cycles_kib"]["VmRSS"])
        found[backend] = {
            "p50_ratio": ratios["all_p50"],
            "p99_ratio": ratios["all_p99"],
            "latency_met (both <= 1.2)": ratios["all_p50"] <= 1.2 and ratios["all_p99"] <= 1.2,
            "rss_ratio": rss_ratio,
            "rss_met (<= 1.10)": rss_ratio <= 1.10,
        }
    return found


def changes(results: dict[str, Any]) -> list[dict[str, Any]]:
    """What this benchmark changed in bot/storage/sqlite.py, with the old way measured in this same run."""
    sqlite = results["sqlite"]
    large = "large"
    found = [
        {
            "file": "bot/storage/sqlite.py",
            "function": "SQLiteStore.ping",
            "change": "SELECT 1 FROM sessions LIMIT 1 instead of SELECT count(*) FROM sessions (a scan of every"
            " record, under the store's lock, on every /readyz probe)",
            "before_ms": sqlite["ping_count_all_baseline_ms"][large]["median_ms"],
            "after_ms": sqlite["ping_ms"][large]["median_ms"],
            "at_sessions": results["parameters"]["sizes"][large],
        }
    ]
    if large in sqlite["purge"]:
        purge = sqlite["purge"][large]
        found.append(
            {
                "file": "bot/storage/sqlite.py",
                "function": "SQLiteStore.purge",
                "change": f"delete expired records PURGE_BATCH ({PURGE_BATCH}) per transaction, pausing between"
                " batches as long as the batch took, instead of one DELETE holding the store's lock and"
                " SQLite's write lock for the whole purge",
                "at_sessions": purge["rows"],
                "expired": purge["expired"],
                "before": {k: v for k, v in purge["one_statement"].items() if k != "removed"},
                "after": {k: v for k, v in purge["store"].items() if k != "removed"},
            }
        )
    return found


def report(results: dict[str, Any]) -> None:
    sizes = results["parameters"]["sizes"]
    print(f"storage benchmark: {sizes['small']:,} vs {sizes['large']:,} stored sessions")
    for backend in ("sqlite", "redis"):
        section = results[backend]
        print(f"\n{backend}: fill {section['fill_s']} s")
        for label in sizes:
            lat = section["latency"][label]
            mem = section["memory"][label]["after_cycles_kib"]
            print(
                f"  {label:5} ({sizes[label]:>9,}): get+put p50 {lat['all']['p50_us']:8.1f} us"
                f"  p99 {lat['all']['p99_us']:8.1f} us  (existing p50 {lat['existing_people']['p50_us']:.1f},"
                f" new p50 {lat['new_people']['p50_us']:.1f})  RSS {mem['VmRSS'] / 1024:.1f} MiB"
                f" (anon {mem['RssAnon'] / 1024:.1f}, file {mem['RssFile'] / 1024:.1f})"
            )
        t = results["targets"][backend]
        print(
            f"  ratios large/small: p50 {t['p50_ratio']}  p99 {t['p99_ratio']}  RSS {t['rss_ratio']}"
            f"  -> latency {'met' if t['latency_met (both <= 1.2)'] else 'NOT met'},"
            f" memory {'met' if t['rss_met (<= 1.10)'] else 'NOT met'}"
        )
    for label, p in results["sqlite"]["purge"].items():
        for mode in ("one_statement", "store"):
            q = p[mode]
            print(
                f"sqlite purge {label} ({mode}): {q['removed']:,} of {p['rows']:,} removed"
                f" in {q['purge_s'] * 1000:.0f} ms;"
                f" longest update meanwhile {q['update_max_ms_in_this_process']} ms in this process,"
                f" {q['update_max_ms_in_other_process']} ms in another; WAL {q['wal_file_mib_after']} MiB"
            )
    for backend in ("sqlite", "redis"):
        for label in sizes:
            extra = (
                f" (count(*) baseline {results['sqlite']['ping_count_all_baseline_ms'][label]['median_ms']} ms)"
                if backend == "sqlite"
                else ""
            )
            print(
                f"{backend} ping() {label}: {results[backend]['ping_ms'][label]['median_ms']} ms{extra},"
                f" size() {results[backend]['size_ms'][label]['median_ms']} ms"
            )


def main(argv: list[str] | None = None) -> dict[str, Any] | None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--full", action="store_true", help="1,000 vs 1,000,000 sessions (the default)")
    mode.add_argument("--smoke", action="store_true", help="tiny sizes, a few seconds: checks that it runs")
    mode.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON results (default {RESULTS})")
    parser.add_argument("--workdir", type=Path, default=None, help="where the SQLite files go (default: tmp)")
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return None
    command = "python -m benchmarks.bench_storage " + " ".join(argv if argv is not None else sys.argv[1:])
    params: dict[str, Any]
    if args.smoke:
        params = {
            "small": 100,
            "large": 1_000,
            "rounds": 2,
            "per_round": 50,
            "warmup": 20,
            "purge_sizes": ("large",),
            "profile_seconds": 1.0,
        }
    else:
        params = {"small": 1_000, "large": 1_000_000, "rounds": 40, "per_round": 1_000, "warmup": 3_000}
    results = run(**params, out=args.out, workdir=args.workdir, command=command.strip())
    report(results)
    print(f"\nwritten: {args.out}")
    return results


if __name__ == "__main__":
    main()
