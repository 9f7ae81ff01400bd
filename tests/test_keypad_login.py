"""Officers identify on a calling keypad (code, CONFIRM, PIN, CONFIRM) before it opens their counter.

Real Mosquitto, the real queue server on SQLite with argon2-hashed PINs, the keypad and LED device
services on caller-bus and Modbus simulators that speak the real bytes: the keys are key-event
frames on the keypad line, the feedback is display and beep frames back on it, and segment
bitmaps on the LED display's Modbus line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
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
from firmware_sim.keypad import CallerBusKeypadSim
from queue_server.accounts import MAX_FAILURES, Officers
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import Site

pytestmark = pytest.mark.integration

PASSWORD = "mat-khau-dai-1"
CODE, PIN = "1017", "2468"
REPEAT_GAP_S = 0.3  # the keypad driver reports one press of a key repeated within 0.25 s


@dataclass
class Centre:
    server: QueueServer
    sims: SimulatedDevices
    officers: Officers
    keypads: dict[int, KeypadService]
    answers: dict[str, list[m.Response]] = field(default_factory=dict)
    states: dict[int, list[m.CounterState]] = field(default_factory=dict)
    _last: dict[tuple[int, Key], float] = field(default_factory=dict)

    def press(self, counter: int, key: Key) -> None:
        """Press ``key`` on counter ``counter``'s keypad and wait for the host's acknowledgement."""
        since = time.monotonic() - self._last.get((counter, key), 0.0)
        if since < REPEAT_GAP_S:
            time.sleep(REPEAT_GAP_S - since)  # a person pressing the same digit twice, not a repeat
        sim = self.sims.keypads[counter]
        sim.press(key)
        self._last[(counter, key)] = time.monotonic()
        assert wait_until(lambda: sim.unacked == [], timeout=5)

    def type(self, counter: int, digits: str, confirm: bool = True) -> None:
        for digit in digits:
            self.press(counter, Key(int(digit)))
        if confirm:
            self.press(counter, Key.CONFIRM)

    def log_in(self, counter: int, code: str = CODE, pin: str = PIN) -> None:
        self.type(counter, code)
        self.type(counter, pin)

    def refused_log_in(self, counter: int, code: str = CODE, pin: str = PIN) -> None:
        """A log-in that must fail: wait for its feedback (one beep for the code, three for the refusal)."""
        keypad = self.keypad(counter)
        beeps = keypad.beeps
        self.log_in(counter, code, pin)
        assert wait_until(lambda: keypad.beeps == beeps + 1 + 3, timeout=10)
        assert wait_until(self.server.login.idle)

    def keypad(self, counter: int) -> CallerBusKeypadSim:
        return self.sims.keypads[counter]

    def status(self, counter: int) -> str:
        return str(self.server.engine.counters[counter].status)

    def last_state(self, counter: int) -> m.CounterState | None:
        states = self.states.get(counter, [])
        return states[-1] if states else None


def _into(items: list[Any]) -> Callable[[str, Any], None]:
    return lambda _topic, message: items.append(message)


@pytest.fixture
def centre(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[Centre]:
    site_id = demo_site.site.id
    sims = SimulatedDevices(demo_site)
    store = Store.open(f"sqlite:///{tmp_path}/login.db")
    officers = Officers(store.engine)
    officers.add("cb01", "Nguyễn Văn Bình", "officer", PASSWORD, PIN, keypad_code=CODE)
    officers.add("cb02", "Lê Thị Hoa", "officer", PASSWORD, "7531", keypad_code="2024")
    server = QueueServer(demo_site, store, mosquitto).start()
    keypads = {
        n: KeypadService(site_id, demo_site.device(f"keypad-{n}"), mosquitto).start() for n in (1, 2, 3)
    }
    led = LedDisplayService(site_id, demo_site.device("led-2"), mosquitto).start()
    # The answers to keypad n are heard with keypad n's own rights (the broker lets only the keypad
    # and the server read resp/keypad-n), under a client id of their own beside the keypad service.
    watchers = {
        n: BusClient(as_identity(mosquitto, f"keypad-{n}"), site_id, f"watcher-login-{n}") for n in (1, 2, 3)
    }
    state = Centre(server, sims, officers, keypads)
    for n, watcher in watchers.items():
        answers = state.answers.setdefault(f"keypad-{n}", [])
        watcher.subscribe(watcher.topics.resp(f"keypad-{n}"), _into(answers), m.Response)
        states = state.states.setdefault(n, [])
        watcher.subscribe(watcher.topics.counter_state(n), _into(states), m.CounterState)
    try:
        for watcher in watchers.values():
            watcher.start()
        assert wait_until(lambda: all(state.last_state(n) is not None for n in (1, 2, 3)))
        yield state
    finally:
        for watcher in watchers.values():
            watcher.stop()
        led.stop()
        for keypad in keypads.values():
            keypad.stop()
        server.stop()
        store.close()
        sims.close()


def refused(centre: Centre, device: str, code: str) -> bool:
    return any(a.error is not None and a.error.code == code for a in centre.answers[device])


def test_an_officer_identifies_on_the_keypad_and_the_counter_opens_for_them(centre: Centre) -> None:
    # Before anyone identified, CALL does not open the counter (it used to open it for "quay2").
    centre.press(2, Key.CALL)
    assert wait_until(lambda: refused(centre, "keypad-2", "forbidden"))
    assert centre.status(2) == "closed"
    keypad, led = centre.keypad(2), centre.sims.leds[2]
    centre.type(2, CODE, confirm=False)
    assert wait_until(lambda: keypad.display_text == "  1017")  # the code, echoed as typed
    beeps = keypad.beeps
    centre.press(2, Key.CONFIRM)
    assert wait_until(lambda: led.shown == " P1n" and keypad.beeps == beeps + 1)  # now the PIN
    centre.type(2, PIN, confirm=False)
    assert wait_until(lambda: keypad.display_text == "  8888")  # one 8 per digit, never the digit
    assert PIN not in keypad.display_text
    centre.press(2, Key.CONFIRM)
    assert wait_until(lambda: centre.status(2) == "open")
    assert wait_until(lambda: keypad.display_text == "  1017" and keypad.beeps == beeps + 2)
    # The event log and the retained state record the authenticated account, and its name.
    assert centre.server.engine.counters[2].officer == "cb01"
    assert wait_until(lambda: (s := centre.last_state(2)) is not None and s.officer_name == "Nguyễn Văn Bình")
    (view,) = [v for v in centre.server.counter_views() if v.counter == 2]  # staff's dashboard, console
    assert (view.officer, view.officer_name) == ("cb01", "Nguyễn Văn Bình")
    opened = [e for e in centre.server.store.events() if e.type == "counter_opened"]
    assert [(e.data["counter"], e.data["officer"]) for e in opened] == [(2, "cb01")]
    # Paused, then CALL: the counter resumes for the officer identified on the keypad, nobody else.
    centre.press(2, Key.PAUSE)
    assert wait_until(lambda: centre.status(2) == "paused")
    centre.press(2, Key.CALL)
    assert wait_until(lambda: centre.status(2) == "open")
    assert centre.server.engine.counters[2].officer == "cb01"


def test_wrong_pins_and_unknown_codes_are_refused_alike_and_open_nothing(centre: Centre) -> None:
    led = centre.sims.leds[2]
    centre.refused_log_in(2, pin="1357")  # wrong PIN
    assert wait_until(lambda: led.shown == " Err")
    centre.refused_log_in(2, code="9090", pin=PIN)  # nobody has this code: asked for a PIN all the same
    assert centre.status(2) == "closed" and centre.server.engine.counters[2].officer is None
    centre.log_in(2)  # the right code and PIN still work after two failures
    assert wait_until(lambda: centre.status(2) == "open")
    assert centre.server.engine.counters[2].officer == "cb01"


def test_pin_guesses_spread_over_keypads_lock_the_account(centre: Centre) -> None:
    guesses = [f"{1000 + i}" for i in range(MAX_FAILURES)]
    for i, guess in enumerate(guesses):
        centre.refused_log_in(1 if i % 2 == 0 else 3, pin=guess)  # keypads 1 and 3 take turns
    (account,) = [o for o in centre.officers.list() if o.id == "cb01"]
    assert account.locked
    centre.refused_log_in(2)  # the real PIN, on a keypad that saw no failure: the account is locked
    assert wait_until(lambda: centre.sims.leds[2].shown == " Err")
    assert {centre.status(n) for n in (1, 2, 3)} == {"closed"}


def test_a_keypad_trying_many_codes_is_locked_itself(centre: Centre) -> None:
    for code in ("11", "12", "13", "14", "15"):  # nobody's codes: no account gets locked
        centre.refused_log_in(3, code=code, pin="0000")
    assert not any(o.locked for o in centre.officers.list())
    centre.refused_log_in(3)  # a real code and PIN: this keypad is locked for now
    assert centre.status(3) == "closed"
    centre.log_in(1)  # the account itself is fine on another keypad
    assert wait_until(lambda: centre.status(1) == "open")


def test_counter_1s_keypad_opens_counter_1_only(
    centre: Centre, demo_site: Site, mosquitto: BrokerUrl
) -> None:
    centre.log_in(1)
    assert wait_until(lambda: centre.status(1) == "open")
    assert centre.status(2) == "closed"
    # A client logged in to the broker as counter 4's keypad asks the server directly to open counter 2.
    rogue = BusClient(mosquitto, demo_site.site.id, "keypad-4")
    rogue.enable_requests()
    rogue.start()
    try:
        forged = m.CounterRequest(counter=2, action=m.CounterAction.OPEN, officer="cb01")
        answer = rogue.request("counter", forged)
    finally:
        rogue.stop()
    assert not answer.ok and answer.error is not None and answer.error.code == "forbidden"
    assert centre.status(2) == "closed"


def test_keypad_codes_are_digits_and_belong_to_one_officer(tmp_path: Path) -> None:
    from queue_server.accounts import AccountError

    store = Store.open(f"sqlite:///{tmp_path}/codes.db")
    try:
        officers = Officers(store.engine)
        officers.add("cb01", "Nguyễn Văn Bình", "officer", PASSWORD, PIN, keypad_code=CODE)
        with pytest.raises(AccountError, match="already belongs to officer cb01"):
            officers.add("cb02", "Lê Thị Hoa", "officer", PASSWORD, "7531", keypad_code=CODE)
        with pytest.raises(AccountError, match="1 to 6 digits"):
            officers.add("cb03", "Hồ Văn Nam", "officer", PASSWORD, "7531", keypad_code="12a4")
        officers.add("cb04", "Đỗ Thị Mai", "officer", PASSWORD)  # no PIN, no code: console only
        officers.reset("cb04", PASSWORD, keypad_code="4040")  # a code but still no PIN
        assert officers.pin_login("4040", "0000") is None
        assert officers.pin_login("", PIN) is None and officers.pin_login("1017; --", PIN) is None
        officer = officers.pin_login(CODE, PIN)
        assert officer is not None and officer.id == "cb01"
    finally:
        store.close()


def test_the_keypad_display_shows_digits_and_blanks_only() -> None:
    from counter_display.service import keypad_digits

    assert keypad_digits("1017") == "1017"
    assert keypad_digits("Err") == "   "
    assert keypad_digits("P1n") == " 1 "
    assert keypad_digits("12345678") == "345678"
    assert keypad_digits("١٢") == "  "  # digits of other scripts are no segment patterns
