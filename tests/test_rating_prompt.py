"""Keypad-only service and the rating tablet (the "people" issue): the citizen is asked to rate when
the officer finishes, not when the next citizen is already at the desk; the rating counts for the
ticket just served within ``[kiosk.rating] window_s``; the tablet shows the officer who identified
on the keypad.

Real Mosquitto, the real queue server on SQLite, counter 2's keypad service on the caller-bus
simulator, and the tablet's real view-model and Qt Quick window.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from support import find_item, wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.caller_bus import Key
from counter_display.service import KeypadService
from firmware_sim.centre import SimulatedDevices
from kiosk.app import load_screen, window_of
from kiosk.rating import RatingViewModel
from queue_server.accounts import Officers
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import Site

pytestmark = pytest.mark.integration

CODE, PIN = "3579", "2468"
NAME = "Phạm Minh Châu"


@dataclass
class Desk:
    server: QueueServer
    sims: SimulatedDevices
    supervisor: BusClient
    last: dict[Key, float]

    def press(self, key: Key) -> None:
        """Press ``key`` on counter 2's keypad; wait for the host's acknowledgement."""
        since = time.monotonic() - self.last.get(key, 0.0)
        if since < 0.3:
            time.sleep(0.3 - since)  # the same key again, not a repeat the driver would swallow
        self.sims.keypads[2].press(key)
        self.last[key] = time.monotonic()
        assert wait_until(lambda: self.sims.keypads[2].unacked == [], timeout=5)

    def log_in(self) -> None:
        for text in (CODE, PIN):
            for digit in text:
                self.press(Key(int(digit)))
            self.press(Key.CONFIRM)

    def issue(self, service: str) -> str:
        reply: Any = self.supervisor.request("issue_ticket", m.IssueTicket(service=service))
        return str(reply.ticket.number)


@pytest.fixture
def desk(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[Desk]:
    sims = SimulatedDevices(demo_site)
    store = Store.open(f"sqlite:///{tmp_path}/prompt.db")
    Officers(store.engine).add("cb09", NAME, "officer", "mat-khau-dai-1", PIN, keypad_code=CODE)
    server = QueueServer(demo_site, store, mosquitto).start()
    keypad = KeypadService(demo_site.site.id, demo_site.device("keypad-2"), mosquitto).start()
    supervisor = BusClient(mosquitto, demo_site.site.id, "supervisor-prompt")
    supervisor.enable_requests()
    supervisor.start()
    try:
        yield Desk(server, sims, supervisor, {})
    finally:
        supervisor.stop()
        keypad.stop()
        server.stop()
        store.close()
        sims.close()


def test_the_rating_prompt_comes_when_the_officer_finishes_and_counts_within_the_window(
    qtbot: QtBot, desk: Desk, demo_site: Site, mosquitto: BrokerUrl, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = desk.issue("civil"), desk.issue("civil")
    vm = RatingViewModel(demo_site, "tablet-2", mosquitto).start()
    engine = load_screen("rating", vm)
    window = window_of(engine)
    qtbot.waitExposed(window)
    try:
        desk.log_in()
        # Opened from the keypad: the tablet names the officer who identified (the account's name).
        qtbot.waitUntil(lambda: vm.officer["name"] == NAME, timeout=10000)
        assert find_item(window, "officerName").property("text") == NAME
        desk.press(Key.CALL)
        qtbot.waitUntil(lambda: vm.current_screen() == "serving" and vm.number == first, timeout=5000)
        desk.press(Key.RATING)  # the officer is done with this citizen
        qtbot.waitUntil(lambda: vm.current_screen() == "rate", timeout=5000)
        assert vm.number == first
        assert desk.server.counter_state(2).current is None  # the next citizen is not called yet
        desk.press(Key.CALL)  # the officer calls the next while the citizen is still rating
        assert wait_until(lambda: desk.server.counter_state(2).current == second)
        qtbot.wait(100)
        assert vm.current_screen() == "rate" and vm.number == first  # still asks about the right ticket
        vm.rate(2)
        vm.submit()
        qtbot.waitUntil(lambda: len(desk.server.engine.ratings) == 1, timeout=5000)
        (rating,) = desk.server.engine.ratings.values()
        rated = desk.server.engine.tickets[rating.ticket_id]
        assert (rated.code, rating.officer, rating.score) == (first, "cb09", 2)
        # The second citizen is finished; the window (180 s by default) is over before they rate.
        desk.press(Key.RATING)
        qtbot.waitUntil(lambda: vm.current_screen() == "rate" and vm.number == second, timeout=5000)
        later = desk.server.core.now() + timedelta(seconds=demo_site.kiosk.rating.window_s + 60)
        monkeypatch.setattr(desk.server.core, "now", lambda: later)
        vm.rate(1)
        vm.submit()
        qtbot.waitUntil(lambda: vm.current_screen() == "refused", timeout=5000)
        assert find_item(window, "prompt").property("text") == "Hết thời gian đánh giá phiếu này."
        assert len(desk.server.engine.ratings) == 1
    finally:
        window.close()
        vm.stop()
        del engine
