"""Vietnamese lunar calendar: Tết 2000–2030 from the published tables, UTC+7 versus UTC+8, round trips."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from queue_server.errors import LunarDateError
from queue_server.lunar import LunarDate, hung_kings_day, lunar_new_year, to_lunar, to_solar

# Mùng 1 Tết as printed in Vietnamese calendars (lịch vạn niên) for 2000–2030.
TET = {
    2000: date(2000, 2, 5), 2001: date(2001, 1, 24), 2002: date(2002, 2, 12), 2003: date(2003, 2, 1),
    2004: date(2004, 1, 22), 2005: date(2005, 2, 9), 2006: date(2006, 1, 29), 2007: date(2007, 2, 17),
    2008: date(2008, 2, 7), 2009: date(2009, 1, 26), 2010: date(2010, 2, 14), 2011: date(2011, 2, 3),
    2012: date(2012, 1, 23), 2013: date(2013, 2, 10), 2014: date(2014, 1, 31), 2015: date(2015, 2, 19),
    2016: date(2016, 2, 8), 2017: date(2017, 1, 28), 2018: date(2018, 2, 16), 2019: date(2019, 2, 5),
    2020: date(2020, 1, 25), 2021: date(2021, 2, 12), 2022: date(2022, 2, 1), 2023: date(2023, 1, 22),
    2024: date(2024, 2, 10), 2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6),
    2028: date(2028, 1, 26), 2029: date(2029, 2, 13), 2030: date(2030, 2, 2),
}  # fmt: skip


@pytest.mark.parametrize("year", sorted(TET))
def test_tet_matches_the_published_date(year: int) -> None:
    assert lunar_new_year(year) == TET[year]
    assert to_lunar(TET[year]) == LunarDate(year, 1, 1)
    assert to_lunar(TET[year] - timedelta(days=1)).year == year - 1


@pytest.mark.parametrize(
    ("year", "vietnam", "china"),
    [
        (1985, date(1985, 1, 21), date(1985, 2, 20)),
        (2007, date(2007, 2, 17), date(2007, 2, 18)),
        (2030, date(2030, 2, 2), date(2030, 2, 3)),
    ],
)
def test_the_utc7_meridian_moves_tet_in_some_years(year: int, vietnam: date, china: date) -> None:
    assert lunar_new_year(year) == vietnam
    assert lunar_new_year(year, tz=8.0) == china


@pytest.mark.parametrize(
    ("year", "day"),
    [(2012, date(2012, 3, 31)), (2023, date(2023, 4, 29)), (2024, date(2024, 4, 18)),
     (2025, date(2025, 4, 7)), (2026, date(2026, 4, 26))],
)  # fmt: skip
def test_hung_kings_day(year: int, day: date) -> None:
    assert hung_kings_day(year) == day


def test_tet_2026_chap_month_has_29_days() -> None:
    # The 2026 announcement: Saturday 14/2 is 27 tháng Chạp, Monday 16/2 the last day (29) of Ất Tỵ.
    assert to_lunar(date(2026, 2, 14)) == LunarDate(2025, 12, 27)
    assert to_lunar(date(2026, 2, 16)) == LunarDate(2025, 12, 29)
    with pytest.raises(LunarDateError, match="only 29 days"):
        to_solar(LunarDate(2025, 12, 30))


def test_leap_month() -> None:
    # 2023 (Quý Mão) has a leap second month; 2025 (Ất Tỵ) a leap sixth month.
    assert to_solar(LunarDate(2023, 2, 1, leap=True)) == date(2023, 3, 22)
    assert to_lunar(date(2025, 7, 25)) == LunarDate(2025, 6, 1, leap=True)
    with pytest.raises(LunarDateError, match="no leap month 3"):
        to_solar(LunarDate(2023, 3, 1, leap=True))
    with pytest.raises(LunarDateError, match="has no leap month"):
        to_solar(LunarDate(2024, 5, 1, leap=True))


def test_out_of_range_and_impossible_dates_are_refused() -> None:
    with pytest.raises(LunarDateError, match="outside the supported range"):
        lunar_new_year(2200)
    with pytest.raises(LunarDateError, match="month 1–12"):
        to_solar(LunarDate(2026, 13, 1))


@given(st.dates(min_value=date(1900, 2, 1), max_value=date(2150, 12, 31)))
def test_round_trip(day: date) -> None:
    lunar = to_lunar(day)
    assert 1 <= lunar.day <= 30
    assert to_solar(lunar) == day
