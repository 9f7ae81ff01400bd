"""Refusals the queue engine gives, in Vietnamese for the citizen or clerk and in English for logs."""

from __future__ import annotations

import json
from datetime import datetime

from queue_server.engine_model import CounterState, CounterStatus, Refused, Ticket
from queue_server.rules import ServiceRule


def json_object(value: object) -> bool:
    """Only values that survive a trip through the event table's JSON text, so replay stays exact."""
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        return False
    try:
        return bool(json.loads(json.dumps(value, allow_nan=False)) == value)
    except (TypeError, ValueError):
        return False


def aware(at: datetime) -> datetime:
    """``at`` itself, or ``bad_request`` when it has no offset (the engine has no local clock to guess)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise Refused("bad_request", "Thời điểm thiếu múi giờ.", "the time has no time zone offset")
    return at


def sold_out(rule: ServiceRule) -> Refused:
    return Refused(
        "sold_out",
        f"Lĩnh vực {rule.name} đã hết số hôm nay.",
        f"{rule.name_en or rule.code}: no more tickets today",
    )


def not_now(t: Ticket) -> Refused:
    return Refused(
        "not_allowed",
        f"Số {t.code} đang ở trạng thái '{t.status}', không thể làm việc này.",
        f"ticket {t.code} is {t.status}; this is not possible now",
    )


def busy(c: CounterState) -> Refused:
    return Refused(
        "counter_busy",
        f"Quầy {c.number} đang phục vụ một số khác.",
        f"counter {c.number} is serving another ticket; finish it first",
    )


def closed(c: CounterState) -> Refused:
    return Refused(
        "counter_closed",
        f"Quầy {c.number} đang {'tạm dừng' if c.status is CounterStatus.PAUSED else 'đóng'}.",
        f"counter {c.number} is {c.status}",
    )
