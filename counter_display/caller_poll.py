"""The caller-bus master's polling rules, sans-IO: which keypad to ask, what answer to believe.

Why: an 8-bit additive checksum lets offsetting two-bit errors through. ``ff 68 03 03 68 01 01 0f 11 16``
with bit 1 flipped in both the address and the key byte (``03 … 0d``) still sums to ``11`` and decodes
as keypad 3, RECALL. A master that takes every valid frame from anyone turns such noise into false
presses, most of them credited to the wrong keypad. What the protocol gives the master instead:

1. **One address at a time.** The master sends ``poll_frame(A)`` and, during the reply window,
   believes only a key-event frame from A, exactly ``LEN 03`` (one key byte) with a known key code.
   Frames from any other address, any other command or shape are counted and dropped: a corrupted
   address can no longer move a press to another counter.
2. **Seen twice.** A keypad repeats its pending frame at every poll until acknowledged. The master
   acknowledges (echoes) and reports a frame only when the same bytes came back from the same polled
   address twice; a frame seen once is only a candidate. Two identical corruptions of one frame are
   needed to forge a press.
3. **Echo, and the keypad's idle answer.** The acknowledgement is the frame echoed; the keypad drops
   its frame only on an exact echo. A keypad with nothing pending answers a poll with ``idle_frame``
   (CMD 04, one data byte 00). After our echo, the press stays *unconfirmed* until that keypad answers
   idle or with another frame: the same frame again meanwhile is a keypad that missed the echo —
   echoed again, reported once (within ``repeat_window`` seconds; after that it counts as new).

Time is passed in (``now``, seconds) so the rules are tested and benchmarked without sleeping.
Usage per poll: ``frame = poller.start_poll()`` → write it → ``poller.receive(bytes)`` for what
arrives in the reply window → ``ack, presses = poller.end_window(now)`` → write ``ack`` if any.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from counter_display.caller_bus import (
    CallerBusDecoder,
    CallerBusFrame,
    Command,
    Key,
    encode_frame,
    poll_frame,
)

log = logging.getLogger(__name__)

IDLE_DATA = b"\x00"
KEY_FRAME_LEN = 3
"""LEN of a key-event frame: ADDR, CMD and one key byte."""


def idle_frame(addr: int) -> bytes:
    """What keypad ``addr`` answers to a poll when no key waits ([verify] assumed, like CMD 04)."""
    return encode_frame(addr, Command.POLL, IDLE_DATA)


@dataclass(frozen=True)
class PolledPress:
    """Key ``key`` pressed on the keypad at bus address ``addr`` (the address we polled)."""

    addr: int
    key: Key


@dataclass
class PollStats:
    """What the poller saw; ``foreign`` = valid frames from an address other than the polled one."""

    polls: int = 0
    silent: int = 0
    foreign: int = 0
    malformed: int = 0
    unconfirmed: int = 0
    repeats: int = 0
    reported: int = 0


@dataclass
class _KeypadState:
    candidate: bytes | None = None
    acked: bytes | None = None
    acked_at: float = float("-inf")


@dataclass
class CallerBusPoller:
    """Polls ``addresses`` round-robin; ``confirmations`` identical replies make one press."""

    addresses: list[int]
    confirmations: int = 2
    repeat_window: float = 30.0
    stats: PollStats = field(default_factory=PollStats)
    _next: int = 0
    _polled: int | None = None
    _decoder: CallerBusDecoder = field(default_factory=CallerBusDecoder)
    _reply: bytes | None = None
    _seen: dict[int, int] = field(default_factory=dict)
    _state: dict[int, _KeypadState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.addresses:
            raise ValueError("a caller-bus poller needs at least one keypad address")
        if any(not 0 <= a <= 0xFF for a in self.addresses) or len(set(self.addresses)) != len(self.addresses):
            raise ValueError(f"keypad addresses must be distinct and 0..255, got {self.addresses}")
        self._state = {a: _KeypadState() for a in self.addresses}

    @property
    def polled(self) -> int | None:
        """The address whose reply window is open, if one is."""
        return self._polled

    @property
    def has_reply(self) -> bool:
        """Whether the open reply window already holds an acceptable answer (the master may close it)."""
        return self._reply is not None

    @property
    def next_address(self) -> int:
        """The address :meth:`start_poll` will poll."""
        return self.addresses[self._next]

    def start_poll(self) -> bytes:
        """Open the reply window of the next address; return the poll frame to write."""
        addr = self.addresses[self._next]
        self._next = (self._next + 1) % len(self.addresses)
        self._polled = addr
        self._decoder = CallerBusDecoder(max_len=KEY_FRAME_LEN)
        self._reply = None
        self.stats.polls += 1
        return poll_frame(addr)

    def receive(self, data: bytes) -> None:
        """Bytes heard during the reply window (any chunking); the first acceptable frame is kept."""
        for frame in self._decoder.feed(data):
            self._consider(frame)

    def _consider(self, frame: CallerBusFrame) -> None:
        if frame.cmd == Command.POLL and not frame.data:
            return  # our own poll, echoed by a two-wire adapter
        if frame.addr != self._polled:
            self.stats.foreign += 1
            return
        if frame.cmd == Command.POLL and frame.data == IDLE_DATA:
            if self._reply is None:
                self._reply = b""
            return
        if frame.cmd != Command.KEY_EVENT or len(frame.data) != 1 or frame.data[0] not in _KEY_CODES:
            self.stats.malformed += 1
            return
        if self._reply is None:
            self._reply = frame.raw

    def end_window(self, now: float) -> tuple[bytes, list[PolledPress]]:
        """Close the reply window; return the acknowledgement to write (or ``b""``) and the presses."""
        addr, reply = self._polled, self._reply
        self._polled = self._reply = None
        if addr is None:
            raise RuntimeError("end_window() without start_poll()")
        if reply is None:
            self.stats.silent += 1
            return b"", []
        state = self._state[addr]
        if not reply:
            state.acked = state.candidate = None  # idle: our last echo arrived, nothing waits
            return b"", []
        if reply == state.acked and now - state.acked_at < self.repeat_window:
            self.stats.repeats += 1  # the keypad missed our echo: echo again, report once
            state.acked_at = now
            return reply, []
        if reply != state.candidate:
            state.candidate = reply
            self._seen[addr] = 1
        else:
            self._seen[addr] = self._seen.get(addr, 0) + 1
        if self._seen[addr] < self.confirmations:
            self.stats.unconfirmed += 1
            return b"", []
        state.candidate, state.acked, state.acked_at = None, reply, now
        self._seen[addr] = 0
        self.stats.reported += 1
        return reply, [PolledPress(addr, Key(reply[7]))]


_KEY_CODES = frozenset(int(k) for k in Key)
