"""Counter device services over a real Mosquitto: they survive unplugged links and failing writes."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from broker_support import as_identity
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.caller_bus import Key
from counter_display.service import KeypadService, LedDisplayService
from firmware_sim.centre import SimulatedDevices
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import Site

pytestmark = pytest.mark.integration


@dataclass
class Counter:
    """Counter 2 of the demo site: its simulators, services and what the bus said about it."""

    sims: SimulatedDevices
    keypad: KeypadService
    led: LedDisplayService
    kiosk: BusClient
    calls: list[m.CallEvent] = field(default_factory=list)
    statuses: dict[str, list[m.Health]] = field(default_factory=dict)

    def health(self, device_id: str) -> list[m.Health]:
        return list(self.statuses.get(device_id, []))

    def issue(self, service: str = "civil") -> str:
        reply: Any = self.kiosk.request("issue_ticket", m.IssueTicket(service=service))
        return str(reply.ticket.number)

    def call(self) -> None:
        """Press CALL on the keypad simulator, as a clerk would."""
        self.sims.keypads[2].press(Key.CALL)


@pytest.fixture
def counter(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[Counter]:
    site_id = demo_site.site.id
    sims = SimulatedDevices(demo_site)
    store = Store.open(f"sqlite:///{tmp_path}/services.db")
    server = QueueServer(demo_site, store, mosquitto).start()
    # Opened from the console; the keypad log-in has its own tests (test_keypad_login.py).
    assert server.handle(m.CounterRequest(counter=2, action=m.CounterAction.OPEN, officer="cb01")).ok
    keypad = KeypadService(site_id, demo_site.device("keypad-2"), mosquitto).start()
    led = LedDisplayService(site_id, demo_site.device("led-2"), mosquitto).start()
    kiosk = BusClient(mosquitto, site_id, "supervisor-services")
    kiosk.enable_requests()
    watcher = BusClient(as_identity(mosquitto, "queue-server"), site_id, "watcher-services")
    state = Counter(sims, keypad, led, kiosk)
    for device_id in ("keypad-2", "led-2"):
        health = state.statuses.setdefault(device_id, [])

        def record(_t: str, status: m.DeviceStatus, health: list[m.Health] = health) -> None:
            health.append(status.health)

        watcher.subscribe(watcher.topics.device_status(device_id), record, m.DeviceStatus)
    watcher.subscribe(watcher.topics.calls(), lambda _t, c: state.calls.append(c), m.CallEvent)
    try:
        watcher.start()
        kiosk.start()
        assert wait_until(lambda: state.health("keypad-2")[-1:] == [m.Health.OK])
        assert wait_until(lambda: state.health("led-2")[-1:] == [m.Health.OK])
        yield state
    finally:
        kiosk.stop()
        watcher.stop()
        led.stop()
        keypad.stop()
        server.stop()
        store.close()
        sims.close()


def test_keypad_service_reopens_an_unplugged_link_and_still_calls(counter: Counter) -> None:
    number = counter.issue()
    counter.keypad.keypad.transport.close()  # the RS-485 adapter is pulled out; the sim stays registered

    assert wait_until(lambda: counter.health("keypad-2")[-2:] == [m.Health.ERROR, m.Health.OK])
    assert counter.keypad._worker.is_alive()
    counter.call()
    assert wait_until(lambda: [c.number for c in counter.calls] == [number])
    assert wait_until(lambda: counter.sims.leds[2].shown.strip() == number[1:])
    assert counter.health("keypad-2") == [m.Health.OK, m.Health.ERROR, m.Health.OK]  # ERROR once


def test_keypad_service_survives_an_unexpected_error(
    counter: Counter, monkeypatch: pytest.MonkeyPatch
) -> None:
    poll = counter.keypad.keypad.poll
    failures: list[int] = []

    def flaky_poll(timeout: float = 0.1) -> Any:
        if not failures:
            failures.append(1)
            raise RuntimeError("driver bug")
        return poll(timeout)

    monkeypatch.setattr(counter.keypad.keypad, "poll", flaky_poll)
    number = counter.issue()
    assert wait_until(lambda: bool(failures))
    counter.call()
    assert wait_until(lambda: [c.number for c in counter.calls] == [number])
    assert counter.keypad._worker.is_alive()


def test_led_service_retries_a_failed_write_until_the_display_answers(counter: Counter) -> None:
    led_sim = counter.sims.leds[2]
    led_sim.no_reply = True  # unplugged: requests are neither executed nor answered
    number = counter.issue()
    counter.call()

    assert wait_until(lambda: [c.number for c in counter.calls] == [number])
    assert wait_until(lambda: counter.health("led-2")[-1:] == [m.Health.ERROR])
    assert led_sim.shown.strip() != number[1:]
    assert not counter.led.idle()

    led_sim.no_reply = False  # plugged back in; no new call, no new counter state
    assert wait_until(lambda: led_sim.shown.strip() == number[1:]), led_sim.shown
    assert wait_until(lambda: counter.health("led-2")[-1:] == [m.Health.OK])
    assert wait_until(counter.led.idle)
    assert len(counter.calls) == 1


def test_led_service_stops_promptly_while_retrying(counter: Counter) -> None:
    counter.sims.leds[2].no_reply = True
    counter.issue()
    counter.call()
    assert wait_until(lambda: counter.health("led-2")[-1:] == [m.Health.ERROR])
    started = time.monotonic()
    counter.led.stop()
    assert time.monotonic() - started < 2.0  # at most one write attempt (3 x 0.3 s) in flight, not a backoff
    assert not counter.led._worker.is_alive()


def test_led_service_survives_an_unexpected_error(counter: Counter, monkeypatch: pytest.MonkeyPatch) -> None:
    display = counter.led.display
    show_number = display.show_number
    failures: list[int] = []

    def flaky_show_number(n: int) -> None:
        if not failures:
            failures.append(n)
            raise RuntimeError("driver bug")
        show_number(n)

    monkeypatch.setattr(display, "show_number", flaky_show_number)
    number = counter.issue()
    counter.call()
    assert wait_until(lambda: counter.sims.leds[2].shown.strip() == number[1:])
    assert failures == [int(number[1:])]
    assert counter.led._worker.is_alive()
    assert wait_until(counter.led.idle)


def _blinked(history: list[str], digits: str) -> int:
    """How many times ``digits`` came back on after the display went blank."""
    return sum(1 for a, b in itertools.pairwise(history) if a.strip() == "" and b.strip() == digits)


def test_led_blinks_on_a_new_call_and_shows_the_closed_mark_when_closed(counter: Counter) -> None:
    led_sim = counter.sims.leds[2]
    number = counter.issue()
    counter.call()
    assert wait_until(lambda: led_sim.shown.strip() == number[1:])
    assert wait_until(counter.led.idle)
    history = led_sim.shown_history
    first = [t.strip() for t in history].index(number[1:])
    assert _blinked(history[first:], number[1:]) == 3
    assert led_sim.shown.strip() == number[1:]

    finish = m.CounterRequest(counter=2, action=m.CounterAction.FINISH)  # a busy counter cannot close
    assert counter.kiosk.request("counter", finish).ok
    reply: Any = counter.kiosk.request("counter", m.CounterRequest(counter=2, action=m.CounterAction.CLOSE))
    assert reply.ok
    assert wait_until(lambda: led_sim.shown == "----"), led_sim.shown
    assert wait_until(counter.led.idle)
    assert led_sim.shown == "----"


def test_a_display_that_starts_later_shows_the_current_number_without_blinking(
    counter: Counter, demo_site: Site, mosquitto: BrokerUrl
) -> None:
    number = counter.issue()
    counter.call()
    assert wait_until(lambda: counter.sims.leds[2].shown.strip() == number[1:])
    counter.led.stop()
    fresh = counter.sims.leds[2]
    before = len(fresh.shown_history)
    late = LedDisplayService(demo_site.site.id, demo_site.device("led-2"), mosquitto).start()
    try:
        # A blink is host-driven inside the write that shows the number (the service is busy until the
        # digits are back on), so once the service is idle any blink is already in the history.
        assert wait_until(lambda: len(fresh.shown_history) > before and late.idle())
        assert [t.strip() for t in fresh.shown_history[before:]] == [number[1:]]
    finally:
        late.stop()
