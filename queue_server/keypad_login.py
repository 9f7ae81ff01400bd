"""Officers identify on a calling keypad: keypad code, CONFIRM, PIN, CONFIRM; then the counter opens.

A keypad has only digit keys, a few function keys and a six-digit display, so its log-in is a short
key sequence, accepted while its counter is not open::

    1 0 1 7  CONFIRM        the officer's keypad code (``motcua officer add … --code 1017``)
    2 4 6 8  CONFIRM        the officer's PIN (4 to 8 digits), checked against its argon2 hash

The second CONFIRM checks the PIN on a thread of its own (an argon2 check takes a few hundred
milliseconds; the MQTT thread must not wait for it). An unknown code is asked for a PIN like a
known one and fails the same way, so the keypad never tells which codes exist. Failures count on
the account (``Officers.pin_login``: the same lockout as wrong console passwords, whichever keypad
they come from) and on the keypad (``MAX_FAILURES`` in a row lock that keypad for ``LOCKOUT_S``,
so trying many codes with one common PIN stops too).

Feedback (``Feedback``): the keypad's display shows only digits and blanks, so it echoes the code
as typed, one ``8`` per PIN digit typed (never the digit), and the officer's code once identified;
the counter's seven-segment LED display, which has letters, shows ``CodE``, ``P1n``, ``Err`` or the
code. One beep: step accepted; three beeps: refused.

The officer identified stays the keypad's officer while the counter is open or paused: keypad
requests carry that officer's id (``CounterRequest.officer``), so a RESUME after a pause or a CALL
reopening a closed counter acts for that officer and nobody else. The identity is forgotten when the
keypad closes the counter, or at the first key seen at a closed counter after ``OPENING_S``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bus import models as m
from queue_server.accounts import LOCKOUT_S, MAX_FAILURES, Officer

log = logging.getLogger(__name__)

ENTRY_IDLE_S = 30.0
"""Digits typed longer ago than this are forgotten: a half-typed log-in does not wait for the next officer."""
OPENING_S = 10.0
"""Time the counter has to open after a log-in before a closed counter ends the keypad's identity."""
MAX_CODE = 6
MAX_PIN = 8
MASK = "8"
"""What the keypad's display shows for each PIN digit typed (all segments: a digit, not which)."""


@dataclass(frozen=True)
class Feedback:
    """What a keypad and its counter's LED display show after a key, and how many beeps."""

    keypad: str
    led: str
    beeps: int = 0


@dataclass
class _Entry:
    code: str = ""
    pin: str | None = None  # None: still typing the code
    at: float = 0.0


@dataclass
class _Keypad:
    entry: _Entry = field(default_factory=_Entry)
    officer: str | None = None
    identified_at: float = 0.0
    failures: int = 0
    locked_until: float = 0.0


CheckPin = Callable[[str, str], Officer | None]
Tell = Callable[[str, int, Feedback], None]
Opened = Callable[[str, m.CounterRequest], None]


