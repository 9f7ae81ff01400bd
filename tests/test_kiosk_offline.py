"""Offline issuing: the journal alone, then the kiosk backend against the contract's
``reserve_block`` / ``offline_tickets`` over a real Mosquitto, then the whole story against the real
queue server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from broker_support import as_identity
from kiosk_rig import KioskRig
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl, BusClient
from bus.topics import OFFLINE, ONLINE
from kiosk.backend import KioskBackend
from kiosk.dispenser import DispenserViewModel
from kiosk.offline import OfflineJournal
from queue_server.rules import RuleBook
from queue_server.server import QueueServer
from siteconf import Site
from siteconf.model import Hours

_VN = timezone(timedelta(hours=7))
DAY = date(2026, 11, 23)
AT = datetime(2026, 11, 23, 8, 0, tzinfo=_VN)


def block(service: str, first: int, last: int, day: date = DAY) -> m.NumberBlock:
    return m.NumberBlock(service=service, business_day=day, first=first, last=last)


def test_the_journal_issues_each_reserved_number_once_even_across_a_restart(tmp_path: Path) -> None:
    journal = OfflineJournal(tmp_path / "j.db")
    assert journal.add_block(block("land", 1101, 1103))
    assert not journal.add_block(block("land", 1101, 1103))  # a repeated answer adds nothing
    assert journal.add_block(block("land", 1201, 1201))
    numbers = [journal.issue("land", "A", DAY, AT, None).number for _ in range(2)]
    journal.close()
    journal = OfflineJournal(tmp_path / "j.db")  # the kiosk restarted
    numbers += [journal.issue("land", "A", DAY, AT, "elderly").number for _ in range(2)]
    assert numbers == ["A1101", "A1102", "A1103", "A1201"]
    assert journal.remaining("land", DAY) == 0
    with pytest.raises(LookupError, match="no reserved number left for land"):
        journal.issue("land", "A", DAY, AT, None)
    with pytest.raises(LookupError):
        journal.issue("land", "A", DAY + timedelta(days=1), AT, None)  # yesterday's blocks are not today's
    unsent = journal.unsent()
    assert [u.ticket.number for u in unsent] == numbers
    assert unsent[-1].ticket.priority == "elderly"
    assert len({u.ticket.token for u in unsent}) == 4
    assert journal.mark_sent(DAY, ["A1101", "A1102"]) == 2
    assert [u.ticket.number for u in journal.unsent()] == ["A1103", "A1201"]
    with pytest.raises(ValueError, match="empty block"):
        journal.add_block(block("land", 5, 4))
    journal.close()


def test_a_journal_that_cannot_be_opened_says_where(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    from kiosk.offline import JournalError

    with pytest.raises(JournalError, match="cannot open the offline journal"):
        OfflineJournal(tmp_path / "file" / "j.db")


def test_concurrent_offline_issuing_never_repeats_a_number(tmp_path: Path) -> None:
    journal = OfflineJournal(tmp_path / "j.db")
    journal.add_block(block("land", 1, 400))
    issued: list[str] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(100):
            number = journal.issue("land", "A", DAY, AT, None).number
            with lock:
                issued.append(number)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(issued, key=lambda n: int(n[1:])) == [f"A{n}" for n in range(1, 401)]
    journal.close()


class ContractServer:
    """The server side of ``reserve_block`` and ``offline_tickets`` as docs/contract describes it,
    with a switchable ``server/availability``; it keeps every number it handed out or accepted."""

    def __init__(self, site: Site, broker: BrokerUrl) -> None:
        self.site = site
        self.bus = BusClient(as_identity(broker, "queue-server"), site.site.id, "contract-server")
        self.bus.subscribe(self.bus.topics.all_req(), self._on_request, m.request_adapter, dedupe=False)
        self.next_free = {s.code: s.first_number for s in site.services}
        self.blocks: list[m.NumberBlock] = []
        self.accepted: dict[str, m.OfflineTicket] = {}
        self.online = True
        self.answer_tickets = True  # False: alive on the bus (no Last Will) but not answering

    def start(self) -> ContractServer:
        self.bus.start()
        self.set_online(True)
        return self

    def set_online(self, online: bool) -> None:
        self.online = online
        self.bus.publish(self.bus.topics.server_availability(), ONLINE if online else OFFLINE, retain=True)

    def _on_request(self, _topic: str, request: Any) -> None:
        if not self.online:
            return  # a dead server answers nothing
        response = m.Response(
            request_id=request.id, ok=False, error=m.ErrorInfo(code="bad_request", message="?")
        )
        if isinstance(request, m.ReserveBlock):
            first = self.next_free[request.service]
            self.next_free[request.service] = first + request.size
            day = RuleBook.from_site(self.site).business_day(datetime.now(_VN))  # from 03:00, as the server
            granted = block(request.service, first, first + request.size - 1, day)
            self.blocks.append(granted)
            response = m.Response(request_id=request.id, ok=True, block=granted)
        elif isinstance(request, m.IssueTicket):
            if not self.answer_tickets:
                return
            service = self.site.service(request.service)
            number = self.next_free[request.service]
            self.next_free[request.service] = number + 1
            ticket = m.TicketIssued(
                number=f"{service.prefix}{number}",
                service=service.code,
                service_name=service.name,
                issued_at=m.now(),
                waiting_before=0,
                token=m.new_id(),
            )
            response = m.Response(request_id=request.id, ok=True, ticket=ticket)
        elif isinstance(request, m.OfflineTickets):
            for offline in request.tickets:
                self.accepted.setdefault(offline.number, offline)
            response = m.Response(
                request_id=request.id, ok=True, accepted=[t.number for t in request.tickets]
            )
        assert request.reply_to is not None
        self.bus.publish(request.reply_to, response)

    def stop(self) -> None:
        self.bus.publish(self.bus.topics.server_availability(), "", retain=True)
        self.bus.stop()


def always_open(site: Site, block_size: int = 20) -> Site:
    hours = Hours(days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], sessions=[("00:00", "24:00")])
    kiosk = site.kiosk.model_copy(update={"block_size": block_size})
    return site.model_copy(update={"hours": hours, "kiosk": kiosk})


@pytest.fixture
def contract_server(demo_site: Site, mosquitto: BrokerUrl) -> Iterator[ContractServer]:
    server = ContractServer(always_open(demo_site), mosquitto).start()
    yield server
    server.stop()


def test_the_kiosk_issues_offline_from_its_blocks_and_hands_them_over_when_the_server_returns(
    qapp: Any, demo_site: Site, mosquitto: BrokerUrl, contract_server: ContractServer, tmp_path: Path
) -> None:
    site = always_open(demo_site)
    journal = OfflineJournal(tmp_path / "j.db")
    kiosk = KioskBackend(site, "kiosk-1", mosquitto, journal=journal).start()
    try:
        assert wait_until(lambda: len(contract_server.blocks) == 3)  # one block per service, reserved online
        contract_server.set_online(False)
        assert wait_until(lambda: kiosk.server_online is False)
        outcomes = [kiosk.take_ticket(("land", "civil", "business")[i % 3], timeout=0.3) for i in range(30)]
        kiosk.stop()
        journal.close()
        # The kiosk restarts while the server is still away, and keeps issuing from the same blocks.
        journal = OfflineJournal(tmp_path / "j.db")
        kiosk = KioskBackend(site, "kiosk-1", mosquitto, journal=journal).start()
        assert wait_until(lambda: kiosk.server_online is False)
        outcomes += [kiosk.take_ticket(("land", "civil", "business")[i % 3], timeout=0.3) for i in range(30)]
        assert all(o.offline and o.ticket is not None for o in outcomes)
        numbers = [o.ticket.number for o in outcomes if o.ticket is not None]
        assert len(set(numbers)) == 60
        granted = {
            f"{site.service(b.service).prefix}{n}"
            for b in contract_server.blocks
            for n in range(b.first, b.last + 1)
        }
        assert set(numbers) <= granted
        assert kiosk.unsent_offline() == 60
        screen = DispenserViewModel(site, kiosk)
        assert screen.offline and screen.offlineMark == "NGOẠI TUYẾN · 60 ⇡"  # what staff see
        contract_server.set_online(True)  # the server is back: the kiosk reconciles on its own
        assert wait_until(lambda: kiosk.unsent_offline() == 0, timeout=15)
        assert screen.offlineMark == ""
        assert set(contract_server.accepted) == set(numbers)
        assert wait_until(lambda: len(contract_server.blocks) == 6)  # and reserves fresh blocks
    finally:
        kiosk.stop()
        journal.close()


def test_a_server_that_stops_answering_is_worked_around_and_rejoined_without_its_last_will(
    demo_site: Site, mosquitto: BrokerUrl, contract_server: ContractServer, tmp_path: Path
) -> None:
    site = always_open(demo_site)
    journal = OfflineJournal(tmp_path / "j.db")
    kiosk = KioskBackend(site, "kiosk-1", mosquitto, journal=journal).start()
    try:
        assert wait_until(lambda: len(contract_server.blocks) == 3)
        first = kiosk.take_ticket("land", timeout=0.3)
        assert first.ticket is not None and not first.offline
        contract_server.answer_tickets = False  # hung, but its availability still says online
        hung = [kiosk.take_ticket("land", timeout=0.3) for _ in range(3)]
        assert all(o.offline for o in hung) and kiosk.server_online is False
        contract_server.answer_tickets = True
        back = kiosk.take_ticket("land", timeout=0.3)  # one quick try succeeds: online again
        assert back.ticket is not None and not back.offline and kiosk.server_online is True
        assert wait_until(lambda: kiosk.unsent_offline() == 0)
        numbers = [o.ticket.number for o in [first, *hung, back] if o.ticket is not None]
        assert len(set(numbers)) == 5
        assert set(contract_server.accepted) == {o.ticket.number for o in hung if o.ticket is not None}
    finally:
        kiosk.stop()
        journal.close()


def test_without_reserved_numbers_or_outside_hours_the_offline_kiosk_refuses_clearly(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    journal = OfflineJournal(tmp_path / "j.db")
    kiosk = KioskBackend(always_open(demo_site), "kiosk-1", mosquitto, journal=journal).start()
    try:
        outcome = kiosk.take_ticket("land", timeout=0.2, attempts=1)  # nobody answers at all
        assert outcome.ticket is None and outcome.error is not None
        assert outcome.error.code == "no_offline_numbers"
        assert kiosk.server_online is False
        closed = KioskBackend(demo_site.with_office_hours(), "kiosk-1", mosquitto, journal=journal)
        sunday_night = datetime(2026, 11, 22, 22, 0, tzinfo=_VN)
        assert not closed.within_hours(sunday_night)
        assert closed.within_hours(datetime(2026, 11, 23, 8, 0, tzinfo=_VN))
        assert not closed.within_hours(datetime(2026, 11, 23, 12, 0, tzinfo=_VN))  # lunch break
        # business issues until 16:30 (its own hours), the centre until 17:00: an offline kiosk says no too
        late = datetime(2026, 11, 23, 16, 45, tzinfo=_VN)
        assert closed.within_hours(late) and closed.within_hours(late, "land")
        assert not closed.within_hours(late, "business")
    finally:
        kiosk.stop()
        journal.close()


def test_server_killed_fifty_tickets_server_back_reconciled_without_duplicates(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    """The whole story against the real queue server."""
    site = always_open(demo_site, block_size=60)
    with KioskRig(site, mosquitto, tmp_path) as rig:
        assert rig.server is not None
        probe = rig.backend.bus.request(
            "reserve_block", m.ReserveBlock(kiosk="kiosk-1", service="land", size=1), 5
        )
        assert probe.ok, probe.error
        online = [rig.backend.take_ticket("land").ticket for _ in range(3)]
        assert wait_until(
            lambda: (
                rig.backend.journal is not None
                and rig.backend.journal.remaining("land", rig.backend.business_day()) > 0
            )
        )
        rig.server.stop()  # the server dies (its Last Will says offline)
        assert wait_until(lambda: rig.backend.server_online is False)
        offline = [rig.backend.take_ticket(("land", "civil")[i % 2], timeout=0.3) for i in range(50)]
        assert all(o.offline and o.ticket is not None for o in offline)
        assert rig.store is not None
        rig.server = QueueServer(site, rig.store, mosquitto).start()  # back
        assert wait_until(lambda: rig.backend.unsent_offline() == 0, timeout=30)
        after = rig.backend.take_ticket("land").ticket
        numbers = (
            [t.number for t in online if t]
            + [o.ticket.number for o in offline if o.ticket]
            + [after.number if after else ""]
        )
        assert len(numbers) == len(set(numbers)) == 54
        rows = rig.store.tickets(rig.backend.business_day().isoformat())
        stored = [row["code"] for row in rows]
        assert len(stored) == len(set(stored)), "the server holds a number twice"
        assert set(numbers) <= set(stored)  # every ticket is known to the server, once


def test_the_kiosks_reserved_blocks_leave_the_days_first_ticket_at_first_number(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    """The kiosk reserves a block per service as it starts; the first citizens still get A1001, B2001,
    C3001 (not A1021: nobody thinks twenty people are ahead), and offline numbers never meet them."""
    site = always_open(demo_site)
    with KioskRig(site, mosquitto, tmp_path) as rig:
        journal = rig.backend.journal
        assert journal is not None
        day = rig.backend.business_day()
        assert wait_until(lambda: all(journal.remaining(s.code, day) == 20 for s in site.services))
        first = [rig.backend.take_ticket(s.code).ticket for s in site.services]
        expected = [f"{s.prefix}{s.first_number}" for s in site.services]
        assert [t.number if t else None for t in first] == expected
        assert rig.server is not None
        rig.server.stop()
        assert wait_until(lambda: rig.backend.server_online is False)
        offline = rig.backend.take_ticket("land", timeout=0.3)
        assert offline.offline and offline.ticket is not None
        assert int(offline.ticket.number.removeprefix("A")) > 999_000  # from the top of the series


def test_concurrent_blocks_and_tickets_on_the_real_server_never_overlap_nor_leave_a_gap(
    demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path
) -> None:
    """Eight threads at once: block reservations and online tickets of one series, through Mosquitto."""
    site = always_open(demo_site)
    with KioskRig(site, mosquitto, tmp_path, journal=False) as rig:
        bus = rig.backend.bus

        def one(i: int) -> m.Response:
            if i % 3 == 0:
                block = m.ReserveBlock(kiosk="kiosk-1", service="land", size=7)
                return bus.request("reserve_block", block, 10)
            return bus.request("issue_ticket", m.IssueTicket(service="land"), 10)

        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(one, range(24)))
    assert all(a.ok for a in answers), [a.error for a in answers if not a.ok]
    online = sorted(int(a.ticket.number[1:]) for a in answers if a.ticket is not None)
    blocks = sorted((a.block.first, a.block.last) for a in answers if a.block is not None)
    assert online == list(range(1001, 1001 + 16))  # the day's tickets run on from first_number
    kept = [n for first, last in blocks for n in range(first, last + 1)]
    assert len(kept) == len(set(kept)) == 8 * 7 and min(kept) > max(online)  # disjoint, from the top
    assert max(kept) == 999_999


@pytest.mark.parametrize(
    ("local", "day"),
    [
        ("2026-12-05T00:30", "2026-12-04"),
        ("2026-12-05T02:59", "2026-12-04"),
        ("2026-12-05T03:00", "2026-12-05"),
    ],
)
def test_the_kiosk_counts_the_business_day_from_day_starts_as_the_server_does(
    demo_site: Site, local: str, day: str
) -> None:
    """Between midnight and ``day_starts`` (03:00 in the demo) the kiosk once filed its offline blocks
    under the new date while the server still granted them for the old one, so none was ever used."""
    at = datetime.fromisoformat(local).replace(tzinfo=_VN)
    kiosk = KioskBackend(demo_site, "kiosk-1", BrokerUrl.parse("mqtt://127.0.0.1:1"))
    assert kiosk.business_day(at) == RuleBook.from_site(demo_site).business_day(at) == date.fromisoformat(day)
