"""What a counter's own devices ask of the server: keypad keys and ratings, checked against the site.

A keypad sends bare keys (``evt`` ``key_pressed``); the site file (``[display]``,
``siteconf/display.py``) maps each key of each counter to an operation. ``KeypadKeys`` turns a key
into the ``CounterRequest`` it stands for, keeping per keypad the digits typed just before TRANSFER
(the counter the current citizen is sent to). A rating counts only when it comes from the rating
tablet of the counter it rates (``authz.tablet_may_rate``), so a stray message rates nothing.

While the counter is not open, digits and CONFIRM are the officer's log-in (``keypad_login.py``);
every request a keypad makes carries the officer identified on it, if any, and a keypad with no
officer cannot open its counter (``authz.keypad_may_act``). The RATING key (``request_rating``)
finishes the ticket being served, so the citizen's tablet asks for a rating at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from bus import models as m
from queue_server.keypad_login import KeypadLogin
from siteconf import Site

log = logging.getLogger(__name__)

TYPED_DIGITS_S = 10.0  # digits typed on a keypad count for the next key pressed within this time

# The operations a key may be mapped to in the site file, as counter operations. request_rating
# finishes the ticket served (the tablet then asks at once); transfer needs digits typed first.
KEY_OPERATIONS = {
    "call_next": m.CounterAction.CALL_NEXT,
    "recall": m.CounterAction.RECALL,
    "no_show": m.CounterAction.NO_SHOW,
    "pause": m.CounterAction.PAUSE,
    "resume": m.CounterAction.RESUME,
    "finish": m.CounterAction.FINISH,
    "park": m.CounterAction.PARK,
    "close": m.CounterAction.CLOSE,
    "open": m.CounterAction.OPEN,
    "request_rating": m.CounterAction.FINISH,
}
LOGIN_KEYS = frozenset({m.Key.DIGIT, m.Key.CONFIRM})


class KeypadKeys:
    """Keypad key → counter operation, with each keypad's typed-digit buffer."""

    def __init__(
        self,
        site: Site,
        monotonic: Callable[[], float] = time.monotonic,
        login: KeypadLogin | None = None,
        status: Callable[[int], str] = lambda counter: "open",
    ) -> None:
        self.site = site
        self.login = login
        self._status = status  # the counter's status (open, paused, closed) as the engine has it
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._typed: dict[str, tuple[str, float]] = {}  # keypad -> digits typed, when (for TRANSFER)

    def request(self, device_id: str, event: m.KeyPressed) -> m.CounterRequest | None:
        """The counter operation a keypad key stands for, or None (logged) when it stands for none."""
        counter = self._counter_of(device_id)
        if counter is None:
            return None
        status = self._status(counter)
        if self.login is not None and event.key in LOGIN_KEYS and status != "open":
            self.login.key(device_id, counter, event)
            return None
        if event.key is m.Key.DIGIT and event.digit is not None:
            self._type(device_id, event.digit)
            return None
        operation = self.site.display.key_action(counter, event.key)
        if operation == "transfer":
            return self._transfer(device_id, counter, event)
        action = KEY_OPERATIONS.get(operation) if operation else None
        if action is None:
            log.info("key %s from %s (%s) is no counter operation", event.key, device_id, operation)
            return None
        officer = self.login.officer_of(device_id, status == "closed") if self.login else None
        if action is m.CounterAction.CLOSE and self.login is not None:
            self.login.forget(device_id)
        return m.CounterRequest(id=event.id, counter=counter, action=action, officer=officer)

    def _counter_of(self, device_id: str) -> int | None:
        """The counter whose keypad ``device_id`` is, or None (logged) for anything else."""
        try:
            device = self.site.device(device_id)
        except KeyError:
            log.warning("ignored a key from %s: no such device in the site file", device_id)
            return None
        if device.kind is not m.DeviceKind.KEYPAD or device.counter is None:
            log.warning("ignored a key from %s: it is a %s, not a counter's keypad", device_id, device.kind)
            return None
        return device.counter

    def _type(self, device_id: str, digit: int) -> None:
        """One more digit typed; the last three typed within ``TYPED_DIGITS_S`` of each other count."""
        now = self._monotonic()
        with self._lock:
            typed, at = self._typed.get(device_id, ("", 0.0))
            fresh = now - at < TYPED_DIGITS_S
            self._typed[device_id] = ((typed if fresh else "")[-2:] + str(digit), now)

    def _transfer(self, device_id: str, counter: int, event: m.KeyPressed) -> m.CounterRequest | None:
        """Digits typed just before TRANSFER name the counter the current citizen is sent to."""
        with self._lock:
            typed, at = self._typed.pop(device_id, ("", 0.0))
        if not typed or self._monotonic() - at >= TYPED_DIGITS_S:
            log.info("TRANSFER on %s without a counter number typed first: nothing done", device_id)
            return None
        return m.CounterRequest(
            id=event.id, counter=counter, action=m.CounterAction.TRANSFER, to_counter=max(1, int(typed))
        )
