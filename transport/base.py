"""The byte-link interface every driver talks to, whatever carries the bytes.

A transport moves bytes and nothing else: no framing, no protocol. Every read takes a timeout
(the transport's default when none is given) and returns what arrived by then, possibly ``b""``;
nothing blocks forever.
"""

from __future__ import annotations

import abc
import time
from types import TracebackType
from typing import Self

DEFAULT_TIMEOUT = 1.0
"""Seconds a read waits when neither the URL nor the caller says otherwise."""

DEFAULT_WRITE_TIMEOUT = 5.0
"""Seconds a write to a link that can stall (flow control, a full socket) waits before failing."""


class TransportError(Exception):
    """Base of every error raised by ``transport``."""


class TransportUrlError(TransportError, ValueError):
    """A transport URL that cannot be opened as written; the message quotes the URL."""

    def __init__(self, url: str, problem: str) -> None:
        super().__init__(f"bad transport URL {url!r}: {problem}")
        self.url = url
        self.problem = problem


class TransportClosedError(TransportError):
    """The link was closed, or the far end went away."""


class Transport(abc.ABC):
    """A bidirectional byte link opened from a URL."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    @abc.abstractmethod
    def write(self, data: bytes) -> None:
        """Send all of ``data``; raise ``TransportClosedError`` if the link is gone."""

    @abc.abstractmethod
    def read(self, size: int = 1, timeout: float | None = None) -> bytes:
        """Return up to ``size`` bytes, as soon as at least one is available or the timeout passes."""

    def read_exactly(self, size: int, timeout: float | None = None) -> bytes:
        """Read until ``size`` bytes or the timeout (one deadline for the whole read); may return fewer."""
        self._check_open()
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        chunks = bytearray()
        while len(chunks) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            chunks += self.read(size - len(chunks), timeout=remaining)
        return bytes(chunks)

    def reset_input(self) -> None:
        """Discard bytes already received and not yet read."""
        while self.read(4096, timeout=0):
            pass

    def close(self) -> None:
        """Release the link; further reads and writes raise ``TransportClosedError``. Idempotent."""
        self._closed = True

    def _check_open(self) -> None:
        if self._closed:
            raise TransportClosedError(f"{self.url} is closed; open a new transport")

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"
