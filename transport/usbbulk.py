"""``usb://VID:PID``: the bulk endpoints of a USB device through pyusb, such as a receipt printer.

URL grammar::

    usb://VID:PID[?interface=0][&in_ep=0x81][&out_ep=0x03][&timeout=S][&write_timeout=S]

VID and PID are hexadecimal, with or without ``0x`` (``usb://0416:5011``, ``usb://0x0416:0x5011``).
Endpoint addresses are numbers, usually written in hex; an IN endpoint has bit 0x80 set, an OUT
endpoint has it clear. The defaults in_ep=0x81 and out_ep=0x03 match many ESC/POS clones (such
as the Winbond-based 0416:5011); python-escpos's defaults (0x82/0x01) do not. ``lsusb -v -d
VID:PID`` lists a device's endpoints, and opening with a wrong one names the ones it has.

A kernel driver holding the interface (``usblp`` for printers) is detached on open. Every read
and write passes libusb a timeout of at least 1 ms: pyusb treats ``timeout=0`` as "wait forever".
pyusb is imported only when a ``usb://`` URL is opened, so the package works without it.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import math
import re
from typing import Any
from urllib.parse import SplitResult

from transport.base import (
    DEFAULT_TIMEOUT,
    DEFAULT_WRITE_TIMEOUT,
    Transport,
    TransportClosedError,
    TransportError,
)
from transport.scheme import Param, Scheme, TransportUrl, no_path, seconds, whole_number

logger = logging.getLogger(__name__)

DEFAULT_IN_EP = 0x81
DEFAULT_OUT_EP = 0x03
_ID = r"(?:0x)?([0-9a-f]{1,4})"
_TARGET = re.compile(rf"{_ID}:{_ID}", re.IGNORECASE)
_GONE = frozenset({errno.ENODEV, errno.ESHUTDOWN})  # libusb NO_DEVICE; EPIPE is a stall, not a loss


def _ms(timeout: float) -> int:
    """libusb milliseconds for ``timeout`` seconds, never 0 (which pyusb turns into "forever")."""
    return max(1, math.ceil(timeout * 1000))


def _import_pyusb(url: str) -> tuple[Any, Any]:
    try:
        import usb.core
        import usb.util
    except ImportError as err:
        raise TransportError(f"cannot open {url!r}: pyusb is not installed; pip install pyusb") from err
    return usb.core, usb.util


class UsbTransport(Transport):
    """A claimed interface of a pyusb device: writes go to ``out_ep``, reads come from ``in_ep``."""

    def __init__(
        self,
        url: str,
        device: Any,
        *,
        interface: int,
        endpoints: tuple[int, int, int],
        timeout: float = DEFAULT_TIMEOUT,
        write_timeout: float = DEFAULT_WRITE_TIMEOUT,
    ) -> None:
        """``endpoints`` is ``(in_ep, out_ep, max_packet_size_of_in_ep)``."""
        super().__init__(url, timeout)
        self._usb_core, self._usb_util = _import_pyusb(url)
        self._device = device
        self._interface = interface
        self._in_ep, self._out_ep, self._packet_size = endpoints
        self._write_timeout = write_timeout
        # A bulk read asks for whole packets (a shorter request overflows); the rest waits here.
        self._pending = bytearray()

    def write(self, data: bytes) -> None:
        self._check_open()
        sent = 0
        while sent < len(data):
            try:
                sent += self._device.write(self._out_ep, data[sent:], timeout=_ms(self._write_timeout))
            except self._usb_core.USBError as err:
                if self._is_timeout(err):
                    raise TransportError(
                        f"{self.url}: write timed out after {self._write_timeout} s with {sent} of "
                        f"{len(data)} bytes sent; the device is not accepting data (offline, paper out?)"
                    ) from err
                raise self._failure(err, "writing") from err

    def read(self, size: int = 1, timeout: float | None = None) -> bytes:
        self._check_open()
        if not self._pending:
            self._pending += self._read_packets(size, self.timeout if timeout is None else timeout)
        chunk = bytes(self._pending[:size])
        del self._pending[:size]
        return chunk

    def reset_input(self) -> None:
        self._check_open()
        self._pending.clear()
        while self._read_packets(1, 0.0):
            pass

    def close(self) -> None:
        if not self._closed:
            super().close()
            with contextlib.suppress(self._usb_core.USBError):  # already unplugged: nothing to release
                self._usb_util.release_interface(self._device, self._interface)
            self._usb_util.dispose_resources(self._device)

    def _read_packets(self, size: int, timeout: float) -> bytes:
        packets = max(1, math.ceil(size / self._packet_size))
        try:
            return bytes(self._device.read(self._in_ep, packets * self._packet_size, timeout=_ms(timeout)))
        except self._usb_core.USBError as err:
            if self._is_timeout(err):
                return b""
            raise self._failure(err, "reading") from err

    def _is_timeout(self, err: Exception) -> bool:
        return (
            isinstance(err, self._usb_core.USBTimeoutError) or getattr(err, "errno", None) == errno.ETIMEDOUT
        )

    def _failure(self, err: Exception, doing: str) -> TransportError:
        if getattr(err, "errno", None) in _GONE:
            return TransportClosedError(
                f"{self.url}: USB device gone while {doing} ({err}); check the cable and the power"
            )
        return TransportError(f"{self.url}: USB error while {doing}: {err}")


def _parse_target(parts: SplitResult) -> str:
    match = _TARGET.fullmatch(parts.netloc)
    if match is None:
        raise ValueError(f"bad device id {parts.netloc!r}" if parts.netloc else "missing VID:PID")
    no_path(parts)
    vendor, product = (int(group, 16) for group in match.groups())
    return f"{vendor:04x}:{product:04x}"


def _find(usb_core: Any, url: TransportUrl, backend: object | None) -> Any:
    vendor, product = (int(part, 16) for part in url.target.split(":"))
    try:
        device = usb_core.find(idVendor=vendor, idProduct=product, backend=backend)
    except usb_core.NoBackendError as err:
        raise TransportError(
            f"cannot open {url.url!r}: pyusb found no USB backend; install libusb (apt install libusb-1.0-0)"
        ) from err
    if device is None:
        raise TransportError(
            f"cannot open {url.url!r}: no device {url.target} found; check lsusb, the cable and the power"
        )
    return device


def _claim(usb_core: Any, usb_util: Any, device: Any, interface: int) -> None:
    """Take ``interface`` from any kernel driver, configure the device if needed, and claim it."""
    try:
        if device.is_kernel_driver_active(interface):
            device.detach_kernel_driver(interface)
    except NotImplementedError:
        pass  # backends without kernel drivers to detach (Windows, OpenUSB)
    try:
        device.get_active_configuration()
    except usb_core.USBError:
        device.set_configuration()
    usb_util.claim_interface(device, interface)


def _endpoints(device: Any, interface: int, in_ep: int, out_ep: int) -> tuple[int, int, int]:
    """Check both endpoints exist on ``interface``; returns ``(in_ep, out_ep, in_packet_size)``."""
    config = device.get_active_configuration()
    found = [intf for intf in config if intf.bInterfaceNumber == interface and intf.bAlternateSetting == 0]
    if not found:
        numbers = sorted({intf.bInterfaceNumber for intf in config})
        raise ValueError(f"no interface {interface} (the device has {numbers})")
    sizes = {ep.bEndpointAddress: ep.wMaxPacketSize for ep in found[0]}
    listed = ", ".join(f"0x{address:02x}" for address in sizes)
    for name, address in (("in_ep", in_ep), ("out_ep", out_ep)):
        if address not in sizes:
            raise ValueError(f"{name}=0x{address:02x} is not on interface {interface} (it has {listed})")
    return in_ep, out_ep, int(sizes[in_ep]) or 64


def open_usb(url: TransportUrl, timeout: float, backend: object | None = None) -> UsbTransport:
    """Find, claim and check the device; ``backend`` picks a pyusb backend (default: libusb)."""
    settings = SCHEME.settings(url)
    interface = int(settings["interface"])
    usb_core, usb_util = _import_pyusb(url.url)
    device = _find(usb_core, url, backend)
    try:
        _claim(usb_core, usb_util, device, interface)
        endpoints = _endpoints(device, interface, int(settings["in_ep"]), int(settings["out_ep"]))
    except (usb_core.USBError, ValueError) as err:
        usb_util.dispose_resources(device)
        hint = (
            "; add a udev rule giving this user access" if getattr(err, "errno", None) == errno.EACCES else ""
        )
        raise TransportError(f"cannot open {url.url!r}: {err}{hint}") from err
    logger.debug("claimed USB device %s interface %d", url.target, interface)
    return UsbTransport(
        url.url,
        device,
        interface=interface,
        endpoints=endpoints,
        timeout=timeout,
        write_timeout=float(settings["write_timeout"]),
    )


def _open(url: TransportUrl, timeout: float) -> UsbTransport:
    return open_usb(url, timeout)


SCHEME = Scheme(
    name="usb",
    grammar="usb://VID:PID (hex, like usb://0416:5011)",
    parse_target=_parse_target,
    opener=_open,
    params={
        "interface": Param(whole_number(0, 255), 0, "interface number to claim"),
        "in_ep": Param(whole_number(0x81, 0x8F, as_hex=True), DEFAULT_IN_EP, "bulk IN endpoint"),
        "out_ep": Param(whole_number(0x01, 0x0F, as_hex=True), DEFAULT_OUT_EP, "bulk OUT endpoint"),
        "write_timeout": Param(seconds, DEFAULT_WRITE_TIMEOUT, "seconds a write may wait"),
    },
)
