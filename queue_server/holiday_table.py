"""Yearly tables of the days a Vietnamese state agency does not work, or works although it is Saturday.

A year's table comes from the packaged data (``queue_server/holidays/vn.toml``, written from the
government's yearly announcements) or, for a year nobody has announced yet, is computed from the Labour
Code (Bộ luật Lao động 2019, điều 112) and marked provisional:

- 1/1; Tết Âm lịch: the last day of the lunar year and mùng 1–4 (the split chosen for 2026; the
  government picks the five days each year); Giỗ Tổ Hùng Vương 10/3 âm lịch; 30/4; 1/5; 2/9 and 1/9;
- a holiday on a day the centre does not work is made up on the next working day that is not itself a
  holiday (điều 112.3, nghỉ bù);
- no swapped days (nghỉ hoán đổi) and no make-up Saturdays (làm bù): nobody can know them in advance.

Pure: reading the packaged TOML is the only I/O.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

from queue_server.errors import CalendarError, LunarDateError
from queue_server.lunar import hung_kings_day, lunar_new_year
from siteconf.days import DayKind, SpecialDay


@dataclass(frozen=True)
class YearTable:
    """The listed days of one year; ``announced`` is False for a table computed from the rules alone."""

    year: int
    announced: bool
    days: Mapping[date, SpecialDay] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for day in self.days:
            if day.year != self.year:
                raise CalendarError(f"year table {self.year} lists {day.isoformat()}")


DATA_PACKAGE = "queue_server.holidays"


@cache
def packaged_tables(name: str = "vn") -> Mapping[int, YearTable]:
    """The announced years of the packaged table ``name`` (``queue_server/holidays/<name>.toml``)."""
    try:
        text = resources.files(DATA_PACKAGE).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    except FileNotFoundError as err:
        raise CalendarError(f"no packaged holiday table {name!r} in {DATA_PACKAGE}") from err
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CalendarError(f"holiday table {name}.toml is not valid TOML: {err}") from err
    return parse_tables(data, f"{name}.toml")


def parse_tables(data: Mapping[str, Any], source: str) -> dict[int, YearTable]:
    """Build year tables from ``{"years": [...], "days": [...]}`` (the packaged file's layout)."""
    days: dict[int, dict[date, SpecialDay]] = {}
    for i, raw in enumerate(data.get("days", [])):
        entry = _special_day(raw, f"{source}: days[{i}]")
        bucket = days.setdefault(entry.day.year, {})
        if entry.day in bucket:
            raise CalendarError(f"{source}: days[{i}]: {entry.day.isoformat()} is listed twice")
        bucket[entry.day] = entry
    tables: dict[int, YearTable] = {}
    for i, raw in enumerate(data.get("years", [])):
        year = raw.get("year")
        if not isinstance(year, int):
            raise CalendarError(f"{source}: years[{i}].year: expected a year like 2026, got {year!r}")
        tables[year] = YearTable(year, bool(raw.get("announced", False)), days.pop(year, {}))
    if days:
        stray = ", ".join(str(y) for y in sorted(days))
        raise CalendarError(f"{source}: days listed for {stray} but no [[years]] entry declares the year")
    return tables


def _special_day(raw: Mapping[str, Any], where: str) -> SpecialDay:
    day = raw.get("date")
    if not isinstance(day, date):
        raise CalendarError(f"{where}.date: expected a TOML date like 2026-01-01, got {day!r}")
    try:
        kind = DayKind(str(raw.get("kind")))
    except ValueError as err:
        kinds = ", ".join(k.value for k in DayKind)
        raise CalendarError(f"{where}.kind: {raw.get('kind')!r} is not one of {kinds}") from err
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason:
        raise CalendarError(f"{where}.reason: a Vietnamese reason is required")
    return SpecialDay(day, kind, reason, str(raw.get("source", "")), bool(raw.get("confirmed", True)))


def statutory_holidays(year: int) -> list[SpecialDay]:
    """The Labour Code's holidays of ``year`` (điều 112.1), Tết split as the module docstring says."""
    try:
        tet = lunar_new_year(year)
        hung = hung_kings_day(year)
    except LunarDateError as err:
        raise CalendarError(f"cannot compute the lunar holidays of {year}: {err}") from err
    law = "Bộ luật Lao động 2019, điều 112"
    days = [SpecialDay(date(year, 1, 1), DayKind.HOLIDAY, "Tết Dương lịch", law)]
    days.append(SpecialDay(tet - timedelta(days=1), DayKind.HOLIDAY, "Tết Nguyên đán (giao thừa)", law))
    for n in range(4):
        reason = f"Tết Nguyên đán (mùng {n + 1} tháng Giêng)"
        days.append(SpecialDay(tet + timedelta(days=n), DayKind.HOLIDAY, reason, law))
    days += [
        SpecialDay(hung, DayKind.HOLIDAY, "Giỗ Tổ Hùng Vương (10/3 âm lịch)", law),
        SpecialDay(date(year, 4, 30), DayKind.HOLIDAY, "Ngày Chiến thắng (30/4)", law),
        SpecialDay(date(year, 5, 1), DayKind.HOLIDAY, "Ngày Quốc tế Lao động (1/5)", law),
        SpecialDay(date(year, 9, 1), DayKind.HOLIDAY, "Quốc khánh (ngày liền kề 2/9)", law),
        SpecialDay(date(year, 9, 2), DayKind.HOLIDAY, "Quốc khánh (2/9)", law),
    ]
    return [d for d in days if d.day.year == year]


def provisional_table(year: int, weekdays: Iterable[int]) -> YearTable:
    """A year nobody has announced: statutory holidays plus computed substitute days, ``announced=False``."""
    working = frozenset(weekdays)
    holidays = {d.day: d for d in statutory_holidays(year)}
    days: dict[date, SpecialDay] = dict(holidays)
    for entry in sorted(holidays.values(), key=lambda d: d.day):
        if entry.day.weekday() in working:
            continue
        substitute = entry.day + timedelta(days=1)
        while substitute.weekday() not in working or substitute in days:
            substitute += timedelta(days=1)
        if substitute.year != year:
            continue
        reason = f"Nghỉ bù {entry.reason} (trùng ngày nghỉ {entry.day.strftime('%d/%m/%Y')})"
        days[substitute] = SpecialDay(substitute, DayKind.SUBSTITUTE, reason, entry.source)
    return YearTable(year, False, days)
