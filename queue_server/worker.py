"""The worker: one thread owns the engine and the store, and commits requests in groups.

Requests (MQTT ``req/*``, keypad and rating ``evt``, HTTP counter operations) wait in one inbox;
the worker takes up to ``BATCH`` at a time and runs them in one store transaction (*group commit*:
one fsync for many requests when the centre is busy):

    for each request: stored answer? → send it again (a retry)
                      otherwise decide (``handlers.py``) → events appended to the hash chain and
                      applied, current-state rows written, the answer saved under the request id
                      calls kept in the outbox table (``Publisher.stage``)
    commit → only now: calls, answers, retained state (``publishing.py``)

A refusal (``Refused``) is an answer like any other and is stored. An unexpected failure rolls the
whole batch back, restores memory from the in-memory checkpoint and the committed events after it
(``Core.restore``; never the whole log) so memory matches the database again, and answers
``internal_error`` without storing it, so the same request id can succeed when retried.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

from bus import models as m
from queue_server.authz import keypad_may_act
from queue_server.core import Core, store_event
from queue_server.db import Tx
from queue_server.engine import Changes, Event, Refused
from queue_server.handlers import handler_for, refusal
from queue_server.publishing import Item, Outbox, Publisher
from queue_server.reconcile import close_past_days, offline_tickets

log = logging.getLogger(__name__)

BATCH = 64  # requests per transaction at most
INTERNAL_ERROR = m.ErrorInfo(
    code="internal_error",
    message="Hệ thống gặp lỗi, xin vui lòng thử lại.",
    message_en="the server failed; please try again",
)

REUSED_ID = Refused(
    "bad_request",
    "Mã yêu cầu đã được dùng cho yêu cầu khác.",
    "this request id was already used for another kind of request",
)


class Worker:
    """The inbox and the thread that empties it, a batch per transaction."""

    def __init__(self, core: Core, publisher: Publisher, lock: threading.RLock) -> None:
        self.core = core
        self.publisher = publisher
        # Held from decision to publish, and by every reader of the engine (HTTP views, the republish
        # after a reconnect), so nobody sees the engine half-way through a batch.
        self.lock = lock
        self.batches = 0
        self.busy_since: float | None = None  # monotonic start of the batch in hand (watchdog.py)
        self._inbox: queue.Queue[Item | None] = queue.Queue()
        self._thread = threading.Thread(target=self._work, name="queue-server", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def alive(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is in the inbox, then end the thread (nothing to end if it never started)."""
        self._inbox.put(None)
        if self._thread.ident is not None:
            self._thread.join(timeout)

    def put(self, item: Item) -> None:
        self._inbox.put(item)

    def _work(self) -> None:
        while True:
            item = self._inbox.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < BATCH:
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._guarded(batch)
                    return
                batch.append(more)
            self._guarded(batch)

    def _guarded(self, batch: list[Item]) -> None:
        """``_run`` with nothing let out: whatever fails, the thread carries on with the next batch."""
        self.busy_since = time.monotonic()
        try:
            self._run(batch)
        except Exception:  # the worker thread must outlive any one batch; logged with its traceback
            log.exception("a batch of %d requests failed after its commit was decided", len(batch))
        finally:
            self.busy_since = None

    def _run(self, batch: list[Item]) -> None:
        with self.lock:
            out = Outbox()
            try:
                self._commit(batch, self.core.now(), out)
            except Exception:
                log.exception("a batch of %d requests failed; restoring the engine", len(batch))
                self._restore()
                for item in batch:
                    error = m.Response(request_id=item.request.id, ok=False, error=INTERNAL_ERROR)
                    self.publisher.reply(item, error)
                return
            self.batches += 1
            self.publisher.publish(out)

    def _restore(self) -> None:
        """Memory back to the committed state: the in-memory checkpoint and the events after it."""
        try:
            self.core.restore()
        except Exception:
            # The store may still be failing; ``core.stale`` stays set and the next batch restores first.
            log.exception("restoring the engine failed; the next batch tries again")

    def _commit(self, batch: list[Item], at: datetime, out: Outbox) -> None:
        """The batch in one transaction; ``out`` collects what to publish once it committed."""
        with self.core.store.transaction() as tx:
            run = _Batch(tx, at, out)
            close_past_days(self.core, tx, at, run.changes)
            for item in batch:
                out.replies.append((item, self._answer_once(run, item)))
            self._write_rows(run)
            self.publisher.stage(tx, out)  # the outbox: calls kept in this same transaction

    def _answer_once(self, run: _Batch, item: Item) -> m.Response:
        """The stored answer to a retried request id, or a new one, saved under its id."""
        request_id = item.request.id
        stored = run.answered.get(request_id)
        if stored is None:
            saved = run.tx.answered(request_id)
            if saved is not None and saved[0] != item.verb:
                return refusal(request_id, REUSED_ID)  # never another request's answer
            stored = m.Response.model_validate(saved[1]) if saved is not None else None
        if stored is not None:
            log.info("request %s was already answered; answering the same", request_id)
            return stored
        response = self._execute(run, item)
        run.tx.save_response(request_id, item.verb, response.model_dump(mode="json"))
        run.answered[request_id] = response
        return response

    def _write_rows(self, run: _Batch) -> None:
        """The current-state rows of what the batch touched."""
        engine, tx, changes, out = self.core.engine, run.tx, run.changes, run.out
        for ticket_id in changes.tickets:
            tx.put_ticket(engine.ticket_row(ticket_id))
            out.services.add(engine.tickets[ticket_id].service)
        for number in changes.counters:
            tx.put_counter(engine.counter_row(number))
        for ticket_id in changes.ratings:
            tx.put_rating(engine.rating_row(ticket_id))
        out.counters |= changes.counters
        out.calls = changes.calls

    def _execute(self, run: _Batch, item: Item) -> m.Response:
        request, at = item.request, run.at

        def apply(events: list[Event]) -> None:
            for event in events:
                store_event(run.tx, event, request.id)
                run.changes.merge(self.core.apply(event))

        if isinstance(request, m.OfflineTickets):
            accepted, refused = offline_tickets(self.core, request, at, apply)
            return m.Response(request_id=request.id, ok=True, accepted=accepted, refused=refused or None)
        try:
            handler = handler_for(request)
            if item.verb == "key" and isinstance(request, m.CounterRequest):
                no_officer = keypad_may_act(request, self._status(request.counter))
                if no_officer is not None:
                    return refusal(request.id, no_officer)
                if self._keypad_opens(request) and request.officer is not None:
                    # CALL at a closed counter opens it for the officer identified on the keypad.
                    apply(self.core.engine.open_counter(request.counter, request.officer, at))
            events = handler.decide(self.core, request, at)
        except Refused as err:
            if err.code != "queue_empty" or item.verb != "key":
                return refusal(request.id, err)
            events = []
        apply(events)
        if isinstance(request, m.CounterRequest):
            run.out.counters.add(request.counter)
        return handler.answer(self.core, request, events, at)

    def _keypad_opens(self, request: m.CounterRequest) -> bool:
        return request.action is m.CounterAction.CALL_NEXT and self._status(request.counter) != "open"

    def _status(self, counter: int) -> str:
        state = self.core.engine.counters.get(counter)
        return "closed" if state is None else str(state.status)


@dataclass
class _Batch:
    """One batch's transaction and what it gathered so far."""

    tx: Tx
    at: datetime
    out: Outbox
    changes: Changes = field(default_factory=Changes)
    answered: dict[str, m.Response] = field(default_factory=dict)
