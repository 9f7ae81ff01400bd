"""Plays whole-flow scenario files (``tests/scenarios/*.toml``) against a real centre.

A scenario is data: keypad presses, line noise and MQTT requests go in; LED display bytes, keypad
acknowledgements, key events and call messages come out and are compared exactly. The rig is the
demo site's counter 2 on a real Mosquitto: the queue server (SQLite), the keypad service reading the
simulated caller-bus keypad ``keypad-2`` and the display service driving the simulated Modbus LED
display ``led-2``, whose received bytes are tapped off the wire.

Each ``[[step]]`` table holds exactly one action key, plus its options:

``issue = SERVICE``, ``ticket = NUMBER``
    a kiosk asks the server for a ticket over MQTT (``issue_ticket``); the reply's number must match.
``press = KEY``, optional ``pause_s``
    the clerk presses ``KEY`` (a ``counter_display.caller_bus.Key`` name) on keypad 2. ``pause_s`` is
    the clerk's pace before the press (a second CALL within the keypad driver's 0.25 s repeat window
    is a resend, not a press); it never stands in for waiting on a result.
``noise = [HEX, ...]``, optional ``noise_byte_range = [FIRST, END]``
    bytes put on the keypad line as they are, then every byte ``FIRST <= b < END``.
``expect_acked = N``
    the keypad has had ``N`` of its frames echoed back. Frames on the line are handled in order, so
    this is the barrier proving that everything sent before the last press has been read.
``expect_frames = N``
    the keypad driver has decoded exactly ``N`` frames (read after an ``expect_acked`` barrier, it
    proves noise decoded to nothing, even to a repeat the driver would have dropped).
``expect_keys = [KEY, ...]``
    exactly these ``key_pressed`` events (``bus.models.Key`` values) came from keypad 2 so far.
``expect_calls = [NUMBER, ...]``
    exactly these numbers were called on the site's calls topic so far, in order.
``expect_display = TEXT``
    LED display 2 shows ``TEXT`` (leading blanks ignored).
``expect_wire = HEX``
    the last frame writing the display's number register (Modbus register 0) was exactly these bytes.
``expect_history = [N, ...]``
    the display's last numbers shown, oldest first.

``expect_keys`` and ``expect_calls`` wait until as many messages as listed have arrived, then compare
the whole list: a message that should not have come, arriving before a later barrier, fails the step.
"""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from broker_support import as_identity
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.caller_bus import Key
from counter_display.modbus_rtu import Direction, ModbusRtuDecoder, WriteSingleRegister
from counter_display.service import KeypadService, LedDisplayService
from firmware_sim.centre import SimulatedDevices
from firmware_sim.led_display import ModbusLedDisplaySim
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import Site
from transport.sim import SimLink, register_simulator

SCENARIOS = Path(__file__).parent / "scenarios"
Step = dict[str, Any]  # one TOML table: its keys are checked by ``play`` against the module's list


class ScenarioError(AssertionError):
    """A step of a scenario did not see what the file says, or the file itself is malformed."""


class WireTap:
    """Keeps the raw bytes the host writes to a simulated display, then passes them on."""

    def __init__(self, inner: ModbusLedDisplaySim) -> None:
        self.inner = inner
        self.bytes = bytearray()

    def attach(self, link: SimLink) -> None:
        self.inner.attach(link)

    def detach(self) -> None:
        self.inner.detach()

    def receive(self, data: bytes) -> None:
        self.bytes += data
        self.inner.receive(data)


@dataclass
class Rig:
    """The running centre a scenario plays against, and what it has seen so far."""

    site: Site
    broker: BrokerUrl
    sims: SimulatedDevices
    tap: WireTap
    keypad_service: KeypadService
    keys: list[m.KeyPressed] = field(default_factory=list)
    calls: list[m.CallEvent] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def centre(site: Site, broker: BrokerUrl, db_path: Path) -> Iterator[Rig]:
    """Start the server, counter 2's keypad and display services, and a watcher on the bus."""
    sims = SimulatedDevices(site)
    tap = WireTap(sims.leds[2])
    register_simulator("led-2", tap)
    store = Store.open(f"sqlite:///{db_path}")
    server = QueueServer(site, store, broker).start()
    # Counter 2 opened from the console: the scenarios are about keys and displays, not the log-in.
    assert server.handle(m.CounterRequest(counter=2, action=m.CounterAction.OPEN, officer="cb01")).ok
    keypad = KeypadService(site.site.id, site.device("keypad-2"), broker).start()
    display = LedDisplayService(site.site.id, site.device("led-2"), broker).start()
    rig = Rig(site, broker, sims, tap, keypad)
    watcher = BusClient(as_identity(broker, "queue-server"), site.site.id, "scenario-watcher")

    def on_key(_t: str, event: m.DeviceEvent) -> None:
        if isinstance(event, m.KeyPressed):
            with rig.lock:
                rig.keys.append(event)

    def on_call(_t: str, call: m.CallEvent) -> None:
        with rig.lock:
            rig.calls.append(call)

    watcher.subscribe(watcher.topics.device_evt("keypad-2"), on_key, m.device_event_adapter)
    watcher.subscribe(watcher.topics.calls(), on_call, m.CallEvent)
    watcher.start()
    try:
        yield rig
    finally:
        watcher.stop()
        display.stop()
        keypad.stop()
        server.stop()
        store.close()
        sims.close()


