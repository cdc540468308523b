"""SQLite session store: the embedded default. One file, WAL mode, schema versioned and migrated.

About 400 lines, kept whole: one file format (schema, migrations, checkpoints, the owed replies'
columns) and the store's methods over it; encoding records and replies is in base and outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from bot.storage.base import Conflict, Record, StoreUnavailable, decode_record, encode_record, private_file
from bot.storage.outbox import OWED_GRACE, Owed, decode_owed, encode_owed

__all__ = ["CHECKPOINT_EVERY", "PURGE_BATCH", "SCHEMA_VERSION", "SQLiteStore"]

T = TypeVar("T")
log = logging.getLogger(__name__)

#: Each migration brings the schema from its index to the next version (PRAGMA user_version).
_MIGRATIONS = (
    """
    CREATE TABLE sessions (
        key TEXT PRIMARY KEY,
        data TEXT NOT NULL,
        version INTEGER NOT NULL,
        expires REAL NOT NULL
    );
    CREATE INDEX sessions_expires ON sessions (expires);
    CREATE TABLE stats (
        day TEXT NOT NULL,
        name TEXT NOT NULL,
        label TEXT NOT NULL,
        count INTEGER NOT NULL,
        PRIMARY KEY (day, name, label)
    );
    """,
    # 2: the reply owed (bot.storage.outbox), one per person at most, and the message showing the
    # buttons, in the person's row: saving a press with its reply owed is one statement, as before.
    """
    ALTER TABLE sessions ADD COLUMN screen INTEGER;
    ALTER TABLE sessions ADD COLUMN owed TEXT;
    ALTER TABLE sessions ADD COLUMN owed_update INTEGER;
    ALTER TABLE sessions ADD COLUMN owed_due REAL;
    CREATE INDEX sessions_owed_due ON sessions (owed_due) WHERE owed_due IS NOT NULL;
    """,
)
SCHEMA_VERSION = len(_MIGRATIONS)
#: Settling a reply: forget it if it is still the one owed; note the message showing the buttons.
_SETTLE = """
UPDATE sessions SET
    screen = coalesce(:screen, screen),
    owed = CASE WHEN owed_update = :update THEN NULL ELSE owed END,
    owed_due = CASE WHEN owed_update = :update THEN NULL ELSE owed_due END,
    owed_update = CASE WHEN owed_update = :update THEN NULL ELSE owed_update END
