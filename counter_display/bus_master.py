"""The master of one RS-485 line: several addressed LED displays, one poller, one transaction at a time.

RS-485 is half duplex and has exactly one master: while a request waits for its reply nothing else
may be sent, or two answers collide. :class:`BusMaster` owns the line's transport and hands out a
:class:`~counter_display.led_display.ModbusLedDisplay` per unit that all share one lock, so a show
from the LED service and a poll never overlap. Each transaction keeps the driver's rules: a reply
timeout, ``retries`` more attempts on silence or a garbled reply, our own echo discarded (two-wire
adapters hand back what we sent), and stray frames from other units ignored.

The poller (one thread per line) reads each unit's value register in turn every ``poll_s`` and
keeps :attr:`BusMaster.online` up to date; ``on_change(unit, online)`` is called when a unit stops
answering or comes back, so the service can report the device's availability.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from counter_display.errors import CounterDeviceError, CounterLinkError
from counter_display.led_display import ModbusLedDisplay
from counter_display.modbus_rtu import MAX_UNIT, Register
from transport.base import Transport

log = logging.getLogger(__name__)


class BusMaster:
    """One line, reached through ``transport``, with the Modbus units added by :meth:`display`."""

    def __init__(
        self,
        transport: Transport,
        retries: int = 2,
        reply_timeout: float = 0.3,
        poll_s: float = 1.0,
        on_change: Callable[[int, bool], None] | None = None,
    ) -> None:
        self.transport = transport
        self.retries = retries
        self.reply_timeout = reply_timeout
        self.poll_s = poll_s
        self.on_change = on_change
        self.lock = threading.RLock()
        self.online: dict[int, bool | None] = {}
        self.polls = 0
        self._displays: dict[int, ModbusLedDisplay] = {}
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None

    def __repr__(self) -> str:
        return f"<BusMaster {self.transport.url}: units {sorted(self._displays)}>"

    def display(self, unit: int, digits: int = 4) -> ModbusLedDisplay:
        """The display at Modbus ``unit`` on this line (the same object when asked twice)."""
        if not 1 <= unit <= MAX_UNIT:
            raise ValueError(f"a display on a bus needs its own unit 1..{MAX_UNIT}, not {unit}")
        if unit not in self._displays:
            self._displays[unit] = ModbusLedDisplay(
                self.transport, unit, self.retries, self.reply_timeout, digits, lock=self.lock
            )
            self.online[unit] = None
        return self._displays[unit]

    def start(self) -> BusMaster:
        self._poller = threading.Thread(
            target=self._run, name=f"rs485-poll {self.transport.url}", daemon=True
        )
        self._poller.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._poller is not None:
            self._poller.join(timeout=5)

    def poll_once(self) -> dict[int, bool]:
        """Ask every unit once, in unit order; return who answered."""
        answered = {}
        for unit, display in sorted(self._displays.items()):
            if self._stop.is_set():
                break
            try:
                display.read_registers(Register.VALUE)
                answered[unit] = True
            except CounterLinkError:
                raise
            except CounterDeviceError as err:
                log.debug("poll of unit %d on %s: %s", unit, self.transport.url, err)
                answered[unit] = False
            self._record(unit, answered[unit])
        self.polls += 1
        return answered

    def _record(self, unit: int, online: bool) -> None:
        before = self.online.get(unit)
        self.online[unit] = online
        if before is not online:
            level = logging.INFO if online else logging.WARNING
            log.log(
                level, "unit %d on %s is %s", unit, self.transport.url, "answering" if online else "silent"
            )
            if self.on_change is not None:
                self.on_change(unit, online)

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            try:
                self.poll_once()
            except Exception:  # the poller must outlive any error: it is what notices recovery
                log.exception("poll of %s failed; trying again in %.1f s", self.transport.url, self.poll_s)
