"""The hall board's view-model and window: calls in ``seq`` order, the latest call per counter with
the newest highlighted, waiting counts per service, a scrolling notice, and the voice.

It reads ``calls``, the retained ``counter/+/state`` and ``queue/+/state`` through its own MQTT
connection. Messages arrive on paho's thread and are handed to the GUI thread through a queued
signal; :class:`~counter_display.hall_model.HallModel` decides what is presented. Each presented
call that is fresh is given to the :class:`~counter_display.voice.announcer.Announcer`, which says
them one after another. Layout, language and notice come from the site file's ``[display.hall]``.

Nothing called is lost to a dropped message: when the model sees a gap in ``seq`` (or a retained
counter state newer than any call seen) the board asks the server ``calls_since`` on a worker
thread and feeds the answer back in; at start it asks for the last ``recent_calls`` to rebuild its
list (listed, not announced again). Duplicates are dropped by ``seq`` in the model.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from bus import models as m
from bus.client import BrokerUrl, BusClient
from counter_display.hall_model import HallModel
from counter_display.voice.announcer import Announcement, Announcer
from qtview import qt_property
from siteconf import Site
from siteconf.display import Language

log = logging.getLogger(__name__)

T = TypeVar("T")


HALL_QML = Path(__file__).parent / "qml" / "HallBoard.qml"
GAP_CHECK_MS = 50
HEADLINE_TICK_MS = 250
REBUILD_AFTER_MS = 500
"""Retained counter states (which tell the newest ``seq``) arrive within this after connecting."""
FETCH_TIMEOUT_S = 5.0
GAP_WAIT_S = 1.5
"""How long a call waits for a missing predecessor: room for one ``calls_since`` round trip."""

LABELS = {
    Language.VI: {
        "call": "Mời công dân số {number} đến {counter}",
        "welcome": "Xin chào quý khách",
        "waiting": "{n} người chờ",
        "closed": "Tạm nghỉ",
        "counter": "Quầy",
        "number": "Số",
        "recent": "Vừa gọi",
    },
    Language.EN: {
        "call": "Number {number}, please go to {counter}",
        "welcome": "Welcome",
        "waiting": "{n} waiting",
        "closed": "Closed",
        "counter": "Counter",
        "number": "Number",
        "recent": "Just called",
    },
}


class _Rebuilt:
    """Calls fetched at start, handed to the GUI thread."""

    def __init__(self, calls: list[m.CallEvent]) -> None:
        self.calls = calls


class _Fetched:
    """Calls fetched to fill a gap, handed to the GUI thread."""

    def __init__(self, calls: list[m.CallEvent]) -> None:
        self.calls = calls


class HallBoardViewModel(QObject):
    changed = Signal()
    _incoming = Signal(object)

    def __init__(
        self,
        site: Site,
        broker: str | BrokerUrl,
        client_id: str = "hall-board",
        announcer: Announcer | None = None,
    ) -> None:
        super().__init__()
        self._site = site
        self._conf = site.display.hall
        self._labels = LABELS[self._conf.language]
        self.model = HallModel(gap_wait=GAP_WAIT_S, headline_min_s=self._conf.headline_min_s)
        self.fetches = 0
        self._fetching = threading.Lock()
        self.announcer = announcer
        self.announced: list[m.CallEvent] = []
        self._incoming.connect(self._apply)
        self._gap_timer = QTimer(self)
        self._gap_timer.setInterval(GAP_CHECK_MS)
        self._gap_timer.timeout.connect(self._release_due)
        self._headline_timer = QTimer(self)
        self._headline_timer.setInterval(HEADLINE_TICK_MS)
        self._headline_timer.timeout.connect(self._tick_headline)
        self.bus = BusClient(broker, site.site.id, client_id)
        self.bus.enable_requests()
        self.bus.subscribe(self.bus.topics.calls(), self._relay, m.CallEvent)
        self.bus.subscribe(self.bus.topics.all_counter_state(), self._relay, m.CounterState)
        self.bus.subscribe(self.bus.topics.all_queue_state(), self._relay, m.QueueState)

    def start(self) -> HallBoardViewModel:
        self.bus.start()
        self._headline_timer.start()
        QTimer.singleShot(REBUILD_AFTER_MS, self._rebuild)
        return self

    def stop(self) -> None:
        self._gap_timer.stop()
        self._headline_timer.stop()
        self.bus.stop()

    # --- fetching what the stream missed ---------------------------------------------------------

    @Slot()
    def _rebuild(self) -> None:
        newest = self.model.known_seq
        if newest is None:
            return  # no call yet on this site (or no retained state): nothing to rebuild
        after = max(0, newest - self._conf.recent_calls)
        self._fetch(after, self._conf.recent_calls, rebuild=newest)

    def _fetch(self, after_seq: int, limit: int = 50, rebuild: int | None = None) -> None:
        """``rebuild``: the newest ``seq`` the board knew of at start; calls up to it were said
        before the restart (listed only), later ones are new (presented and announced)."""
        """Ask ``calls_since`` on a worker thread (one at a time); the answer goes to the GUI thread."""
        if not self._fetching.acquire(blocking=False):
            return
        self.fetches += 1
        threading.Thread(
            target=self._fetch_worker, args=(after_seq, limit, rebuild), name="hall-fetch", daemon=True
        ).start()

    def _fetch_worker(self, after_seq: int, limit: int, rebuild: int | None) -> None:
        try:
            answer = self.bus.request(
                "calls_since", m.CallsSince(after_seq=after_seq, limit=limit), timeout=FETCH_TIMEOUT_S
            )
        except Exception as err:  # noqa: BLE001  a failed fetch must not stop the board; gap_wait still releases
            log.warning("calls_since after seq %d failed: %s", after_seq, err)
            return
        finally:
            self._fetching.release()
        if not answer.ok or answer.calls is None:
            log.warning("calls_since after seq %d refused: %s", after_seq, answer.error)
            return
        if rebuild is None:
            self._incoming.emit(_Fetched(answer.calls))
            return
        said = [c for c in answer.calls if c.seq is not None and c.seq <= rebuild]
        self._incoming.emit(_Rebuilt(said))
        self._incoming.emit(_Fetched([c for c in answer.calls if c not in said]))

    @Slot()
    def _tick_headline(self) -> None:
        before = self.model.headline
        if self.model.current_headline(time.monotonic()) is not before:
            self.changed.emit()

    def _relay(self, _topic: str, message: m.CallEvent | m.CounterState | m.QueueState) -> None:
        self._incoming.emit(message)

    @Slot(object)
    def _apply(self, message: m.CallEvent | m.CounterState | m.QueueState | _Rebuilt | _Fetched) -> None:
        now = time.monotonic()
        if isinstance(message, m.QueueState):
            self.model.receive_queue_state(message)
        elif isinstance(message, m.CounterState):
            self.model.receive_counter_state(message)
        elif isinstance(message, _Rebuilt):
            self.model.rebuild(message.calls)
        elif isinstance(message, _Fetched):
            for call in message.calls:
                self._presented(self.model.receive_call(call, now))
        else:
            self._presented(self.model.receive_call(message, now))
        behind = self.model.behind()
        if behind is not None and self.model.last_seq is not None:
            self._fetch(behind)
        if self.model.waiting_for_gap:
            self._gap_timer.start()
        self.model.current_headline(now)
        self.changed.emit()

    @Slot()
    def _release_due(self) -> None:
        presented = self.model.due(time.monotonic())
        if not self.model.waiting_for_gap:
            self._gap_timer.stop()
        if presented:
            self._presented(presented)
            self.model.current_headline(time.monotonic())
            self.changed.emit()

    def _presented(self, calls: list[m.CallEvent]) -> None:
        for call in calls:
            if not self.model.fresh(call):
                log.info("call seq %s for %s is old; shown, not announced", call.seq, call.number)
                continue
            self.announced.append(call)
            if self.announcer is not None:
                service = next((s for s in self._site.services if s.code == call.service), None)
                self.announcer.announce(
                    Announcement(
                        call.number,
                        call.counter,
                        call.counter_name,
                        service.name if service else "",
                        call.recall,
                        call.seq,
                    )
                )

    # --- properties for QML ----------------------------------------------------------------------

    def _call_text(self, call: m.CallEvent) -> str:
        return self._labels["call"].format(number=call.number, counter=call.counter_name)

    def _get_calls(self) -> list[dict[str, Any]]:
        shown = self.model.history[: self._conf.shown_calls]
        return [
            {"number": c.number, "counter": c.counter_name, "recall": c.recall, "newest": i == 0}
            for i, c in enumerate(shown)
        ]

    def _get_counters(self) -> list[dict[str, Any]]:
        newest = self.model.newest()
        closed = {m.CounterStatus.CLOSED, m.CounterStatus.PAUSED}
        return [
            {
                "counter": t.counter,
                "name": t.name,
                "number": t.number or "",
                "closed": t.status in closed,
                "newest": newest is not None and newest.counter == t.counter and newest.seq == t.seq,
            }
            for t in sorted(self.model.tiles.values(), key=lambda t: t.counter)
        ]

    def _get_queues(self) -> list[dict[str, Any]]:
        english = self._conf.language is Language.EN
        out = []
        for service in self._site.services:
            state = self.model.queues.get(service.code)
            if state is None:
                continue
            name = (service.name_en or service.name) if english else service.name
            text = f"{name}: " + self._labels["waiting"].format(n=state.waiting)
            out.append({"name": name, "waiting": state.waiting, "text": text})
        return out

    def _get_recent(self) -> list[dict[str, Any]]:
        headline = self.model.headline
        return [
            {
                "number": c.number,
                "counter": c.counter_name,
                "recall": c.recall,
                "current": headline is not None and c.seq == headline.seq,
            }
            for c in self.model.history[: self._conf.recent_calls]
        ]

    def _get_newest_text(self) -> str:
        headline = self.model.headline
        return self._call_text(headline) if headline else self._labels["welcome"]

    def _get_centre(self) -> str:
        return self._site.site.name

    def _get_notice(self) -> str:
        return self._conf.notice_en if self._conf.language is Language.EN else self._conf.notice

    def _get_layout(self) -> str:
        return str(self._conf.layout)

    def _get_columns(self) -> int:
        return self._conf.columns

    def _get_labels(self) -> dict[str, str]:
        return dict(self._labels)

    calls = qt_property(list, _get_calls, notify=changed)
    counters = qt_property(list, _get_counters, notify=changed)
    queues = qt_property(list, _get_queues, notify=changed)
    recentCalls = qt_property(list, _get_recent, notify=changed)
    newestText = qt_property(str, _get_newest_text, notify=changed)
    centreName = qt_property(str, _get_centre)
    notice = qt_property(str, _get_notice)
    layout = qt_property(str, _get_layout)
    columns = qt_property(int, _get_columns)
    labels = qt_property(dict, _get_labels)


def run_hall_window(site_path: Path, broker: str | None, voice: bool = True, board: int = 1) -> int:
    """``motcua hall``: the board full screen on this machine's display, until closed or Ctrl-C.

    ``board`` says which of the site's hall screens this is: each logs in as itself (two screens
    under one login would knock each other off the broker)."""
    import signal
    import sys

    from PySide6.QtGui import QGuiApplication

    from siteconf import SiteFileError, load_site

    try:
        site = load_site(site_path)
    except SiteFileError as err:
        print(f"motcua hall: {err}", file=sys.stderr)
        return 2
    boards = site.display.hall.board_ids()
    if not 1 <= board <= len(boards):
        print(
            f"motcua hall: --board {board}: the site has {len(boards)} hall screen(s)"
            " ([display.hall] boards)",
            file=sys.stderr,
        )
        return 2
    app = QGuiApplication.instance() or QGuiApplication(sys.argv)
    announcer = Announcer(site.voice_conf()) if voice and site.display.voice.enabled else None
    hall, engine = open_hall_window(
        site, broker or site.broker.url, announcer=announcer, client_id=boards[board - 1]
    )
    previous = signal.signal(signal.SIGINT, lambda *_: app.quit())
    keepalive = QTimer()
    keepalive.start(200)  # lets Python see Ctrl-C while Qt's loop runs
    keepalive.timeout.connect(lambda: None)
    try:
        return int(app.exec())
    finally:
        signal.signal(signal.SIGINT, previous)
        keepalive.stop()
        hall.stop()
        if announcer is not None:
            announcer.stop()
        del engine


def open_hall_window(
    site: Site, broker: str | BrokerUrl, announcer: Announcer | None = None, client_id: str = "hall-board"
) -> tuple[HallBoardViewModel, Any]:
    """The board's view-model (started) and its window, at 1920 x 1080 or shrunk to fit the screen it
    opens on (the QML scales its content to the window)."""
    from PySide6.QtQuick import QQuickWindow

    from qtview import fit_window, load_qml

    hall = HallBoardViewModel(site, broker, client_id=client_id, announcer=announcer).start()
    engine = load_qml(HALL_QML, "hall", hall)
    window = engine.rootObjects()[0]
    assert isinstance(window, QQuickWindow)
    fit_window(window, 1920, 1080)
    return hall, engine
