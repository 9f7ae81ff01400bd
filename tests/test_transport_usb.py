"""usb:// through real pyusb, driven by an in-memory pyusb backend standing in for libusb.

There is no USB printer on a CI machine (often not even libusb), so ``PrinterBackend`` implements
pyusb's backend interface for one printer-like device: bulk OUT bytes come back on bulk IN, reads
wait for their libusb timeout, and the device can be unplugged. pyusb's own ``find``, ``Device``
and ``usb.util`` code runs unchanged on top of it.
"""

from __future__ import annotations

import array
import errno
import sys
import threading
import time
from types import SimpleNamespace
from typing import Any

import pytest

pytest.importorskip("usb.core")

import usb.backend
import usb.core as usb_core

from transport import TransportClosedError, TransportError, open_transport, parse_transport_url
from transport.usbbulk import UsbTransport, open_usb

PATIENCE = 5.0
BULK = 0x02


class PrinterBackend(usb.backend.IBackend):  # type: ignore[misc]
    """One USB device with a single interface of two bulk endpoints that echoes what it gets."""

    def __init__(
        self,
        ids: tuple[int, int] = (0x0416, 0x5011),
        endpoints: tuple[int, int] = (0x81, 0x03),
        *,
        configured: bool = True,
    ) -> None:
        self.ids = ids
        self.endpoints = endpoints
        self.configuration = 1 if configured else 0
        self.kernel_driver = True
        self.claimed: set[int] = set()
        self.timeouts: list[int] = []
        self.read_sizes: list[int] = []
        self.unplugged = False
        self._pending = bytearray()
        self._arrived = threading.Condition()

    def enumerate_devices(self) -> list[str]:
        return ["printer"]

    def get_device_descriptor(self, dev: str) -> SimpleNamespace:
        return SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0, bDeviceSubClass=0,
            bDeviceProtocol=0, bMaxPacketSize0=64, idVendor=self.ids[0], idProduct=self.ids[1],
            bcdDevice=0x0100, iManufacturer=0, iProduct=0, iSerialNumber=0, bNumConfigurations=1,
            address=3, bus=1, port_number=2, port_numbers=(2,), speed=2,
        )  # fmt: skip

    def get_configuration_descriptor(self, dev: str, config: int) -> SimpleNamespace:
        if config != 0:
            raise IndexError(config)
        return SimpleNamespace(
            bLength=9, bDescriptorType=2, wTotalLength=32, bNumInterfaces=1, bConfigurationValue=1,
            iConfiguration=0, bmAttributes=0xC0, bMaxPower=50, extra_descriptors=[],
        )  # fmt: skip

    def get_interface_descriptor(self, dev: str, intf: int, alt: int, config: int) -> SimpleNamespace:
        if intf != 0 or alt != 0:
            raise IndexError((intf, alt))
        return SimpleNamespace(
            bLength=9, bDescriptorType=4, bInterfaceNumber=0, bAlternateSetting=0, bNumEndpoints=2,
            bInterfaceClass=7, bInterfaceSubClass=1, bInterfaceProtocol=2, iInterface=0,
            extra_descriptors=[],
        )  # fmt: skip

    def get_endpoint_descriptor(self, dev: str, ep: int, intf: int, alt: int, config: int) -> SimpleNamespace:
        return SimpleNamespace(
            bLength=7, bDescriptorType=5, bEndpointAddress=self.endpoints[ep], bmAttributes=BULK,
            wMaxPacketSize=64, bInterval=0, bRefresh=0, bSynchAddress=0, extra_descriptors=[],
        )  # fmt: skip

    def open_device(self, dev: str) -> str:
        return "handle"

    def close_device(self, dev_handle: str) -> None:
        pass

    def get_configuration(self, dev_handle: str) -> int:
        return self.configuration

    def set_configuration(self, dev_handle: str, config_value: int) -> None:
        self.configuration = config_value

    def is_kernel_driver_active(self, dev_handle: str, intf: int) -> bool:
        return self.kernel_driver

    def detach_kernel_driver(self, dev_handle: str, intf: int) -> None:
        self.kernel_driver = False

    def claim_interface(self, dev_handle: str, intf: int) -> None:
        self.claimed.add(intf)

    def release_interface(self, dev_handle: str, intf: int) -> None:
        self.claimed.discard(intf)

    def bulk_write(self, dev_handle: str, ep: int, intf: int, data: Any, timeout: int) -> int:
        self._check_plugged(timeout)
        with self._arrived:
            self._pending += bytes(data)
            self._arrived.notify_all()
        return len(data)

    def bulk_read(self, dev_handle: str, ep: int, intf: int, buff: Any, timeout: int) -> int:
        self._check_plugged(timeout)
        self.read_sizes.append(len(buff))
        with self._arrived:
            if not self._arrived.wait_for(lambda: self._pending, timeout=timeout / 1000):
                raise usb_core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT)
            count = min(len(buff), len(self._pending))
            buff[:count] = array.array("B", self._pending[:count])
            del self._pending[:count]
            return count

    def _check_plugged(self, timeout: int) -> None:
        self.timeouts.append(timeout)
        if self.unplugged:
            raise usb_core.USBError("No such device (it may have been disconnected)", -4, errno.ENODEV)


