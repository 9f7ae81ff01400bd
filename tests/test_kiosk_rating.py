"""The rating tablet over a real Mosquitto: officer on duty, rating asked when the clerk finishes,
one rating per ticket, polite timeout, ``RatingGiven`` on the tablet's ``evt`` topic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from broker_support import as_identity
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtQuick import QQuickWindow
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from support import find_item, wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from kiosk.app import load_screen, window_of
from kiosk.rating import RatingViewModel
from siteconf import Site
from siteconf.model import Device

pytestmark = pytest.mark.integration


def tablet_site(site: Site, levels: int = 3) -> Site:
    tablet = Device(id="tablet-2", kind=m.DeviceKind.RATING_TABLET, counter=2)
    rating = site.kiosk.rating.model_copy(update={"levels": levels})
    kiosk = site.kiosk.model_copy(update={"rating": rating})
    return site.model_copy(update={"devices": [*site.devices, tablet], "kiosk": kiosk})


@pytest.fixture
def server(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[tuple[BusClient, list[Any]]]:
    """A stand-in for the queue server's retained counter state, and a spy on the tablet's events."""
    client = BusClient(as_identity(mosquitto, "queue-server"), demo_site.site.id, "state-stand-in")
    events: list[Any] = []
    client.subscribe(
        client.topics.device_evt("tablet-2"), lambda _t, e: events.append(e), m.device_event_adapter
    )
    client.start()
    yield client, events
    client.publish(client.topics.counter_state(2), "", retain=True)
    client.stop()


def publish_state(client: BusClient, current: str | None, officer: str = "cb-001") -> None:
    state = {
        "v": 1,
        "id": m.new_id(),
        "ts": m.now().isoformat(),
        "kind": "counter_state",
        "counter": 2,
        "name": "Quầy 2",
        "status": "open",
        "current": current,
        "officer": officer,
        "ticket_id": f"2026-11-23/A/{current[1:]}" if current else None,
    }
    client.publish(client.topics.counter_state(2), json.dumps(state), retain=True)


def click(qtbot: QtBot, window: QQuickWindow, name: str) -> None:
    """Tap the middle of ``name`` as the screen shows it: after the next frame. A screen that just
    changed (the rating buttons appearing) is laid out when that frame is prepared; before it, the
    new buttons still sit at their layout's origin and the tap would land elsewhere."""
    with qtbot.waitSignal(window.frameSwapped, timeout=2000):
        window.update()
    item = find_item(window, name)
    centre = item.mapToScene(QPointF(item.width() / 2, item.height() / 2)).toPoint()
    QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(centre))


def test_finishing_a_ticket_asks_once_and_publishes_the_rating_with_officer_and_answers(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, server: tuple[BusClient, list[Any]], tmp_path: Path
) -> None:
    client, events = server
    publish_state(client, "A1001")
    vm = RatingViewModel(tablet_site(demo_site), "tablet-2", mosquitto).start()
    engine = load_screen("rating", vm)
    window = window_of(engine)
    qtbot.waitExposed(window)
    qtbot.waitUntil(lambda: vm.current_screen() == "serving", timeout=5000)  # from the retained state
    assert find_item(window, "officerName").property("text") == "Nguyễn Thị Lan"
    assert find_item(window, "servingNumber").property("text") == "A1001"
    publish_state(client, "A1002")  # the clerk finished A1001 and called the next citizen
    qtbot.waitUntil(lambda: vm.current_screen() == "rate", timeout=5000)
    assert vm.number == "A1001"
    click(qtbot, window, "rate-2")
    qtbot.waitUntil(lambda: vm.current_screen() == "questions", timeout=2000)
    click(qtbot, window, "answer-attitude-2")
    click(qtbot, window, "submit")
    assert wait_until(lambda: len(events) == 1)
    rating = events[0]
    assert isinstance(rating, m.RatingGiven)
    assert (rating.ticket, rating.number, rating.counter, rating.officer) == (
        "2026-11-23/A/1001",
        "A1001",
        2,
        "cb-001",
    )
    assert (rating.score, rating.scale, rating.answers) == (2, 3, {"attitude": 2})
    publish_state(client, "A1001")  # a recall of a rated ticket, then finished again: never rated twice
    qtbot.wait(200)
    publish_state(client, None)
    qtbot.waitUntil(lambda: vm.current_screen() == "rate", timeout=5000)  # A1002 now
    assert vm.number == "A1002"
    vm.rate(0)
    vm.submit()
    qtbot.wait(100)
    publish_state(client, "A1003")
    publish_state(client, None)
    qtbot.waitUntil(lambda: vm.current_screen() == "rate" and vm.number == "A1003", timeout=5000)
    assert wait_until(lambda: len(events) == 2)
    assert [(e.number, e.score) for e in events] == [("A1001", 2), ("A1002", 0)]  # A1001 rated once
    # The server's verdict comes back on resp/tablet-2, keyed by the rating's id.
    error = m.ErrorInfo(code="already_rated", message="Số A1002 đã được đánh giá.")
    client.publish(client.topics.resp("tablet-2"), m.Response(request_id=events[1].id, ok=False, error=error))
    # The verdict is applied on the Qt thread (the screen shows it): wait with Qt's event loop running.
    qtbot.waitUntil(lambda: events[1].id in vm.verdicts, timeout=5000)
    verdict = vm.verdicts[events[1].id].error
    assert verdict is not None and verdict.code == "already_rated"
    window.close()
    vm.stop()
    del engine


