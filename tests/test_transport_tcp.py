"""tcp:// against a simulator served by firmware_sim.serve: connection life and failures."""

from __future__ import annotations

import socket

import pytest

from firmware_sim.serve import EchoDevice, serve_on_tcp
from transport import TransportClosedError, TransportError, open_transport
from transport.tcp import TcpTransport

PATIENCE = 5.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def test_tcp_opens_a_tcp_transport_that_echoes() -> None:
    with serve_on_tcp(EchoDevice()) as server, open_transport(server.url) as link:
        assert isinstance(link, TcpTransport)
        link.write(b"\x1d\x72\x01")
        assert link.read_exactly(3, timeout=PATIENCE) == b"\x1d\x72\x01"


def test_far_end_closing_raises_closed_error_on_read_and_keeps_raising() -> None:
    server = serve_on_tcp(EchoDevice())
    link = open_transport(server.url)
    link.write(b"x")
    assert link.read(1, timeout=PATIENCE) == b"x"
    server.close()
    with pytest.raises(TransportClosedError, match="far end closed"):
        link.read(1, timeout=PATIENCE)
    with pytest.raises(TransportClosedError):
        link.read(1, timeout=0)
    link.close()


def test_writing_after_the_far_end_reset_raises_closed_error() -> None:
    server = serve_on_tcp(EchoDevice())
    link = open_transport(server.url)
    assert link.read(1, timeout=0.1) == b""
    server.close()
    with pytest.raises(TransportClosedError):
        for _ in range(100):  # the first sends may still land in the kernel buffer
            link.write(b"x" * 1024)
    link.close()


def test_connection_refused_is_a_transport_error_quoting_the_url() -> None:
    url = f"tcp://127.0.0.1:{_free_port()}?connect_timeout=2"
    with pytest.raises(TransportError, match="cannot open") as caught:
        open_transport(url)
    assert repr(url) in str(caught.value)
    assert "listening on port" in str(caught.value)


def test_ipv6_loopback_is_reachable_when_the_host_has_it() -> None:
    if not socket.has_ipv6:
        pytest.skip("this Python has no IPv6")
    try:
        server = serve_on_tcp(EchoDevice(), host="::1")
    except OSError as err:
        pytest.skip(f"no IPv6 loopback here: {err}")
    with server, open_transport(server.url) as link:
        assert server.url.startswith("tcp://[::1]:")
        link.write(b"v6")
        assert link.read_exactly(2, timeout=PATIENCE) == b"v6"
