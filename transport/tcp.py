"""``tcp://HOST:PORT``: a raw TCP byte stream, such as a network receipt printer on port 9100.

URL grammar::

    tcp://HOST:PORT[?timeout=S][&connect_timeout=S][&write_timeout=S]

HOST is a name, an IPv4 address, or an IPv6 address in brackets (``tcp://[fe80::1]:9100``).
``timeout`` is the default read timeout, ``connect_timeout`` bounds the connection attempt and
``write_timeout`` a send that the far end is not draining. Reads wait with a selector, so a read
never blocks beyond its timeout; the far end closing or resetting the connection raises
``TransportClosedError``.
"""

from __future__ import annotations

import contextlib
import logging
import selectors
import socket
from urllib.parse import SplitResult

from transport.base import (
    DEFAULT_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    Transport,
    TransportClosedError,
    TransportError,
)
from transport.scheme import Param, Scheme, TransportUrl, no_path, seconds

logger = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 5.0


class TcpTransport(Transport):
    """A connected TCP socket seen as a byte link."""

    def __init__(
        self,
        url: str,
        sock: socket.socket,
        timeout: float = DEFAULT_TIMEOUT,
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    ) -> None:
        super().__init__(url, timeout)
        self._sock = sock
        self._write_timeout = write_timeout
        # The socket's own timeout only bounds sends; reads wait in the selector instead.
        sock.settimeout(write_timeout)
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)
        self._peer_gone = False

    def write(self, data: bytes) -> None:
        self._check_open()
        try:
            self._sock.sendall(data)
        except TimeoutError as err:
            raise TransportError(
                f"{self.url}: write timed out after {self._write_timeout} s; the far end is not "
                "reading (device busy or offline?)"
            ) from err
        except OSError as err:
            self._peer_gone = True
            raise TransportClosedError(f"{self.url}: connection lost while writing ({err})") from err

    def read(self, size: int = 1, timeout: float | None = None) -> bytes:
        self._check_open()
        if self._peer_gone:
            raise TransportClosedError(f"{self.url}: the far end closed the connection")
        wait = self.timeout if timeout is None else max(timeout, 0.0)
        if not self._selector.select(wait):
            return b""
        try:
            data = self._sock.recv(size)
        except (BlockingIOError, InterruptedError):
            return b""
        except OSError as err:
            self._peer_gone = True
            raise TransportClosedError(f"{self.url}: connection lost while reading ({err})") from err
        if not data:
            self._peer_gone = True
            raise TransportClosedError(f"{self.url}: the far end closed the connection")
        return data

    def close(self) -> None:
        if not self._closed:
            super().close()
            self._selector.close()
            with contextlib.suppress(OSError):  # already disconnected: nothing to shut down
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()


def _parse_target(parts: SplitResult) -> str:
    if parts.username is not None or parts.password is not None:
        raise ValueError("user names and passwords are not supported")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("bad port: expected a number from 1 to 65535") from None
    host = parts.hostname
    if not host:
        raise ValueError("missing host")
    if port is None:
        raise ValueError("missing port")
    if port == 0:
        raise ValueError("bad port 0: expected a number from 1 to 65535")
    no_path(parts)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def split_target(target: str) -> tuple[str, int]:
    """``(host, port)`` of a normalised ``HOST:PORT`` target (IPv6 hosts lose their brackets)."""
    host, _, port = target.rpartition(":")
    return host.strip("[]"), int(port)


def open_tcp(url: TransportUrl, timeout: float) -> TcpTransport:
    """Connect to ``url``; a refused or timed-out connection is a ``TransportError``."""
    settings = SCHEME.settings(url)
    host, port = split_target(url.target)
    connect_timeout = float(settings["connect_timeout"])
    try:
        sock = socket.create_connection((host, port), timeout=connect_timeout)
    except OSError as err:
        raise TransportError(
            f"cannot open {url.url!r}: {err}; check the device is powered, on the network and "
            f"listening on port {port} (connect_timeout={connect_timeout} s)"
        ) from err
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    logger.debug("connected to %s", url.target)
    return TcpTransport(url.url, sock, timeout, float(settings["write_timeout"]))


SCHEME = Scheme(
    name="tcp",
    grammar="tcp://HOST:PORT",
    parse_target=_parse_target,
    opener=open_tcp,
    params={
        "connect_timeout": Param(seconds, DEFAULT_CONNECT_TIMEOUT, "seconds to wait for the connection"),
        "write_timeout": Param(seconds, DEFAULT_WRITE_TIMEOUT, "seconds a send may wait"),
    },
)
