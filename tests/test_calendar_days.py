"""Working days: the 2025 and 2026 tables against the announcements, provisional years, site overlays."""

from __future__ import annotations

import tomllib
import unicodedata
from datetime import date, timedelta
from fnmatch import fnmatch
from pathlib import Path

import pytest

from queue_server.calendar import CalendarError, DayKind, WorkingCalendar, WorkingHours
from queue_server.holiday_table import packaged_tables, parse_tables, statutory_holidays
from queue_server.lunar import lunar_new_year
from siteconf.model import parse_site

REPO = Path(__file__).resolve().parent.parent

# The breaks as announced (first day, last day, both included, weekends inside) and the Saturdays worked.
ANNOUNCED_BREAKS = {
    2025: [
        (date(2025, 1, 1), date(2025, 1, 1)),  # Tết Dương lịch, Wednesday
        (date(2025, 1, 25), date(2025, 2, 2)),  # Tết Ất Tỵ, 9 days (TB 6150/TB-LĐTBXH)
        (date(2025, 4, 5), date(2025, 4, 7)),  # Giỗ Tổ, Monday 7/4
        (date(2025, 4, 30), date(2025, 5, 4)),  # 30/4–1/5, 5 days, Friday 2/5 swapped
        (date(2025, 8, 30), date(2025, 9, 2)),  # Quốc khánh, 4 days
    ],
    2026: [
        (date(2026, 1, 1), date(2026, 1, 4)),  # Tết Dương lịch, 4 days (CV 12729/VPCP-KGVX)
        (date(2026, 2, 14), date(2026, 2, 22)),  # Tết Bính Ngọ, 9 days
        (date(2026, 4, 25), date(2026, 4, 27)),  # Giỗ Tổ on Sunday, nghỉ bù Monday
        (date(2026, 4, 30), date(2026, 5, 3)),  # 30/4–1/5, 4 days
        (date(2026, 8, 29), date(2026, 9, 2)),  # Quốc khánh, 5 days (days not confirmed, see vn.toml)
    ],
}
ANNOUNCED_MAKEUP = {2025: [date(2025, 4, 26)], 2026: [date(2026, 1, 10)]}


def _days(year: int) -> list[date]:
    first = date(year, 1, 1)
    return [first + timedelta(days=n) for n in range((date(year + 1, 1, 1) - first).days)]


@pytest.mark.parametrize("year", [2025, 2026])
def test_non_working_days_match_the_announcements(year: int) -> None:
    calendar = WorkingCalendar()
    expected_off = {
        start + timedelta(days=n)
        for start, end in ANNOUNCED_BREAKS[year]
        for n in range((end - start).days + 1)
        if (start + timedelta(days=n)).weekday() < 5
    }
    weekdays_off = {d for d in _days(year) if d.weekday() < 5 and not calendar.is_working_day(d)}
    saturdays_worked = sorted(d for d in _days(year) if d.weekday() >= 5 and calendar.is_working_day(d))
    assert weekdays_off == expected_off
    assert saturdays_worked == ANNOUNCED_MAKEUP[year]
    listed = {e.day for e in calendar.non_working_days(year)}
    assert listed == expected_off | set(ANNOUNCED_MAKEUP[year])
    assert calendar.year(year).announced


@pytest.mark.parametrize("year", [2025, 2026])
def test_packaged_tables_hold_every_statutory_holiday(year: int) -> None:
    table = packaged_tables()[year]
    tet = lunar_new_year(year)
    required = {date(year, 1, 1), tet - timedelta(days=1), tet, tet + timedelta(days=1)}
    required |= {tet + timedelta(days=2), date(year, 4, 30), date(year, 5, 1), date(year, 9, 2)}
    required |= {d.day for d in statutory_holidays(year) if "Hùng Vương" in d.reason}
    holidays = {d for d, e in table.days.items() if e.kind is DayKind.HOLIDAY}
    assert required <= holidays
    assert len(holidays) == 11  # Labour Code: 1 + 5 + 1 + 1 + 1 + 2


def test_packaged_entries_are_well_formed() -> None:
    for year, table in packaged_tables().items():
        kinds = [e.kind for e in table.days.values()]
        confirmed_bridges = [e for e in table.days.values() if e.kind is DayKind.BRIDGE and e.confirmed]
        assert len(confirmed_bridges) == kinds.count(DayKind.MAKEUP), year
        for entry in table.days.values():
            assert entry.source, entry
            assert unicodedata.is_normalized("NFC", entry.reason), entry
            if entry.kind is DayKind.MAKEUP:
                assert entry.day.weekday() == 5, entry
            if entry.kind in (DayKind.BRIDGE, DayKind.SUBSTITUTE):
                assert entry.day.weekday() < 5, entry


def test_a_year_without_a_table_is_computed_and_flagged() -> None:
    calendar = WorkingCalendar()
    table = calendar.year(2031)
    assert not table.announced
    # Tết Tân Hợi is Thursday 23/1/2031; mùng 3 and 4 fall on the weekend and are made up Monday and Tuesday.
    assert lunar_new_year(2031) == date(2031, 1, 23)
    off = [d for d in _days(2031) if d.weekday() < 5 and not calendar.is_working_day(d)]
    assert off[:6] == [date(2031, 1, 1), date(2031, 1, 22), date(2031, 1, 23), date(2031, 1, 24),
                       date(2031, 1, 27), date(2031, 1, 28)]  # fmt: skip
    assert table.days[date(2031, 1, 27)].kind is DayKind.SUBSTITUTE
    assert len(off) == 11
    # 2/9/2029 is a Sunday: 1/9 and 2/9 both fall on the weekend, so Monday and Tuesday are off.
    assert not calendar.is_working_day(date(2029, 9, 3))
    assert not calendar.is_working_day(date(2029, 9, 4))
    assert calendar.is_working_day(date(2029, 9, 5))
    # 30/4/2034 is a Sunday and Monday is 1/5, itself a holiday: the substitute is Tuesday 2/5.
    assert calendar.year(2034).days[date(2034, 5, 2)].kind is DayKind.SUBSTITUTE
    assert calendar.is_working_day(date(2034, 5, 3))


