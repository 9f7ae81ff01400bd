"""Authorisation on the bus (issue 12, item 2), through a real Mosquitto: each role does only its part.

Every refusal is ``forbidden`` (or the rule's own code), answered on the sender's ``resp`` topic,
and the server still answers a normal request within 1 s afterwards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from queue_server.server import QueueServer
from siteconf import Site

pytestmark = pytest.mark.integration

A = m.CounterAction


@pytest.fixture
def as_client(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[Callable[[str], BusClient]]:
    """Clients connecting under the ids of the site's devices and apps."""
    made: list[BusClient] = []

    def make(client_id: str) -> BusClient:
        c = BusClient(mosquitto, demo_site.site.id, client_id)
        c.enable_requests()
        made.append(c.start())
        return c

    yield make
    for c in made:
        c.stop()


def refused_code(answer: m.Response) -> str:
    assert not answer.ok and answer.error is not None, answer
    return answer.error.code


def still_serving(client: BusClient) -> None:
    assert client.request("issue_ticket", m.IssueTicket(service="land"), timeout=1.0).ok


def test_a_kiosk_may_not_act_on_a_counter(server: QueueServer, as_client: Callable[[str], BusClient]) -> None:
    kiosk = as_client("kiosk-1")
    answer = kiosk.request("counter", m.CounterRequest(counter=2, action=A.OPEN, officer="intruder"))
    assert refused_code(answer) == "forbidden"
    assert server.engine.counters[2].status != "open"
    still_serving(kiosk)


def test_a_counters_console_acts_only_on_its_own_counter(
    server: QueueServer, as_client: Callable[[str], BusClient]
) -> None:
    console = as_client("console-2")
    assert refused_code(
        console.request("counter", m.CounterRequest(counter=1, action=A.OPEN, officer="cb02"))
    ) == ("forbidden")
    assert console.request("counter", m.CounterRequest(counter=2, action=A.OPEN, officer="cb02")).ok
    assert refused_code(console.request("issue_ticket", m.IssueTicket(service="land"))) == "forbidden"


@pytest.mark.parametrize("client_id", ["intruder", "led-1", "keypad-1", "tablet-2", "console-99"])
def test_readers_and_strangers_may_not_issue_or_act(
    server: QueueServer, as_client: Callable[[str], BusClient], client_id: str
) -> None:
    client = as_client(client_id)
    assert refused_code(client.request("issue_ticket", m.IssueTicket(service="land"))) == "forbidden"
    assert refused_code(
        client.request("counter", m.CounterRequest(counter=1, action=A.OPEN, officer="x"))
    ) == ("forbidden")
    assert not server.engine.tickets
    still_serving(as_client("kiosk-1"))


@pytest.mark.parametrize(
    "client_id", ["hall-board", "led-1", "tablet-2", "console-2", "kiosk-1", "supervisor-1"]
)
def test_every_role_may_read_the_calls(
    server: QueueServer, as_client: Callable[[str], BusClient], client_id: str
) -> None:
    assert as_client(client_id).request("calls_since", m.CallsSince(after_seq=0)).ok


@pytest.mark.parametrize("client_id", ["intruder", "console-99", "hall-boardx"])
def test_a_sender_without_a_role_may_not_even_read_the_calls(
    server: QueueServer, as_client: Callable[[str], BusClient], client_id: str
) -> None:
    """The broker let it in (the test broker gives a new id the common rights), but it is no client
    of the site: ``calls_since`` is a verb of the roles, not of everyone."""
    answer = as_client(client_id).request("calls_since", m.CallsSince(after_seq=0))
    assert refused_code(answer) == "forbidden"


def test_every_role_of_the_site_carries_calls_since_and_the_check_is_real(demo_site: Site) -> None:
    from queue_server.authz import READ, Role, permitted, role_of

    ids = [d.id for d in demo_site.devices] + [f"console-{c.number}" for c in demo_site.counters]
    roles = [
        role_of(demo_site, i) for i in [*ids, "supervisor-1", "supervisor-e2e", "hall-board", "hall-board-2"]
    ]
    assert all(r is not None and r.verbs >= READ for r in roles), roles
    ask = m.CallsSince(after_seq=0)
    assert permitted(Role("hall_board", READ), "hall-board", ask) is None
    refused = permitted(Role("reader", frozenset({"issue_ticket"})), "x", ask)  # a role without the verb
    assert refused is not None and refused.code == "forbidden"


def test_a_kiosk_reserves_blocks_only_for_itself(
    server: QueueServer, as_client: Callable[[str], BusClient]
) -> None:
    kiosk = as_client("kiosk-1")
    other = kiosk.request("reserve_block", m.ReserveBlock(kiosk="kiosk-9", service="land", size=5))
    assert refused_code(other) == "forbidden"
    assert kiosk.request("reserve_block", m.ReserveBlock(kiosk="kiosk-1", service="land", size=5)).ok


