"""Kinds of calendar day and one listed day: data shared by the site file and the queue server's calendar.

Why here: the ``[calendar]`` table of the site file lists days of these kinds, and the queue server's
year tables (``queue_server.holiday_table``) hold them too. Living in ``siteconf`` lets both use them
without the site file depending on the server.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum


class DayKind(StrEnum):
    """Why a day is listed in a year's table."""

    HOLIDAY = "holiday"  # ngày lễ, tết
    SUBSTITUTE = "substitute"  # nghỉ bù: a holiday fell on a day off
    BRIDGE = "bridge"  # nghỉ hoán đổi: a working day swapped with a Saturday
    LOCAL = "local"  # a day off decided locally (site file only)
    MAKEUP = "makeup"  # làm bù: a Saturday (or other day off) worked
    WORKING = "working"  # site file: cancels a listed day off, the centre works

    @property
    def is_day_off(self) -> bool:
        return self not in (DayKind.MAKEUP, DayKind.WORKING)

    @property
    def label(self) -> str:
        """Vietnamese label printed before the reason."""
        return _LABELS[self]


_LABELS = {
    DayKind.HOLIDAY: "Nghỉ lễ",
    DayKind.SUBSTITUTE: "Nghỉ bù",
    DayKind.BRIDGE: "Nghỉ hoán đổi",
    DayKind.LOCAL: "Nghỉ theo quyết định địa phương",
    DayKind.MAKEUP: "Làm bù",
    DayKind.WORKING: "Làm việc",
}


@dataclass(frozen=True)
class SpecialDay:
    """One entry of a year's table."""

    day: date
    kind: DayKind
    reason: str
    source: str = ""
    confirmed: bool = True