def test_working_days_between_and_add() -> None:
    calendar = WorkingCalendar()
    # Week of Tết 2026: Monday 16 to Friday 20 are all off.
    assert calendar.working_days_between(date(2026, 2, 16), date(2026, 2, 23)) == 0
    assert calendar.working_days_between(date(2026, 2, 9), date(2026, 2, 23)) == 5
    assert calendar.working_days_between(date(2026, 2, 23), date(2026, 2, 9)) == -5
    # 261 weekdays in 2026, 13 of them off, one Saturday worked.
    assert calendar.working_days_between(date(2026, 1, 1), date(2027, 1, 1)) == 261 - 13 + 1
    assert calendar.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    assert calendar.add_working_days(date(2026, 1, 9), 1) == date(2026, 1, 10)  # make-up Saturday
    assert calendar.add_working_days(date(2026, 1, 9), 0) == date(2026, 1, 9)
    with pytest.raises(CalendarError, match="whole number"):
        calendar.add_working_days(date(2026, 1, 9), -1)
    with pytest.raises(CalendarError, match="outside the calendar's range"):
        calendar.working_days_between(date(1700, 1, 1), date(2026, 1, 1))


def _site(calendar_table: dict[str, object]) -> WorkingCalendar:
    data = tomllib.loads((REPO / "sites" / "demo.toml").read_text(encoding="utf-8"))
    data["calendar"] = calendar_table
    return WorkingCalendar.from_site(parse_site(data))


def test_site_days_overlay_the_packaged_table() -> None:
    calendar = _site(
        {
            "days": [
                {"date": date(2026, 11, 24), "kind": "holiday", "reason": "Ngày Văn hóa Việt Nam"},
                {"date": date(2026, 9, 1), "kind": "working", "reason": "Trực tiếp nhận hồ sơ"},
                {"date": date(2026, 11, 28), "kind": "makeup", "reason": "Làm bù cho 24/11"},
            ]
        }
    )
    assert not calendar.is_working_day(date(2026, 11, 24))
    assert calendar.is_working_day(date(2026, 9, 1))
    assert calendar.is_working_day(date(2026, 11, 28))
    listed = [e.day for e in calendar.non_working_days(2026)]
    assert date(2026, 11, 24) in listed and date(2026, 11, 28) in listed
    assert date(2026, 9, 1) not in listed


def test_a_site_can_announce_a_whole_year() -> None:
    calendar = _site(
        {
            "announced_years": [2027],
            "days": [{"date": date(2027, 2, 8), "kind": "holiday", "reason": "Tết Nguyên đán"}],
        }
    )
    assert calendar.year(2027).announced
    assert list(calendar.year(2027).days) == [date(2027, 2, 8)]
    assert calendar.is_working_day(date(2027, 1, 1))  # the site's table replaces the computed one
    assert not calendar.year(2028).announced


def test_hours_come_from_the_site() -> None:
    data = tomllib.loads((REPO / "sites" / "demo.toml").read_text(encoding="utf-8"))
    data["hours"] = {"days": ["mon", "tue", "wed", "thu", "fri", "sat"], "sessions": [["07:00", "11:00"]]}
    calendar = WorkingCalendar.from_site(parse_site(data))
    assert calendar.hours.weekdays == frozenset(range(6))
    assert calendar.hours.day_length == timedelta(hours=4)
    assert calendar.is_working_day(date(2026, 11, 21))
    assert calendar.is_working_day(date(2026, 4, 25))
    assert [e.day for e in calendar.non_working_days(2026)][2] == date(2026, 2, 16)  # 10/1 is no make-up day
    with pytest.raises(CalendarError, match="at least one session"):
        WorkingHours(frozenset({0}), ())


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"days": [{"date": "2026-01-01", "kind": "holiday", "reason": "x"}]}, "expected a TOML date"),
        ({"days": [{"date": date(2026, 1, 1), "kind": "party", "reason": "x"}]}, "is not one of"),
        ({"days": [{"date": date(2026, 1, 1), "kind": "holiday"}]}, "reason is required"),
        ({"days": [{"date": date(2026, 1, 1), "kind": "holiday", "reason": "x"}]}, "no \\[\\[years\\]\\]"),
        ({"years": [{"year": "2026"}]}, "expected a year"),
        (
            {
                "years": [{"year": 2026}],
                "days": [{"date": date(2026, 1, 1), "kind": "holiday", "reason": "x"}] * 2,
            },
            "listed twice",
        ),
    ],
)
def test_bad_table_data_is_named(data: dict[str, object], message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        parse_tables(data, "test.toml")


def test_the_table_ships_as_package_data() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    include = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    assert (REPO / "queue_server" / "holidays" / "__init__.py").is_file()  # a package, not a namespace
    assert any(fnmatch("queue_server.holidays", pattern) for pattern in include)
    assert "*.toml" in pyproject["tool"]["setuptools"]["package-data"]["*"]


def test_a_missing_packaged_table_is_named() -> None:
    with pytest.raises(CalendarError, match="no packaged holiday table 'xx'"):
        packaged_tables("xx")
