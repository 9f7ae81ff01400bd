"""Device services of the counter: the LED display above it and the clerk's calling keypad.

The LED display follows the retained ``counter/{n}/state``: whatever it missed while offline, it
shows the counter's current number as soon as it (re)connects, and never replays an old call. A
state whose ``call_seq`` moved on (a new call or a recall) makes the number blink ``blinks`` times
(segments off and on again, host-driven: numeric modules have no blink register); a closed or paused
counter shows the closed mark ``----``; a newer state cuts a blink short.
A write the display does not acknowledge stays pending and is retried with backoff (0.5 s doubling
to 5 s) until it succeeds or a newer state replaces it; ``idle()`` tells when it has settled.
The keypad turns caller-bus key frames into ``evt`` messages; the server maps keys to counter
operations. It also obeys ``show_text`` (on its six-digit display: digits and blanks only, any other
character is shown blank) and ``beep`` commands, the server's feedback while an officer logs in;
they are written between polls by the keypad's own thread, never over a frame being read.
A keypad line that fails is reported ERROR once, then closed and reopened with backoff (0.5 s
doubling to 10 s) and reported OK again once polling works.

Neither worker thread ever dies of an error: each is logged, backed off and retried. Both services
take their life cycle (threads, bus link, status) from ``device_service.base``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from urllib.parse import urlsplit

from bus import models as m
from bus.client import BrokerUrl
from bus.device import DeviceLink
from counter_display.bus_master import BusMaster
from counter_display.caller_bus import DISPLAY_DIGITS
from counter_display.caller_bus import Key as BusKey
from counter_display.errors import CounterDeviceError, CounterLinkError, DisplayRejectedError
from counter_display.keypad import CallerBusKeypad, KeyPress, PolledCallerBusKeypad
from counter_display.led_display import ModbusLedDisplay
from counter_display.seven_segment import encode_text
from device_service.base import Backoff, DeviceService, PolledDeviceService
from siteconf.model import Device
from transport import open_transport
from transport.base import TransportError

log = logging.getLogger(__name__)

LED_DIGITS = 4
KEY_PRESS_TTL_S = 10.0
CLOSED_MARK = "----"
BLINKS = 3
BLINK_HALF_S = 0.25
"""Seconds the digits stay off, then on, in each blink of a new call."""
RETRY_FIRST_S = 0.5
"""Seconds before the first retry of a failed display write or the first reopen of a failed line."""
LED_RETRY_MAX_S = 5.0
KEYPAD_RETRY_MAX_S = 10.0

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


def keypad_digits(text: str) -> str:
    """``text`` as a caller keypad's display can show it: the last six characters, digits kept, any
    other character blank."""
    return "".join(ch if ch.isdigit() and ch.isascii() else " " for ch in text[-DISPLAY_DIGITS:])


def display_text(state: m.CounterState, digits: int = LED_DIGITS) -> str | None:
    """What the LED should show for a counter state: the number's digits, a closed mark, or blank."""
    if state.status is not m.CounterStatus.OPEN:
        return CLOSED_MARK[:digits]
    if state.current is None:
        return None
    return "".join(ch for ch in state.current if ch.isdigit())[-digits:]


