"""Report periods: a range of business days, named the way managers name them.

Grammar accepted by ``Period.parse(kind, value)``::

    day      2026-11-23
    week     2026-W48 (ISO week) or any date inside it
    month    2026-11
    quarter  2026-Q4
    year     2026
    custom   2026-11-01..2026-11-20 (both days included)

A business day runs from the site's ``day_starts`` to the next; ``bounds`` gives those instants in the
site's time zone (Asia/Ho_Chi_Minh unless the site says otherwise). Every day of a period lies in the
years 1900 to 9998, so that its bounds, and the margins a report reads around them, are instants
Python can hold; a custom period spans at most ``MAX_DAYS`` days.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from queue_server.reports.errors import ReportError

KINDS = ("day", "week", "month", "quarter", "year", "custom")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
MAX_DAYS = 3 * 366
FIRST_YEAR, LAST_YEAR = 1900, 9998
YEARS = f"use a period within the years {FIRST_YEAR} to {LAST_YEAR}"


@dataclass(frozen=True)
class Period:
    """Business days ``first`` .. ``last`` (both included); ``label`` is how the report names them."""

    first: date
    last: date
    kind: str = "custom"
    label: str = ""

    def __post_init__(self) -> None:
        if self.first.year < FIRST_YEAR or self.last.year > LAST_YEAR:
            raise ReportError(f"period {self.name} is out of range: {YEARS}")
        if self.last < self.first:
            raise ReportError(f"period {self.first}..{self.last}: the last day is before the first")
        if (self.last - self.first).days >= MAX_DAYS:
            raise ReportError(f"period {self.first}..{self.last}: at most {MAX_DAYS} days")

    @property
    def name(self) -> str:
        return self.label or f"{self.first}..{self.last}"

    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range((self.last - self.first).days + 1)]

    def contains(self, day: str) -> bool:
        """Whether an ISO business day (text, as events carry it) is in the period."""
        return self.first.isoformat() <= day <= self.last.isoformat()

    def bounds(self, tz: ZoneInfo, day_starts: time) -> tuple[datetime, datetime]:
        """The first instant of the first business day and the first instant after the last."""
        start = datetime.combine(self.first, day_starts, tz)
        end = datetime.combine(self.last + timedelta(days=1), day_starts, tz)
        return start, end

    def quarters(self) -> list[str]:
        """The quarters (``2026-Q4``) the period touches, for per-agency scores."""
        seen: list[str] = []
        for day in (self.first, self.last):
            key = f"{day.year}-Q{(day.month - 1) // 3 + 1}"
            if key not in seen:
                seen.append(key)
        return seen

    @classmethod
    def parse(cls, kind: str, value: str) -> Period:
        """The period of ``kind`` named by ``value``; ``ReportError`` says what was expected."""
        value = value.strip()
        try:
            return _PARSERS[kind](value)
        except KeyError:
            raise ReportError(f"period kind {kind!r}: use one of {', '.join(KINDS)}") from None
        except ValueError as err:
            raise ReportError(f"{kind} {value!r}: {err}") from None


def _day(value: str) -> Period:
    day = _date(value, "a date YYYY-MM-DD")
    return Period(day, day, "day", day.isoformat())


def _week(value: str) -> Period:
    match = _WEEK.match(value)
    if match:
        monday = date.fromisocalendar(_year_of(match[1]), int(match[2]), 1)
    else:
        day = _date(value, "an ISO week YYYY-Www or a date inside it")
        monday = day - timedelta(days=day.weekday())
    year, week, _ = monday.isocalendar()
    return Period(monday, monday + timedelta(days=6), "week", f"{year}-W{week:02d}")


def _month(value: str) -> Period:
    match = _MONTH.match(value)
    if not match:
        raise ValueError("expected a month YYYY-MM")
    first = date(_year_of(match[1]), int(match[2]), 1)
    last = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
    return Period(first, last, "month", value)


def _quarter(value: str) -> Period:
    match = _QUARTER.match(value)
    if not match:
        raise ValueError("expected a quarter YYYY-Qn")
    year, q = _year_of(match[1]), int(match[2])
    last_month = 3 * q
    last = date(year, last_month, calendar.monthrange(year, last_month)[1])
    return Period(date(year, last_month - 2, 1), last, "quarter", value)


def _year(value: str) -> Period:
    if not re.fullmatch(r"\d{4}", value):
        raise ValueError("expected a year YYYY")
    year = _year_of(value)
    return Period(date(year, 1, 1), date(year, 12, 31), "year", value)


def _custom(value: str) -> Period:
    first, sep, last = value.partition("..")
    if not sep:
        raise ValueError("expected FIRST..LAST, e.g. 2026-11-01..2026-11-20")
    return Period(_date(first, "a date YYYY-MM-DD"), _date(last, "a date YYYY-MM-DD"), "custom")


def _year_of(digits: str) -> int:
    """The year of a period's name, refused before Python's calendar sees a year it cannot hold."""
    year = int(digits)
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"out of range: {YEARS}")
    return year


def _date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"expected {what}") from None


_PARSERS = {
    "day": _day,
    "week": _week,
    "month": _month,
    "quarter": _quarter,
    "year": _year,
    "custom": _custom,
}
