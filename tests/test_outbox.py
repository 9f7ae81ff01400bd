"""The calls outbox and ``calls_since``, against a real Mosquitto and SQLite.

Every call is kept in the ``outbox`` table in the transaction that made it, sent after commit, marked
once the broker acknowledged it, and sent again at the next start when the process stopped between
commit and publish. ``calls_since`` answers a display that saw a gap. The kill -9 runs are in
``tests/test_crash_calls.py``.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from support import wait_until
from test_db_support import BACKENDS, at, database_url
from test_queue_server import act, barrier, called, issue, open_counters

from bus import models as m
from bus.client import BrokerUrl, BusClient, RequestTimeoutError
from queue_server.db import Store, StoreConflictError
from queue_server.publishing import Outbox
from queue_server.server import QueueServer
from siteconf import Site

pytestmark = pytest.mark.integration

A = m.CounterAction


def make_calls(client: BusClient, n: int) -> list[str]:
    """``n`` tickets of ``land`` called one after the other at counter 1; the numbers called."""
    for _ in range(n):
        issue(client, "land")
    open_counters(client, 1)
    numbers = [called(act(client, 1, A.CALL_NEXT)) for _ in range(n)]
    return [n for n in numbers if n is not None]


def since(client: BusClient, after_seq: int, limit: int = 50) -> m.Response:
    return client.request("calls_since", m.CallsSince(after_seq=after_seq, limit=limit))


def test_calls_since_answers_in_seq_order_and_pages_by_limit(server: QueueServer, client: BusClient) -> None:
    numbers = make_calls(client, 5)
    assert len(numbers) == 5
    act(client, 1, A.RECALL)
    everything = since(client, 0)
    assert everything.ok and everything.calls is not None
    assert [c.seq for c in everything.calls] == [1, 2, 3, 4, 5, 6]
    assert [c.number for c in everything.calls] == [*numbers, numbers[-1]]
    assert [c.recall for c in everything.calls] == [False] * 5 + [True]
    page = since(client, 0, limit=2)
    assert [c.seq for c in page.calls or []] == [1, 2]
    rest = since(client, 2, limit=3)
    assert [c.seq for c in rest.calls or []] == [3, 4, 5]
    caught_up = since(client, 6)
    assert caught_up.ok and caught_up.calls == []


def test_a_gap_in_the_stream_is_filled_by_calls_since(
    server: QueueServer, client: BusClient, demo_site: Site, mosquitto: BrokerUrl
) -> None:
    make_calls(client, 2)
    board = BusClient(mosquitto, demo_site.site.id, "hall-board-2")
    live: list[m.CallEvent] = []
    board.subscribe(board.topics.calls(), lambda _t, c: live.append(c), m.CallEvent)
    board.enable_requests()
    board.start()
    try:
        # The board misses calls 3 and 4 (it was away), then sees call 5 live: a gap.
        board.stop()
        for _ in range(3):
            issue(client, "land")
        for _ in range(2):
            act(client, 1, A.CALL_NEXT)
        board = BusClient(mosquitto, demo_site.site.id, "hall-board-2")
        board.subscribe(board.topics.calls(), lambda _t, c: live.append(c), m.CallEvent)
        board.enable_requests()
        board.start()
        act(client, 1, A.CALL_NEXT)
        barrier(client)
        assert wait_until(lambda: [c.seq for c in live] == [5])
        missed = since(board, 2)
        assert [c.seq for c in missed.calls or []] == [3, 4, 5]
        # The same call, live and fetched, is one message: same id, so a receiver drops it by id or seq.
        assert (missed.calls or [])[-1] == live[0]
    finally:
        board.stop()


def test_a_bad_after_seq_is_refused_with_the_reason(
    server: QueueServer, client: BusClient, caplog: pytest.LogCaptureFixture
) -> None:
    make_calls(client, 2)
    beyond = since(client, 99)
    assert not beyond.ok and beyond.error is not None
    assert beyond.error.code == "bad_request"
    assert "after_seq 99" in (beyond.error.message_en or "") and "2" in (beyond.error.message_en or "")
    # A negative seq or an oversized limit never reaches the server's store: the model refuses it.
    with pytest.raises(ValueError, match="after_seq"):
        m.CallsSince(after_seq=-1)
    with pytest.raises(ValueError, match="limit"):
        m.CallsSince(after_seq=0, limit=501)
    topic = client.topics.req(client.client_id, "calls_since")
    with caplog.at_level(logging.WARNING):
        reply_to = client.topics.resp(client.client_id)
        client.publish(topic, f'{{"kind": "calls_since", "after_seq": -1, "reply_to": "{reply_to}"}}')
        barrier(client)
    assert any("after_seq" in r.getMessage() for r in caplog.records), "the refusal was not logged"
    still = since(client, 0)
    assert [c.seq for c in still.calls or []] == [1, 2], "the server stopped answering"


def outbox_rows(path: Path) -> list[tuple[int, int]]:
    with sqlite3.connect(path) as conn:
        return list(conn.execute("SELECT seq, published FROM outbox ORDER BY seq"))


def test_every_call_is_kept_and_marked_once_the_broker_has_it(
    server: QueueServer, client: BusClient, tmp_path: Path
) -> None:
    make_calls(client, 3)
    assert [seq for seq, _ in outbox_rows(tmp_path / "q.db")] == [1, 2, 3]

    def all_marked() -> bool:
        barrier(client)  # a later batch marks what the broker acknowledged
        return all(published == 1 for _, published in outbox_rows(tmp_path / "q.db"))

    assert wait_until(all_marked, 10)


def test_a_call_committed_but_never_sent_is_sent_at_the_next_start(
    demo_site: Site, mosquitto: BrokerUrl, client: BusClient, tmp_path: Path
) -> None:
    seen: list[m.CallEvent] = []
    client.subscribe(client.topics.calls(), lambda _t, c: seen.append(c), m.CallEvent)
    store = Store.open(f"sqlite:///{tmp_path / 'q.db'}")
    first = QueueServer(demo_site, store, mosquitto).start()
    sent = first.publisher.publish

    def dies_before_publishing(out: Outbox) -> None:
        """What a process killed right after commit does: nothing at all (its answers neither)."""
        if not out.calls:
            sent(out)

    first.publisher.publish = dies_before_publishing  # type: ignore[method-assign]
    issue(client, "land")
    open_counters(client, 1)
    with pytest.raises(RequestTimeoutError):
        client.request("counter", m.CounterRequest(counter=1, action=A.CALL_NEXT), timeout=1.0)
    first.stop()
    assert seen == [] and outbox_rows(tmp_path / "q.db") == [(1, 0)]

    second = QueueServer(demo_site, store, mosquitto).start()
    try:
        assert wait_until(lambda: [c.seq for c in seen] == [1])
        assert seen[0].number == "A1001" and seen[0].counter == 1
    finally:
        second.stop()
        store.close()


def test_a_call_sent_while_the_broker_was_away_is_not_marked_and_breaks_no_request(
    server: QueueServer, client: BusClient, tmp_path: Path
) -> None:
    """paho hands back a failed publish (``MQTT_ERR_NO_CONN``) for a call sent in the moment the
    broker was gone, and raises when asked whether it was published. The next batches still answer,
    and that call and every one after it stay unmarked until a reconnect sends them again (a broker
    kill in tests/test_crash_calls.py once turned this into ``internal_error`` for a kiosk)."""
    make_calls(client, 1)
    barrier(client)  # a later batch marked call 1
    issue(client, "land")
    assert called(act(client, 1, A.CALL_NEXT)) is not None  # call 2, sent
    away = paho.MQTTMessageInfo(999)
    away.rc = paho.MQTT_ERR_NO_CONN  # what publish() returns with no connection
    with pytest.raises(RuntimeError):
        away.is_published()
    with server.publisher.lock:  # as if call 2's publish had met no broker
        unacked = server.publisher._unacked
        unacked[:] = [(seq, away if seq == 2 else info) for seq, info in unacked]
        assert [seq for seq, _ in unacked] == [2]
    for _ in range(3):
        answer = client.request("issue_ticket", m.IssueTicket(service="land"), timeout=10)
        assert answer.ok, answer
    barrier(client)
    assert outbox_rows(tmp_path / "q.db") == [(1, 1), (2, 0)]
    server.publisher.republish_unsent()  # what the reconnect does

    def all_marked() -> bool:
        barrier(client)
        return all(published == 1 for _, published in outbox_rows(tmp_path / "q.db"))

    assert wait_until(all_marked, 10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_outbox_table_keeps_marks_and_pages_on_each_database(backend: str, tmp_path: Path) -> None:
    with database_url(backend, tmp_path) as url, Store.open(url) as store:
        assert store.outbox_last() == 0 and store.outbox() == []
        with store.transaction() as tx:
            for seq in (1, 2, 3):
                tx.add_outbox(seq, "motcua/v1/x/calls", f'{{"seq": {seq}}}', at(seq))
        with pytest.raises(StoreConflictError, match="seq 2"), store.transaction() as tx:
            tx.add_outbox(2, "motcua/v1/x/calls", "{}", at(9))
        assert [r["seq"] for r in store.outbox(1, limit=1)] == [2]
        with store.transaction() as tx:
            tx.mark_published(2)
        assert [r["seq"] for r in store.outbox(unpublished=True)] == [3]
        assert [(r["seq"], r["published"]) for r in store.outbox()] == [(1, 1), (2, 1), (3, 0)]
        assert store.outbox()[2]["payload"] == '{"seq": 3}' and store.outbox_last() == 3
