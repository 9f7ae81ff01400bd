"""serial:// through real pyserial, against a simulator served on a pty."""

from __future__ import annotations

import os
import termios
from collections.abc import Iterator

import pytest

from firmware_sim.serve import EchoDevice, PtyServer, serve_on_pty
from transport import TransportError, open_transport
from transport.serialport import SerialTransport

PATIENCE = 5.0


@pytest.fixture
def pty_echo() -> Iterator[PtyServer]:
    with serve_on_pty(EchoDevice()) as server:
        yield server


def _termios_of(path: str) -> list[int]:
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    try:
        attributes: list[int] = termios.tcgetattr(fd)[:6]
        return attributes
    finally:
        os.close(fd)


def test_serial_url_opens_the_pty_with_pyserial(pty_echo: PtyServer) -> None:
    assert pty_echo.url == f"serial://{pty_echo.path}"
    with open_transport(pty_echo.url) as link:
        assert isinstance(link, SerialTransport)
        link.write(b"\x10\x04\x01")
        assert link.read_exactly(3, timeout=PATIENCE) == b"\x10\x04\x01"


def test_line_settings_from_the_url_reach_the_port(pty_echo: PtyServer) -> None:
    url = f"{pty_echo.url}?baudrate=19200&bytesize=7&parity=E&stopbits=2&rtscts=1&xonxoff=1"
    with open_transport(url) as link:
        _, _, cflag, _, ispeed, ospeed = _termios_of(pty_echo.path)
        assert isinstance(link, SerialTransport)
        settings = link.line_settings
    # Linux ptys force CS8 and no parity whatever is asked, so those two are checked on pyserial's side.
    assert cflag & termios.CSTOPB
    assert cflag & termios.CRTSCTS
    assert ispeed == ospeed == termios.B19200
    assert settings["baudrate"] == 19200
    assert settings["bytesize"] == 7
    assert settings["parity"] == "E"
    assert settings["stopbits"] == 2
    assert settings["rtscts"] is True
    assert settings["xonxoff"] is True


def test_default_line_settings_are_9600_8n1(pty_echo: PtyServer) -> None:
    with open_transport(pty_echo.url) as link:
        _, _, cflag, _, _, ospeed = _termios_of(pty_echo.path)
        assert isinstance(link, SerialTransport)
        settings = link.line_settings
    assert not cflag & (termios.CSTOPB | termios.CRTSCTS)
    assert ospeed == termios.B9600
    assert (settings["baudrate"], settings["bytesize"], settings["parity"], settings["stopbits"]) == (
        9600,
        8,
        "N",
        1,
    )


def test_a_port_is_opened_exclusively(pty_echo: PtyServer) -> None:
    with open_transport(pty_echo.url), pytest.raises(TransportError, match="no other program holds"):
        open_transport(pty_echo.url)


def test_missing_device_is_a_transport_error_saying_what_to_check() -> None:
    url = "serial:///dev/ttyUSB-not-here?baudrate=115200"
    with pytest.raises(TransportError, match="check the device path") as caught:
        open_transport(url)
    assert repr(url) in str(caught.value)


def test_rs485_on_a_port_without_kernel_support_is_a_clear_error(pty_echo: PtyServer) -> None:
    url = f"{pty_echo.url}?rs485=1&rts_level_for_tx=1&delay_before_tx=0.001"
    with pytest.raises(TransportError, match="RS-485") as caught:
        open_transport(url)
    assert repr(url) in str(caught.value)
    assert "drop rs485=1" in str(caught.value)
