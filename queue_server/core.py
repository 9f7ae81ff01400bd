"""What the queue server decides with: the engine, the dossier registry and the lookups beside them.

``Core`` holds the site's rules and calendar and the in-memory state rebuilt from the store's event
log: the queue engine, the dossier registry, and the indexes the engine does not keep (ticket by
token and by number, the last number issued and called per queue, each counter's call sequence and
last officer). ``reload`` rebuilds all of them from the store at once, so after a failed batch memory
matches the database again; every other part holds the ``Core`` and so sees the rebuilt state.

This is the one module that turns an event into a stored row (``store_event``) and back
(``from_stored``: typed engine events), so a change to how events carry their data lands here.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from queue_server.calendar import WorkingCalendar
from queue_server.db import Store, StoredEvent, Tx
from queue_server.dossiers_registry import EVENT_TYPES as DOSSIER_EVENTS
from queue_server.dossiers_registry import DossierRegistry
from queue_server.engine import Changes, Engine, Event, Refused
from queue_server.events import CounterOpened, TicketCalled, TicketIssued, TicketRecalled, parse_event
from queue_server.rules import RuleBook
from siteconf import Site

log = logging.getLogger(__name__)


# --- the only places that touch an event's payload ---------------------------------------------


def store_event(tx: Tx, event: Event, request_id: str | None) -> None:
    """Append ``event`` to the store's hash chain, under the request that caused it."""
    tx.append(event.type, event.data, event.at, request_id)


def from_stored(stored: StoredEvent) -> Event:
    """The event for one row of the stored log: a typed engine event, or a dossier event as stored."""
    event = Event(stored.type, stored.data, stored.at)
    return event if stored.type in DOSSIER_EVENTS else parse_event(event)


def is_dossier_event(event: Event) -> bool:
    return event.type in DOSSIER_EVENTS


# --- lookups the engine does not index ----------------------------------------------------------


@dataclass
class Lookups:
    """Indexes kept beside the engine, fed every event after the engine applied it."""

    by_token: dict[str, str] = field(default_factory=dict)
    by_code: dict[tuple[str, str], str] = field(default_factory=dict)
    last_issued: dict[tuple[str, str], str] = field(default_factory=dict)
    last_called: dict[tuple[str, str], str] = field(default_factory=dict)
    counter_seq: dict[int, int] = field(default_factory=dict)
    officers: dict[int, str] = field(default_factory=dict)

    def note(self, event: Event, engine: Engine) -> None:
        if isinstance(event, TicketIssued):
            self.by_token[event.token] = event.ticket_id
            self.by_code[(event.day, event.code)] = event.ticket_id
            self.last_issued[(event.day, event.service)] = event.code
        elif isinstance(event, TicketCalled | TicketRecalled):
            ticket = engine.tickets.get(event.ticket_id)
            if ticket is not None:
                self.last_called[(ticket.day, ticket.service)] = ticket.code
            self.counter_seq[event.counter] = event.seq
        elif isinstance(event, CounterOpened):
            self.officers[event.counter] = event.officer


class Core:
    """The site's rules and the state decided so far, rebuilt from the store as one."""

    engine: Engine
    dossiers: DossierRegistry
    lookups: Lookups
    open_day: str | None  # the business day whose first batch already expired the days before

    def __init__(
        self,
        site: Site,
        store: Store,
        clock: Callable[[], datetime] | None = None,
        new_token: Callable[[], str] = lambda: secrets.token_urlsafe(12),
    ) -> None:
        self.site = site
        self.store = store
        self.tz = ZoneInfo(site.site.timezone)
        self.clock = clock or (lambda: datetime.now(self.tz))
        self.new_token = new_token
        self.calendar = WorkingCalendar.from_site(site.with_office_hours())
        self.rules = self._with_calendar(RuleBook.from_site(site))
        self.reload()

    def _with_calendar(self, rules: RuleBook) -> RuleBook:
        """The rule book with this year's and the next's holidays and make-up days (not around the clock)."""
        if self.site.is_around_the_clock():
            return rules
        year = self.now().year
        closed: set[date] = set()
        opened: set[date] = set()
        for y in (year - 1, year, year + 1):
            for day, entry in self.calendar.year(y).days.items():
                (closed if entry.kind.is_day_off else opened).add(day)
        return replace(rules, closed_days=frozenset(closed), open_days=frozenset(opened))

    def reload(self) -> None:
        """Engine, dossiers and lookups rebuilt from every stored event."""
        events = [from_stored(e) for e in self.store.events()]
        self.engine = Engine.replay(self.rules, (e for e in events if not is_dossier_event(e)))
        self.dossiers = DossierRegistry(self.calendar, self.site.site.agency_code)
        for event in events:
            if is_dossier_event(event):
                self.dossiers.apply(event)
        self.lookups = Lookups()
        self.open_day = None
        for event in events:
            self.lookups.note(event, self.engine)
        log.info("engine rebuilt from %d events", len(events))

    def apply(self, event: Event) -> Changes:
        """One decided event applied to memory (engine or dossiers, then the lookups)."""
        changes = Changes()
        if is_dossier_event(event):
            self.dossiers.apply(event)
        else:
            changes = self.engine.apply(event)
        self.lookups.note(event, self.engine)
        return changes

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> str:
        return self.rules.business_day(self.now()).isoformat()

    # --- the lookups as requests need them --------------------------------------------------------

    def ticket_id(self, code: str | None) -> str:
        """Today's ticket numbered ``code``; refused when there is none."""
        if code is None:
            raise Refused("bad_request", "Thiếu số thứ tự.", "this action needs the ticket number")
        ticket_id = self.lookups.by_code.get((self.today(), code))
        if ticket_id is None:
            raise Refused("unknown_ticket", f"Không có số {code} hôm nay.", f"no ticket {code} today")
        return ticket_id

    def officer(self, counter: int) -> str:
        """The officer logged in at ``counter`` (to resume it); refused when there is none."""
        state = self.engine.counters.get(counter)
        if state is None or state.officer is None:
            raise Refused("bad_request", "Cần mã cán bộ để mở quầy.", "opening a counter needs officer")
        return state.officer

    def last_officer(self, counter: int) -> str:
        """Who last logged in at ``counter`` (from the event log), or the counter itself."""
        officer = self.engine.counters[counter].officer or self.lookups.officers.get(counter)
        return officer or f"quay{counter}"

    def check_day_off(self, at: datetime) -> None:
        """No tickets on a public holiday or a day off in lieu (the site's hours know only weekdays)."""
        if self.site.is_around_the_clock():
            return
        entry = self.calendar.entry(at.astimezone(self.tz).date())
        if entry is not None and entry.kind.is_day_off:
            raise Refused(
                "outside_hours",
                f"Hôm nay nghỉ ({entry.reason}): ngoài giờ tiếp nhận.",
                f"today is a day off ({entry.reason}): outside the hours tickets are issued",
            )
