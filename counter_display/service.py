"""Device services of the counter: the LED display above it and the clerk's calling keypad.

The LED display follows the retained ``counter/{n}/state``: whatever it missed while offline, it
shows the counter's current number as soon as it (re)connects, and never replays an old call.
The keypad turns caller-bus key frames into ``evt`` messages; the server maps keys to counter
operations.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

from bus import models as m
from bus.client import BrokerUrl
from bus.device import DeviceLink
from counter_display.caller_bus import Key as BusKey
from counter_display.errors import CounterDeviceError
from counter_display.keypad import CallerBusKeypad, KeyPress
from counter_display.led_display import ModbusLedDisplay
from siteconf.model import Device
from transport import open_transport
from transport.base import TransportError

log = logging.getLogger(__name__)

LED_DIGITS = 4
CLOSED_MARK = "----"

KEYS = {
    BusKey.CALL: m.Key.CALL_NEXT,
    BusKey.RECALL: m.Key.RECALL,
    BusKey.PAUSE: m.Key.PAUSE,
    BusKey.TRANSFER: m.Key.TRANSFER,
    BusKey.RATING: m.Key.REQUEST_RATING,
    BusKey.CONFIRM: m.Key.CONFIRM,
}


def _scheme(url: str | None) -> str:
    return urlsplit(url or "").scheme or "none"


def display_text(state: m.CounterState, digits: int = LED_DIGITS) -> str | None:
    """What the LED should show for a counter state: the number's digits, a closed mark, or blank."""
    if state.status is not m.CounterStatus.OPEN:
        return CLOSED_MARK[:digits]
    if state.current is None:
        return None
    return "".join(ch for ch in state.current if ch.isdigit())[-digits:]


class LedDisplayService:
    """Owns one Modbus LED display; shows its counter's current number."""

    def __init__(self, site_id: str, device: Device, broker: str | BrokerUrl) -> None:
        assert device.url is not None and device.counter is not None
        self.device = device
        self.display = ModbusLedDisplay(
            open_transport(device.url), unit=device.address or 1, digits=LED_DIGITS
        )
        info = m.DeviceInfo(
            device_kind=m.DeviceKind.LED_DISPLAY,
            model="Modbus RTU numeric LED display",
            transport=_scheme(device.url),
            capabilities=["digits4", "segments"],
            counter=device.counter,
        )
        self.link = DeviceLink(broker, site_id, device.id, info)
        self._wanted: str | None = None
        self._dirty = threading.Condition()
        self._pending = False
        self._running = True
        self._worker = threading.Thread(target=self._run, name=f"{device.id}-worker", daemon=True)
        self.link.bus.subscribe(
            self.link.topics.counter_state(device.counter), self._on_state, m.CounterState
        )
        self.link.on_command(self._on_command)

    def start(self) -> LedDisplayService:
        self._worker.start()
        self.link.start()
        return self

    def stop(self) -> None:
        with self._dirty:
            self._running = False
            self._dirty.notify()
        self._worker.join(timeout=5)
        self.link.stop()
        self.display.transport.close()

    def _on_state(self, _topic: str, state: m.CounterState) -> None:
        self._want(display_text(state))

    def _on_command(self, command: m.PrintTicket | m.ShowText | m.Beep) -> None:
        if isinstance(command, m.ShowText):
            self._want(command.text)

    def _want(self, text: str | None) -> None:
        """Only the newest wish matters: a burst of states ends in one write of the latest."""
        with self._dirty:
            self._wanted = text
            self._pending = True
            self._dirty.notify()

    def _run(self) -> None:
        while True:
            with self._dirty:
                self._dirty.wait_for(lambda: self._pending or not self._running)
                if not self._running:
                    return
                text, self._pending = self._wanted, False
            self._show(text)

    def _show(self, text: str | None) -> None:
        try:
            if text is None:
                self.display.blank()
            elif text.isdigit():
                self.display.show_number(int(text))
            else:
                self.display.show_text(text)
        except (CounterDeviceError, TransportError, ValueError) as err:
            log.warning("%s could not show %r: %s", self.device.id, text, err)
            self.link.set_status(m.DeviceStatus(health=m.Health.ERROR, errors=["no_reply"], detail=str(err)))
            return
        self.link.set_status(m.DeviceStatus(health=m.Health.OK))


class KeypadService:
    """Owns one caller-bus keypad line; every key press becomes a ``key_pressed`` event."""

    def __init__(self, site_id: str, device: Device, broker: str | BrokerUrl, poll_s: float = 0.1) -> None:
        assert device.url is not None
        self.device = device
        self.keypad = CallerBusKeypad(open_transport(device.url))
        info = m.DeviceInfo(
            device_kind=m.DeviceKind.KEYPAD,
            model="21-key caller-bus keypad",
            transport=_scheme(device.url),
            capabilities=["keys21"],
            counter=device.counter,
        )
        self.link = DeviceLink(broker, site_id, device.id, info)
        self.poll_s = poll_s
        self.presses = 0
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._run, name=f"{device.id}-poll", daemon=True)

    def start(self) -> KeypadService:
        self.link.start()
        self.link.set_status(m.DeviceStatus(health=m.Health.OK))
        self._worker.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._worker.join(timeout=5)
        self.link.stop()
        self.keypad.transport.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                presses = self.keypad.poll(self.poll_s)
            except TransportError as err:
                self.link.set_status(m.DeviceStatus(health=m.Health.ERROR, errors=["link"], detail=str(err)))
                self._stop.wait(1.0)
                continue
            for press in presses:
                self._publish(press)

    def _publish(self, press: KeyPress) -> None:
        if self.device.address is not None and press.addr != self.device.address:
            log.info("%s: ignored a key from keypad address %d", self.device.id, press.addr)
            return
        digit = press.key.digit
        key = m.Key.DIGIT if digit is not None else KEYS.get(press.key)
        if key is None:
            return
        self.presses += 1
        self.link.emit(m.KeyPressed(key=key, digit=digit, keypad_address=press.addr))
