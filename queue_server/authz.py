"""Who may ask what: the server's authorisation, by role, from the site file.

The broker's ACL (``motcua site credentials``) guarantees *who* sent a message: a client writes only
``req/{its id}/...`` and ``device/{its id}/...``. This module decides *what* that sender may do:

=================  ==========================================================================
sender             may
=================  ==========================================================================
every role         ``calls_since`` (``READ``): the calls the hall's TV shows anyway
kiosk (device)     ``issue_ticket`` (as itself), ``reserve_block`` and ``offline_tickets`` of its
                   own blocks (``kiosk`` = its id)
``console-{n}``    counter ``n``'s console: ``counter`` on counter ``n`` only, ``register_dossier``
                   at counter ``n``, ``update_dossier``
scanner (device)   ``register_dossier`` at its own counter
``supervisor-*``   the supervisors' console: every request, on every counter
``hall-board``,    read only
``hall-board-*``,
LED display,
keypad, rating
tablet
anyone else        nothing, not even ``calls_since``
=================  ==========================================================================

Keypads act through key events mapped to their own counter (``keys.py``), and open it only for an
officer who identified on that keypad with code and PIN (``keypad_may_act``); a rating tablet rates
only the ticket just finished (or being served) at its own counter, within the site's
``[kiosk.rating] window_s``, on the site's scale (``check_rating``; after the window: ``expired``).
A refusal is ``Refused("forbidden", ...)``: answered to the sender and logged with the sender id,
the verb and the reason, never with personal data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bus import models as m
from queue_server.engine import Refused
from queue_server.engine_model import Ticket
from queue_server.engine_refusals import aware
from siteconf import Site

log = logging.getLogger(__name__)

OPENING_ACTIONS = frozenset({m.CounterAction.OPEN, m.CounterAction.RESUME})

READ = frozenset({"calls_since"})
"""What every role may read: the calls the hall board shows to everyone (numbers and counters, never
a person). A sender without a role (not a client of the site) gets nothing, not even this."""
KIOSK_VERBS = frozenset({"issue_ticket", "reserve_block", "offline_tickets"}) | READ
CONSOLE_VERBS = frozenset({"counter", "register_dossier", "update_dossier"}) | READ
SCANNER_VERBS = frozenset({"register_dossier"}) | READ
SUPERVISOR_PREFIX = "supervisor"
HALL_BOARD_PREFIX = "hall-board"


@dataclass(frozen=True)
class Role:
    """What a sender is: ``name`` (kiosk, console, scanner, supervisor, hall_board, a device kind) and
    its counter."""

    name: str
    verbs: frozenset[str]
    counter: int | None = None


def role_of(site: Site, client_id: str) -> Role | None:
    """The role of a bus client, from the site file; ``None``: not a client of this site."""
    device = next((d for d in site.devices if d.id == client_id), None)
    if device is not None:
        if device.kind is m.DeviceKind.KIOSK:
            return Role("kiosk", KIOSK_VERBS)
        if device.kind is m.DeviceKind.SCANNER:
            return Role("scanner", SCANNER_VERBS, device.counter)
        return Role(device.kind.value, READ, device.counter)
    if _named(client_id, SUPERVISOR_PREFIX):
        return Role("supervisor", CONSOLE_VERBS | KIOSK_VERBS)
    if _named(client_id, HALL_BOARD_PREFIX):  # ``motcua hall`` (several boards: hall-board-2, ...)
        return Role("hall_board", READ)
    head, _, number = client_id.partition("-")
    if head == "console" and number.isdigit() and int(number) in {c.number for c in site.counters}:
        return Role("console", CONSOLE_VERBS, int(number))
    return None


def _named(client_id: str, prefix: str) -> bool:
    return client_id == prefix or client_id.startswith(f"{prefix}-")


def forbidden(client_id: str, verb: str, reason_vi: str, reason_en: str) -> Refused:
    """The refusal, logged (sender, verb, reason; never personal data)."""
    log.warning("forbidden: %s may not %s: %s", client_id, verb, reason_en)
    return Refused("forbidden", reason_vi, reason_en)


def authorise(site: Site, client_id: str, request: m.Envelope) -> Refused | None:
    """``None`` if ``client_id`` may send ``request``, else the ``forbidden`` refusal (logged)."""
    role = role_of(site, client_id)
    if role is None:
        verb = str(getattr(request, "kind", ""))
        return forbidden(client_id, verb, "Thiết bị không có trong cấu hình.", "not a client of this site")
    return permitted(role, client_id, request)


def permitted(role: Role, client_id: str, request: m.Envelope) -> Refused | None:
    """``None`` if ``role`` carries the request's verb (and its counter or kiosk is the sender's own)."""
    verb = str(getattr(request, "kind", ""))
    if verb not in role.verbs:
        return forbidden(client_id, verb, "Thiết bị không được phép.", f"a {role.name} may not {verb}")
    if role.name == "kiosk":
        return _own_kiosk(client_id, request)
    if role.counter is not None:
        return _own_counter(client_id, role, request)
    return None


def _own_kiosk(client_id: str, request: m.Envelope) -> Refused | None:
    kiosk = getattr(request, "kiosk", None)
    if kiosk is not None and kiosk != client_id:
        return forbidden(
            client_id,
            str(getattr(request, "kind", "")),
            "Ki-ốt chỉ dùng số của chính mình.",
            f"acts for kiosk {kiosk}",
        )
    return None


def _own_counter(client_id: str, role: Role, request: m.Envelope) -> Refused | None:
    counter = getattr(request, "counter", None)
    if counter is None and isinstance(request, m.RegisterDossier) and role.name == "scanner":
        return None
    if isinstance(request, m.CounterRequest | m.RegisterDossier) and counter != role.counter:
        return forbidden(
            client_id,
            str(getattr(request, "kind", "")),
            f"Chỉ được thao tác tại quầy {role.counter}.",
            f"counter {role.counter}'s {role.name} acted on counter {counter}",
        )
    return None  # a transfer from one's own counter to another is the officer's decision


def tablet_may_rate(site: Site, device_id: str, rating: m.RatingGiven) -> Refused | None:
    """The checks that need only the site file: a rating tablet, of the counter it rates, on the
    site's scale."""
    device = next((d for d in site.devices if d.id == device_id), None)
    if device is None or device.kind is not m.DeviceKind.RATING_TABLET:
        return forbidden(device_id, "rating_given", "Thiết bị không được đánh giá.", "not a rating tablet")
    if device.counter != rating.counter:
        return forbidden(
            device_id,
            "rating_given",
            f"Máy đánh giá chỉ đánh giá quầy {device.counter}.",
            f"counter {device.counter}'s tablet rated counter {rating.counter}",
        )
    levels = site.kiosk.rating.levels
    if rating.scale != levels:
        return forbidden(
            device_id,
            "rating_given",
            f"Thang đánh giá của trung tâm là {levels} mức.",
            f"a {rating.scale}-level rating on a {levels}-level site",
        )
    return None