class LedDisplayService(DeviceService):
    """Owns one Modbus LED display; shows its counter's current number.

    Each wish (a counter state or a ``show_text`` command) gets a number; the worker writes the
    newest one. A wish whose write fails stays pending and is retried with backoff until a write
    succeeds or a newer wish replaces it; a link error closes the transport and the next attempt
    reopens it.
    """

    def __init__(
        self,
        site_id: str,
        device: Device,
        broker: str | BrokerUrl,
        blinks: int = BLINKS,
        master: BusMaster | None = None,
    ) -> None:
        assert device.url is not None and device.counter is not None
        self.device = device
        self.blinks = blinks
        self.master = master
        """The line's master when several displays share one RS-485 line; it owns the transport."""
        self._call_seq: int | None = None
        self._had_state = False
        self._blink = False
        self._url: str = device.url
        self.display = self._open_display()
        info = m.DeviceInfo(
            device_kind=m.DeviceKind.LED_DISPLAY,
            model="Modbus RTU numeric LED display",
            transport=_scheme(device.url),
            capabilities=["digits4", "segments"],
            counter=device.counter,
        )
        super().__init__(device.id, DeviceLink(broker, site_id, device.id, info))
        self._dirty = threading.Condition()
        self._wanted: str | None = None
        self._wished = 0  # number of the newest wish
        self._shown = 0  # number of the newest wish written (or given up as unshowable)
        self._busy = False
        self._running = True
        self._worker = self.add_worker(self._run, "worker")
        self.link.bus.subscribe(
            self.link.topics.counter_state(device.counter), self._on_state, m.CounterState
        )
        self.link.on_command(self._on_command)

    def _stopping(self) -> None:
        with self._dirty:
            self._running = False
            self._dirty.notify_all()

    def _release(self) -> None:
        if self.master is None:
            self.display.transport.close()

    def idle(self) -> bool:
        """Whether the newest wish is on the display (nothing pending) and no write is in progress."""
        with self._dirty:
            return self._shown == self._wished and not self._busy

    def _open_display(self) -> ModbusLedDisplay:
        if self.master is not None:
            return self.master.display(self.device.address or 1, LED_DIGITS)
        return ModbusLedDisplay(open_transport(self._url), unit=self.device.address or 1, digits=LED_DIGITS)

    def _on_state(self, _topic: str, state: m.CounterState) -> None:
        # The first state after start-up is the retained one: show it, do not blink an old call.
        new_call = self._had_state and state.call_seq not in (None, self._call_seq)
        self._had_state = True
        if state.call_seq is not None:
            self._call_seq = state.call_seq
        self._want(display_text(state), blink=new_call and state.status is m.CounterStatus.OPEN)

    def _on_command(self, command: m.PrintTicket | m.ShowText | m.Beep) -> None:
        if isinstance(command, m.ShowText):
            self._want(command.text, blink=command.blink)

    def _want(self, text: str | None, blink: bool = False) -> None:
        """Only the newest wish matters: a burst of states ends in one write of the latest."""
        with self._dirty:
            self._wanted = text
            self._blink = blink
            self._wished += 1
            self._dirty.notify_all()

    def _run(self) -> None:
        tried, retry_in, backoff = 0, None, Backoff(RETRY_FIRST_S, LED_RETRY_MAX_S)
        while (wish := self._next_wish(tried, retry_in)) is not None:
            tried, text, blink = wish
            try:
                settled = self._attempt(text, tried if blink else None)
            except Exception:  # never let the worker die: the display would stay stale for good
                log.exception("%s: unexpected error writing the display; retrying later", self.device.id)
                settled = False
            self._finish(tried, settled)
            if settled:
                backoff.reset()
            retry_in = backoff.current if settled else backoff.next()

    def _next_wish(self, tried: int, retry_in: float | None) -> tuple[int, str | None, bool] | None:
        """The newest wish once there is one not tried yet or a retry is due; ``None`` on stop."""
        with self._dirty:
            self._dirty.wait_for(
                lambda: not self._running or self._wished not in (tried, self._shown), retry_in
            )
            if not self._running:
                return None
            self._busy = True
            return self._wished, self._wanted, self._blink

    def _finish(self, wish: int, settled: bool) -> None:
        with self._dirty:
            self._busy = False
            if settled:
                self._shown = max(self._shown, wish)

    def _attempt(self, text: str | None, blink_wish: int | None = None) -> bool:
        """Try to show ``text`` (blinking it for wish ``blink_wish``); whether the wish is settled
        (shown, or not worth retrying)."""
        try:
            if self.display.transport.closed and self.master is None:
                self.display = self._open_display()
            self._show(text)
            if blink_wish is not None and text is not None:
                self._blink_digits(text, blink_wish)
        except (CounterLinkError, TransportError) as err:
            if self.master is None:
                self.display.transport.close()  # reopened on the next attempt
            self._failed(text, "link", err)
            return False
        except DisplayRejectedError as err:
            self._failed(text, "rejected", err)
            return True
        except ValueError as err:
            log.warning("%s cannot show %r: %s", self.device.id, text, err)
            return True
        except CounterDeviceError as err:
            self._failed(text, "no_reply", err)
            return False
        self.link.set_status(m.DeviceStatus(health=m.Health.OK))
        return True

    def _blink_digits(self, text: str, wish: int) -> None:
        """Segments off and on ``blinks`` times; stops early when a newer wish arrives."""
        lit = encode_text(text.rjust(self.display.digits), self.display.digits)
        for _ in range(self.blinks):
            if self._newer_wish(wish, BLINK_HALF_S):
                return
            self.display.blank()
            if self._newer_wish(wish, BLINK_HALF_S):
                return
            self.display.show_segments(lit)

    def _newer_wish(self, wish: int, seconds: float) -> bool:
        with self._dirty:
            return self._dirty.wait_for(lambda: not self._running or self._wished != wish, seconds)

    def _show(self, text: str | None) -> None:
        if text is None:
            self.display.blank()
        elif text.isdigit():
            self.display.show_number(int(text))
        else:
            self.display.show_text(text)

    def answered_poll(self, online: bool) -> None:
        """The line's poller heard this display answer, or stop answering: report its health."""
        if online:
            self.link.set_status(m.DeviceStatus(health=m.Health.OK))
        else:
            detail = f"unit {self.device.address or 1} does not answer the poll"
            self.link.set_status(m.DeviceStatus(health=m.Health.ERROR, errors=["no_reply"], detail=detail))

    def _failed(self, text: str | None, error: str, err: Exception) -> None:
        status = m.DeviceStatus(health=m.Health.ERROR, errors=[error], detail=str(err))
        level = logging.WARNING if self.link.set_status(status) else logging.DEBUG
        log.log(level, "%s could not show %r: %s", self.device.id, text, err)


