"""Driver of Chinese 21-key calling keypads on an RS-485 caller bus (``caller_bus`` frames).

Composed of a byte :class:`~transport.base.Transport` and the sans-IO ``caller_bus`` codec; the
same on a serial adapter or a ``sim://`` simulator. :meth:`CallerBusKeypad.poll` reads what has
arrived, decodes frames, acknowledges each frame a device sent by echoing it back unchanged and
returns the key presses. Noise never becomes a key press: only a frame that passes every check of
the codec (both LEN bytes, both 68 marks, checksum, trailing 16) and carries a known key code does.

A keypad that misses our acknowledgement sends the same frame again; a repeat of the same key from
the same keypad within ``repeat_window`` seconds of the previous copy is acknowledged but reported
once, so a lost ack cannot call two citizens. Frames the host itself sends (display, beep) are never
acknowledged, so a line that echoes our transmissions cannot start an echo loop.

:class:`PolledCallerBusKeypad` is the master for noisy lines (issue 13): it polls one address at a
time and believes only that address, and only a frame seen twice (:mod:`counter_display.caller_poll`);
at 9600 baud a poll and its reply take ≈ 25 ms, so 8 keypads are each asked about 5 times a second.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from counter_display.caller_bus import (
    CallerBusDecoder,
    CallerBusFrame,
    Command,
    Key,
    beep_frame,
    display_frame,
    key_of,
)
from counter_display.caller_poll import CallerBusPoller
from counter_display.errors import CounterLinkError
from transport.base import Transport, TransportError

log = logging.getLogger(__name__)

HOST_COMMANDS = frozenset((Command.DISPLAY, Command.BEEP))
"""Commands only the host sends; receiving one means hearing ourselves or another master."""
READ_SIZE = 4096


@dataclass(frozen=True)
class KeyPress:
    """Key ``key`` was pressed on the keypad at bus address ``addr``."""

    addr: int
    key: Key


class CallerBusKeypad:
    """All calling keypads on one caller bus, reached through ``transport``."""

    def __init__(
        self,
        transport: Transport,
        ack: bool = True,
        repeat_window: float = 0.25,
        inter_byte_timeout: float = 0.05,
    ) -> None:
        self.transport = transport
        self.ack = ack
        self.repeat_window = repeat_window
        self.inter_byte_timeout = inter_byte_timeout
        self._decoder = CallerBusDecoder()
        self._last_rx = time.monotonic()
        self._last_key: dict[tuple[int, Key], float] = {}
        self.frames_received = 0
        self.repeats_suppressed = 0

    def __repr__(self) -> str:
        return f"<CallerBusKeypad on {self.transport.url}>"

    @property
    def rejected_bytes(self) -> int:
        """Bytes dropped as noise or broken frames since this driver was made."""
        return self._decoder.rejected_bytes

    def poll(self, timeout: float = 0.1) -> list[KeyPress]:
        """Wait up to ``timeout`` for input, then read while it keeps coming; return the key presses."""
        presses: list[KeyPress] = []
        deadline = time.monotonic() + timeout + self.inter_byte_timeout
        data = self._read(timeout)
        while data:
            self._last_rx = time.monotonic()
            presses += self._handle(self._decoder.feed(data))
            if time.monotonic() >= deadline:
                break
            data = self._read(self.inter_byte_timeout if self._decoder.pending else 0.0)
        if self._decoder.pending and time.monotonic() - self._last_rx >= self.inter_byte_timeout:
            presses += self._handle(self._decoder.resync())
        return presses

    def show_digits(self, addr: int, text: str) -> None:
        """Show ``text`` (up to 6 digits or blanks, right-aligned) on keypad ``addr``'s display."""
        self._write(display_frame(addr, text))

    def beep(self, addr: int) -> None:
        """Make keypad ``addr`` beep."""
        self._write(beep_frame(addr))

    def _handle(self, frames: list[CallerBusFrame]) -> list[KeyPress]:
        presses = []
        for frame in frames:
            self.frames_received += 1
            if frame.cmd in HOST_COMMANDS:
                log.debug("caller bus: ignoring host command frame %s", frame.raw.hex(" "))
                continue
            if self.ack:
                self._write(frame.raw)
            key = key_of(frame)
            if key is not None and self._is_new_press(frame.addr, key):
                presses.append(KeyPress(frame.addr, key))
        return presses

    def _is_new_press(self, addr: int, key: Key) -> bool:
        now = time.monotonic()
        previous = self._last_key.get((addr, key))
        self._last_key[(addr, key)] = now
        if previous is not None and now - previous < self.repeat_window:
            self.repeats_suppressed += 1
            log.info(
                "keypad %d: %s repeated within %.2f s, reported once", addr, key.name, self.repeat_window
            )
            return False
        return True

    def _read(self, timeout: float) -> bytes:
        try:
            return self.transport.read(READ_SIZE, timeout=timeout)
        except TransportError as err:
            raise CounterLinkError(
                f"cannot read the caller bus on {self.transport.url}: {err}; "
                "check the RS-485 adapter is plugged in and the URL is right"
            ) from err

    def _write(self, frame: bytes) -> None:
        try:
            self.transport.write(frame)
        except TransportError as err:
            raise CounterLinkError(
                f"cannot write to the caller bus on {self.transport.url}: {err}; "
                "check the RS-485 adapter is plugged in and the URL is right"
            ) from err


class PolledCallerBusKeypad(CallerBusKeypad):
    """The keypads at ``addresses`` on one caller bus, polled in turn; ``poll_round`` asks each once."""

    def __init__(
        self,
        transport: Transport,
        addresses: list[int],
        reply_timeout: float = 0.05,
        inter_byte_timeout: float = 0.01,
    ) -> None:
        super().__init__(transport, ack=True, inter_byte_timeout=inter_byte_timeout)
        self.poller = CallerBusPoller(list(addresses))
        self.reply_timeout = reply_timeout

    def __repr__(self) -> str:
        return f"<PolledCallerBusKeypad on {self.transport.url}: {self.poller.addresses}>"

    def poll(self, timeout: float = 0.1) -> list[KeyPress]:
        """One round over every address (``timeout`` is unused: each reply window is its own)."""
        return self.poll_round()

    def poll_round(self) -> list[KeyPress]:
        presses: list[KeyPress] = []
        for _ in self.poller.addresses:
            self._write(self.poller.start_poll())
            deadline = time.monotonic() + self.reply_timeout
            while (left := deadline - time.monotonic()) > 0:
                data = self._read(min(left, self.inter_byte_timeout))
                if data:
                    self.poller.receive(data)
                elif self.poller.has_reply:
                    break  # the answer is in and the line went quiet: no need to wait out the window
            ack, found = self.poller.end_window(time.monotonic())
            if ack:
                self._write(ack)
            presses += [KeyPress(p.addr, p.key) for p in found]
        return presses