def test_an_unanswered_question_times_out_politely_without_a_rating(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, server: tuple[BusClient, list[Any]]
) -> None:
    client, events = server
    vm = RatingViewModel(tablet_site(demo_site, levels=5), "tablet-2", mosquitto, idle_reset_ms=300).start()
    publish_state(client, "A1005")
    qtbot.waitUntil(lambda: vm.current_screen() == "serving", timeout=5000)
    publish_state(client, None)
    qtbot.waitUntil(lambda: vm.current_screen() == "rate", timeout=5000)
    assert [level["score"] for level in vm.levels] == [4, 3, 2, 1, 0]
    qtbot.waitUntil(lambda: vm.current_screen() == "idle", timeout=3000)
    qtbot.wait(300)
    assert events == [] and vm.published == []
    with pytest.raises(ValueError, match="5-level"):
        vm._screen, vm._asking, vm._score = "rate", vm._view, None
        vm.rate(7)
    vm.stop()


def test_the_officer_photo_comes_from_the_site_folder(qtbot: QtBot, demo_site: Site, tmp_path: Path) -> None:
    from PIL import Image

    from kiosk.rating import CounterView

    Image.new("RGB", (300, 400), (120, 80, 60)).save(tmp_path / "cb-001.png")
    officers = [o.model_copy(update={"photo": "cb-001.png"}) for o in demo_site.kiosk.officers]
    site = tablet_site(demo_site)
    site = site.model_copy(update={"kiosk": site.kiosk.model_copy(update={"officers": officers})})
    vm = RatingViewModel(site, "tablet-2", "mqtt://127.0.0.1:1", photos=tmp_path)  # never started
    engine = load_screen("rating", vm)
    window = window_of(engine)
    qtbot.waitExposed(window)
    vm._apply_state(CounterView(counter=2, current="A1001", officer="cb-001"))
    assert vm.officer["photo"] == (tmp_path / "cb-001.png").as_uri()
    qtbot.waitUntil(lambda: find_item(window, "officerPhoto").property("paintedWidth") > 0, timeout=3000)
    vm._apply_state(CounterView(counter=2, current="A1002", officer="cb-404"))
    assert vm.current_screen() == "rate" and vm.officer["name"] == "Nguyễn Thị Lan"  # who served A1001
    vm.rate(1)
    vm.submit()
    vm._after_thanks()
    assert vm.current_screen() == "serving" and vm.number == "A1002"
    assert vm.officer == {"name": "", "title": "", "photo": ""}  # an officer id the site does not list
    assert not find_item(window, "officerView").property("visible")
    window.close()
    del engine


def answer(client: BusClient, rating: m.RatingGiven, code: str | None) -> None:
    """The stand-in server's verdict on ``rating``: stored (``None``) or refused with ``code``."""
    error = None if code is None else m.ErrorInfo(code=code, message="từ chối", message_en="refused")
    client.publish(
        client.topics.resp("tablet-2"), m.Response(request_id=rating.id, ok=code is None, error=error)
    )