class LedLineService:
    """All LED displays of the site that share one RS-485 line (the same transport URL): one
    :class:`BusMaster` owns the line and polls every unit; one :class:`LedDisplayService` per display
    follows its counter through the master, so their writes never collide."""

    def __init__(
        self, site_id: str, devices: list[Device], broker: str | BrokerUrl, poll_s: float = 2.0
    ) -> None:
        urls = {d.url for d in devices}
        if len(urls) != 1 or None in urls:
            raise ValueError(
                f"an LED line service needs displays on one transport URL, got {sorted(map(str, urls))}"
            )
        units = [d.address or 1 for d in devices]
        if len(set(units)) != len(units):
            raise ValueError(f"displays on one line need distinct Modbus units, got {units}")
        url = devices[0].url
        assert url is not None
        self.master = BusMaster(open_transport(url), poll_s=poll_s, on_change=self._on_change)
        self.services = {
            d.address or 1: LedDisplayService(site_id, d, broker, master=self.master) for d in devices
        }

    def start(self) -> LedLineService:
        for service in self.services.values():
            service.start()
        self.master.start()
        return self

    def stop(self) -> None:
        self.master.stop()
        for service in self.services.values():
            service.stop()
        self.master.transport.close()

    def idle(self) -> bool:
        return all(s.idle() for s in self.services.values())

    def _on_change(self, unit: int, online: bool) -> None:
        service = self.services.get(unit)
        if service is not None:
            service.answered_poll(online)


def led_services(
    site_id: str, devices: list[Device], broker: str | BrokerUrl
) -> list[LedDisplayService | LedLineService]:
    """One service per LED display, or one per shared line where several displays have the same URL."""
    by_url: dict[str | None, list[Device]] = {}
    for device in devices:
        by_url.setdefault(device.url, []).append(device)
    return [
        LedLineService(site_id, group, broker)
        if len(group) > 1
        else LedDisplayService(site_id, group[0], broker)
        for group in by_url.values()
    ]


class KeypadService(PolledDeviceService[KeyPress]):
    """Owns one caller-bus keypad line; every key press becomes a ``key_pressed`` event.

    When the line fails (adapter unplugged), the status goes ERROR once and the transport is closed
    and reopened with backoff; the status goes back to OK after the first poll that works (all of
    which :class:`~device_service.base.PolledDeviceService` does).
    """

    retry_first_s = RETRY_FIRST_S
    retry_max_s = KEYPAD_RETRY_MAX_S
    line_errors = (CounterDeviceError, TransportError)

    def __init__(
        self, site_id: str, device: Device, broker: str | BrokerUrl, poll_s: float = 0.1, polled: bool = False
    ) -> None:
        assert device.url is not None
        self.device = device
        self._url: str = device.url
        self._polled = polled
        self.keypad = self._open()
        info = m.DeviceInfo(
            device_kind=m.DeviceKind.KEYPAD,
            model="21-key caller-bus keypad",
            transport=_scheme(device.url),
            capabilities=["keys21"],
            counter=device.counter,
        )
        super().__init__(device.id, DeviceLink(broker, site_id, device.id, info))
        self.poll_s = poll_s
        self.presses = 0
        self._commands: deque[m.ShowText | m.Beep] = deque(maxlen=32)
        self.link.on_command(self._on_command)

    def _on_command(self, command: m.PrintTicket | m.ShowText | m.Beep) -> None:
        if isinstance(command, m.ShowText | m.Beep):
            self._commands.append(command)  # written by the polling thread, which owns the line

    def _write_commands(self) -> None:
        addr = self.device.address or 1
        while self._commands:
            command = self._commands.popleft()
            if isinstance(command, m.Beep):
                self.keypad.beep(addr)
            else:
                self.keypad.show_digits(addr, keypad_digits(command.text))

    def _open(self) -> CallerBusKeypad:
        """The push driver, or with ``polled`` the polling master asking this device's address."""
        transport = open_transport(self._url)
        if self._polled:
            return PolledCallerBusKeypad(transport, [self.device.address or 1])
        return CallerBusKeypad(transport)

    def _poll(self) -> list[KeyPress]:
        if self.keypad.transport.closed:
            self.keypad = self._open()
        self._write_commands()
        return self.keypad.poll(self.poll_s)

    def _close_line(self) -> None:
        self.keypad.transport.close()

    def _publish(self, press: KeyPress) -> None:
        if self.device.address is not None and press.addr != self.device.address:
            log.info("%s: ignored a key from keypad address %d", self.device.id, press.addr)
            return
        digit = press.key.digit
        key = m.Key.DIGIT if digit is not None else KEYS.get(press.key)
        if key is None:
            return
        self.presses += 1
        # A press queued during a network cut must not call citizens when the link returns.
        expires = m.expires_in(KEY_PRESS_TTL_S)
        self.link.emit(m.KeyPressed(key=key, digit=digit, keypad_address=press.addr, expires_at=expires))
