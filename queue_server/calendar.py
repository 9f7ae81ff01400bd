"""Working calendar of a one-stop centre and the appointment date (ngày hẹn trả) of a dossier.

Working days are the weekdays of the site's ``[hours].days`` (Monday–Friday by default) that are not a
day off in the year's table, plus the Saturdays the table makes working days (làm bù). Year tables
come from ``queue_server.holiday_table``: announced years from the packaged data, other years computed
from the Labour Code and flagged provisional; the site file's ``[calendar]`` table overlays its own days.

The appointment rule implemented by `WorkingCalendar.due_at` (times in the site's time zone):

1. Counting starts at the first working instant at or after receipt: a receipt during a session counts
   from that minute; before opening, from opening; during the lunch break, from the afternoon session;
   after closing, on a day off (holiday, weekend, nghỉ bù), from opening of the next working day. A
   receipt on a make-up Saturday counts from that Saturday: the centre is open.
2. Cut-off (one-stop rules: a same-day procedure received after 15:00 is returned the next working
   day; the time is a per-procedure parameter): a dossier received on a working day strictly after the
   procedure's cut-off (site default 15:00, a per-procedure time, or none) counts from opening of the
   next working day. The cut-off applies whatever N is: it is where the centre's receiving day ends
   for that procedure; a site sets ``cutoff = "none"`` for procedures counted from the minute of receipt.
3. N > 0 working days is N times the length of a working day (the sum of the site's sessions, 7 h 30
   with 07:30–11:30 and 13:30–17:00) of working time added to the start; the appointment is the instant
   where that time runs out, so a dossier received Monday 14:30 with N = 3 is due Thursday 14:30, and
   one counted from an opening is due at closing of the Nth working day. N is a whole number: the rules
   give processing times in whole working days, and a half day received in the morning would fall due
   before a same-day procedure received at the same minute.
4. N = 0 (a same-day procedure): due at closing of the day counting starts on.

The appointment is therefore always inside a session of a working day, and never earlier for a
later receipt or a larger N. Years without an announced table give a result flagged ``provisional``:
a centre cannot refuse a complete dossier because the government has not yet published next year's
swapped days, so it prints the date the law gives and the flag tells the caller to say so (and staff
can issue Form 04 if the swap later moves the date).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_server.errors import CalendarError
from queue_server.holiday_table import (
    YearTable,
    packaged_tables,
    provisional_table,
)
from queue_server.lunar import FIRST_YEAR, LAST_YEAR
from siteconf.days import DayKind, SpecialDay

if TYPE_CHECKING:
    from siteconf.model import Site

__all__ = [
    "WEEKDAYS_VI",
    "Appointment",
    "CalendarError",
    "DayKind",
    "SpecialDay",
    "WorkingCalendar",
    "WorkingHours",
    "format_appointment_vi",
]

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_CUTOFF = time(15, 0)
_MAX_DAYS_OFF_IN_A_ROW = 366  # a guard against a table that closes the centre for good


@dataclass(frozen=True)
class WorkingHours:
    """Open weekdays (0 = Monday) and the sessions of a working day, in local wall-clock time."""

    weekdays: frozenset[int] = frozenset(range(5))
    sessions: tuple[tuple[time, time], ...] = ((time(7, 30), time(11, 30)), (time(13, 30), time(17, 0)))

    def __post_init__(self) -> None:
        if not self.weekdays or not self.weekdays <= set(range(7)):
            raise CalendarError(f"working weekdays must be a non-empty subset of 0–6, got {self.weekdays}")
        if not self.sessions:
            raise CalendarError("a working day needs at least one session")
        previous = time.min
        for start, end in self.sessions:
            if not previous <= start < end:
                raise CalendarError(f"session {start:%H:%M}-{end:%H:%M} must follow the previous one")
            previous = end

    @classmethod
    def from_codes(cls, days: Iterable[str], sessions: Iterable[tuple[time, time]]) -> WorkingHours:
        """From the site file's day codes (``mon`` … ``sun``) and parsed sessions."""
        return cls(frozenset(WEEKDAY_CODES.index(d) for d in days), tuple(sessions))

    @property
    def opening(self) -> time:
        return self.sessions[0][0]

    @property
    def closing(self) -> time:
        return self.sessions[-1][1]

    @property
    def day_length(self) -> timedelta:
        day = date(2000, 1, 3)
        return sum(
            (datetime.combine(day, e) - datetime.combine(day, s) for s, e in self.sessions), timedelta()
        )