def test_offline_tickets_says_which_numbers_it_refused_and_why(
    server: QueueServer, as_client: Callable[[str], BusClient]
) -> None:
    kiosk = as_client("kiosk-1")
    block = kiosk.request("reserve_block", m.ReserveBlock(kiosk="kiosk-1", service="land", size=2)).block
    assert block is not None
    now = datetime.now(UTC)
    inside = m.OfflineTicket(number=f"A{block.first:04d}", service="land", issued_at=now, token="tok-inside")
    outside = m.OfflineTicket(
        number=f"A{block.first - 50:04d}", service="land", issued_at=now, token="tok-outsid"
    )
    answer = kiosk.request("offline_tickets", m.OfflineTickets(kiosk="kiosk-1", tickets=[inside, outside]))
    assert answer.ok and answer.accepted == [inside.number]
    assert answer.refused is not None and [r.number for r in answer.refused] == [outside.number]
    assert answer.refused[0].code and answer.refused[0].reason


class Answers:
    """Everything the server answers on one device's ``resp`` topic."""

    def __init__(self, client: BusClient, device_id: str) -> None:
        self.got: list[m.Response] = []
        self.lock = threading.Lock()
        client.subscribe(client.topics.resp(device_id), self._on, m.Response, dedupe=False)

    def _on(self, _t: str, r: m.Response) -> None:
        with self.lock:
            self.got.append(r)

    def to(self, request_id: str) -> m.Response | None:
        with self.lock:
            return next((r for r in self.got if r.request_id == request_id), None)


def serve_one(supervisor: BusClient, counter: int, service: str = "land") -> m.Response:
    """Issue a ticket, call it at ``counter`` and finish it: the citizen may now rate it."""
    ticket = supervisor.request("issue_ticket", m.IssueTicket(service=service)).ticket
    assert ticket is not None
    assert supervisor.request(
        "counter", m.CounterRequest(counter=counter, action=A.OPEN, officer=f"cb0{counter}")
    ).ok
    called = supervisor.request("counter", m.CounterRequest(counter=counter, action=A.CALL_NEXT))
    assert called.ok and called.called is not None and called.called.number == ticket.number
    return called


def rate(tablet: BusClient, answers: Answers, **fields: Any) -> m.Response:
    rating = m.RatingGiven(**fields)
    tablet.publish(tablet.topics.device_evt("tablet-2"), rating)
    assert wait_until(lambda: answers.to(rating.id) is not None, 5), "the tablet got no answer"
    answer = answers.to(rating.id)
    assert answer is not None
    return answer


def test_a_tablet_rates_only_its_own_counters_ticket_on_the_sites_scale(
    server: QueueServer, as_client: Callable[[str], BusClient]
) -> None:
    supervisor = as_client("supervisor-1")
    tablet = as_client("tablet-2")
    answers = Answers(tablet, "tablet-2")
    at_1 = serve_one(supervisor, 1)
    assert at_1.called is not None
    ticket_1 = at_1.called.number
    # Another counter, said openly, then hidden behind its own counter number.
    assert refused_code(rate(tablet, answers, ticket=ticket_1, counter=1, score=2, scale=3)) == "forbidden"
    assert refused_code(rate(tablet, answers, ticket=ticket_1, counter=2, score=2, scale=3)) == "forbidden"
    assert not server.engine.ratings
    at_2 = serve_one(supervisor, 2, "civil")
    assert at_2.called is not None
    ticket_2 = at_2.called.number
    assert refused_code(rate(tablet, answers, ticket=ticket_2, counter=2, score=4, scale=5)) == "forbidden"
    assert rate(tablet, answers, ticket=ticket_2, counter=2, score=2, scale=3).ok
    assert (
        refused_code(rate(tablet, answers, ticket=ticket_2, counter=2, score=1, scale=3)) == "already_rated"
    )
    assert len(server.engine.ratings) == 1
    still_serving(supervisor)


def test_a_rating_long_after_the_ticket_finished_is_refused(
    server: QueueServer, as_client: Callable[[str], BusClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = as_client("supervisor-1")
    tablet = as_client("tablet-2")
    answers = Answers(tablet, "tablet-2")
    called = serve_one(supervisor, 2)
    assert called.called is not None
    assert supervisor.request("counter", m.CounterRequest(counter=2, action=A.FINISH)).ok
    later = datetime.now(UTC) + timedelta(minutes=11)
    monkeypatch.setattr(server.core, "now", lambda: later)
    answer = rate(tablet, answers, ticket=called.called.number, counter=2, score=2, scale=3)
    assert refused_code(answer) == "expired"
    assert answer.error is not None and "finished over 180 s ago" in (answer.error.message_en or "")


def test_a_request_id_replayed_on_another_verb_gets_no_ones_answer(
    server: QueueServer, as_client: Callable[[str], BusClient]
) -> None:
    supervisor = as_client("supervisor-1")
    issued = m.IssueTicket(service="land")
    first = supervisor.request("issue_ticket", issued)
    assert first.ok and first.ticket is not None
    replay = m.CounterRequest(id=issued.id, counter=1, action=A.OPEN, officer="cb01")
    answer = supervisor.request("counter", replay)
    assert refused_code(answer) == "bad_request" and answer.ticket is None
    assert supervisor.request("issue_ticket", issued) == first  # the real retry still gets its answer