class KeypadLogin:
    """Each keypad's log-in entry and identified officer.

    ``check(code, pin)`` is ``Officers.pin_login``; ``tell(device, counter, feedback)`` shows feedback;
    ``opened(device, request)`` runs the OPEN request of an officer who identified.
    """

    def __init__(
        self,
        check: CheckPin,
        tell: Tell,
        opened: Opened,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._check, self._tell, self._opened, self._monotonic = check, tell, opened, monotonic
        self._lock = threading.Lock()
        self._keypads: dict[str, _Keypad] = {}
        self._checks: queue.Queue[tuple[str, int, str, str, str] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="keypad-login", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._checks.put(None)
        self._thread.join(5)

    def idle(self) -> bool:
        """No PIN check waiting or running (tests wait for this instead of sleeping)."""
        return self._checks.unfinished_tasks == 0

    # --- keys -----------------------------------------------------------------------------------

    def key(self, device_id: str, counter: int, event: m.KeyPressed) -> None:
        """A digit or CONFIRM typed on ``device_id`` while its counter is not open."""
        now = self._monotonic()
        with self._lock:
            pad = self._keypads.setdefault(device_id, _Keypad())
            entry = pad.entry
            if now - entry.at > ENTRY_IDLE_S:
                entry = pad.entry = _Entry()
            entry.at = now
            feedback: Feedback | None
            if event.key is m.Key.DIGIT and event.digit is not None:
                feedback = self._digit(entry, event.digit)
            else:
                feedback = self._confirm(device_id, counter, pad, event.id, now)
        if feedback is not None:
            self._tell(device_id, counter, feedback)

    def _digit(self, entry: _Entry, digit: int) -> Feedback:
        if entry.pin is None:
            entry.code = (entry.code + str(digit))[-MAX_CODE:]
            return Feedback(entry.code, entry.code[-4:])
        entry.pin = (entry.pin + str(digit))[:MAX_PIN]
        return Feedback(MASK * min(len(entry.pin), 6), "P1n")

    def _confirm(
        self, device_id: str, counter: int, pad: _Keypad, request_id: str, now: float
    ) -> Feedback | None:
        entry = pad.entry
        if entry.pin is None:
            if not entry.code:
                return Feedback("", "CodE", 1)  # CONFIRM first: the keypad asks for the code
            entry.pin = ""
            return Feedback("", "P1n", 1)
        code, pin = entry.code, entry.pin
        pad.entry = _Entry()
        if pad.locked_until > now:
            log.warning("keypad %s is locked after %d wrong PINs; log-in refused", device_id, MAX_FAILURES)
            return Feedback("", "Err", 3)
        self._checks.put((device_id, counter, code, pin, request_id))
        return None

    # --- the PIN check, on its own thread -------------------------------------------------------

    def _run(self) -> None:
        while (job := self._checks.get()) is not None:
            try:
                self._verify(*job)
            except Exception:
                log.exception("keypad log-in check failed")
            finally:
                self._checks.task_done()
        self._checks.task_done()

    def _verify(self, device_id: str, counter: int, code: str, pin: str, request_id: str) -> None:
        officer = self._check(code, pin)
        now = self._monotonic()
        with self._lock:
            pad = self._keypads.setdefault(device_id, _Keypad())
            if officer is None:
                pad.failures += 1
                if pad.failures >= MAX_FAILURES:
                    pad.failures, pad.locked_until = 0, now + LOCKOUT_S
                    log.warning(
                        "keypad %s locked for %d min after %d wrong PINs",
                        device_id,
                        LOCKOUT_S // 60,
                        MAX_FAILURES,
                    )
            else:
                pad.failures, pad.officer, pad.identified_at = 0, officer.id, now
        if officer is None:
            log.info("a keypad log-in failed on %s", device_id)  # never the code or the PIN
            self._tell(device_id, counter, Feedback("", "Err", 3))
            return
        log.info("officer %s identified on keypad %s", officer.id, device_id)
        self._tell(device_id, counter, Feedback(code, code[-4:], 1))
        request = m.CounterRequest(
            id=request_id, counter=counter, action=m.CounterAction.OPEN, officer=officer.id
        )
        self._opened(device_id, request)

    # --- the identified officer -----------------------------------------------------------------

    def officer_of(self, device_id: str, counter_closed: bool) -> str | None:
        """The officer identified on ``device_id``; forgotten at a closed counter once the log-in's
        own opening had its time."""
        with self._lock:
            pad = self._keypads.get(device_id)
            if pad is None or pad.officer is None:
                return None
            if counter_closed and self._monotonic() - pad.identified_at > OPENING_S:
                log.info("keypad %s: officer %s forgotten (counter closed)", device_id, pad.officer)
                pad.officer = None
            return pad.officer

    def forget(self, device_id: str) -> None:
        """The keypad closed its counter: the next opening needs a log-in again."""
        with self._lock:
            pad = self._keypads.get(device_id)
            if pad is not None:
                pad.officer = None
