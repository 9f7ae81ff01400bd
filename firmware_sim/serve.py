"""Serve any device simulator on a pseudo-terminal or a TCP port, so real drivers can reach it.

The same :class:`~transport.sim.SimDevice` objects that ``sim://`` links to in-process can be put
behind a pty (``serve_on_pty``: its ``.url`` is ``serial:///dev/pts/N``, opened by pyserial exactly
like a USB-serial adapter) or a TCP port (``serve_on_tcp``: ``tcp://127.0.0.1:PORT``, like a
network printer on port 9100). Bytes from the host go to ``device.receive`` on a daemon thread;
``link.send`` writes back to the host.

A pty has no notion of a client connecting, so its device is attached for the server's lifetime.
A TCP server serves one client at a time, attaching the device when a client connects and
detaching it when the client leaves; later clients wait in the listen backlog, as they do with a
raw-port printer.
"""

from __future__ import annotations

import abc
import logging
import os
import selectors
import socket
import threading
import tty
from types import TracebackType
from typing import Self

from transport.sim import SimDevice, SimLink

logger = logging.getLogger(__name__)

_READ_CHUNK = 4096
_SEND_TIMEOUT = 2.0
"""Seconds a reply may wait for a host that is not reading before it is dropped."""
_JOIN_TIMEOUT = 5.0


class EchoDevice:
    """The simplest simulator: answers every byte with itself; for checking a link end to end."""

    def __init__(self) -> None:
        self.link: SimLink | None = None

    def attach(self, link: SimLink) -> None:
        self.link = link

    def receive(self, data: bytes) -> None:
        if self.link is not None:
            self.link.send(data)

    def detach(self) -> None:
        self.link = None


class _Link(abc.ABC):
    """The simulator's side of a served link; sends after ``close`` are dropped."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.closed = False

    def send(self, data: bytes) -> None:
        with self._lock:
            if not self.closed:
                self._send(bytes(data))

    def close(self) -> None:
        with self._lock:
            self.closed = True

    @abc.abstractmethod
    def _send(self, data: bytes) -> None: ...


class _FdLink(_Link):
    """Writes to a non-blocking pty master, dropping what a host that never reads cannot take."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._fd, view) :]
            except BlockingIOError:
                if not self._wait_writable():
                    logger.warning("pty host is not reading; dropped %d bytes", len(view))
                    return

    def _wait_writable(self) -> bool:
        with selectors.DefaultSelector() as selector:
            selector.register(self._fd, selectors.EVENT_WRITE)
            return bool(selector.select(_SEND_TIMEOUT))


class _SocketLink(_Link):
    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock

    def _send(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        except OSError as err:
            # The serving thread sees the disconnect and detaches the device.
            logger.info("dropped %d bytes for a TCP client that went away (%s)", len(data), err)
            self.closed = True


class _Server(abc.ABC):
    """A daemon thread waiting on a selector; ``close`` wakes it through a pipe and joins it."""

    def __init__(self, device: SimDevice, name: str) -> None:
        self.device = device
        self._selector = selectors.DefaultSelector()
        self._wake_read, self._wake_write = os.pipe()
        self._selector.register(self._wake_read, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._closed = False

    @property
    @abc.abstractmethod
    def url(self) -> str:
        """The transport URL a host opens to reach the device."""

    def close(self) -> None:
        """Stop the thread, detach the device and release the pty or socket. Idempotent."""
        if self._closed:
            return
        self._closed = True
        os.write(self._wake_write, b"\0")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(_JOIN_TIMEOUT)
            if self._thread.is_alive():
                logger.warning("%s: serving thread did not stop within %s s", self.url, _JOIN_TIMEOUT)
        self._release()
        self._selector.close()
        os.close(self._wake_read)
        os.close(self._wake_write)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self) -> None:
        while True:
            for key, _ in self._selector.select():
                if key.fileobj == self._wake_read:
                    return
                try:
                    self._on_readable(key.fileobj)
                except Exception:
                    logger.exception("%s: simulator failed handling input; still serving", self.url)

    @abc.abstractmethod
    def _on_readable(self, source: object) -> None: ...

    @abc.abstractmethod
    def _release(self) -> None: ...

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"


class PtyServer(_Server):
    """A simulator behind a pseudo-terminal; ``path`` is the ``/dev/pts/N`` a serial driver opens."""

    def __init__(self, device: SimDevice) -> None:
        self._master, self._slave = os.openpty()
        super().__init__(device, "pty-sim")
        # Raw mode: no echo, no line editing, no CR/LF translation — bytes pass as they are.
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        # Holding the slave open keeps the pty alive between hosts opening and closing it.
        self.path = os.ttyname(self._slave)
        self._link = _FdLink(self._master)
        self._selector.register(self._master, selectors.EVENT_READ)
        device.attach(self._link)
        self._thread.start()
        logger.info("serving %r on %s", device, self.path)

    @property
    def url(self) -> str:
        return f"serial://{self.path}"

    def _on_readable(self, source: object) -> None:
        try:
            data = os.read(self._master, _READ_CHUNK)
        except BlockingIOError:
            return
        self.device.receive(data)

    def _release(self) -> None:
        self._link.close()
        self.device.detach()
        os.close(self._master)
        os.close(self._slave)


class TcpServer(_Server):
    """A simulator on a TCP port, one client at a time; ``port`` is the port actually bound."""

    def __init__(self, device: SimDevice, host: str = "127.0.0.1", port: int = 0) -> None:
        self._listener = socket.create_server((host, port))
        super().__init__(device, "tcp-sim")
        self.host = host
        self.port: int = self._listener.getsockname()[1]
        self._client: socket.socket | None = None
        self._link: _SocketLink | None = None
        self._selector.register(self._listener, selectors.EVENT_READ)
        self._thread.start()
        logger.info("serving %r on %s", device, self.url)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"tcp://{host}:{self.port}"

    def _on_readable(self, source: object) -> None:
        if source is self._listener:
            self._accept()
            return
        if self._client is None:
            return
        try:
            data = self._client.recv(_READ_CHUNK)
        except OSError:
            data = b""
        if data:
            self.device.receive(data)
        else:
            self._drop_client()

    def _accept(self) -> None:
        client, address = self._listener.accept()
        client.settimeout(_SEND_TIMEOUT)
        # Stop accepting until this client leaves: the next one waits in the backlog.
        self._selector.unregister(self._listener)
        self._selector.register(client, selectors.EVENT_READ)
        self._client, self._link = client, _SocketLink(client)
        logger.info("%s: client %s connected", self.url, address)
        self.device.attach(self._link)

    def _drop_client(self) -> None:
        if self._client is None or self._link is None:
            return
        self._link.close()
        self._selector.unregister(self._client)
        self._client.close()
        self._client = self._link = None
        logger.info("%s: client disconnected", self.url)
        self.device.detach()
        if not self._closed:
            self._selector.register(self._listener, selectors.EVENT_READ)

    def _release(self) -> None:
        self._drop_client()
        self._listener.close()


def serve_on_pty(device: SimDevice) -> PtyServer:
    """Serve ``device`` on a new pty; open ``server.url`` (``serial:///dev/pts/N``) to reach it."""
    return PtyServer(device)


def serve_on_tcp(device: SimDevice, host: str = "127.0.0.1", port: int = 0) -> TcpServer:
    """Serve ``device`` on ``host:port`` (port 0 picks a free one, see ``server.port``)."""
    return TcpServer(device, host, port)