def load(name: str) -> list[Step]:
    """The steps of ``tests/scenarios/NAME.toml``."""
    with (SCENARIOS / f"{name}.toml").open("rb") as f:
        data = tomllib.load(f)
    steps = data.get("step")
    if not isinstance(steps, list) or not steps:
        raise ScenarioError(f"{name}: no [[step]] tables")
    return steps


def play(rig: Rig, steps: list[Step]) -> None:
    """Run ``steps`` in order; raise ``ScenarioError`` naming the first step that saw something else."""
    for number, step in enumerate(steps, start=1):
        actions = [k for k in step if k in ACTIONS]
        if len(actions) != 1:
            raise ScenarioError(f"step {number}: needs exactly one action of {sorted(ACTIONS)}: {step}")
        try:
            ACTIONS[actions[0]](rig, step)
        except ScenarioError as err:
            raise ScenarioError(f"step {number} ({actions[0]}): {err}") from None


def _issue(rig: Rig, step: Step) -> None:
    kiosk = BusClient(rig.broker, rig.site.site.id, "supervisor-scenario")
    kiosk.enable_requests()
    kiosk.start()
    try:
        reply = kiosk.request("issue_ticket", m.IssueTicket(service=step["issue"]))
    finally:
        kiosk.stop()
    got = reply.ticket.number if reply.ticket is not None else f"no ticket ({reply.error})"
    _same(step["ticket"], got, "ticket")


def _press(rig: Rig, step: Step) -> None:
    time.sleep(float(step.get("pause_s", 0.0)))  # the clerk's pace, see the module docstring
    rig.sims.keypads[2].press(Key[step["press"]])


def _noise(rig: Rig, step: Step) -> None:
    data = b"".join(bytes.fromhex(chunk) for chunk in step["noise"])
    first, end = step.get("noise_byte_range", (0, 0))
    rig.sims.keypads[2].inject_noise(data + bytes(range(first, end)))


def _acked(rig: Rig, step: Step) -> None:
    keypad = rig.sims.keypads[2]
    _wait_same(step["expect_acked"], lambda: keypad.acked, "keypad frames echoed")


def _frames(rig: Rig, step: Step) -> None:
    _same(step["expect_frames"], rig.keypad_service.keypad.frames_received, "frames decoded")


def _keys(rig: Rig, step: Step) -> None:
    want: list[str] = step["expect_keys"]
    _wait_count(rig, lambda: [k.key.value for k in rig.keys], len(want))
    with rig.lock:
        _same(want, [k.key.value for k in rig.keys], "key events")


def _calls(rig: Rig, step: Step) -> None:
    want: list[str] = step["expect_calls"]
    _wait_count(rig, lambda: [c.number for c in rig.calls], len(want))
    with rig.lock:
        _same(want, [c.number for c in rig.calls], "calls")


def _display(rig: Rig, step: Step) -> None:
    led = rig.sims.leds[2]

    def shown() -> str:
        return led.shown.strip()

    _wait_same(step["expect_display"], shown, "display shows")


def _wire(rig: Rig, step: Step) -> None:
    wire = bytes(rig.tap.bytes)
    frames = ModbusRtuDecoder(Direction.REQUEST).feed(wire)
    shows = [f for f in frames if isinstance(f, WriteSingleRegister) and f.address == 0]
    if not shows:
        raise ScenarioError("no frame wrote the number register")
    want = bytes.fromhex(step["expect_wire"])
    _same(want.hex(" "), shows[-1].encode().hex(" "), "last number frame")
    if want not in wire:
        raise ScenarioError(f"{want.hex(' ')} decoded but not found as sent on the wire")


def _history(rig: Rig, step: Step) -> None:
    want: list[int] = step["expect_history"]
    shown = [v for v in rig.sims.leds[2].history if v is not None]
    _same(want, shown[-len(want) :], "display history")


def _wait_count(rig: Rig, seen: Callable[[], list[str]], count: int) -> None:
    def arrived() -> bool:
        with rig.lock:
            return len(seen()) >= count

    wait_until(arrived)


def _wait_same(want: object, got: Callable[[], object], what: str) -> None:
    wait_until(lambda: got() == want)
    _same(want, got(), what)


def _same(want: object, got: object, what: str) -> None:
    if want != got:
        raise ScenarioError(f"{what}: expected {want!r}, got {got!r}")


ACTIONS: dict[str, Callable[[Rig, Step], None]] = {
    "issue": _issue,
    "press": _press,
    "noise": _noise,
    "expect_acked": _acked,
    "expect_frames": _frames,
    "expect_keys": _keys,
    "expect_calls": _calls,
    "expect_display": _display,
    "expect_wire": _wire,
    "expect_history": _history,
}
