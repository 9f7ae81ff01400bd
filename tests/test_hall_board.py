"""The hall board window (offscreen) follows calls in seq order and the queues' waiting counts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtQuick import QQuickWindow
from pytestqt.qtbot import QtBot
from support import find_item

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.hall import HALL_QML, HallBoardViewModel
from kiosk.app import load_qml
from siteconf import Site

pytestmark = pytest.mark.integration


@pytest.fixture
def server_side(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[BusClient]:
    client = BusClient(mosquitto, demo_site.site.id, "fake-server").start()
    yield client
    client.stop()


def call(seq: int, number: str, counter: int) -> m.CallEvent:
    return m.CallEvent(
        seq=seq, number=number, service="land", counter=counter, counter_name=f"Quầy {counter}"
    )


def test_calls_are_shown_newest_first_by_seq_even_when_they_arrive_out_of_order(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, server_side: BusClient, tmp_path: Path
) -> None:
    hall = HallBoardViewModel(demo_site, mosquitto).start()
    engine = load_qml(HALL_QML, "hall", hall)
    window = engine.rootObjects()[0]
    assert isinstance(window, QQuickWindow)
    try:
        t = server_side.topics
        server_side.publish(
            t.queue_state("land"), m.QueueState(service="land", service_name="Đất đai", waiting=3)
        )
        for event in [call(1, "A1001", 1), call(3, "A1003", 2), call(2, "A1002", 1)]:
            server_side.publish(t.calls(), event)
        qtbot.waitUntil(lambda: len(hall.calls) == 3, timeout=5000)
        assert [c["number"] for c in hall.calls] == ["A1003", "A1002", "A1001"]
        assert hall.queues == [{"name": "Đất đai", "waiting": 3}]
        assert find_item(window, "newestCall").property("text") == "Mời công dân số A1003 đến Quầy 2"
        window.grabWindow().save(str(tmp_path / "hall.png"))
    finally:
        hall.stop()
        del engine
