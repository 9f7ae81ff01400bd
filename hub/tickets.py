"""The hub's ticket table, folded from each centre's accepted events (pure, no I/O).

The province dashboard needs, per centre and now: people waiting, the longest wait, today's tickets and
ratings. The hub derives them from the events it verified rather than from the centre's retained state,
so the figures are exactly as fresh as the chain the hub holds and survive a hub restart. One batch of
events becomes one partial row per ticket (``None`` = keep what the hub has) plus the days closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hub.follow import ShippedEvent

# Statuses the hub shows; ``expired`` is what a closed day makes of tickets left open.
WAITING, CALLED, DONE, NO_SHOW, PARKED, CANCELLED, EXPIRED = (
    "waiting",
    "called",
    "done",
    "no_show",
    "parked",
    "cancelled",
    "expired",
)
OPEN = (WAITING, PARKED, NO_SHOW)
COLUMNS = ("day", "service", "status", "issued_at", "called_at", "finished_at", "counter", "score", "scale")


@dataclass
class TicketFold:
    """Partial ticket rows keyed by (site, ticket id), and the (site, day) pairs closed."""

    rows: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    closed_days: list[tuple[str, str]] = field(default_factory=list)

    def _row(self, site: str, ticket_id: str) -> dict[str, Any]:
        return self.rows.setdefault((site, ticket_id), dict.fromkeys(COLUMNS))

    def add(self, site: str, events: Iterable[ShippedEvent]) -> None:
        for event in events:
            handler = _HANDLERS.get(event.type)
            if handler is None:
                continue
            data = event.decoded()
            if not isinstance(data, dict):
                continue
            if event.type == "day_closed":
                if isinstance(data.get("day"), str):
                    self.closed_days.append((site, data["day"]))
                    self._expire(site, data["day"])
                continue
            ticket_id = data.get("ticket_id")
            if isinstance(ticket_id, str):
                handler(self._row(site, ticket_id), data, event.at)

    def _expire(self, site: str, day: str) -> None:
        for (row_site, _), row in self.rows.items():
            if row_site == site and row["day"] == day and row["status"] in OPEN:
                row["status"] = EXPIRED


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _issued(row: dict[str, Any], data: dict[str, Any], at: str) -> None:
    row.update(day=data.get("day"), service=data.get("service"), status=WAITING)
    row["issued_at"] = data.get("issued_at") if isinstance(data.get("issued_at"), str) else at


def _called(row: dict[str, Any], data: dict[str, Any], at: str) -> None:
    row.update(status=CALLED, counter=_int(data.get("counter")))
    if row["called_at"] is None:
        row["called_at"] = at


def _status(status: str) -> Callable[[dict[str, Any], dict[str, Any], str], None]:
    def apply(row: dict[str, Any], _data: dict[str, Any], _at: str) -> None:
        row["status"] = status

    return apply


def _finished(row: dict[str, Any], _data: dict[str, Any], at: str) -> None:
    row.update(status=DONE, finished_at=at)


def _transferred(row: dict[str, Any], data: dict[str, Any], _at: str) -> None:
    row.update(status=WAITING, service=data.get("service") or row["service"])


def _rated(row: dict[str, Any], data: dict[str, Any], _at: str) -> None:
    row.update(score=_int(data.get("score")), scale=_int(data.get("scale")))


_HANDLERS: dict[str, Callable[[dict[str, Any], dict[str, Any], str], None]] = {
    "ticket_issued": _issued,
    "ticket_called": _called,
    "ticket_recalled": _status(CALLED),
    "ticket_finished": _finished,
    "ticket_no_show": _status(NO_SHOW),
    "ticket_reinstated": _status(WAITING),
    "ticket_transferred": _transferred,
    "ticket_parked": _status(PARKED),
    "ticket_cancelled": _status(CANCELLED),
    "ticket_rated": _rated,
    "day_closed": _status(EXPIRED),
}
