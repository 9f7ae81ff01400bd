"""Whole flow over a real Mosquitto: a key frame from a keypad reaches an LED display as Modbus."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.caller_bus import Key
from counter_display.modbus_rtu import Direction, ModbusRtuDecoder, WriteSingleRegister
from counter_display.service import KeypadService, LedDisplayService
from firmware_sim.centre import SimulatedDevices
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import Site

pytestmark = pytest.mark.integration


class WireTap:
    """Records the raw bytes the host writes to a simulator, to check what went over the wire."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.bytes = bytearray()

    def attach(self, link: object) -> None:
        self.inner.attach(link)  # type: ignore[attr-defined]

    def detach(self) -> None:
        self.inner.detach()  # type: ignore[attr-defined]

    def receive(self, data: bytes) -> None:
        self.bytes += data
        self.inner.receive(data)  # type: ignore[attr-defined]


@pytest.fixture
def centre(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> Iterator[tuple[SimulatedDevices, WireTap]]:
    sims = SimulatedDevices(demo_site)
    tap = WireTap(sims.leds[2])
    from transport.sim import register_simulator

    register_simulator("led-2", tap)  # type: ignore[arg-type]
    store = Store.open(f"sqlite:///{tmp_path}/flow.db")
    site_id = demo_site.site.id
    server = QueueServer(demo_site, store, mosquitto).start()
    services = [
        KeypadService(site_id, demo_site.device("keypad-2"), mosquitto).start(),
        LedDisplayService(site_id, demo_site.device("led-2"), mosquitto).start(),
    ]
    yield sims, tap
    for service in services:
        service.stop()
    server.stop()
    store.close()
    sims.close()


def test_a_call_key_frame_ends_as_a_modbus_frame_showing_the_called_number(
    centre: tuple[SimulatedDevices, WireTap], demo_site: Site, mosquitto: BrokerUrl
) -> None:
    sims, tap = centre
    kiosk = BusClient(mosquitto, demo_site.site.id, "kiosk-test")
    kiosk.enable_requests()
    kiosk.start()
    try:
        assert kiosk.request("issue_ticket", m.IssueTicket(service="civil")).ticket.number == "B2001"  # type: ignore[union-attr]
        assert kiosk.request("issue_ticket", m.IssueTicket(service="land")).ticket.number == "A1001"  # type: ignore[union-attr]
    finally:
        kiosk.stop()
    keypad = sims.keypads[2]
    keypad.press(Key.CALL)  # FF 68 03 03 68 02 01 0C 0F 16 onto the keypad line

    led = sims.leds[2]
    # Counter 2 serves land with weight 2 and civil with weight 1 (sites/demo.toml): land goes first.
    assert wait_until(lambda: led.shown.strip() == "1001"), led.shown
    assert wait_until(lambda: keypad.acked == 1)
    frames = ModbusRtuDecoder(Direction.REQUEST).feed(bytes(tap.bytes))
    shows = [f for f in frames if isinstance(f, WriteSingleRegister) and f.address == 0]
    assert shows[-1] == WriteSingleRegister(1, 0, 1001)
    assert shows[-1].encode() in bytes(tap.bytes)

    time.sleep(0.3)  # a clerk presses again later than the keypad driver's resend window (0.25 s)
    keypad.press(Key.CALL)  # then civil's turn in the weighted round robin
    assert wait_until(lambda: led.shown.strip() == "2001"), led.shown
    assert [v for v in led.history if v is not None][-2:] == [1001, 2001]


def test_noise_on_the_keypad_line_calls_nobody(
    centre: tuple[SimulatedDevices, WireTap], demo_site: Site, mosquitto: BrokerUrl
) -> None:
    sims, _tap = centre
    calls: list[m.CallEvent] = []
    watcher = BusClient(mosquitto, demo_site.site.id, "watcher")
    watcher.subscribe(watcher.topics.calls(), lambda _t, c: calls.append(c), m.CallEvent)
    watcher.start()
    kiosk = BusClient(mosquitto, demo_site.site.id, "kiosk-noise")
    kiosk.enable_requests()
    kiosk.start()
    try:
        kiosk.request("issue_ticket", m.IssueTicket(service="civil"))
        sims.keypads[2].inject_noise(b"\x68\x03\x03\x68\x02\x01\x0c\x0f\x16" * 3 + bytes(range(0x00, 0xFF)))
        time.sleep(0.8)
        assert calls == []
        sims.keypads[2].press(Key.CALL)
        assert wait_until(lambda: len(calls) == 1)
        assert calls[0].number == "B2001"
    finally:
        kiosk.stop()
        watcher.stop()