def keypad_may_act(request: m.CounterRequest, status: str) -> Refused | None:
    """A keypad's request opens a counter (OPEN, RESUME, or CALL at a counter not open) only with the
    officer identified on that keypad; ``status`` is the counter's (open, paused, closed)."""
    opens = request.action in OPENING_ACTIONS or (
        request.action is m.CounterAction.CALL_NEXT and status != "open"
    )
    if not opens or request.officer is not None:
        return None
    return forbidden(
        f"keypad of counter {request.counter}",
        "counter",
        "Cán bộ cần đăng nhập trên bàn phím (mã cán bộ, XÁC NHẬN, mã PIN, XÁC NHẬN) trước khi mở quầy.",
        "no officer identified on this keypad: type the officer code, CONFIRM, the PIN, CONFIRM",
    )


def check_rating(counter: int, ticket: Ticket, at: datetime, window: timedelta) -> None:
    """Raise ``forbidden`` unless ``ticket`` is being served at ``counter`` or finished there less
    than ``window`` ago (a tablet rates what just happened at its own counter); ``expired`` when the
    window is over."""
    if ticket.counter is not None and ticket.counter != counter:
        raise Refused(
            "forbidden",
            f"Số {ticket.code} được phục vụ tại quầy {ticket.counter}.",
            f"ticket {ticket.code} was served at counter {ticket.counter}, not {counter}",
        )
    if ticket.finished_at is not None and aware(at) - ticket.finished_at > window:
        seconds = int(window.total_seconds())
        raise Refused(
            "expired",
            f"Đã hết thời gian đánh giá số {ticket.code}.",
            f"ticket {ticket.code} finished over {seconds} s ago",
        )