@dataclass(frozen=True)
class Appointment:
    """The result of `WorkingCalendar.due_at`."""

    received: datetime
    counted_from: datetime
    due: datetime
    days: int
    provisional_years: tuple[int, ...] = ()
    unconfirmed_days: tuple[date, ...] = ()

    @property
    def provisional(self) -> bool:
        """True when a year crossed has no announced table (its swaps and make-up days are unknown)."""
        return bool(self.provisional_years)


@dataclass
class WorkingCalendar:
    """Working days and appointment dates of one centre."""

    hours: WorkingHours = field(default_factory=WorkingHours)
    timezone: str = "Asia/Ho_Chi_Minh"
    site_days: Iterable[SpecialDay] = ()
    site_announced_years: Iterable[int] = ()
    cutoff: time | None = DEFAULT_CUTOFF
    procedure_cutoffs: Mapping[str, time | None] = field(default_factory=dict)
    tables: Mapping[int, YearTable] | None = None

    def __post_init__(self) -> None:
        try:
            self.tz = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise CalendarError(f"unknown time zone {self.timezone!r}") from err
        self._base = dict(packaged_tables() if self.tables is None else self.tables)
        self._site: dict[int, dict[date, SpecialDay]] = {}
        for entry in self.site_days:
            self._site.setdefault(entry.day.year, {})[entry.day] = entry
        self._site_years = frozenset(self.site_announced_years)
        self._years: dict[int, YearTable] = {}

    @classmethod
    def from_site(cls, site: Site) -> WorkingCalendar:
        """The calendar of a loaded site file: its hours, time zone and ``[calendar]`` table."""
        conf = site.calendar
        return cls(
            hours=WorkingHours.from_codes(site.hours.days, site.hours.parsed_sessions()),
            timezone=site.site.timezone,
            site_days=conf.special_days(),
            site_announced_years=conf.announced_years,
            cutoff=conf.default_cutoff(),
            procedure_cutoffs=conf.procedure_cutoffs(),
        )

    # ---- days -------------------------------------------------------------------------------------

    def year(self, year: int) -> YearTable:
        """The table in force for ``year``: announced, site-completed, or provisional."""
        table = self._years.get(year)
        if table is None:
            table = self._build_year(year)
            self._years[year] = table
        return table

    def _build_year(self, year: int) -> YearTable:
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise CalendarError(f"year {year} is outside the calendar's range {FIRST_YEAR}–{LAST_YEAR}")
        if year in self._site_years:
            base = YearTable(year, True, {})
        else:
            base = self._base.get(year) or provisional_table(year, self.hours.weekdays)
        days = {**base.days, **self._site.get(year, {})}
        return YearTable(year, base.announced, days)

    def entry(self, day: date) -> SpecialDay | None:
        """The table's entry for ``day``, if any."""
        return self.year(day.year).days.get(day)

    def is_working_day(self, day: date) -> bool:
        entry = self.entry(day)
        if entry is not None:
            return not entry.kind.is_day_off
        return day.weekday() in self.hours.weekdays

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        for n in range(1, _MAX_DAYS_OFF_IN_A_ROW + 1):
            candidate = day + timedelta(days=n)
            if self.is_working_day(candidate):
                return candidate
        raise CalendarError(f"no working day within {_MAX_DAYS_OFF_IN_A_ROW} days after {day.isoformat()}")

    def add_working_days(self, day: date, n: int) -> date:
        """The date ``n`` working days after ``day`` (``day`` itself not counted; ``n = 0`` gives ``day``)."""
        _check_date(day)
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise CalendarError(f"a number of working days must be a whole number ≥ 0, got {n!r}")
        for _ in range(n):
            day = self.next_working_day(day)
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``[start, end)``; negative (the count of ``[end, start)``) if ``end < start``."""
        _check_date(start)
        _check_date(end)
        if end < start:
            return -self.working_days_between(end, start)
        return sum(self.is_working_day(start + timedelta(days=n)) for n in range((end - start).days))

    def non_working_days(self, year: int) -> list[SpecialDay]:
        """The year's days off that fall on an open weekday, and its worked days off (làm bù), by date."""
        result = []
        for entry in sorted(self.year(year).days.values(), key=lambda e: e.day):
            open_weekday = entry.day.weekday() in self.hours.weekdays
            if entry.kind.is_day_off == open_weekday:
                result.append(entry)
        return result

    # ---- appointments -----------------------------------------------------------------------------

    def cutoff_for(self, procedure: str | None) -> time | None:
        """The receipt cut-off of ``procedure`` (the site default when it has none of its own)."""
        if procedure is not None and procedure in self.procedure_cutoffs:
            return self.procedure_cutoffs[procedure]
        return self.cutoff

    def due_at(self, received: datetime, days: int, procedure: str | None = None) -> Appointment:
        """Appointment for a dossier received at ``received`` (aware) with ``days`` working days allowed."""
        local = self._local(received)
        amount = _working_days_amount(days)
        start = self._counting_start(local, self.cutoff_for(procedure))
        if amount == 0:
            due = datetime.combine(start.date(), self.hours.closing, self.tz)
        else:
            due = self._add_working_time(start, self.hours.day_length * amount)
        years = range(local.year, due.year + 1)
        provisional = tuple(y for y in years if not self.year(y).announced)
        unconfirmed = tuple(
            e.day
            for y in years
            for e in self.year(y).days.values()
            if not e.confirmed and local.date() <= e.day <= due.date()
        )
        return Appointment(local, start, due, amount, provisional, tuple(sorted(unconfirmed)))

    def _local(self, received: datetime) -> datetime:
        if not isinstance(received, datetime):
            raise CalendarError(f"the receipt time must be a date and time, got {received!r}")
        if received.tzinfo is None or received.utcoffset() is None:
            raise CalendarError(
                f"receipt time {received.isoformat()} has no UTC offset; give it, e.g. 2026-04-24T14:30+07:00"
            )
        local = received.astimezone(self.tz)
        _check_date(local.date())
        return local

    def _counting_start(self, local: datetime, cutoff: time | None) -> datetime:
        day, clock = local.date(), local.time()
        if self.is_working_day(day) and (cutoff is None or clock <= cutoff):
            for start, end in self.hours.sessions:
                if clock < end:
                    return datetime.combine(day, max(clock, start), self.tz)
        return datetime.combine(self.next_working_day(day), self.hours.opening, self.tz)

    def _add_working_time(self, start: datetime, amount: timedelta) -> datetime:
        remaining = amount
        day, clock = start.date(), start.time().replace(tzinfo=None)
        while True:
            if self.is_working_day(day):
                for s, e in self.hours.sessions:
                    if e <= clock:
                        continue
                    segment_start = datetime.combine(day, max(s, clock))
                    available = datetime.combine(day, e) - segment_start
                    if remaining <= available:
                        return (segment_start + remaining).replace(tzinfo=self.tz)
                    remaining -= available
                day = self.next_working_day(day)
            else:
                day = self.next_working_day(day)
            clock = time.min


def _working_days_amount(days: int) -> int:
    if isinstance(days, bool) or not isinstance(days, int):
        raise CalendarError(f"the number of working days must be a whole number, got {days!r}")
    if days < 0:
        raise CalendarError(f"the number of working days must be ≥ 0, got {days}")
    return days


def _check_date(day: date) -> None:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise CalendarError(f"{day.isoformat()} is outside the calendar's range {FIRST_YEAR}–{LAST_YEAR}")


def format_appointment_vi(moment: datetime) -> str:
    """Vietnamese wording of an appointment for Form 01, e.g. ``14 giờ 30 phút, Thứ Năm, ngày 30/04/2026``."""
    return f"{moment:%H} giờ {moment:%M} phút, {WEEKDAYS_VI[moment.weekday()]}, ngày {moment:%d/%m/%Y}"
