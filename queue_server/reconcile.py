"""Catching up with what happened while the server was not deciding: offline tickets, ended days.

- A kiosk that lost the server keeps issuing from number blocks it reserved earlier
  (``reserve_block``) and later sends the tickets it issued (``offline_tickets``). Each is registered
  in the order it was issued, against the kiosk's blocks; one that fits none is logged and left out of
  the answer's ``accepted`` (the kiosk keeps it in its journal) without holding back the others.
- The first batch of a business day expires what earlier days left waiting, parked or absent
  (``close_past_days``), so a queue never carries yesterday's citizens. Just before, while memory is
  still exactly the committed state, a snapshot is stored when one is due (``snapshots.take_if_due``:
  at each day's close and every ``EVERY`` events).

Both run inside the worker's transaction (``queue_server/worker.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bus import models as m
from queue_server.core import Core, store_event
from queue_server.db import Tx
from queue_server.engine import Changes, Event, Refused
from queue_server.engine_model import TicketStatus
from queue_server.snapshots import take_if_due

log = logging.getLogger(__name__)

_OPEN = {TicketStatus.WAITING, TicketStatus.PARKED, TicketStatus.NO_SHOW}


def offline_tickets(
    core: Core, request: m.OfflineTickets, at: datetime, apply: Callable[[list[Event]], None]
) -> tuple[list[str], list[m.RefusedNumber]]:
    """Each ticket the kiosk issued from its blocks while the server was away, in its order:
    the numbers accepted and those refused with why (so the kiosk can drop them from its journal).

    A ticket already known (an earlier try) is accepted again and not duplicated.
    """
    accepted: list[str] = []
    refused: list[m.RefusedNumber] = []
    for ticket in sorted(request.tickets, key=lambda t: t.issued_at):
        try:
            events = _offline_ticket(core, request.kiosk, ticket, at)
        except Refused as err:
            log.warning("offline ticket %s from %s refused: %s", ticket.number, request.kiosk, err)
            refused.append(m.RefusedNumber(number=ticket.number, code=err.code, reason=err.message_en))
            continue
        apply(events)  # the next ticket is decided against this one
        accepted.append(ticket.number)
    return accepted, refused


def _offline_ticket(core: Core, kiosk: str, ticket: m.OfflineTicket, at: datetime) -> list[Event]:
    """The events registering one offline ticket; ``Refused`` when it fits no block."""
    rule = core.rules.services.get(ticket.service)
    digits = ticket.number.removeprefix(rule.normal.prefix) if rule else ""
    if rule is None or not digits.isdigit():
        raise Refused(
            "bad_request",
            f"Số {ticket.number} không thuộc dịch vụ {ticket.service}.",
            f"{ticket.number} is not a {ticket.service} number",
        )
    return core.engine.register_offline_ticket(
        kiosk,
        ticket.service,
        int(digits),
        priority=ticket.priority,
        token=ticket.token,
        issued_at=ticket.issued_at,
        at=at,
    )


def close_past_days(core: Core, tx: Tx, at: datetime, changes: Changes) -> None:
    """The first batch of a business day expires what the previous days left waiting.

    Before that, a snapshot of the state as committed so far when one is due.
    """
    if core.stale:
        core.restore()
    take_if_due(core, tx, at)
    today = core.rules.business_day(at).isoformat()
    if today == core.open_day:
        return
    engine = core.engine
    days = sorted({t.day for t in engine.tickets.values() if t.day < today and t.status in _OPEN})
    for day in days:
        for event in engine.close_day(day, at):
            store_event(tx, event, None)
            changes.merge(engine.apply(event))
    core.open_day = today