WHERE key = :key AND (owed_update = :update OR (:screen IS NOT NULL AND screen IS NOT :screen))
"""
#: One row rewritten by every health check: proof that a write commits (not part of the schema version).
_HEALTH_TABLE = "CREATE TABLE IF NOT EXISTS health (id INTEGER PRIMARY KEY CHECK (id = 1), written REAL NOT NULL)"

#: purge() deletes at most this many records per transaction, and between two batches pauses as long
#: as the batch took: updates of this process wait for one batch at most, other processes on the same
#: file find the write lock free half the time, and the WAL is checkpointed as it goes. One DELETE of
#: 100,000 expired records among 1,000,000 held both locks for 3-8 s (another process's update failed
#: on the 5 s busy timeout) and left a 500 MB WAL file; in batches of 250 no update waited more than
#: 0.3 s, and the purge takes 2-5 times as long in the background (benchmarks/bench_storage.py).
PURGE_BATCH = 250

#: Seconds between two checkpoints (copying the WAL into the database file), which a thread of the
#: store's own runs with a connection of its own. Left to SQLite alone, a checkpoint runs inside
#: whichever update's commit crosses 1,000 WAL pages, and that update waits for it: at 1,000,000
#: sessions the pages are scattered and the wait grew (p99 of an update 1.41 ms with 1,000 sessions,
#: 1.84 ms with 1,000,000; benchmarks/bench_storage.py). A PASSIVE checkpoint does not block
#: writers. Every quarter of a second keeps the WAL far under SQLite's own threshold at the ~30
#: updates a second Telegram lets a bot answer, so updates checkpoint only when this thread falls
#: behind (in a large purge, or the benchmark's ~1,100 updates a second); see benchmarks/FINDINGS.md.
CHECKPOINT_EVERY = 0.25


class _Checkpointer(threading.Thread):
    """Checkpoints the WAL every ``every`` seconds, or at once when woken, until stopped.

    A failure is logged and tried again at the next turn.
    """

    def __init__(self, path: Path, every: float) -> None:
        super().__init__(name="maslahat-sqlite-checkpoint", daemon=True)
        self.path = path
        self.every = every
        self.stopped = threading.Event()
        self.woken = threading.Event()

    def stop(self) -> None:
        self.stopped.set()
        self.woken.set()
        self.join(timeout=10)

    def run(self) -> None:
        db: sqlite3.Connection | None = None
        try:
            while True:
                self.woken.wait(self.every)
                self.woken.clear()
                if self.stopped.is_set():
                    return
                try:
                    if db is None:
                        db = sqlite3.connect(self.path, timeout=5, isolation_level=None)
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:
                    log.warning("SQLite checkpoint failed (%s); trying again later", type(exc).__name__)
                    if db is not None:
                        db.close()
                        db = None
        finally:
            if db is not None:
                db.close()


class SQLiteStore:
    """Sessions and anonymous counters in one SQLite file, safe for several processes on one host."""

    def __init__(self, path: str | Path, ttl: float, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._checkpointer: _Checkpointer | None = None
        #: The file's (device, inode) when first opened: a deleted or replaced file is noticed, not recreated.
        self._identity: tuple[int, int] | None = None
        self._lost_reported = False

    # Connection ---------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._db is None:
            self._check_identity()
            # SQLite gives its -wal and -shm files the database file's permissions: owner only.
            private_file(self.path)
            db = sqlite3.connect(self.path, timeout=5, isolation_level=None, check_same_thread=False)
            try:
                self._refuse_newer(db)  # before WAL mode, which would change a file this code must not touch
                self._enter_wal(db)
                db.execute("PRAGMA synchronous=NORMAL")
                self._migrate(db)
            except BaseException:
                db.close()
                raise
            self._db = db
            stat = os.stat(self.path)
            self._identity = self._identity or (stat.st_dev, stat.st_ino)
            if self._checkpointer is None:
                self._checkpointer = _Checkpointer(self.path, CHECKPOINT_EVERY)
                self._checkpointer.start()
        return self._db

    @staticmethod
    def _enter_wal(db: sqlite3.Connection, patience: float = 5.0) -> None:
        """Switch the file to WAL mode, waiting while another process switches it at the same moment.

        Changing the journal mode needs an exclusive lock, and SQLite answers "database is locked"
        at once rather than through the busy timeout when another connection holds a lock for the
        same change (seen when several replicas open a new file together). Retry for as long as the
        busy timeout would have waited; once another process has switched it, this is a no-op.
        """
        deadline = time.monotonic() + patience
        while True:
            try:
                db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.02)

    @staticmethod
    def _refuse_newer(db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise sqlite3.DatabaseError(f"schema version {version} is newer than this code's {SCHEMA_VERSION}")

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        for number in range(version, SCHEMA_VERSION):
            db.execute("BEGIN IMMEDIATE")
            try:
                if db.execute("PRAGMA user_version").fetchone()[0] == number:  # another process may have done it
                    # One statement at a time: executescript() would commit this transaction first.
                    for statement in filter(str.strip, _MIGRATIONS[number].split(";")):
                        db.execute(statement)
                    db.execute(f"PRAGMA user_version = {number + 1}")
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in a thread, one at a time; any SQLite failure becomes StoreUnavailable."""

        def guarded() -> T:
            with self._lock:
                try:
                    self._check_identity()  # one stat(): nothing is written to a file deleted meanwhile
                    return work(self._connect())
                except sqlite3.Error as exc:
                    self._reset()
                    raise StoreUnavailable(f"SQLite: {type(exc).__name__}: {exc}") from exc
                except OSError as exc:
                    self._reset()
                    raise StoreUnavailable(f"SQLite file: {exc.strerror}") from exc

        return await asyncio.to_thread(guarded)

    def _reset(self) -> None:
        if self._db is not None:
            try:
                self._db.close()
            finally:
                self._db = None

    # Sessions -----------------------------------------------------------------------------

    async def get(self, key: str) -> Record | None:
        def work(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT data FROM sessions WHERE key = ? AND expires > ?", (key, self._clock())).fetchone()
            return row[0] if row else None

        data = await self._run(work)
        return decode_record(data) if data is not None else None

    async def put(self, key: str, record: Record, *, expected: int, owed: Owed | None = None) -> None:
        data = encode_record(record)
        # Without an owed reply, the one owed already (if any) stays.
        entry, update_id, due = (None, None, None) if owed is None else (encode_owed(owed), owed.update_id, _due(owed))

        def work(db: sqlite3.Connection) -> int:
            now = self._clock()
            if expected == 0:
                # A new record, or one replacing an expired record.
                cursor = db.execute(
                    "INSERT INTO sessions (key, data, version, expires, owed, owed_update, owed_due) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET data = excluded.data, version = excluded.version, "
                    "expires = excluded.expires, owed = excluded.owed, owed_update = excluded.owed_update, "
                    "owed_due = excluded.owed_due WHERE sessions.expires <= ?",
                    (key, data, record.version, now + self.ttl, entry, update_id, due, now),
                )
            else:
                cursor = db.execute(
                    "UPDATE sessions SET data = ?, version = ?, expires = ?, owed = coalesce(?, owed), "
                    "owed_update = coalesce(?, owed_update), owed_due = coalesce(?, owed_due) "
                    "WHERE key = ? AND version = ? AND expires > ?",
                    (data, record.version, now + self.ttl, entry, update_id, due, key, expected, now),
                )
            return cursor.rowcount

        if await self._run(work) != 1:
            raise Conflict(key)

    async def owe(self, key: str, owed: Owed) -> bool:
        written: int = await self._run(
            lambda db: (
                db.execute(
                    "UPDATE sessions SET owed = ?, owed_update = ?, owed_due = ? WHERE key = ?",
                    (encode_owed(owed), owed.update_id, _due(owed), key),
                ).rowcount
            )
        )
        return written == 1

    async def settle(self, key: str, update_id: int, *, screen: int | None = None) -> int | None:
        def work(db: sqlite3.Connection) -> int | None:
            row = None
            if screen is not None:
                row = db.execute("SELECT screen FROM sessions WHERE key = ?", (key,)).fetchone()
            # One statement, and no write at all when there is nothing to change.
            db.execute(_SETTLE, {"screen": screen, "update": update_id, "key": key})
            return None if row is None or row[0] in (None, screen) else int(row[0])

        return await self._run(work)

    async def due(self, now: float, until: float) -> list[tuple[str, Owed]]:
        def work(db: sqlite3.Connection) -> list[tuple[str, str]]:
            with _transaction(db):
                rows = db.execute("SELECT key, owed FROM sessions WHERE owed_due <= ? LIMIT 100", (now,)).fetchall()
                db.executemany("UPDATE sessions SET owed_due = ? WHERE key = ?", [(until, key) for key, _ in rows])
            return [(str(key), str(data)) for key, data in rows]

        entries = []
        for key, data in await self._run(work):
            try:
                entries.append((key, decode_owed(data)))
            except ValueError as exc:
                raise StoreUnavailable(str(exc)) from exc
        return entries

    async def delete(self, key: str) -> None:
        await self._run(lambda db: db.execute("DELETE FROM sessions WHERE key = ?", (key,)))

    async def purge(self) -> int:
        now = self._clock()  # records expiring while this runs are left for the next purge

        def batch(db: sqlite3.Connection) -> int:
            return db.execute(
                "DELETE FROM sessions WHERE rowid IN (SELECT rowid FROM sessions WHERE expires <= ? LIMIT ?)",
                (now, PURGE_BATCH),
            ).rowcount

        removed = 0
        while True:
            started = time.monotonic()
            deleted = await self._run(batch)
            removed += deleted
            if deleted < PURGE_BATCH:
                return removed
            if self._checkpointer is not None:
                self._checkpointer.woken.set()  # during the pause: the WAL stays small, updates do not wait
            await asyncio.sleep(time.monotonic() - started)

    async def ping(self) -> None:
        """Check that the file is the one opened, that sessions can be read, and that a write commits.

        The write is one row of its own table (no schema version change, so older replicas on the
        same file are not disturbed): a read-only file or a full disk fails it, where a read passes.
        """

        def work(db: sqlite3.Connection) -> None:
            # One row at most, not count(*): that scans every session, 8-28 ms with 1,000,000 stored.
            db.execute("SELECT 1 FROM sessions LIMIT 1").fetchone()
            db.execute(_HEALTH_TABLE)
            db.execute("INSERT OR REPLACE INTO health (id, written) VALUES (1, ?)", (self._clock(),))

        await self._run(work)

    def _check_identity(self) -> None:
        """Raise if the file opened before was deleted or replaced: reopening would start an empty store."""
        if self._identity is None:
            return
        try:
            stat = os.stat(self.path)
            same = (stat.st_dev, stat.st_ino) == self._identity
        except FileNotFoundError:
            same = False
        if same:
            return
        if not self._lost_reported:
            self._lost_reported = True
            log.error("the session store %s was deleted or replaced while running; restore it or restart", self.path)
        raise OSError(errno.ENOENT, "the session store file was deleted or replaced while running")

    async def close(self) -> None:
        def work() -> None:
            with self._lock:
                self._reset()
                if self._checkpointer is not None:
                    self._checkpointer.stop()
                    self._checkpointer = None

        await asyncio.to_thread(work)

    # Anonymous counters -------------------------------------------------------------------

    async def count(self, day: str, name: str, label: str = "") -> None:
        await self._run(
            lambda db: db.execute(
                "INSERT INTO stats (day, name, label, count) VALUES (?, ?, ?, 1) "
                "ON CONFLICT (day, name, label) DO UPDATE SET count = count + 1",
                (day, name, label),
            )
        )

    async def totals(self) -> list[tuple[str, str, str, int]]:
        rows: list[Any] = await self._run(
            lambda db: db.execute("SELECT day, name, label, count FROM stats ORDER BY day, name, label").fetchall()
        )
        return [(str(d), str(n), str(lb), int(c)) for d, n, lb, c in rows]

    async def size(self) -> int:
        """How many live sessions are stored (for operators and tests; never lists them)."""
        return int(
            await self._run(
                lambda db: db.execute("SELECT count(*) FROM sessions WHERE expires > ?", (self._clock(),)).fetchone()[0]
            )
        )


@contextlib.contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    """One write transaction (the connection is in autocommit mode): all of it, or none of it."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if db.in_transaction:  # SQLite rolls some failures (a full disk) back by itself
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _due(owed: Owed) -> float:
    """When an owed reply is due for the outbox sweep."""
    return owed.taken + OWED_GRACE
