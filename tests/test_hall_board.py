"""The hall board: calls presented one by one in seq order, tiles per counter, queues, notice,
language and layout, resync from retained state, and the voice saying every call of a burst."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from broker_support import as_identity
from hypothesis import given, settings
from hypothesis import strategies as st
from PySide6.QtQuick import QQuickWindow
from pytestqt.qtbot import QtBot
from support import find_item

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.hall import HALL_QML, HallBoardViewModel
from counter_display.hall_model import HallModel
from counter_display.voice.announcer import Announcer
from counter_display.voice.audio import FileSink, read_wav
from counter_display.voice.engines import EspeakEngine
from qtview import load_qml
from siteconf import Site
from siteconf.display import VoiceConf
from siteconf.model import parse_site


def call(seq: int, number: str, counter: int) -> m.CallEvent:
    return m.CallEvent(
        seq=seq, number=number, service="land", counter=counter, counter_name=f"Quầy {counter}"
    )


# --- the model, no Qt, no broker --------------------------------------------------------------


def test_out_of_order_calls_are_held_until_their_predecessor_arrives() -> None:
    model = HallModel(gap_wait=0.3, synced_seq=0)
    assert [c.seq for c in model.receive_call(call(1, "A1", 1), 0.0)] == [1]
    assert model.receive_call(call(3, "A3", 2), 0.01) == []
    assert [c.seq for c in model.receive_call(call(2, "A2", 3), 0.02)] == [2, 3]
    assert [c.number for c in model.history] == ["A3", "A2", "A1"]


def test_a_lost_call_holds_the_next_only_for_the_gap_wait() -> None:
    model = HallModel(gap_wait=0.3, synced_seq=0)
    model.receive_call(call(1, "A1", 1), 0.0)
    assert model.receive_call(call(3, "A3", 2), 0.0) == []
    assert model.due(0.2) == []
    assert [c.seq for c in model.due(0.31)] == [3]
    assert model.gaps_skipped == 1


def test_duplicates_and_replays_are_never_presented_twice() -> None:
    model = HallModel(synced_seq=4)
    model.receive_call(call(5, "A5", 1), 0.0)
    replay = call(5, "A5", 1)  # a new message id, the same call
    assert model.receive_call(replay, 1.0) == []
    assert len(model.history) == 1


def test_the_first_call_waits_for_a_predecessor_unless_the_retained_state_says_what_comes_next() -> None:
    fresh = HallModel(gap_wait=0.3)
    assert fresh.receive_call(call(8, "A8", 1), 0.0) == []
    assert [c.seq for c in fresh.receive_call(call(7, "A7", 2), 0.1)] == []
    assert [c.seq for c in fresh.due(0.31)] == [7, 8]
    synced = HallModel(gap_wait=0.3)
    synced.receive_counter_state(
        m.CounterState(counter=1, name="Quầy 1", status=m.CounterStatus.OPEN, current="A6", call_seq=6)
    )
    assert [c.seq for c in synced.receive_call(call(7, "A7", 2), 0.0)] == [7]


def test_a_call_arriving_after_its_gap_was_given_up_is_still_presented() -> None:
    model = HallModel(gap_wait=0.3, synced_seq=0)
    model.receive_call(call(1, "A1", 1), 0.0)
    model.receive_call(call(3, "A3", 2), 0.0)
    assert [c.seq for c in model.due(0.5)] == [3]
    assert [c.seq for c in model.receive_call(call(2, "A2", 3), 0.6)] == [2]
    assert model.receive_call(call(2, "A2", 3), 0.7) == []
    assert model.late_calls == 1 and len(model.history) == 3


@settings(max_examples=200)
@given(st.permutations(list(range(1, 11))), st.lists(st.floats(0, 1.0), min_size=10, max_size=10), st.data())
def test_every_call_is_presented_exactly_once_whatever_the_arrival_order(
    order: list[int], gaps: list[float], data: st.DataObject
) -> None:
    """Ten calls arriving in any order and spacing (some twice): each is presented exactly once, and
    calls arriving within the gap wait of each other come out in seq order."""
    model = HallModel(gap_wait=0.3)
    presented: list[int] = []
    now = 0.0
    again = data.draw(st.lists(st.sampled_from(order), max_size=5))
    for seq, gap in zip(order + again, gaps + [0.05] * len(again), strict=True):
        now += gap
        presented += [c.seq or 0 for c in model.due(now)]
        presented += [c.seq or 0 for c in model.receive_call(call(seq, f"A{seq}", seq), now)]
    presented += [c.seq or 0 for c in model.due(now + 1.0)]
    assert sorted(presented) == list(range(1, 11))
    if all(g < 0.3 for g in gaps[1:10]) and sum(gaps[1:10]) < 0.3:
        assert presented == sorted(presented)


def test_counter_state_refreshes_tiles_without_presenting() -> None:
    model = HallModel()
    model.receive_counter_state(
        m.CounterState(counter=2, name="Quầy 2", status=m.CounterStatus.OPEN, current="B7", call_seq=9)
    )
    model.receive_counter_state(m.CounterState(counter=3, name="Quầy 3", status=m.CounterStatus.CLOSED))
    assert model.history == []
    assert model.tiles[2].number == "B7" and model.tiles[3].status is m.CounterStatus.CLOSED
    # a later call at counter 2 replaces the tile; an older state does not undo it
    model.receive_call(call(10, "B8", 2), 0.0)
    model.receive_counter_state(
        m.CounterState(counter=2, name="Quầy 2", status=m.CounterStatus.OPEN, current="B7", call_seq=9)
    )
    assert model.tiles[2].number == "B8"


# --- the window over a real Mosquitto ---------------------------------------------------------


@pytest.fixture
def server_side(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[BusClient]:
    client = BusClient(as_identity(mosquitto, "queue-server"), demo_site.site.id, "fake-server").start()
    yield client
    client.stop()


def _site_with(demo_site: Site, counters: int = 4, **hall: Any) -> Site:
    data = demo_site.model_dump(mode="json", exclude_defaults=True)
    data["counters"] = [
        {"number": n, "name": f"Quầy {n}", "services": ["land"]} for n in range(1, counters + 1)
    ]
    data["devices"] = []
    data.pop("printing", None)  # it names the demo's printer device, gone with the devices
    data["display"] = {"hall": hall} if hall else {}
    return parse_site(data)


def _window(hall: HallBoardViewModel) -> tuple[Any, QQuickWindow]:
    engine = load_qml(HALL_QML, "hall", hall)
    window = engine.rootObjects()[0]
    assert isinstance(window, QQuickWindow)
    return engine, window


@pytest.mark.integration
def test_calls_are_shown_newest_first_by_seq_even_when_they_arrive_out_of_order(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, server_side: BusClient, tmp_path: Path
) -> None:
    hall = HallBoardViewModel(demo_site, mosquitto)
    hall.model.headline_min_s = 3600.0  # the burst's later calls wait their turn in the headline
    hall.start()
    engine, window = _window(hall)
    try:
        t = server_side.topics
        server_side.publish(
            t.queue_state("land"), m.QueueState(service="land", service_name="Đất đai", waiting=3)
        )
        for event in [call(1, "A1001", 1), call(3, "A1003", 2), call(2, "A1002", 1)]:
            server_side.publish(t.calls(), event)
        qtbot.waitUntil(lambda: len(hall.calls) == 3, timeout=5000)
        assert [c["number"] for c in hall.calls] == ["A1003", "A1002", "A1001"]
        assert [c["newest"] for c in hall.calls] == [True, False, False]
        assert hall.counters == [
            {"counter": 1, "name": "Quầy 1", "number": "A1002", "closed": False, "newest": False},
            {"counter": 2, "name": "Quầy 2", "number": "A1003", "closed": False, "newest": True},
        ]
        assert [q["text"] for q in hall.queues] == ["Đất đai: 3 người chờ"]
        assert find_item(window, "newestCall").property("text") == "Mời công dân số A1001 đến Quầy 1"
        assert [c.number for c in hall.model.headlines] == ["A1002", "A1003"]
        assert [c["number"] for c in hall.recentCalls] == ["A1003", "A1002", "A1001"]
        assert find_item(window, "notice").property("text").startswith("Vui lòng")
        window.grabWindow().save(str(tmp_path / "hall.png"))
    finally:
        hall.stop()
        del engine


@pytest.mark.integration
def test_a_burst_of_ten_calls_is_all_shown_and_announced_in_seq_order(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    site = _site_with(demo_site, counters=10)
    sink = FileSink(tmp_path / "voice")
    announcer = Announcer(VoiceConf(repeat=1, chime=False), EspeakEngine(), sink)
    server = BusClient(as_identity(mosquitto, "queue-server"), site.site.id, "fake-server").start()
    hall = HallBoardViewModel(site, mosquitto, announcer=announcer).start()
    engine, _ = _window(hall)
    try:
        burst = [call(100 + i, f"A{1100 + i}", i + 1) for i in range(10)]
        for event in burst:  # well within 100 ms: back-to-back publishes
            server.publish(server.topics.calls(), event)
        qtbot.waitUntil(lambda: len(hall.calls) == 8 and len(hall.counters) == 10, timeout=5000)
        assert [c["number"] for c in hall.counters] == [c.number for c in burst]
        assert [c["newest"] for c in hall.counters] == [False] * 9 + [True]
        assert [c["number"] for c in hall.calls] == [c.number for c in reversed(burst)][:8]
        assert announcer.wait_idle(60)
        assert [a.seq for a in announcer.spoken] == [c.seq for c in burst]
        assert [a.ticket for a in announcer.spoken] == [c.number for c in burst]
        assert len(sink.played) == 10
        assert all(read_wav(p.read_bytes()).seconds > 2.0 for p in sink.played)
    finally:
        hall.stop()
        announcer.stop()
        server.stop()
        del engine


@pytest.mark.integration
def test_a_board_that_connects_later_resyncs_from_retained_state_and_replays_nothing(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, server_side: BusClient
) -> None:
    t = server_side.topics
    server_side.publish(t.calls(), call(7, "A1007", 1))  # said before the board existed
    for state in [
        m.CounterState(counter=1, name="Quầy 1", status=m.CounterStatus.OPEN, current="A1007", call_seq=7),
        m.CounterState(counter=3, name="Quầy 3", status=m.CounterStatus.CLOSED),
    ]:
        server_side.publish(t.counter_state(state.counter), state, retain=True).wait_for_publish(5)
    hall = HallBoardViewModel(demo_site, mosquitto).start()
    engine, window = _window(hall)
    try:
        qtbot.waitUntil(lambda: len(hall.counters) == 2, timeout=5000)
        assert hall.counters[0]["number"] == "A1007"
        assert hall.counters[1]["closed"] is True
        assert find_item(window, "counterNumber").property("text") in {"A1007", "Tạm nghỉ"}
        assert hall.calls == [] and hall.announced == []
        # reconnect (another client takes the board's client id over, then leaves): the broker
        # resends the retained states; still nothing is presented again
        BusClient(mosquitto, demo_site.site.id, hall.bus.client_id).start().stop()
        qtbot.waitUntil(lambda: hall.bus.connect_count == 2 and hall.bus.subscribed.is_set(), timeout=10000)
        assert hall.calls == [] and hall.announced == []
        server_side.publish(t.calls(), call(8, "A1008", 1))
        qtbot.waitUntil(lambda: len(hall.announced) == 1, timeout=5000)
        assert [c.number for c in hall.announced] == ["A1008"]
    finally:
        for n in (1, 3):
            server_side.publish(t.counter_state(n), "", retain=True)
        hall.stop()
        del engine


@pytest.mark.integration
def test_english_list_layout_from_the_site_file(qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl) -> None:
    site = _site_with(demo_site, language="en", layout="list", notice_en="Keep your ticket")
    server = BusClient(as_identity(mosquitto, "queue-server"), site.site.id, "fake-server").start()
    hall = HallBoardViewModel(site, mosquitto).start()
    engine, window = _window(hall)
    try:
        server.publish(
            server.topics.queue_state("land"), m.QueueState(service="land", service_name="x", waiting=2)
        )
        server.publish(server.topics.calls(), call(1, "A1001", 2))
        qtbot.waitUntil(lambda: len(hall.calls) == 1 and len(hall.queues) == 1, timeout=5000)
        assert find_item(window, "newestCall").property("text") == "Number A1001, please go to Quầy 2"
        assert hall.queues[0]["text"] == "Land: 2 waiting"
        assert find_item(window, "callList").property("visible") is True
        assert find_item(window, "counterGrid").property("visible") is False
        assert find_item(window, "notice").property("text") == "Keep your ticket"
    finally:
        server.publish(server.topics.queue_state("land"), "", retain=True)
        hall.stop()
        server.stop()
        del engine


@pytest.mark.integration
def test_end_to_end_a_keypad_frame_reaches_the_led_and_the_board(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    from counter_display.caller_bus import Key
    from counter_display.modbus_rtu import Direction, ModbusRtuDecoder, WriteSingleRegister
    from counter_display.service import KeypadService, LedDisplayService
    from firmware_sim.centre import SimulatedDevices
    from queue_server.db import Store
    from queue_server.server import QueueServer

    site_id = demo_site.site.id
    sims = SimulatedDevices(demo_site)
    store = Store.open(f"sqlite:///{tmp_path / 'e2e.db'}")
    server = QueueServer(demo_site, store, mosquitto).start()
    keypad = KeypadService(site_id, demo_site.device("keypad-3"), mosquitto).start()
    led = LedDisplayService(site_id, demo_site.device("led-3"), mosquitto).start()
    hall = HallBoardViewModel(demo_site, mosquitto).start()
    engine, window = _window(hall)
    kiosk = BusClient(mosquitto, site_id, "supervisor-e2e")
    kiosk.enable_requests()
    led_sim = sims.leds[3]
    received = bytearray()
    original = led_sim.receive

    def tapped(data: bytes) -> None:
        received.extend(data)
        original(data)

    led_sim.receive = tapped  # type: ignore[method-assign]
    try:
        kiosk.start()
        reply: Any = kiosk.request("issue_ticket", m.IssueTicket(service="civil"))
        number = reply.ticket.number
        opened = m.CounterRequest(counter=3, action=m.CounterAction.OPEN, officer="cb01")
        assert kiosk.request("counter", opened).ok  # from a console; the keypad then calls
        sims.keypads[3].press(Key.CALL)  # FF 68 03 03 68 03 01 0C 10 16 onto counter 3's keypad line
        qtbot.waitUntil(lambda: led_sim.shown.strip() == number[1:], timeout=5000)
        frames = ModbusRtuDecoder(Direction.REQUEST).feed(bytes(received))
        assert WriteSingleRegister(1, 0, int(number[1:])) in frames
        qtbot.waitUntil(lambda: [c["number"] for c in hall.calls] == [number], timeout=5000)
        tile = next(t for t in hall.counters if t["counter"] == 3)
        assert tile["number"] == number and tile["newest"]
        headline = f"Mời công dân số {number} đến Quầy 3"
        qtbot.waitUntil(lambda: find_item(window, "newestCall").property("text") == headline, timeout=5000)
        qtbot.waitUntil(lambda: any(q["text"].startswith("Hộ tịch") for q in hall.queues), timeout=5000)
    finally:
        kiosk.stop()
        hall.stop()
        led.stop()
        keypad.stop()
        server.stop()
        store.close()
        sims.close()
        del engine


@pytest.mark.integration
def test_motcua_hall_opens_the_window_and_closes_cleanly(
    qtbot: QtBot, qapp: Any, demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    from PySide6.QtCore import QTimer

    from counter_display.hall import run_hall_window

    site_file = tmp_path / "site.toml"
    text = (Path(__file__).resolve().parent.parent / "sites" / "demo.toml").read_text(encoding="utf-8")
    site_file.write_text(text.replace('id = "demo"', f'id = "{demo_site.site.id}"', 1), encoding="utf-8")
    seen: list[list[str]] = []

    def look_then_quit() -> None:
        seen.append([w.title() for w in qapp.topLevelWindows() if w.isVisible()])
        qapp.quit()

    QTimer.singleShot(1500, look_then_quit)
    assert run_hall_window(site_file, str(mosquitto), voice=False) == 0
    assert seen == [["motcua — bảng gọi số"]]


def test_motcua_hall_reports_a_bad_site_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from counter_display.hall import run_hall_window

    bad = tmp_path / "bad.toml"
    bad.write_text('[site]\nid = "x"\nname = "X"\n[display.hall]\nlanguage = "fr"\n', encoding="utf-8")
    assert run_hall_window(bad, None, voice=False) == 2
    assert "display.hall.language" in capsys.readouterr().err
