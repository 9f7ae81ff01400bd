"""One contract for every link: loop://, sim://, tcp:// and serial:// to an echo device.

loop:// echoes by construction; the others reach a real echo simulator in-process, on a TCP port
and on a pty opened by pyserial, so the same tests exercise each transport's read, timeout and
close paths.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import time
from collections.abc import Iterator

import pytest

from firmware_sim.serve import EchoDevice, serve_on_pty, serve_on_tcp
from transport import (
    Transport,
    TransportClosedError,
    TransportUrlError,
    open_transport,
    register_simulator,
    unregister_simulator,
)

LINK_TIMEOUT = 0.2
PATIENCE = 5.0
"""Seconds to wait for bytes that are on their way; generous because CI machines are noisy."""

_sim_names = itertools.count()


@contextlib.contextmanager
def _echo_url(kind: str) -> Iterator[str]:
    if kind == "loop":
        yield "loop://"
    elif kind == "sim":
        name = f"echo-{next(_sim_names)}"
        register_simulator(name, EchoDevice())
        try:
            yield f"sim://{name}"
        finally:
            unregister_simulator(name)
    else:
        serve = serve_on_tcp if kind == "tcp" else serve_on_pty
        with serve(EchoDevice()) as server:
            yield server.url


@pytest.fixture(params=["loop", "sim", "tcp", "serial"])
def link(request: pytest.FixtureRequest) -> Iterator[Transport]:
    with _echo_url(request.param) as url, open_transport(url, timeout=LINK_TIMEOUT) as transport:
        yield transport


def test_bytes_written_come_back_unchanged(link: Transport) -> None:
    payload = bytes(range(256)) * 4  # every byte value, control characters included
    link.write(payload)
    assert link.read_exactly(len(payload), timeout=PATIENCE) == payload


def test_read_returns_at_most_size_bytes(link: Transport) -> None:
    link.write(b"0123456789")
    first = link.read(3, timeout=PATIENCE)
    assert 1 <= len(first) <= 3
    rest = link.read_exactly(10 - len(first), timeout=PATIENCE)
    assert first + rest == b"0123456789"


def test_read_with_nothing_to_read_returns_empty_after_the_timeout(link: Transport) -> None:
    started = time.monotonic()
    assert link.read(10, timeout=0.1) == b""
    assert time.monotonic() - started < 2.0


def test_read_uses_the_transport_timeout_by_default(link: Transport) -> None:
    assert link.timeout == LINK_TIMEOUT
    started = time.monotonic()
    assert link.read() == b""
    assert time.monotonic() - started < 2.0


def test_read_with_zero_timeout_returns_at_once(link: Transport) -> None:
    assert link.read(10, timeout=0) == b""


def test_read_exactly_returns_what_arrived_when_the_deadline_passes(link: Transport) -> None:
    link.write(b"abc")
    started = time.monotonic()
    assert link.read_exactly(10, timeout=1.0) == b"abc"
    assert time.monotonic() - started < 3.0


def test_read_exactly_collects_bytes_written_in_pieces(link: Transport) -> None:
    for piece in (b"\x10\x04", b"\x01", b"\x1b@"):
        link.write(piece)
    assert link.read_exactly(5, timeout=PATIENCE) == b"\x10\x04\x01\x1b@"


def test_reset_input_discards_bytes_not_yet_read(link: Transport) -> None:
    link.write(b"stale")
    time.sleep(0.5)  # let the echo arrive before discarding it
    link.reset_input()
    link.write(b"ok")
    assert link.read_exactly(2, timeout=PATIENCE) == b"ok"


def test_closed_link_raises_closed_error_on_every_operation(link: Transport) -> None:
    link.close()
    assert link.closed
    with pytest.raises(TransportClosedError, match="closed"):
        link.write(b"x")
    with pytest.raises(TransportClosedError):
        link.read(1)
    with pytest.raises(TransportClosedError):
        link.read_exactly(1, timeout=0)
    with pytest.raises(TransportClosedError):
        link.reset_input()
    link.close()  # closing twice is harmless


def test_reading_in_another_thread_is_woken_by_a_write() -> None:
    received: list[bytes] = []
    with open_transport("loop://") as loop:
        reader = threading.Thread(target=lambda: received.append(loop.read(4, timeout=PATIENCE)))
        reader.start()
        time.sleep(0.05)
        loop.write(b"ping")
        reader.join(PATIENCE)
    assert received == [b"ping"]


def test_close_wakes_a_reader_blocked_in_another_thread() -> None:
    outcome: list[BaseException] = []

    def read_until_closed(link: Transport) -> None:
        try:
            link.read(1, timeout=PATIENCE * 2)
        except TransportClosedError as err:
            outcome.append(err)

    loop = open_transport("loop://")
    reader = threading.Thread(target=read_until_closed, args=(loop,))
    reader.start()
    time.sleep(0.05)
    loop.close()
    reader.join(PATIENCE)
    assert not reader.is_alive()
    assert len(outcome) == 1


class _Recorder:
    """A simulator that keeps what it was told, to check the sim:// plumbing itself."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.received = bytearray()

    def attach(self, link: object) -> None:
        self.events.append("attach")

    def receive(self, data: bytes) -> None:
        self.received += data

    def detach(self) -> None:
        self.events.append("detach")


def test_sim_link_attaches_on_open_and_detaches_on_close() -> None:
    device = _Recorder()
    register_simulator("recorder", device)
    try:
        with open_transport("sim://recorder") as link:
            assert device.events == ["attach"]
            link.write(b"\x1b@")
            assert bytes(device.received) == b"\x1b@"
        assert device.events == ["attach", "detach"]
    finally:
        unregister_simulator("recorder")


def test_unknown_simulator_is_an_error_naming_the_running_ones() -> None:
    register_simulator("printer-9", EchoDevice())
    try:
        with pytest.raises(TransportUrlError, match="no simulator named 'scanner-9'") as caught:
            open_transport("sim://scanner-9")
        assert "printer-9" in str(caught.value)
        assert "'sim://scanner-9'" in str(caught.value)
    finally:
        unregister_simulator("printer-9")
    with pytest.raises(TransportUrlError, match="no simulator named 'printer-9'"):
        open_transport("sim://printer-9")


def test_simulator_names_must_be_writable_in_a_url() -> None:
    with pytest.raises(ValueError, match="cannot be written in a sim:// URL"):
        register_simulator("printer 1", EchoDevice())
