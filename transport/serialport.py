"""``serial:///dev/ttyUSB0``: a serial port through pyserial (RS-232, USB-serial, RS-485).

URL grammar (three slashes: the path is absolute and there is no host)::

    serial:///PATH[?baudrate=9600][&bytesize=8][&parity=N][&stopbits=1][&xonxoff=0][&rtscts=0]
                  [&rs485=0][&rts_level_for_tx=1][&rts_level_for_rx=0]
                  [&delay_before_tx=0.0][&delay_before_rx=0.0][&timeout=S][&write_timeout=S]

Defaults are 9600 8N1 without flow control. Parity is one letter of N, E, O, M, S; stopbits is
1, 1.5 or 2. ``rs485=1`` puts the UART in kernel RS-485 mode (``serial.rs485.RS485Settings``) and
is only for UARTs whose driver supports it; USB-RS485 dongles that switch direction themselves need
nothing. The ``rts_level_*`` and ``delay_*`` parameters need ``rs485=1``. Prefer stable paths such
as ``serial:///dev/serial/by-id/usb-1a86_USB_Serial-if00-port0`` over ``ttyUSB0``, which can change
between boots. The port is opened exclusively so two services never share it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import SplitResult, unquote

import serial
import serial.rs485

from transport.base import (
    DEFAULT_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    Transport,
    TransportClosedError,
    TransportError,
)
from transport.scheme import Param, ParamValue, Scheme, TransportUrl, flag, one_of, seconds, whole_number

logger = logging.getLogger(__name__)

_RS485_ONLY = ("rts_level_for_tx", "rts_level_for_rx", "delay_before_tx", "delay_before_rx")
_STOP_BITS_TEXT = one_of("1", "1.5", "2")


def _stop_bits(text: str) -> float:
    return float(_STOP_BITS_TEXT(text))


class SerialTransport(Transport):
    """An open pyserial port; reads return as soon as one byte has arrived."""

    def __init__(self, url: str, port: serial.Serial, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self._port = port

    @property
    def line_settings(self) -> dict[str, Any]:
        """pyserial's view of the port (baudrate, bytesize, parity, ...), for diagnostics."""
        return self._port.get_settings()

    def write(self, data: bytes) -> None:
        self._check_open()
        try:
            self._port.write(data)
        except serial.SerialTimeoutException as err:
            raise TransportError(
                f"{self.url}: write timed out after {self._port.write_timeout} s; the device is not "
                "accepting data (flow control holding it, or device busy)"
            ) from err
        except (serial.SerialException, OSError) as err:
            raise TransportClosedError(f"{self.url}: serial port lost while writing ({err})") from err

    def read(self, size: int = 1, timeout: float | None = None) -> bytes:
        self._check_open()
        try:
            self._use_timeout(timeout)
            data = bytes(self._port.read(1))
            waiting = self._port.in_waiting if data and size > 1 else 0
            if waiting:
                data += self._port.read(min(size - 1, waiting))
        except (serial.SerialException, OSError) as err:
            raise TransportClosedError(f"{self.url}: serial port lost while reading ({err})") from err
        return data

    def read_exactly(self, size: int, timeout: float | None = None) -> bytes:
        """pyserial's own read already waits for ``size`` bytes under one deadline."""
        self._check_open()
        try:
            self._use_timeout(timeout)
            return bytes(self._port.read(size))
        except (serial.SerialException, OSError) as err:
            raise TransportClosedError(f"{self.url}: serial port lost while reading ({err})") from err

    def reset_input(self) -> None:
        self._check_open()
        self._port.reset_input_buffer()

    def close(self) -> None:
        if not self._closed:
            super().close()
            self._port.close()

    def _use_timeout(self, timeout: float | None) -> None:
        wanted = self.timeout if timeout is None else max(timeout, 0.0)
        # Setting pyserial's timeout reconfigures the port, so only touch it when it changes.
        if self._port.timeout != wanted:
            self._port.timeout = wanted


def _parse_target(parts: SplitResult) -> str:
    if parts.netloc:
        raise ValueError(
            f"unexpected host {parts.netloc!r} (a serial URL has three slashes: serial:///dev/ttyUSB0)"
        )
    if not parts.path or parts.path == "/":
        raise ValueError("missing device path")
    return unquote(parts.path)


def _check(params: Mapping[str, ParamValue]) -> None:
    if not params.get("rs485", False):
        given = [name for name in _RS485_ONLY if name in params]
        if given:
            raise ValueError(f"{', '.join(given)}: only meaningful with rs485=1")


def _configure(url: TransportUrl, timeout: float) -> serial.Serial:
    """An unopened port with every setting applied, so RS-485 mode is set before the first byte."""
    settings = SCHEME.settings(url)
    port = serial.Serial()
    port.port = url.target
    port.baudrate = int(settings["baudrate"])
    port.bytesize = int(settings["bytesize"])
    port.parity = str(settings["parity"])
    port.stopbits = float(settings["stopbits"])
    port.xonxoff = bool(settings["xonxoff"])
    port.rtscts = bool(settings["rtscts"])
    port.timeout = timeout
    port.write_timeout = float(settings["write_timeout"])
    port.exclusive = True
    if settings["rs485"]:
        port.rs485_mode = serial.rs485.RS485Settings(
            rts_level_for_tx=bool(settings["rts_level_for_tx"]),
            rts_level_for_rx=bool(settings["rts_level_for_rx"]),
            delay_before_tx=float(settings["delay_before_tx"]),
            delay_before_rx=float(settings["delay_before_rx"]),
        )
    return port


def open_serial(url: TransportUrl, timeout: float) -> SerialTransport:
    """Open the port; a missing, busy or unsupported port is a ``TransportError`` saying which."""
    port = _configure(url, timeout)
    try:
        port.open()
    except ValueError as err:
        raise TransportError(
            f"cannot open {url.url!r}: {err}; this port's driver may not support kernel RS-485 mode, "
            "drop rs485=1 if the adapter switches direction itself"
        ) from err
    except (serial.SerialException, OSError) as err:
        raise TransportError(
            f"cannot open {url.url!r}: {err}; check the device path (ls /dev/serial/by-id), that no "
            "other program holds the port, and that this user may use it (group dialout)"
        ) from err
    logger.debug("opened serial port %s", url.target)
    return SerialTransport(url.url, port, timeout)


SCHEME = Scheme(
    name="serial",
    grammar="serial:///DEVICE-PATH",
    parse_target=_parse_target,
    opener=open_serial,
    check=_check,
    params={
        "baudrate": Param(whole_number(1, 10_000_000), 9600, "bits per second"),
        "bytesize": Param(whole_number(5, 8), 8, "data bits per character"),
        "parity": Param(one_of("N", "E", "O", "M", "S"), "N", "none, even, odd, mark or space"),
        "stopbits": Param(_stop_bits, 1.0, "stop bits"),
        "xonxoff": Param(flag, False, "software flow control"),
        "rtscts": Param(flag, False, "hardware flow control"),
        "rs485": Param(flag, False, "kernel RS-485 mode"),
        "rts_level_for_tx": Param(flag, True, "RTS level while sending (rs485=1)"),
        "rts_level_for_rx": Param(flag, False, "RTS level while receiving (rs485=1)"),
        "delay_before_tx": Param(seconds, 0.0, "seconds between RTS switch and sending (rs485=1)"),
        "delay_before_rx": Param(seconds, 0.0, "seconds between sending and RTS switch (rs485=1)"),
        "write_timeout": Param(seconds, DEFAULT_WRITE_TIMEOUT, "seconds a write may wait"),
    },
)
