"""A transport wrapper that logs a hexdump of every byte read and written, for debugging a link.

Enabled by ``spy=1`` on any transport URL (``tcp://10.0.0.5:9100?spy=1``) or by wrapping:
``SpyTransport(transport)``. Dumps go to the ``motcua.wire`` logger at DEBUG, one record per
read or write::

    tcp://10.0.0.5:9100 TX 5 bytes
      0000  1b 40 48 69 0a                                   .@Hi.

That logger does not propagate and sits at WARNING, so dumps stay out of the application log
until someone turns them on with :func:`enable_wire_log`. Wire bytes can carry personal data (a
scanned citizen ID card, a printed name): enable dumps only while debugging, never in production.
"""

from __future__ import annotations

import logging
import sys

from transport.base import Transport

WIRE_LOGGER_NAME = "motcua.wire"
wire_log = logging.getLogger(WIRE_LOGGER_NAME)
wire_log.propagate = False
wire_log.setLevel(logging.WARNING)

_BYTES_PER_LINE = 16


def hexdump(data: bytes) -> str:
    """Offset, hex bytes and printable ASCII, 16 bytes a line, each line indented by two spaces."""
    lines = []
    for offset in range(0, len(data), _BYTES_PER_LINE):
        chunk = data[offset : offset + _BYTES_PER_LINE]
        hex_part = " ".join(f"{byte:02x}" for byte in chunk)
        text = "".join(chr(byte) if 0x20 <= byte < 0x7F else "." for byte in chunk)
        lines.append(f"  {offset:04x}  {hex_part:<{_BYTES_PER_LINE * 3 - 1}}  {text}")
    return "\n".join(lines)


def enable_wire_log(handler: logging.Handler | None = None) -> logging.Handler:
    """Turn wire dumps on, to ``handler`` or else to stderr; returns the handler to remove later."""
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
    wire_log.addHandler(handler)
    wire_log.setLevel(logging.DEBUG)
    return handler


def disable_wire_log(handler: logging.Handler) -> None:
    """Undo :func:`enable_wire_log`: remove ``handler`` and turn dumps off."""
    wire_log.removeHandler(handler)
    wire_log.setLevel(logging.WARNING)


class SpyTransport(Transport):
    """Forwards everything to ``inner`` and logs a hexdump of the bytes each way."""

    def __init__(self, inner: Transport) -> None:
        self.inner = inner
        super().__init__(inner.url, inner.timeout)

    @property
    def closed(self) -> bool:
        return self.inner.closed

    @property
    def timeout(self) -> float:
        """The inner transport's default read timeout; setting it sets the inner one."""
        return self.inner.timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        self.inner.timeout = value

    def write(self, data: bytes) -> None:
        self._dump("TX", data)
        self.inner.write(data)

    def read(self, size: int = 1, timeout: float | None = None) -> bytes:
        data = self.inner.read(size, timeout)
        self._dump("RX", data)
        return data

    def read_exactly(self, size: int, timeout: float | None = None) -> bytes:
        data = self.inner.read_exactly(size, timeout)
        self._dump("RX", data)
        return data

    def reset_input(self) -> None:
        self.inner.reset_input()
        wire_log.debug("%s input reset", self.url)

    def close(self) -> None:
        if not self.inner.closed:
            wire_log.debug("%s closed", self.url)
        super().close()
        self.inner.close()

    def _dump(self, direction: str, data: bytes) -> None:
        # A read timing out returns b"": not worth a line, and polling loops would flood the log.
        if data and wire_log.isEnabledFor(logging.DEBUG):
            wire_log.debug("%s %s %d bytes\n%s", self.url, direction, len(data), hexdump(data))
