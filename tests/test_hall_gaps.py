"""Nothing called is lost to a dropped message: the hall board fetches the calls it missed with
``calls_since`` and rebuilds its list at start. A small responder on the real broker answers
``calls_since`` from a list, as the queue server does (the server's handler lives in queue_server)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from broker_support import as_identity
from pytestqt.qtbot import QtBot

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.hall import HallBoardViewModel
from counter_display.hall_model import HallModel
from siteconf import Site


def call(seq: int, counter: int = 1, age_s: float = 0.0) -> m.CallEvent:
    return m.CallEvent(
        seq=seq,
        number=f"A{1000 + seq}",
        service="land",
        counter=counter,
        counter_name=f"Quầy {counter}",
        ts=m.now() - timedelta(seconds=age_s),
    )


class CallsResponder:
    """Answers ``req/calls_since`` from ``stored`` (what the server committed), oldest first."""

    def __init__(self, client: BusClient, stored: list[m.CallEvent]) -> None:
        self.client = client
        self.stored = stored
        self.asked: list[tuple[int, int]] = []
        client.subscribe(client.topics.all_req("calls_since"), self._answer, m.CallsSince)

    def _answer(self, topic: str, request: m.CallsSince) -> None:
        self.asked.append((request.after_seq, request.limit))
        calls = [c for c in self.stored if (c.seq or 0) > request.after_seq][: request.limit]
        asker = self.client.topics.request_of(topic)
        assert asker is not None, topic
        answer = m.Response(request_id=request.id, ok=True, calls=calls)
        self.client.publish(self.client.topics.resp(asker[0]), answer)


@pytest.fixture
def server(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[BusClient]:
    client = BusClient(as_identity(mosquitto, "queue-server"), demo_site.site.id, "fake-server")
    yield client
    for n in (1, 2):
        client.publish(client.topics.counter_state(n), "", retain=True)
    client.stop()


def state(counter: int, seq: int) -> m.CounterState:
    return m.CounterState(
        counter=counter,
        name=f"Quầy {counter}",
        status=m.CounterStatus.OPEN,
        current=f"A{1000 + seq}",
        call_seq=seq,
    )


# --- the model ---------------------------------------------------------------------------------


def test_behind_names_the_seq_after_which_calls_are_missing() -> None:
    model = HallModel(synced_seq=0)
    assert model.behind() is None
    model.receive_call(call(1), 0.0)
    model.receive_call(call(3), 0.0)
    assert model.behind() == 1  # 2 is missing: 3 is held for it
    model.receive_call(call(2), 0.1)
    assert model.behind() is None
    model.receive_counter_state(state(2, 5))  # the LED shows call 5: 4 and 5 never came live
    assert model.behind() == 3


def test_a_burst_is_headlined_one_by_one_each_for_its_minimum_time() -> None:
    model = HallModel(synced_seq=0, headline_min_s=4.0)
    for seq in (1, 2, 3):
        model.receive_call(call(seq), 0.0)
    seen = [model.current_headline(t) for t in (0.0, 1.0, 3.9, 4.0, 7.9, 8.0, 30.0)]
    assert [c.seq if c else None for c in seen] == [1, 1, 1, 2, 2, 3, 3]


def test_rebuild_lists_without_headlining_and_skips_what_was_seen() -> None:
    model = HallModel(synced_seq=8)
    model.receive_call(call(9), 0.0)
    new = model.rebuild([call(s) for s in (7, 8, 9, 10)])
    assert [c.seq for c in new] == [7, 8, 10]
    assert [c.seq for c in model.history] == [10, 9, 8, 7]
    assert model.last_seq == 10 and list(model.headlines) == [model.history[1]]


# --- the board over a real Mosquitto -------------------------------------------------------------


@pytest.mark.integration
def test_a_lost_live_call_is_fetched_shown_and_announced_in_seq_order(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, server: BusClient
) -> None:
    stored = [call(s, counter=1 + s % 2) for s in range(1, 6)]
    responder = CallsResponder(server.start(), stored)
    hall = HallBoardViewModel(demo_site, mosquitto).start()
    try:
        server.publish(server.topics.counter_state(1), state(1, 0), retain=True)
        for c in stored:
            if c.seq != 3:  # its live message is lost
                server.publish(server.topics.calls(), c)
        server.publish(server.topics.calls(), stored[1])  # and one arrives twice
        qtbot.waitUntil(lambda: len(hall.model.history) == 5, timeout=10000)
        assert [c.seq for c in hall.model.history] == [5, 4, 3, 2, 1]
        assert [c.seq for c in hall.announced] == [1, 2, 3, 4, 5]
        assert (2, 50) in responder.asked
    finally:
        hall.stop()


@pytest.mark.integration
def test_the_last_call_lost_is_found_through_the_retained_counter_state(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, server: BusClient
) -> None:
    stored = [call(1), call(2, counter=2, age_s=600)]  # call 2 is old by now: listed, not announced
    CallsResponder(server.start(), stored)
    hall = HallBoardViewModel(demo_site, mosquitto).start()
    try:
        server.publish(server.topics.counter_state(1), state(1, 0), retain=True)
        server.publish(server.topics.calls(), stored[0])
        qtbot.waitUntil(lambda: len(hall.announced) == 1, timeout=5000)
        server.publish(server.topics.counter_state(2), state(2, 2), retain=True)  # no live message
        qtbot.waitUntil(lambda: len(hall.model.history) == 2, timeout=10000)
        assert [c["number"] for c in hall.recentCalls] == ["A1002", "A1001"]
        assert [c.seq for c in hall.announced] == [1]
    finally:
        hall.stop()


@pytest.mark.integration
def test_after_a_restart_the_board_rebuilds_its_list_and_says_nothing_again(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, server: BusClient
) -> None:
    stored = [call(s, counter=1 + s % 2) for s in range(1, 11)]
    responder = CallsResponder(server.start(), stored)
    for n, seq in ((1, 10), (2, 9)):
        server.publish(server.topics.counter_state(n), state(n, seq), retain=True).wait_for_publish(5)
    hall = HallBoardViewModel(demo_site, mosquitto).start()
    try:
        qtbot.waitUntil(lambda: len(hall.recentCalls) == 6, timeout=10000)
        assert [c["number"] for c in hall.recentCalls] == [f"A{1000 + s}" for s in range(10, 4, -1)]
        assert responder.asked == [(4, 6)]
        assert hall.announced == [] and hall.newestText == "Xin chào quý khách"
        server.publish(server.topics.calls(), call(11))
        qtbot.waitUntil(lambda: len(hall.announced) == 1, timeout=5000)
        assert hall.recentCalls[0]["number"] == "A1011" and hall.recentCalls[0]["current"] is True
    finally:
        hall.stop()