def give_rating(qtbot: QtBot, client: BusClient, vm: RatingViewModel, number: str) -> None:
    publish_state(client, number)
    qtbot.waitUntil(lambda: vm.current_screen() == "serving" and vm.number == number, timeout=5000)
    publish_state(client, None)
    qtbot.waitUntil(lambda: vm.current_screen() == "rate", timeout=5000)
    vm.rate(2)
    vm.submit()
    assert vm.current_screen() == "thanks"


@pytest.mark.parametrize(
    "refusal",
    [
        ("already_rated", "Phiếu này đã được đánh giá.", "This ticket has already been rated."),
        ("expired", "Hết thời gian đánh giá phiếu này.", "The time to rate this ticket is over."),
        (
            "forbidden",
            "Đánh giá này không được ghi nhận tại quầy này.",
            "This rating cannot be recorded at this counter.",
        ),
        ("bad_request", "Đánh giá không hợp lệ.", "The rating is not valid."),
        ("something_new", "Đánh giá chưa được ghi nhận.", "The rating was not recorded."),
    ],
)
def test_a_refused_rating_is_explained_on_the_screen_in_both_languages(
    qtbot: QtBot,
    demo_site: Site,
    mosquitto: BrokerUrl,
    server: tuple[BusClient, list[Any]],
    refusal: tuple[str, str, str],
) -> None:
    code, vi, en = refusal
    client, events = server
    vm = RatingViewModel(tablet_site(demo_site), "tablet-2", mosquitto).start()
    engine = load_screen("rating", vm)
    window = window_of(engine)
    qtbot.waitExposed(window)
    give_rating(qtbot, client, vm, "A1001")
    assert wait_until(lambda: len(events) == 1)
    answer(client, events[0], code)
    qtbot.waitUntil(lambda: vm.current_screen() == "refused", timeout=5000)
    assert find_item(window, "prompt").property("text") == vi  # instead of the thanks
    vm.ui.toggleLanguage()
    qtbot.waitUntil(lambda: find_item(window, "prompt").property("text") == en, timeout=2000)
    window.close()
    vm.stop()
    del engine


def test_a_transient_server_error_sends_the_same_rating_again(
    qtbot: QtBot, demo_site: Site, mosquitto: BrokerUrl, server: tuple[BusClient, list[Any]]
) -> None:
    client, _ = server
    sent: list[m.RatingGiven] = []  # every copy on the wire (the stand-in's own list drops repeats)
    # Only the tablet and the server may read the tablet's evt: the watcher logs in as the server.
    wire = BusClient(as_identity(mosquitto, "queue-server"), demo_site.site.id, "wire-watcher")
    wire.subscribe(
        wire.topics.device_evt("tablet-2"), lambda _t, e: sent.append(e), m.RatingGiven, dedupe=False
    )
    wire.start()
    vm = RatingViewModel(tablet_site(demo_site), "tablet-2", mosquitto).start()
    try:
        give_rating(qtbot, client, vm, "A1001")
        qtbot.waitUntil(lambda: len(sent) == 1, timeout=5000)
        answer(client, sent[0], "internal_error")  # the server's batch failed; it stored nothing
        qtbot.waitUntil(lambda: len(sent) == 2, timeout=5000)
        assert sent[1] == sent[0]  # the same rating, same id: the server can never count it twice
        answer(client, sent[1], None)
        qtbot.waitUntil(lambda: sent[1].id in vm.verdicts and vm.verdicts[sent[1].id].ok, timeout=5000)
        assert vm.current_screen() == "thanks"
        for _ in range(2):  # it keeps failing: two more tries (three in all), then the citizen is told
            before = len(sent)
            answer(client, sent[-1], "internal_error")
            qtbot.waitUntil(lambda: len(sent) > before, timeout=10000)  # noqa: B023  used at once
        answer(client, sent[-1], "internal_error")
        qtbot.waitUntil(lambda: vm.current_screen() == "refused", timeout=5000)
        assert vm.notice.startswith("Hệ thống đang bận")
    finally:
        vm.stop()
        wire.stop()