def _open(url: str, backend: PrinterBackend, timeout: float = 0.2) -> UsbTransport:
    return open_usb(parse_transport_url(url), timeout, backend=backend)


def test_usb_link_claims_the_interface_and_echoes_through_bulk_endpoints() -> None:
    backend = PrinterBackend()
    with _open("usb://0x0416:0x5011", backend) as link:
        assert backend.claimed == {0}
        assert backend.kernel_driver is False  # usblp detached
        link.write(b"\x10\x04\x01")
        assert link.read_exactly(3, timeout=PATIENCE) == b"\x10\x04\x01"
    assert backend.claimed == set()


def test_an_unconfigured_device_is_configured_on_open() -> None:
    backend = PrinterBackend(configured=False)
    with _open("usb://0416:5011", backend):
        assert backend.configuration == 1


def test_reads_ask_for_whole_packets_and_keep_the_rest_for_later() -> None:
    backend = PrinterBackend()
    with _open("usb://0416:5011", backend) as link:
        link.write(b"abcdef")
        assert link.read(2, timeout=PATIENCE) == b"ab"
        assert link.read(10, timeout=PATIENCE) == b"cdef"
        assert backend.read_sizes == [64]


def test_every_usb_transfer_has_a_nonzero_timeout_even_for_zero_second_reads() -> None:
    backend = PrinterBackend()
    with _open("usb://0416:5011?write_timeout=0.25", backend) as link:
        started = time.monotonic()
        assert link.read(1, timeout=0) == b""
        assert link.read(1) == b""
        link.reset_input()
        link.write(b"x")
        assert time.monotonic() - started < 3.0
    assert backend.timeouts == [1, 200, 1, 250]


def test_unplugging_raises_closed_error_on_read_and_write() -> None:
    backend = PrinterBackend()
    with _open("usb://0416:5011", backend) as link:
        backend.unplugged = True
        with pytest.raises(TransportClosedError, match="check the cable"):
            link.read(1)
        with pytest.raises(TransportClosedError, match="USB device gone while writing"):
            link.write(b"x")


def test_closed_usb_link_raises_closed_error() -> None:
    link = _open("usb://0416:5011", PrinterBackend())
    link.close()
    with pytest.raises(TransportClosedError):
        link.write(b"x")
    with pytest.raises(TransportClosedError):
        link.read(1)


def test_wrong_endpoints_are_an_error_listing_the_ones_the_device_has() -> None:
    url = "usb://0416:5011"
    with pytest.raises(TransportError, match=r"in_ep=0x81 is not on interface 0 \(it has 0x82, 0x01\)"):
        _open(url, PrinterBackend(endpoints=(0x82, 0x01)))
    with _open(f"{url}?in_ep=0x82&out_ep=0x01", PrinterBackend(endpoints=(0x82, 0x01))) as link:
        link.write(b"ok")
        assert link.read_exactly(2, timeout=PATIENCE) == b"ok"


def test_missing_interface_is_an_error_naming_the_ones_there_are() -> None:
    with pytest.raises(TransportError, match=r"no interface 1 \(the device has \[0\]\)"):
        _open("usb://0416:5011?interface=1", PrinterBackend())


def test_no_such_device_is_a_transport_error_quoting_the_url() -> None:
    url = "usb://04b8:0e15"
    with pytest.raises(TransportError, match="no device 04b8:0e15 found") as caught:
        _open(url, PrinterBackend())
    assert repr(url) in str(caught.value)


def test_without_a_backend_opening_is_a_transport_error_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_backend(**_: object) -> None:
        raise usb_core.NoBackendError("No backend available")

    monkeypatch.setattr(usb_core, "find", no_backend)
    url = "usb://0416:5011"
    with pytest.raises(TransportError, match="no USB backend; install libusb") as caught:
        open_transport(url)
    assert repr(url) in str(caught.value)


def test_on_this_machine_usb_open_fails_cleanly() -> None:
    """Whatever libusb is here (none, or no such printer), the answer is a TransportError."""
    url = "usb://0416:5011?timeout=0.5"
    with pytest.raises(TransportError, match=r"no USB backend|no device 0416:5011 found") as caught:
        open_transport(url)
    assert repr(url) in str(caught.value)


def test_without_pyusb_opening_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "usb.core", None)
    with pytest.raises(TransportError, match="pyusb is not installed; pip install pyusb"):
        open_transport("usb://0416:5011")
    assert parse_transport_url("usb://0416:5011").target == "0416:5011"
