"""What leaves the queue server, and only after the store committed it.

The worker collects a batch's effects in an ``Outbox``; once the transaction committed, ``Publisher``
sends them in the order people notice: calls first (the hall board and the voice are what the citizen
is waiting for), then the answers (to the MQTT ``reply_to`` topic, or to the waiting HTTP thread),
then the retained ``counter/*/state`` and ``queue/*/state`` of what changed. ``publish_all`` sends the
retained state of every queue and counter (after a reconnect: a restarted broker lost it).
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

from bus import models as m
from bus.client import BusClient
from bus.topics import Topics
from queue_server.core import Core
from queue_server.engine import CallRecord
from queue_server.handlers import Inbound
from queue_server.views import counter_state, queue_state


@dataclass
class Item:
    """One request in the inbox, with where its answer goes (``reply_to`` or a waiting ``future``)."""

    request: Inbound
    verb: str
    reply_to: str | None = None
    future: Future[m.Response] | None = None


@dataclass
class Outbox:
    """A batch's effects, held back until its transaction committed."""

    replies: list[tuple[Item, m.Response]] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    counters: set[int] = field(default_factory=set)
    services: set[str] = field(default_factory=set)


class Publisher:
    """Sends committed effects on the bus, holding the server's lock so the state it reads is whole."""

    def __init__(self, core: Core, bus: BusClient, topics: Topics, lock: threading.RLock) -> None:
        self.core = core
        self.bus = bus
        self.topics = topics
        self.lock = lock
        self.calls_published = 0

    def publish(self, out: Outbox) -> None:
        with self.lock:
            for call in out.calls:
                self.bus.publish(self.topics.calls(), self.call_event(call))
                self.calls_published += 1
            for item, response in out.replies:
                self.reply(item, response)
            for number in sorted(out.counters):
                self._counter(number)
            for code in sorted(out.services):
                self._queue(code)

    def reply(self, item: Item, response: m.Response) -> None:
        if item.future is not None:
            item.future.set_result(response)
        elif item.reply_to is not None:
            self.bus.publish(item.reply_to, response)

    def call_event(self, call: CallRecord) -> m.CallEvent:
        return m.CallEvent(
            seq=call.seq,
            number=call.code,
            service=call.service,
            counter=call.counter,
            counter_name=self.core.site.counter(call.counter).name,
            recall=call.recall,
        )

    def publish_all(self) -> None:
        """Retained state of every queue and counter, so displays that connect later are right."""
        with self.lock:
            for service in self.core.site.services:
                self._queue(service.code)
            for counter in self.core.site.counters:
                self._counter(counter.number)

    def _counter(self, number: int) -> None:
        state = counter_state(self.core, number)
        self.bus.publish(self.topics.counter_state(number), state, retain=True)

    def _queue(self, code: str) -> None:
        self.bus.publish(self.topics.queue_state(code), queue_state(self.core, code), retain=True)
