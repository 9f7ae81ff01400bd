"""The queue server slice over a real Mosquitto with SQLite: tickets, calls, exactly-once, restart."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from queue_server.server import QueueServer
from queue_server.store import TicketStore
from siteconf import Site

pytestmark = pytest.mark.integration


@pytest.fixture
def server(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[QueueServer]:
    store = TicketStore(tmp_path / "q.db")
    srv = QueueServer(demo_site, store, mosquitto).start()
    yield srv
    srv.stop()
    store.close()


@pytest.fixture
def client(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[BusClient]:
    c = BusClient(mosquitto, demo_site.site.id, "console-1")
    c.enable_requests()
    c.start()
    yield c
    c.stop()


def issue(client: BusClient, service: str) -> m.Response:
    return client.request("issue_ticket", m.IssueTicket(service=service))


def act(client: BusClient, counter: int, action: m.CounterAction) -> m.Response:
    return client.request("counter", m.CounterRequest(counter=counter, action=action))


def test_tickets_are_numbered_per_service(server: QueueServer, client: BusClient) -> None:
    numbers = [issue(client, s).ticket.number for s in ["land", "land", "civil", "land"]]  # type: ignore[union-attr]
    assert numbers == ["A1001", "A1002", "B2001", "A1003"]
    third = issue(client, "land").ticket
    assert third is not None
    assert third.waiting_before == 3
    assert third.counters == [1, 2]
    assert len(third.token) >= 12


def test_refusals_carry_a_code_and_a_vietnamese_message(server: QueueServer, client: BusClient) -> None:
    resp = issue(client, "tax")
    assert not resp.ok
    assert resp.error is not None
    assert resp.error.code == "unknown_service"
    resp = act(client, 42, m.CounterAction.CALL_NEXT)
    assert resp.error is not None
    assert resp.error.code == "unknown_counter"


def test_daily_cap(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path, client: BusClient) -> None:
    services = [s.model_copy(update={"daily_cap": 2}) for s in demo_site.services]
    site = demo_site.model_copy(update={"services": services})
    srv = QueueServer(site, TicketStore(tmp_path / "cap.db"), mosquitto).start()
    try:
        assert issue(client, "land").ok
        assert issue(client, "land").ok
        refused = issue(client, "land")
        assert refused.error is not None
        assert refused.error.code == "sold_out"
        assert "hết số hôm nay" in refused.error.message
    finally:
        srv.stop()


def test_a_retried_request_never_issues_two_tickets(server: QueueServer, client: BusClient) -> None:
    request = m.IssueTicket(service="land")
    first = client.request("issue_ticket", request)
    again = client.request("issue_ticket", request)
    assert first.ticket == again.ticket
    assert issue(client, "land").ticket.number == "A1002"  # type: ignore[union-attr]


def test_calls_follow_issue_order_per_counter_services(server: QueueServer, client: BusClient) -> None:
    calls: list[m.CallEvent] = []
    client.subscribe(client.topics.calls(), lambda _t, c: calls.append(c), m.CallEvent)
    for service in ["civil", "land", "business", "civil"]:
        issue(client, service)
    assert act(client, 1, m.CounterAction.CALL_NEXT).called == m.Called(counter=1, number="A1001")
    assert act(client, 3, m.CounterAction.CALL_NEXT).called == m.Called(counter=3, number="B2001")
    assert act(client, 4, m.CounterAction.CALL_NEXT).called == m.Called(counter=4, number="C3001")
    assert act(client, 2, m.CounterAction.CALL_NEXT).called == m.Called(counter=2, number="B2002")
    assert act(client, 1, m.CounterAction.CALL_NEXT).called == m.Called(counter=1, number=None)
    act(client, 3, m.CounterAction.RECALL)
    assert wait_until(lambda: len(calls) == 5)
    assert [c.seq for c in calls] == [1, 2, 3, 4, 5]
    assert [(c.number, c.counter, c.recall) for c in calls][-1] == ("B2001", 3, True)


def test_keypad_events_become_calls_and_counter_state(server: QueueServer, client: BusClient) -> None:
    states: list[m.CounterState] = []
    client.subscribe(client.topics.counter_state(2), lambda _t, s: states.append(s), m.CounterState)
    time.sleep(0.2)
    issue(client, "civil")
    press = m.KeyPressed(key=m.Key.CALL_NEXT, keypad_address=2)
    client.publish(client.topics.device_evt("keypad-2"), press)
    client.publish(client.topics.device_evt("keypad-2"), press)  # redelivered: one call only
    client.publish(client.topics.device_evt("no-such-keypad"), m.KeyPressed(key=m.Key.CALL_NEXT))
    assert wait_until(lambda: any(s.current == "B2001" for s in states))
    time.sleep(0.3)
    called = [s for s in states if s.current == "B2001"]
    assert len(called) == 1
    assert called[0].call_seq == 1
    assert called[0].name == "Quầy 2"


def test_state_survives_a_server_restart_and_is_republished(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path, client: BusClient
) -> None:
    db = tmp_path / "restart.db"
    srv = QueueServer(demo_site, TicketStore(db), mosquitto).start()
    request = m.IssueTicket(service="land")
    first = client.request("issue_ticket", request)
    issue(client, "land")
    act(client, 1, m.CounterAction.CALL_NEXT)
    srv.stop()
    srv.store.close()
    # Forget what the broker retained, so only the restarted server can say where counter 1 is.
    client.publish(client.topics.counter_state(1), "", retain=True).wait_for_publish(2)
    srv = QueueServer(demo_site, TicketStore(db), mosquitto).start()
    try:
        got: list[Any] = []
        probe = BusClient(mosquitto, demo_site.site.id, "probe")
        probe.subscribe(probe.topics.counter_state(1), lambda _t, s: got.append(s), m.CounterState)
        probe.start()
        assert wait_until(lambda: bool(got))
        assert got[-1].current == "A1001"
        probe.stop()
        assert client.request("issue_ticket", request).ticket == first.ticket  # a late retry: same ticket
        assert issue(client, "land").ticket.number == "A1003"  # type: ignore[union-attr]
        assert act(client, 1, m.CounterAction.CALL_NEXT).called == m.Called(counter=1, number="A1002")
    finally:
        srv.stop()


def test_expired_or_foreign_key_events_call_nobody(server: QueueServer, client: BusClient) -> None:
    calls: list[m.CallEvent] = []
    client.subscribe(client.topics.calls(), lambda _t, c: calls.append(c), m.CallEvent)
    issue(client, "land")
    stale = m.KeyPressed(key=m.Key.CALL_NEXT, expires_at=m.expires_in(-1))  # queued during a network cut
    client.publish(client.topics.device_evt("keypad-1"), stale)
    client.publish(client.topics.device_evt("led-1"), m.KeyPressed(key=m.Key.CALL_NEXT))  # not a keypad
    time.sleep(0.5)
    assert calls == []
    client.publish(client.topics.device_evt("keypad-1"), m.KeyPressed(key=m.Key.CALL_NEXT))
    assert wait_until(lambda: len(calls) == 1)
    assert calls[0].number == "A1001"


def test_a_kiosk_retries_until_the_server_is_back_and_gets_exactly_one_ticket(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    from kiosk.backend import KioskBackend

    kiosk = KioskBackend(demo_site, "kiosk-1", mosquitto).start()
    store = TicketStore(tmp_path / "late.db")
    late = QueueServer(demo_site, store, mosquitto)
    starter = threading.Timer(0.8, late.start)
    starter.start()
    try:
        outcome = kiosk.take_ticket("civil", timeout=0.5, attempts=6)
        assert outcome.ticket is not None
        assert outcome.ticket.number == "B2001"
        with store.transaction() as tx:
            assert tx.issued_today(late.business_day(late.now()), "civil") == 1
    finally:
        starter.join()
        late.stop()
        kiosk.stop()
