"""The hall board's view-model: the latest calls (newest first, in ``seq`` order) and the queues.

It reads ``calls`` and the retained ``queue/+/state`` through its own MQTT connection; messages
arrive on paho's thread and are handed to the GUI thread through a queued signal. (Voice, layout
options, languages and gap resync are the counter-hardware issue's work.)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Property, QObject, Signal, Slot

from bus import models as m
from bus.client import BrokerUrl, BusClient
from siteconf import Site

SHOWN_CALLS = 8
HALL_QML = Path(__file__).parent / "qml" / "HallBoard.qml"


class HallBoardViewModel(QObject):
    changed = Signal()
    _incoming = Signal(object)

    def __init__(self, site: Site, broker: str | BrokerUrl, client_id: str = "hall-board") -> None:
        super().__init__()
        self._site = site
        self._calls: list[m.CallEvent] = []
        self._queues: dict[str, m.QueueState] = {}
        self._incoming.connect(self._apply)
        self.bus = BusClient(broker, site.site.id, client_id)
        self.bus.subscribe(self.bus.topics.calls(), self._relay, m.CallEvent)
        self.bus.subscribe(self.bus.topics.all_queue_state(), self._relay, m.QueueState)

    def start(self) -> HallBoardViewModel:
        self.bus.start()
        return self

    def stop(self) -> None:
        self.bus.stop()

    def _relay(self, _topic: str, message: m.CallEvent | m.QueueState) -> None:
        self._incoming.emit(message)

    @Slot(object)
    def _apply(self, message: m.CallEvent | m.QueueState) -> None:
        if isinstance(message, m.QueueState):
            self._queues[message.service] = message
        else:
            self._calls = sorted([*self._calls, message], key=lambda c: c.seq or 0, reverse=True)
            self._calls = self._calls[:SHOWN_CALLS]
        self.changed.emit()

    def _get_calls(self) -> list[dict[str, Any]]:
        return [{"number": c.number, "counter": c.counter_name, "recall": c.recall} for c in self._calls]

    def _get_queues(self) -> list[dict[str, Any]]:
        names = {s.code: s.name for s in self._site.services}
        return [
            {"name": names.get(q.service, q.service_name), "waiting": q.waiting}
            for code in names
            if (q := self._queues.get(code)) is not None
        ]

    def _get_centre(self) -> str:
        return self._site.site.name

    calls = Property(list, _get_calls, notify=changed)
    queues = Property(list, _get_queues, notify=changed)
    centreName = Property(str, _get_centre, constant=True)
