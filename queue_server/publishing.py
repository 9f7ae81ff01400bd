"""What leaves the queue server, and only after the store committed it.

The worker collects a batch's effects in an ``Outbox``; once the transaction committed, ``Publisher``
sends them in the order people notice: calls first (the hall board and the voice are what the citizen
is waiting for), then the answers (to the MQTT ``reply_to`` topic, or to the waiting HTTP thread),
then the retained ``counter/*/state`` and ``queue/*/state`` of what changed. ``publish_all`` sends the
retained state of every queue and counter (after a reconnect: a restarted broker lost it).

Calls go through a transactional outbox: ``stage`` writes each call's message into the ``outbox`` table
inside the batch's transaction, ``publish`` sends exactly those bytes after commit, and a later batch
marks them published once the broker acknowledged them (QoS 1). ``republish_unsent`` (at start and
after every reconnect) sends again every call not yet marked, in ``seq`` order. A call is therefore
published at least once even if the process dies between commit and publish; receivers drop the
duplicates by ``seq`` (and the bus client by message id, which the stored bytes keep). Answers need no
outbox (a retried request id gets its stored answer) and neither does retained state (republished
whole at every connect).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field

import paho.mqtt.client as paho

from bus import models as m
from bus.client import BusClient, acknowledged
from bus.topics import Topics
from queue_server.core import Core
from queue_server.db import Tx
from queue_server.engine import CallRecord
from queue_server.faults import maybe_die
from queue_server.handlers import Inbound
from queue_server.views import counter_state, queue_state

log = logging.getLogger(__name__)


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
    staged: list[tuple[int, str]] = field(default_factory=list)  # (seq, JSON) kept in the outbox


class Publisher:
    """Sends committed effects on the bus, holding the server's lock so the state it reads is whole."""

    def __init__(
        self, core: Core, bus: BusClient, topics: Topics, lock: threading.RLock, *, outbox: bool = True
    ) -> None:
        self.core = core
        self.bus = bus
        self.topics = topics
        self.lock = lock
        self.outbox = outbox  # False: calls published straight from memory (the bench's baseline)
        self.calls_published = 0
        self._unacked: list[tuple[int, paho.MQTTMessageInfo]] = []  # sent calls, in seq order

    def stage(self, tx: Tx, out: Outbox) -> None:
        """Inside the batch's transaction: mark what the broker acknowledged, keep the new calls."""
        upto = self._acknowledged()
        if upto is not None:
            tx.mark_published(upto)
        if not self.outbox:
            return
        topic = self.topics.calls()
        for call in out.calls:
            payload = self.call_event(call).to_json().decode()
            tx.add_outbox(call.seq, topic, payload, call.at)
            out.staged.append((call.seq, payload))

    def publish(self, out: Outbox) -> None:
        with self.lock:
            maybe_die("after_commit")
            if self.outbox:
                self._send_staged(out.staged)
            else:
                for call in out.calls:
                    self.bus.publish(self.topics.calls(), self.call_event(call))
                    self.calls_published += 1
            for item, response in out.replies:
                self.reply(item, response)
            for number in sorted(out.counters):
                self._counter(number)
            for code in sorted(out.services):
                self._queue(code)

    def _send_staged(self, staged: list[tuple[int, str]]) -> None:
        topic = self.topics.calls()
        for i, (seq, payload) in enumerate(staged):
            self._unacked.append((seq, self.bus.publish(topic, payload)))
            self.calls_published += 1
            if i == 0:
                maybe_die("mid_publish")

    def _acknowledged(self) -> int | None:
        """The highest seq up to which every sent call was acknowledged by the broker (and forget them)."""
        upto = None
        with self.lock:
            # A publish that failed (the broker was away) stops the count here: it is sent again by
            # republish_unsent at the reconnect, and only then can it be acknowledged.
            while self._unacked and acknowledged(self._unacked[0][1]):
                seq = self._unacked.pop(0)[0]
                upto = seq if upto is None else max(upto, seq)
        return upto

    def republish_unsent(self) -> None:
        """Send again every call the outbox does not know went out, in seq order."""
        sent, after = 0, 0
        with self.lock:
            self._unacked = []  # all of them are unmarked rows, and are sent again just below
            while True:
                rows = self.core.store.outbox(after, unpublished=True)
                if not rows:
                    if sent:
                        log.info("sent again %d calls not known to have reached the broker", sent)
                    return
                for row in rows:
                    self._unacked.append((row["seq"], self.bus.publish(row["topic"], row["payload"])))
                    sent += 1
                after = rows[-1]["seq"]

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
