"""What every streaming frame decoder of a serial line shares: a buffer fed in arbitrary chunks,
bytes rejected as noise counted, and a resync when the line goes quiet mid-frame. A protocol module
subclasses it and implements ``_scan`` (find and pop every complete frame at the buffer's head)."""

from __future__ import annotations

import abc
from typing import Generic, TypeVar

F = TypeVar("F")


class StreamDecoder(abc.ABC, Generic[F]):
    def __init__(self) -> None:
        self._buf = bytearray()
        self.rejected_bytes = 0
        self.frames_decoded = 0

    @property
    def pending(self) -> int:
        """Bytes held back as the possible start of a frame that has not fully arrived."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[F]:
        """Add bytes as they arrived; return every complete, valid frame now found, in order."""
        self._buf += data
        return self._scan()

    def resync(self) -> list[F]:
        """The line went quiet: a partial frame can no longer complete, so search past it."""
        found: list[F] = []
        while self._buf:
            self._reject(1)
            found += self._scan()
        return found

    def _reject(self, count: int) -> None:
        del self._buf[:count]
        self.rejected_bytes += count

    @abc.abstractmethod
    def _scan(self) -> list[F]:
        """Pop and return the complete frames at the head of ``_buf``, rejecting what cannot start one."""
