"""The period's tickets as columns, the form every table is computed from.

One list per field, in the tickets' issue order (the order the fold makes them, so every sum adds the
same values in the same order), and the calls ("episodes") flattened in ticket then call order. Made
from the fold's ``TicketFact``s (``from_facts``) or, for a year, straight from ``report_tickets``
(``quick.quick_columns``) without an object per ticket; the whole-ticket counts, the rule versions and
the ratings come with them, counted in Python or in SQL.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress, groupby, repeat
from operator import attrgetter, countOf, is_not
from typing import Any

from queue_server.reports import arrays
from queue_server.reports.facts import EXPIRED, OPEN, TicketFact

Rating = tuple[int, int, int, str | None]  # score, scale, counter, officer
Version = tuple[str, int, str, str]  # rule version, tickets, first day, last day
COUNTS = ("served", "no_show", "cancelled", "transferred", "parked", "offline", "expired", "open", "priority")


@dataclass
class Tally:
    """Tickets counted per service and per business day, and the no-shows of the tickets with any
    (by ticket index): from the tickets, or grouped by the database."""

    issued_by_service: Counter[str]
    served_by_service: Counter[str]  # finished at least once
    no_show_by_service: Counter[str]  # tickets with a no-show
    issued_by_day: Counter[str]
    served_by_day: Counter[str]
    no_shows: dict[int, int]


@dataclass
class Tickets:
    site: Sequence[str]
    day: Sequence[str]
    code: Sequence[str]
    service: Sequence[str]
    issued_ts: Sequence[float]
    estimate_s: Sequence[float | None]
    waited_s: Sequence[float | None]
    tally: Tally
    ep_ticket: list[int]  # per call: the index of its ticket
    ep_counter: list[int]
    ep_officer: list[str | None]
    ep_service_s: list[float | None]
    counts: dict[str, int]  # COUNTS
    versions: list[Version]
    ratings: dict[int, Rating] = field(default_factory=dict)  # by ticket index, in issue order

    def __len__(self) -> int:
        return len(self.day)

    @cached_property
    def last_officer(self) -> dict[int, str | None]:
        """The officer of each called ticket's last call, by ticket index."""
        return dict(zip(self.ep_ticket, self.ep_officer, strict=True))

    @cached_property
    def waited_array(self) -> Any | None:
        """``waited_s`` as numpy float64 (NaN: not called), None where ``arrays.floats`` declines."""
        return arrays.floats(self.waited_s)

    @cached_property
    def service_array(self) -> Any | None:
        """``ep_service_s`` likewise (NaN: the call did not end in a finish)."""
        return arrays.floats(self.ep_service_s)

    @cached_property
    def service_ids(self) -> tuple[list[str], Any]:
        """The services (``arrays.key_ids``): each distinct one, and each ticket's number among them."""
        return arrays.key_ids(self.service)  # type: ignore[return-value]

    @cached_property
    def _codes(self) -> dict[tuple[str, str], dict[str, int]]:
        """Ticket index by code per (site, business day); the last one issued where a code repeats.
        Filled run by run of tickets of one site and day (a year's days come in runs): plain codes as
        keys cost half of 250,000 (site, day, code) tuples."""
        out: dict[tuple[str, str], dict[str, int]] = {}
        start = 0
        for key, run in groupby(zip(self.site, self.day, strict=True)):
            end = start + len(list(run))
            out.setdefault(key, {}).update(zip(self.code[start:end], range(start, end), strict=True))
            start = end
        return out

    def ticket_of(self, site: str, day: str, code: str) -> int | None:
        """The index of the ticket of ``code`` issued on ``day`` at ``site`` (the last such), if any."""
        codes = self._codes.get((site, day))
        return None if codes is None else codes.get(code)


def from_facts(tickets: list[TicketFact]) -> Tickets:
    ep_ticket: list[int] = []
    ep_counter: list[int] = []
    ep_officer: list[str | None] = []
    ep_service_s: list[float | None] = []
    for i, t in enumerate(tickets):
        for e in t.episodes:
            ep_ticket.append(i)
            ep_counter.append(e.counter)
            ep_officer.append(e.officer)
            ep_service_s.append(e.service_s)
    statuses = Counter(map(attrgetter("status"), tickets))
    counts = {
        "served": _count(tickets, "served"),
        "no_show": _count(tickets, "no_shows"),
        "cancelled": _count(tickets, "cancelled"),
        "transferred": _count(tickets, "transfers"),
        "parked": _count(tickets, "parks"),
        "offline": _count(tickets, "offline"),
        "expired": statuses[EXPIRED],
        "open": sum(statuses[s] for s in OPEN),
        "priority": len(tickets) - countOf(map(attrgetter("priority"), tickets), None),
    }
    days: dict[str, list[str]] = {}
    for t in tickets:
        days.setdefault(t.rules_version, []).append(t.day)
    versions = [(v, len(d), min(d), max(d)) for v, d in sorted(days.items(), key=lambda kv: min(kv[1]))]
    ratings = {i: t.rating for i, t in enumerate(tickets) if t.rating is not None}
    column = _columns(tickets)
    day, service, served = column("day"), column("service"), column("served")
    no_shows = column("no_shows")
    tally = Tally(
        Counter(service), Counter(compress(service, served)), Counter(compress(service, no_shows)),
        Counter(day), Counter(compress(day, served)),
        {i: no_shows[i] for i in compress(range(len(no_shows)), no_shows)},
    )  # fmt: skip
    return Tickets(
        column("site"), day, column("code"), service, column("issued_ts"), column("estimate_s"),
        column("waited_s"), tally, ep_ticket, ep_counter, ep_officer, ep_service_s, counts, versions,
        ratings,
    )  # fmt: skip


def _columns(tickets: list[TicketFact]) -> Any:
    return lambda name: list(map(attrgetter(name), tickets))


def _count(tickets: list[TicketFact], name: str) -> int:
    """How many tickets have a true ``name``."""
    return len(tickets) - countOf(map(bool, map(attrgetter(name), tickets)), False)


def flat_calls(
    first: tuple[Sequence[Any], Sequence[Any], Sequence[Any]],
    more: Sequence[list[list[Any]] | None],
) -> tuple[list[int], list[int], list[str | None], list[float | None]]:
    """The calls of every ticket in ticket then call order, from each ticket's first call (counter,
    officer, service time; counter None when never called) and its further calls (``[counter,
    officer, service, service time]`` each, None for none): (ticket index, counter, officer, time)."""
    counter, officer, service_s = first
    n = len(counter)
    called = list(map(is_not, counter, repeat(None)))
    out: tuple[list[Any], list[Any], list[Any], list[Any]] = ([], [], [], [])
    start = 0
    for i in [*compress(range(n), map(is_not, more, repeat(None))), n]:
        end = min(i + 1, n)
        keep = called[start:end]
        out[0].extend(compress(range(start, end), keep))
        for dst, src in zip(out[1:], (counter, officer, service_s), strict=True):
            dst.extend(compress(src[start:end], keep))
        extra = more[i] if i < n else None
        for e in extra or ():
            out[0].append(i)
            out[1].append(e[0])
            out[2].append(e[1])
            out[3].append(e[3])
        start = end
    return out
