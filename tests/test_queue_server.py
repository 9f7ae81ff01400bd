"""The queue server's MQTT API over a real Mosquitto with SQLite: tickets, calls, refusals, restart."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from queue_server.db import Store
from queue_server.server import QueueServer
from siteconf import Site

pytestmark = pytest.mark.integration

A = m.CounterAction


def open_store(path: Path) -> Store:
    return Store.open(f"sqlite:///{path}")


def issue(client: BusClient, service: str, priority: str | None = None) -> m.Response:
    return client.request("issue_ticket", m.IssueTicket(service=service, priority=priority))


def act(client: BusClient, counter: int, action: m.CounterAction, **fields: Any) -> m.Response:
    return client.request("counter", m.CounterRequest(counter=counter, action=action, **fields))


def barrier(client: BusClient) -> None:
    """Wait until the server has handled everything ``client`` sent before, with no effect of its own.

    A request for no such service is refused, but only once it is read: the server reads its MQTT
    connection in order and its worker takes requests, key presses and ratings from one inbox in order;
    what it published before the refusal (calls, states) reaches ``client`` before the refusal does.
    """
    refused = issue(client, "no-such-service")
    assert refused.error is not None and refused.error.code == "unknown_service", refused


def open_counters(client: BusClient, *numbers: int) -> None:
    for n in numbers:
        assert act(client, n, A.OPEN, officer=f"cb{n:02d}").ok


def called(response: m.Response) -> str | None:
    assert response.ok, response.error
    assert response.called is not None
    return response.called.number


def test_tickets_are_numbered_per_service(server: QueueServer, client: BusClient) -> None:
    numbers = [issue(client, s).ticket.number for s in ["land", "land", "civil", "land"]]  # type: ignore[union-attr]
    assert numbers == ["A1001", "A1002", "B2001", "A1003"]
    fifth = issue(client, "land").ticket
    assert fifth is not None
    assert fifth.waiting_before == 3
    assert fifth.counters == [1, 2]
    assert len(fifth.token) >= 12
    assert fifth.ticket_id is not None and fifth.ticket_id.endswith("/1004")


def test_refusals_carry_a_code_and_a_message_in_both_languages(
    server: QueueServer, client: BusClient
) -> None:
    before = server.store.head()
    resp = issue(client, "tax")
    assert not resp.ok and resp.error is not None
    assert resp.error.code == "unknown_service" and resp.error.message_en
    assert act(client, 42, A.CALL_NEXT).error.code == "unknown_counter"  # type: ignore[union-attr]
    assert act(client, 1, A.CALL_NEXT).error.code == "counter_closed"  # type: ignore[union-attr]
    assert act(client, 1, A.OPEN).error.code == "bad_request"  # type: ignore[union-attr]  # no officer
    open_counters(client, 1)
    head = server.store.head()
    assert act(client, 1, A.TRANSFER).error.code in {"bad_request", "no_current_ticket"}  # type: ignore[union-attr]
    assert act(client, 1, A.CALL_TICKET, ticket="A9999").error.code == "unknown_ticket"  # type: ignore[union-attr]
    assert act(client, 1, A.FINISH).error.code == "no_current_ticket"  # type: ignore[union-attr]
    assert server.store.head() == head, "a refused request appended events"
    assert before != head


def test_a_request_on_the_wrong_verb_is_answered_with_the_problem(
    server: QueueServer, client: BusClient
) -> None:
    answer = client.request("counter", m.IssueTicket(service="land"))
    assert not answer.ok and answer.error is not None
    assert answer.error.code == "bad_request" and "req/supervisor-1/counter" in (
        answer.error.message_en or ""
    )


def test_daily_cap(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path, client: BusClient) -> None:
    services = [s.model_copy(update={"daily_cap": 2}) for s in demo_site.services]
    site = demo_site.model_copy(update={"services": services})
    srv = QueueServer(site, open_store(tmp_path / "cap.db"), mosquitto).start()
    try:
        # civil: its cap comes from [[services]] (a rule version in demo.toml changes land's)
        assert issue(client, "civil").ok
        assert issue(client, "civil").ok
        refused = issue(client, "civil")
        assert refused.error is not None
        assert refused.error.code == "sold_out"
        assert "hết số hôm nay" in refused.error.message
    finally:
        srv.stop()
        srv.store.close()


def test_outside_issuing_hours(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path, client: BusClient
) -> None:
    site = demo_site.with_office_hours()  # Mon-Fri 07:30-11:30, 13:30-17:00, and the holidays
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    clock = [datetime(2026, 11, 22, 9, 0, tzinfo=tz)]  # a Sunday
    srv = QueueServer(site, open_store(tmp_path / "hours.db"), mosquitto, clock=lambda: clock[0]).start()
    try:
        refused = issue(client, "land")
        assert refused.error is not None and refused.error.code == "outside_hours"
        assert "ngoài giờ tiếp nhận" in refused.error.message
        clock[0] = datetime(2026, 11, 23, 12, 0, tzinfo=tz)  # Monday, lunch break
        assert issue(client, "land").error.code == "outside_hours"  # type: ignore[union-attr]
        clock[0] = datetime(2026, 11, 23, 13, 45, tzinfo=tz)
        assert issue(client, "land").ticket.number == "A1001"  # type: ignore[union-attr]
        clock[0] = datetime(2026, 9, 2, 9, 0, tzinfo=tz)  # a Wednesday, but Quốc khánh
        holiday = issue(client, "land").error
        assert holiday is not None and holiday.code == "outside_hours" and "nghỉ" in holiday.message
        clock[0] = datetime(
            2026, 1, 2, 9, 0, tzinfo=tz
        )  # a Friday swapped for Saturday 10/1 (Tết Dương lịch)
        assert issue(client, "land").error.code == "outside_hours"  # type: ignore[union-attr]
        clock[0] = datetime(2026, 1, 10, 9, 0, tzinfo=tz)  # that make-up Saturday: the centre works
        made_up = issue(client, "land")
        assert made_up.ok, made_up.error
    finally:
        srv.stop()
        srv.store.close()


def test_a_retried_request_never_issues_two_tickets(server: QueueServer, client: BusClient) -> None:
    request = m.IssueTicket(service="land")
    first = client.request("issue_ticket", request)
    again = client.request("issue_ticket", request)
    assert first.ticket == again.ticket
    assert issue(client, "land").ticket.number == "A1002"  # type: ignore[union-attr]


def test_calls_follow_the_rules_and_are_numbered(server: QueueServer, client: BusClient) -> None:
    calls: list[m.CallEvent] = []
    client.subscribe(client.topics.calls(), lambda _t, c: calls.append(c), m.CallEvent)
    for service in ["civil", "land", "business", "civil"]:
        issue(client, service)
    open_counters(client, 1, 2, 3, 4)
    assert called(act(client, 1, A.CALL_NEXT)) == "A1001"
    assert called(act(client, 3, A.CALL_NEXT)) == "B2001"
    assert called(act(client, 4, A.CALL_NEXT)) == "C3001"
    assert called(act(client, 2, A.CALL_NEXT)) == "B2002"
    assert called(act(client, 1, A.CALL_NEXT)) is None  # A1001 finished, nobody else for land
    act(client, 3, A.RECALL)
    assert wait_until(lambda: len(calls) == 5)
    assert [c.seq for c in calls] == [1, 2, 3, 4, 5]
    assert [(c.number, c.counter, c.recall) for c in calls][-1] == ("B2001", 3, True)


def test_priority_tickets_interleave_by_the_rule_in_force(server: QueueServer, client: BusClient) -> None:
    normal = [issue(client, "civil").ticket.number for _ in range(5)]  # type: ignore[union-attr]
    elderly = issue(client, "civil", priority="elderly").ticket
    assert elderly is not None and elderly.priority == "elderly"
    assert elderly.number not in normal
    open_counters(client, 3)
    order = [called(act(client, 3, A.CALL_NEXT)) for _ in range(6)]
    ratio = server.rules.version_at(server.now()).normal_per_priority  # 2 since 2026-07 in demo.toml
    assert order == [*normal[:ratio], elderly.number, *normal[ratio:]]


def test_transfer_park_and_no_show(server: QueueServer, client: BusClient) -> None:
    first = issue(client, "land").ticket
    second = issue(client, "land").ticket
    assert first is not None and second is not None
    open_counters(client, 1, 3)
    assert called(act(client, 1, A.CALL_NEXT)) == first.number
    moved = act(client, 1, A.TRANSFER, to_service="civil", position=m.TransferPosition.FRONT)
    assert moved.ok and moved.called is not None and moved.called.number is None
    assert called(act(client, 3, A.CALL_NEXT)) == first.number  # served once, at the civil counter
    assert called(act(client, 1, A.CALL_NEXT)) == second.number
    assert act(client, 1, A.NO_SHOW).error.code == "not_allowed"  # type: ignore[union-attr]  # recall first
    act(client, 1, A.RECALL)
    act(client, 1, A.RECALL)
    assert act(client, 1, A.NO_SHOW).ok
    assert act(client, 1, A.REINSTATE, ticket=second.number).ok
    assert called(act(client, 1, A.CALL_NEXT)) == second.number
    assert act(client, 1, A.PARK).ok
    assert act(client, 1, A.UNPARK, ticket=second.number).ok
    assert server.counter_state(1).current == second.number


def sent(info: Any) -> None:
    """Wait for the broker's PUBACK: the broker has queued the message for the server, so a barrier
    request sent after it (on another connection) reaches the server after it."""
    info.wait_for_publish(2)


def test_keypad_events_become_calls_and_counter_state(
    server: QueueServer, client: BusClient, connect_as: Callable[[str], BusClient]
) -> None:
    states: list[m.CounterState] = []
    calls: list[m.CallEvent] = []
    client.subscribe(client.topics.counter_state(2), lambda _t, s: states.append(s), m.CounterState)
    client.subscribe(client.topics.calls(), lambda _t, c: calls.append(c), m.CallEvent)
    assert wait_until(lambda: bool(states))  # the retained state: the subscription is live
    issue(client, "civil")
    issue(client, "civil")  # B2002: a press handled twice would call it
    open_counters(client, 2)  # from a console: a keypad opens a counter only for an identified officer
    press = m.KeyPressed(key=m.Key.CALL_NEXT, keypad_address=2)
    keypad, stranger = connect_as("keypad-2"), connect_as("no-such-keypad")
    keypad.publish(client.topics.device_evt("keypad-2"), press)
    sent(keypad.publish(client.topics.device_evt("keypad-2"), press))  # redelivered: one call only
    sent(stranger.publish(client.topics.device_evt("no-such-keypad"), m.KeyPressed(key=m.Key.CALL_NEXT)))
    barrier(client)
    assert [(c.number, c.counter) for c in calls] == [("B2001", 2)]
    # States go out after the answers of their batch, so the barrier may overtake this one.
    assert wait_until(lambda: [s.current for s in states if s.current is not None] == ["B2001"])
    shown = [s for s in states if s.current is not None]
    assert shown[0].call_seq == 1
    assert shown[0].name == "Quầy 2"
    assert shown[0].status is m.CounterStatus.OPEN


def test_state_survives_a_server_restart_and_is_republished(
    demo_site: Site,
    mosquitto: BrokerUrl,
    tmp_path: Path,
    client: BusClient,
    connect_as: Callable[[str], BusClient],
) -> None:
    db = tmp_path / "restart.db"
    srv = QueueServer(demo_site, open_store(db), mosquitto).start()
    request = m.IssueTicket(service="land")
    first = client.request("issue_ticket", request)
    issue(client, "land")
    open_counters(client, 1)
    act(client, 1, A.CALL_NEXT)
    srv.stop()
    srv.store.close()
    # Forget what the broker retained, so only the restarted server can say where counter 1 is.
    connect_as("queue-server").publish(client.topics.counter_state(1), "", retain=True).wait_for_publish(2)
    srv = QueueServer(demo_site, open_store(db), mosquitto).start()
    try:
        got: list[m.CounterState] = []
        probe = BusClient(mosquitto, demo_site.site.id, "probe")
        probe.subscribe(probe.topics.counter_state(1), lambda _t, s: got.append(s), m.CounterState)
        probe.start()
        assert wait_until(lambda: bool(got))
        assert got[-1].current == "A1001" and got[-1].officer == "cb01"
        probe.stop()
        assert client.request("issue_ticket", request).ticket == first.ticket  # a late retry: same ticket
        assert issue(client, "land").ticket.number == "A1003"  # type: ignore[union-attr]
        assert called(act(client, 1, A.CALL_NEXT)) == "A1002"
        assert srv.store.verify().ok
    finally:
        srv.stop()
        srv.store.close()


def test_expired_or_foreign_key_events_call_nobody(
    server: QueueServer, client: BusClient, connect_as: Callable[[str], BusClient]
) -> None:
    calls: list[m.CallEvent] = []
    client.subscribe(client.topics.calls(), lambda _t, c: calls.append(c), m.CallEvent)
    issue(client, "land")
    open_counters(client, 1)
    keypad, led = connect_as("keypad-1"), connect_as("led-1")
    stale = m.KeyPressed(key=m.Key.CALL_NEXT, expires_at=m.expires_in(-1))  # queued during a network cut
    sent(keypad.publish(client.topics.device_evt("keypad-1"), stale))
    sent(led.publish(client.topics.device_evt("led-1"), m.KeyPressed(key=m.Key.CALL_NEXT)))  # not a keypad
    barrier(client)
    assert calls == []
    keypad.publish(client.topics.device_evt("keypad-1"), m.KeyPressed(key=m.Key.CALL_NEXT))
    assert wait_until(lambda: len(calls) == 1)
    assert calls[0].number == "A1001"


def test_a_kiosk_retries_until_the_server_is_back_and_gets_exactly_one_ticket(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    from kiosk.backend import KioskBackend

    kiosk = KioskBackend(demo_site, "kiosk-1", mosquitto).start()
    store = open_store(tmp_path / "late.db")
    late = QueueServer(demo_site, store, mosquitto)
    starter = threading.Timer(0.8, late.start)
    starter.start()
    try:
        outcome = kiosk.take_ticket("civil", timeout=0.5, attempts=6)
        assert outcome.ticket is not None
        assert outcome.ticket.number == "B2001"
        day = late.today()
        assert [t["code"] for t in store.tickets(day)] == ["B2001"]
    finally:
        starter.join()
        late.stop()
        kiosk.stop()
        store.close()


def test_a_new_business_day_expires_what_yesterday_left(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path, client: BusClient
) -> None:
    tz = ZoneInfo("Asia/Ho_Chi_Minh")
    clock = [datetime(2026, 11, 23, 16, 50, tzinfo=tz)]
    srv = QueueServer(demo_site, open_store(tmp_path / "days.db"), mosquitto, clock=lambda: clock[0]).start()
    try:
        left = issue(client, "land").ticket
        assert left is not None and left.number == "A1001"
        clock[0] = datetime(2026, 11, 24, 7, 35, tzinfo=tz)
        fresh = issue(client, "land").ticket
        assert fresh is not None and fresh.number == "A1001"  # numbers start again each business day
        assert fresh.waiting_before == 0
        assert srv.engine.tickets[left.ticket_id].status == "expired"  # type: ignore[index]
        assert srv.queue_state("land").waiting == 1
    finally:
        srv.stop()
        srv.store.close()


def test_a_rating_is_stored_once_against_the_ticket_and_its_officer(
    server: QueueServer, client: BusClient, connect_as: Callable[[str], BusClient]
) -> None:
    ticket = issue(client, "civil").ticket
    assert ticket is not None
    open_counters(client, 2)
    assert called(act(client, 2, A.CALL_NEXT)) == ticket.number
    assert act(client, 2, A.FINISH).ok
    evt = client.topics.device_evt
    keypad, tablet = connect_as("keypad-2"), connect_as("tablet-2")
    stray = m.RatingGiven(ticket=ticket.number, number=ticket.number, counter=2, score=0, scale=3)
    sent(keypad.publish(evt("keypad-2"), stray))  # not a rating tablet
    tablet.publish(
        evt("tablet-2"), stray.model_copy(update={"counter": 3, "id": m.new_id()})
    )  # not its counter
    given = m.RatingGiven(
        ticket=ticket.ticket_id or ticket.number, number=ticket.number, counter=2, score=2, scale=3,
        answers={"attitude": 2},
    )  # fmt: skip
    tablet.publish(evt("tablet-2"), given)
    assert wait_until(lambda: bool(server.store.ratings()))
    again = given.model_copy(update={"id": m.new_id(), "score": 0})  # a second tap: refused, not stored
    sent(tablet.publish(evt("tablet-2"), again))
    barrier(client)
    (rating,) = server.store.ratings()
    assert (rating["counter"], rating["officer"], rating["score"], rating["scale"]) == (2, "cb02", 2, 3)
    assert rating["answers"] == {"attitude": 2}
    assert server.store.ratings(officer="cb02") == [rating]


def test_a_keypad_transfers_to_the_counter_number_typed_before_transfer(
    server: QueueServer, client: BusClient, connect_as: Callable[[str], BusClient]
) -> None:
    ticket = issue(client, "land").ticket
    assert ticket is not None
    open_counters(client, 1, 3)
    assert called(act(client, 1, A.CALL_NEXT)) == ticket.number
    keypad = client.topics.device_evt("keypad-1")
    pad = connect_as("keypad-1")
    sent(pad.publish(keypad, m.KeyPressed(key=m.Key.TRANSFER)))  # no number typed: nothing happens
    barrier(client)
    assert server.counter_state(1).current == ticket.number
    pad.publish(keypad, m.KeyPressed(key=m.Key.DIGIT, digit=3))
    pad.publish(keypad, m.KeyPressed(key=m.Key.TRANSFER))
    assert wait_until(lambda: server.counter_state(1).current is None)
    # Counter 3 serves civil only, but the citizen was sent to it: it calls them next.
    assert called(act(client, 3, A.CALL_NEXT)) == ticket.number
