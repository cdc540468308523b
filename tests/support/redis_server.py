"""A real redis-server on 127.0.0.1 for tests: a free port, a temporary directory, no background saves.

::

    with RedisServer() as server:
        store = RedisStore(server.url, ttl=60)
        ...
        server.stop()    # Redis goes away (saving its data; keep_data=False: losing it)
        server.start()   # and comes back on the same port, with the data it saved

A missing redis-server binary fails the test with how to install it; it never skips.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType

import pytest

__all__ = ["RedisServer"]

#: How long redis-server may take to answer PING after starting.
STARTUP_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process, started on construction or by :meth:`start`, stopped by :meth:`close`."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "redis-server is not installed: run `make test` (which installs it) or `apt-get install redis-server`",
                pytrace=False,
            )
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="maslahat-redis-"))
        self._process: subprocess.Popen[bytes] | None = None
        for _ in range(3):  # another process may take the free port before redis-server binds it
            self.port = _free_port()
            if self._launch():
                return
        self.start()  # fails with redis-server's output

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start redis-server on this server's port (again) and wait until it answers PING."""
        if self._process is None and not self._launch():
            output = (self.dir / "redis.log").read_text(errors="replace")[-2000:]
            pytest.fail(f"redis-server did not start on port {self.port}:\n{output}", pytrace=False)

    def _launch(self) -> bool:
        with (self.dir / "redis.log").open("ab") as log:
            self._process = subprocess.Popen(
                [
                    self.binary,
                    "--save", "",
                    "--appendonly", "no",
                    "--port", str(self.port),
                    "--bind", "127.0.0.1",
                    "--dir", str(self.dir),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self.answers():
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                return False
            time.sleep(0.01)
        return True

    def answers(self) -> bool:
        """Whether something on this port answers PING with PONG."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, *, keep_data: bool = True) -> None:
        """Stop redis-server; :meth:`start` brings it back on the same port.

        With ``keep_data`` it saves its data first and loads it again on start, as a Redis with
        persistence does across a restart; without, it comes back empty.
        """
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGCONT)  # in case a test paused it
            if not self._shutdown(b"SHUTDOWN SAVE\r\n" if keep_data else b"SHUTDOWN NOSAVE\r\n"):
                process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if not keep_data:
            (self.dir / "dump.rdb").unlink(missing_ok=True)

    def _shutdown(self, command: bytes) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as sock:
                sock.sendall(command)
                return sock.recv(1024) == b""  # no reply: redis-server closed the connection as it exited
        except OSError:
            return False

    def pause(self) -> None:
        """Freeze the process (SIGSTOP): connections are accepted but never answered."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused process run again (SIGCONT)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGCONT)

    def close(self) -> None:
        """Stop redis-server and remove its directory."""
        self.stop(keep_data=False)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
