"""``loop://``: every byte written comes back to be read; for tests of the layers above.

URL grammar: ``loop://[?timeout=SECONDS]`` — nothing between ``://`` and ``?``.

Reads and writes may come from different threads. :class:`ByteQueue`, the timed byte buffer under
it, is also the host side of an in-process simulator link (``transport.sim``).
"""

from __future__ import annotations

import threading
from urllib.parse import SplitResult

from transport.base import DEFAULT_TIMEOUT, Transport, TransportClosedError
from transport.scheme import Scheme, TransportUrl


class ByteQueue:
    """Bytes waiting to be read, with timed reads; ``send`` appends (the ``SimLink`` protocol)."""

    def __init__(self) -> None:
        self._data = bytearray()
        self._cond = threading.Condition()
        self._closed = False

    def send(self, data: bytes) -> None:
        """Append ``data`` for the reader; silently dropped once the queue is closed."""
        with self._cond:
            if self._closed:
                return
            self._data += data
            self._cond.notify_all()

    def take(self, size: int, timeout: float) -> bytes:
        """Up to ``size`` bytes, waiting at most ``timeout`` seconds for the first one.

        Raises ``TransportClosedError`` when the queue was closed and nothing is left to read.
        """
        with self._cond:
            self._cond.wait_for(lambda: self._data or self._closed, timeout=max(timeout, 0.0))
            if not self._data and self._closed:
                raise TransportClosedError("link closed")
            chunk = bytes(self._data[:size])
            del self._data[:size]
            return chunk

    def clear(self) -> None:
        """Drop every byte not yet read."""
        with self._cond:
            self._data.clear()

    def close(self) -> None:
        """Wake every waiting reader; later sends are dropped."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class LoopTransport(Transport):
    """A transport whose reads return what its writes sent."""

    def __init__(self, url: str = "loop://", timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self._queue = ByteQueue()

    def write(self, data: bytes) -> None:
        self._check_open()
        self._queue.send(bytes(data))

    def read(self, size: int = 1, timeout: float | None = None) -> bytes:
        self._check_open()
        try:
            return self._queue.take(size, self.timeout if timeout is None else timeout)
        except TransportClosedError:
            raise TransportClosedError(f"{self.url} was closed while reading") from None

    def reset_input(self) -> None:
        self._check_open()
        self._queue.clear()

    def close(self) -> None:
        if not self._closed:
            super().close()
            self._queue.close()


def _parse_target(parts: SplitResult) -> str:
    if parts.netloc or parts.path not in ("", "/"):
        raise ValueError(f"unexpected {parts.netloc + parts.path!r} after loop://")
    return ""


def open_loop(url: TransportUrl, timeout: float) -> LoopTransport:
    """Open a fresh loop; each open is its own independent loop."""
    return LoopTransport(url.url, timeout)


SCHEME = Scheme(
    name="loop",
    grammar="loop://",
    parse_target=_parse_target,
    opener=open_loop,
)
