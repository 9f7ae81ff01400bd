"""What the queue server decides with: the engine, the dossier registry and the lookups beside them.

``Core`` holds the site's rules and calendar and the in-memory state rebuilt from the store's event
log: the queue engine, the dossier registry, and the indexes the engine does not keep (ticket by
token and by number, the last number issued and called per queue, each counter's call sequence and
last officer). ``reload`` rebuilds all of them at start from the newest snapshot that checks out
against the chain plus the events after it (``queue_server/snapshots.py``); ``restore`` does the same
after a failed batch from the in-memory checkpoint, so memory matches the database again without
reading the whole log. Every other part holds the ``Core`` and so sees the rebuilt state.

This is the one module that turns an event into a stored row (``store_event``) and back
(``from_stored``: typed engine events), so a change to how events carry their data lands here.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from queue_server.accounts import Officers
from queue_server.calendar import WorkingCalendar
from queue_server.chain import GENESIS_HASH
from queue_server.db import Store, StoredEvent, Tx
from queue_server.dossiers_registry import EVENT_TYPES as DOSSIER_EVENTS
from queue_server.dossiers_registry import DossierRegistry
from queue_server.engine import Changes, Engine, Event, Refused
from queue_server.events import CounterOpened, TicketCalled, TicketIssued, TicketRecalled, parse_event
from queue_server.rules import RuleBook
from queue_server.snapshot_format import (
    SnapshotFormatError,
    as_dict,
    dump_dossiers,
    dump_engine,
    load_dossiers,
    load_engine,
)
from queue_server.snapshots import Checkpoint, load_latest, make_checkpoint
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
    forgotten_before: str = ""

    def forget(self, engine: Engine) -> None:
        """Follow the engine in forgetting past days' finished tickets (``EngineState._new_day``)."""
        if self.forgotten_before == engine.forgotten_before:
            return
        cutoff = self.forgotten_before = engine.forgotten_before
        self.by_token = {k: v for k, v in self.by_token.items() if v in engine.tickets}
        self.by_code = {k: v for k, v in self.by_code.items() if v in engine.tickets}
        self.last_issued = {k: v for k, v in self.last_issued.items() if k[0] >= cutoff}
        self.last_called = {k: v for k, v in self.last_called.items() if k[0] >= cutoff}

    def dump(self) -> dict[str, Any]:
        return {
            "by_token": list(self.by_token.items()),
            "by_code": [[*k, v] for k, v in self.by_code.items()],
            "last_issued": [[*k, v] for k, v in self.last_issued.items()],
            "last_called": [[*k, v] for k, v in self.last_called.items()],
            "counter_seq": list(self.counter_seq.items()),
            "officers": list(self.officers.items()),
            "forgotten_before": self.forgotten_before,
        }

    @classmethod
    def load(cls, s: dict[str, Any]) -> Lookups:
        return cls(
            by_token=dict(s["by_token"]),
            by_code={(d, c): i for d, c, i in s["by_code"]},
            last_issued={(d, x): c for d, x, c in s["last_issued"]},
            last_called={(d, x): c for d, x, c in s["last_called"]},
            counter_seq={int(n): int(q) for n, q in s["counter_seq"]},
            officers={int(n): str(o) for n, o in s["officers"]},
            forgotten_before=str(s["forgotten_before"]),
        )

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
    checkpoint: Checkpoint  # the state after a committed event, to restore after a failed batch
    stored_snapshot: tuple[int, str] | None  # seq and day of the newest snapshot in the store
    stale = False  # memory may differ from the store (a restore failed): restore before deciding

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
        self._names: dict[str, str] = {}
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
        """Engine, dossiers and lookups from the newest good snapshot and the events after it.

        Without a snapshot that checks out against the chain, from every stored event. Either way the
        result becomes the in-memory checkpoint that ``restore`` starts from.
        """
        loaded = load_latest(self.store)
        if loaded is not None:
            checkpoint, body = loaded
            try:
                self._rebuild(checkpoint, body)
                self.stored_snapshot = (checkpoint.seq, checkpoint.day)
                return
            except (SnapshotFormatError, KeyError, TypeError, ValueError) as err:
                log.warning(
                    "snapshot of event %d unreadable (%r); replaying the whole log", checkpoint.seq, err
                )
        self._rebuild(None, None)
        self.stored_snapshot = None

    def restore(self) -> None:
        """After a failed batch: the in-memory checkpoint and the committed events after it."""
        self.stale = True  # until the rebuild succeeded (the next batch retries it first)
        checkpoint = self.checkpoint
        self._rebuild(checkpoint, json.loads(checkpoint.body))
        self.stale = False

    def _rebuild(self, checkpoint: Checkpoint | None, body: dict[str, Any] | None) -> None:
        self.engine = Engine(self.rules)
        self.dossiers = DossierRegistry(self.calendar, self.site.site.agency_code)
        self.lookups = Lookups()
        self.open_day = None
        seq, hash_, day = 0, GENESIS_HASH, ""
        if checkpoint is not None and body is not None:
            load_engine(self.engine, as_dict(body["engine"], "engine"))
            load_dossiers(self.dossiers, as_dict(body["dossiers"], "dossiers"))
            self.lookups = Lookups.load(as_dict(body["lookups"], "lookups"))
            seq, hash_, day = checkpoint.seq, checkpoint.hash, checkpoint.day
        replayed = 0
        for stored in self.store.events(after_seq=seq):
            if stored.prev_hash != hash_:
                log.warning(
                    "event %d does not link to event %d's hash (run motcua audit verify)", stored.seq, seq
                )
            self.apply(from_stored(stored))
            seq, hash_, replayed = stored.seq, stored.hash, replayed + 1
        if checkpoint is None or replayed:
            self.checkpoint = make_checkpoint(self, seq, hash_, day or self.today())
        else:
            self.checkpoint = checkpoint
        start = "the start of the log" if checkpoint is None else f"the snapshot of event {checkpoint.seq}"
        log.info("engine rebuilt from %s and %d events after it", start, replayed)

    def dump_state(self) -> dict[str, Any]:
        """The state in memory as snapshot JSON parts (``snapshot_format``)."""
        return {
            "engine": dump_engine(self.engine),
            "dossiers": dump_dossiers(self.dossiers),
            "lookups": self.lookups.dump(),
        }

    def apply(self, event: Event) -> Changes:
        """One decided event applied to memory (engine or dossiers, then the lookups)."""
        changes = Changes()
        if is_dossier_event(event):
            self.dossiers.apply(event)
        else:
            changes = self.engine.apply(event)
        self.lookups.note(event, self.engine)
        self.lookups.forget(self.engine)
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

    def officer_name(self, officer_id: str | None) -> str | None:
        """An officer's display name for the counter's screens: their account's, else the site
        file's ``[[kiosk.officers]]`` entry, else ``None``."""
        if officer_id is None:
            return None
        if officer_id not in self._names:
            try:
                name = Officers(self.store.engine).display_name(officer_id)
            except SQLAlchemyError as err:
                log.warning("cannot read officer %s's display name: %s", officer_id, err)
                name = None
            listed = next((o.name for o in self.site.kiosk.officers if o.id == officer_id), None)
            if name or listed:
                self._names[officer_id] = name or listed or ""
        return self._names.get(officer_id)

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
