"""What `serve` sets up around uvicorn so that the server stays reachable and its log
readable under abuse: one server per data folder, the port bound before any state is
touched, more open files, a time limit on a request's headers, and repeated log lines cut.

uvicorn itself closes idle keep-alive connections and caps connections, but waits forever
for the headers of a request that trickle in; thousands of such connections used to fill
the file table, and every refused accept() wrote a log line.
"""
from __future__ import annotations

import fcntl
import logging
import os
import re
import resource
import socket
import time
from pathlib import Path

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from .config import HEADER_SECONDS

MAX_CONNECTIONS = 500  # past this, uvicorn answers 503 at once
MAX_HEADER_BYTES = 16 * 2**10  # h11's cap on an incomplete request line and headers
LOCK_FILE = "serve.lock"


class DataInUse(RuntimeError):
    """Another `serve` holds the data folder."""


def lock_data(data: Path):
    """An exclusive lock on ``data``, held while the returned file stays open: a second
    `serve` on the same folder would requeue the first one's jobs."""
    lock = open(data / LOCK_FILE, "a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().strip() or "another process"
        lock.close()
        raise DataInUse(f"another server (process {holder}) is serving from {data}; stop it "
                        f"first, or pass another --data") from None
    lock.truncate(0)
    lock.write(f"{os.getpid()}\n")
    lock.flush()
    return lock


def bind(host: str, port: int) -> socket.socket:
    """The listening address, taken before the workers start (OSError if it is in use)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def raise_open_files_limit() -> int:
    """The soft limit on open files raised to the hard one (often 1024 -> 1M); the new one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 2**20
    if soft == resource.RLIM_INFINITY or soft >= hard:
        return soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def header_timeout(seconds: float = HEADER_SECONDS) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection whose next request's headers are not in
    ``seconds`` after it opened or after its last response."""

    class HeaderTimeoutProtocol(H11Protocol):
        _header_timer = None

        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            self._header_timer = self.loop.call_later(seconds, self._headers_late)

        def _headers_late(self) -> None:
            # IDLE: no request's headers complete since the timer was armed
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return HeaderTimeoutProtocol


class QuietRepeats(logging.Filter):
    """Lets through ``burst`` records alike (same logger, level and text, numbers aside)
    per ``window`` seconds; the next one let through says how many were left out."""

    def __init__(self, burst: int = 5, window: float = 60.0):
        super().__init__()
        self.burst = burst
        self.window = window
        self._seen: dict[tuple, list] = {}  # key -> [window start, count, left out]

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, record.levelno, re.sub(r"\d+", "#", record.getMessage()[:200]))
        now = time.monotonic()
        seen = self._seen.setdefault(key, [now, 0, 0])
        if now - seen[0] > self.window:
            seen[0], seen[1] = now, 0
        seen[1] += 1
        if seen[1] > self.burst:
            seen[2] += 1
            return False
        if seen[2]:  # args stay: uvicorn's access formatter reads them, not the message
            record.msg = f"{record.msg} ({seen[2]} more like it left out before)"
            seen[2] = 0
        if len(self._seen) > 10_000:  # texts that vary in more than numbers
            self._seen = {key: seen}
        return True


def quiet_repeats(filter_: logging.Filter | None = None) -> logging.Filter:
    """``filter_`` (a QuietRepeats by default) on every handler of uvicorn's loggers and of
    the root logger, which gets one for the records of asyncio's accept loop."""
    filter_ = filter_ or QuietRepeats()
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access"):
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(filter_)
    return filter_
