"""firmware_sim.serve: simulators on a pty and on TCP, their clients, threads and shutdown."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

import pytest

from firmware_sim.serve import EchoDevice, PtyServer, TcpServer, serve_on_pty, serve_on_tcp
from transport import SimDevice, SimLink, open_transport

PATIENCE = 5.0


class RecordingEcho:
    """An echo simulator that records attach/detach so tests can wait for them."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self._link: SimLink | None = None
        self._changed = threading.Condition()

    def attach(self, link: SimLink) -> None:
        with self._changed:
            self._link = link
            self.events.append("attach")
            self._changed.notify_all()

    def receive(self, data: bytes) -> None:
        if self._link is not None:
            self._link.send(data)

    def detach(self) -> None:
        with self._changed:
            self._link = None
            self.events.append("detach")
            self._changed.notify_all()

    def wait_for_events(self, expected: list[str]) -> list[str]:
        with self._changed:
            self._changed.wait_for(lambda: self.events == expected, timeout=PATIENCE)
            return list(self.events)


class FailingOnBang(EchoDevice):
    """Echoes, except that a ``!`` makes it raise as a buggy simulator would."""

    def receive(self, data: bytes) -> None:
        if b"!" in data:
            raise RuntimeError("simulator bug")
        super().receive(data)


def test_tcp_server_attaches_on_connect_and_detaches_on_disconnect() -> None:
    device = RecordingEcho()
    with serve_on_tcp(device) as server:
        assert server.port > 0
        assert server.url == f"tcp://127.0.0.1:{server.port}"
        assert device.events == []
        with open_transport(server.url) as link:
            link.write(b"hi")
            assert link.read_exactly(2, timeout=PATIENCE) == b"hi"
            assert device.events == ["attach"]
        assert device.wait_for_events(["attach", "detach"]) == ["attach", "detach"]
        with open_transport(server.url) as link:
            link.write(b"again")
            assert link.read_exactly(5, timeout=PATIENCE) == b"again"
        expected = ["attach", "detach", "attach", "detach"]
        assert device.wait_for_events(expected) == expected


def test_tcp_server_serves_one_client_at_a_time() -> None:
    with serve_on_tcp(EchoDevice()) as server:
        first = open_transport(server.url)
        first.write(b"1")
        assert first.read(1, timeout=PATIENCE) == b"1"
        second = open_transport(server.url)
        second.write(b"2")
        assert second.read(1, timeout=0.3) == b""  # waiting in the backlog
        first.close()
        assert second.read(1, timeout=PATIENCE) == b"2"
        second.close()


def test_tcp_server_close_detaches_a_connected_client_and_stops_its_thread() -> None:
    device = RecordingEcho()
    server = serve_on_tcp(device)
    link = open_transport(server.url)
    link.write(b"x")
    assert link.read(1, timeout=PATIENCE) == b"x"
    server.close()
    assert device.events == ["attach", "detach"]
    assert not server._thread.is_alive()
    link.close()
    server.close()  # closing twice is harmless


def test_pty_server_attaches_for_its_lifetime_and_stops_its_thread() -> None:
    device = RecordingEcho()
    with serve_on_pty(device) as server:
        assert server.path.startswith("/dev/")
        assert os.path.exists(server.path)
        assert device.events == ["attach"]
        for _ in range(2):  # hosts come and go; the device stays attached
            with open_transport(server.url) as link:
                link.write(b"ok")
                assert link.read_exactly(2, timeout=PATIENCE) == b"ok"
        assert device.events == ["attach"]
    assert device.events == ["attach", "detach"]
    assert not server._thread.is_alive()


@pytest.mark.parametrize("serve", [serve_on_pty, serve_on_tcp], ids=["pty", "tcp"])
def test_a_failing_simulator_is_logged_and_the_server_keeps_serving(
    serve: Callable[[SimDevice], PtyServer | TcpServer], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="firmware_sim.serve")
    with serve(FailingOnBang()) as server, open_transport(server.url) as link:
        link.write(b"!")
        deadline = time.monotonic() + PATIENCE
        while not caplog.records and time.monotonic() < deadline:
            time.sleep(0.01)
        link.write(b"fine")
        assert link.read_exactly(4, timeout=PATIENCE) == b"fine"
    assert "simulator failed handling input" in caplog.text
    assert "RuntimeError: simulator bug" in caplog.text


def test_servers_threads_are_daemons() -> None:
    with serve_on_tcp(EchoDevice()) as tcp, serve_on_pty(EchoDevice()) as pty:
        assert tcp._thread.daemon
        assert pty._thread.daemon
