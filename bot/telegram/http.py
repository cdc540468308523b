"""How python-telegram-bot reaches the Bot API: over aiohttp instead of its default httpx.

Measured in ``benchmarks/bench_overhead.py``: python-telegram-bot's ``HTTPXRequest`` spends about
1 ms of CPU more per Bot API call than aiohttp's client (httpx, httpcore and anyio layers), which
was most of the difference between Maslahat and a bare bot. aiohttp is already what serves the
webhook, so no dependency is added. :class:`AiohttpRequest` implements python-telegram-bot's
documented extension point, :class:`telegram.request.BaseRequest`; python-telegram-bot still
builds every request and reads every answer (status codes, ``retry_after``, errors).

Errors keep python-telegram-bot's contract: a timeout raises :class:`telegram.error.TimedOut`, any
other transport failure :class:`telegram.error.NetworkError`. Neither message carries the request
URL, which contains the bot token. A failure before the request could leave (the connection was
refused, or not made in time) is :class:`NotSent`, which bot.telegram.send may always repeat; after
it may have left (a timeout waiting for the answer, a dropped connection) Telegram may have done
what was asked, and only a call that is safe to repeat is repeated.
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request
from typing import Any

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["AiohttpRequest", "ConnectTimedOut", "NotSent"]

_BOT_PATH = re.compile(r"/(?:file/)?bot[^/\s'\"]*")


class NotSent(NetworkError):
    """The request never reached Telegram (no connection was made): repeating it cannot do anything twice."""


class ConnectTimedOut(NotSent, TimedOut):
    """No connection (or no free one in the pool) in time: a timeout, as python-telegram-bot expects, and not sent."""


def _given(value: Any, default: float | None) -> float | None:
    return default if value is BaseRequest.DEFAULT_NONE else value


def _safe(error: BaseException) -> str:
    """The error's text with any Bot API path (``/bot<token>/…``) cut out."""
    return _BOT_PATH.sub("/bot…", str(error))


class AiohttpRequest(BaseRequest):
    """A :class:`~telegram.request.BaseRequest` over one :class:`aiohttp.ClientSession`.

    Args:
        connection_pool_size: connections kept open to the Bot API (python-telegram-bot's
            ``Application`` uses 256 for its calls and 1 for ``getUpdates``).
        read_timeout: seconds to wait for the answer (between reads), unless a call says otherwise.
        write_timeout: seconds to send a request; with the others it bounds each call's total time.
        connect_timeout: seconds to open a new connection.
        pool_timeout: seconds to wait for a free connection when all are busy.

    Proxies come from the usual ``HTTPS_PROXY`` / ``HTTP_PROXY`` / ``NO_PROXY`` environment variables,
    as with python-telegram-bot's default transport. They are read once per Bot API address, not
    per call: aiohttp's own ``trust_env`` reads the environment and ``~/.netrc`` (in a thread) on
    every request, which cost more CPU than the request itself and put latency spikes of tens of
    milliseconds on the benchmark's p99.
    """

    __slots__ = ("_connect", "_pool", "_pool_size", "_proxies", "_read", "_session", "_write")

    def __init__(
        self,
        connection_pool_size: int = 1,
        *,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        if connection_pool_size < 1:
            raise ValueError("connection_pool_size must be at least 1")
        self._pool_size = connection_pool_size
        self._read, self._write = read_timeout, write_timeout
        self._connect, self._pool = connect_timeout, pool_timeout
        # Created in initialize(): an aiohttp session belongs to the event loop that runs it.
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        """The read timeout used when a call does not set one (python-telegram-bot adds getUpdates' own)."""
        return self._read

    async def initialize(self) -> None:
        """Open the connection pool; again after a shutdown."""
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector)
            self._proxies.clear()

    async def shutdown(self) -> None:
        """Close every connection; a second call does nothing."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; see :meth:`telegram.request.BaseRequest.do_request`."""
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        read = _given(read_timeout, self._read)
        write = _given(write_timeout, self._write)
        connect = _given(connect_timeout, self._connect)
        pool = _given(pool_timeout, self._pool)
        parts = (read, write, connect, pool)
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no write timeout: the sum of all four bounds the whole call instead.
            total=None if None in parts else sum(p for p in parts if p is not None),
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with session.request(
                method,
                url,
                data=_body(request_data),
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
                proxy=self._proxy_for(url),
            ) as response:
                return response.status, await response.read()
        except aiohttp.ConnectionTimeoutError as exc:  # no connection in time: nothing was sent
            raise ConnectTimedOut(f"Timed out connecting ({type(exc).__name__})") from exc
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors (asyncio's, from Python 3.11)
            raise TimedOut(f"Timed out ({type(exc).__name__})") from exc
        except (aiohttp.ClientConnectorError, aiohttp.InvalidURL) as exc:  # refused, unreachable, bad address: not sent
            safe = _safe(exc)
            raise NotSent(f"aiohttp.{type(exc).__name__}: {safe}") from (exc if safe == str(exc) else None)
        except aiohttp.ClientError as exc:
            safe = _safe(exc)
            # An error that quotes the URL is not chained either: a logged traceback would show it.
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {safe}") from (exc if safe == str(exc) else None)

    def _proxy_for(self, url: str) -> str | None:
        """The proxy the environment names for ``url``'s scheme and host, or None; looked up once per origin."""
        scheme, _, rest = url.partition("://")
        origin = f"{scheme}://{rest.split('/', 1)[0]}"
        if origin not in self._proxies:
            host = urllib.parse.urlsplit(origin).hostname or ""
            proxy = urllib.request.getproxies().get(scheme)
            self._proxies[origin] = None if not proxy or urllib.request.proxy_bypass(host) else proxy
        return self._proxies[origin]


def _body(request_data: RequestData | None) -> dict[str, str] | aiohttp.FormData | None:
    """A form as python-telegram-bot's transport sends it: urlencoded, or multipart with files."""
    if request_data is None:
        return None
    if not request_data.multipart_data:
        return request_data.json_parameters
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
