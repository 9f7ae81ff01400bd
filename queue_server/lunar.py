"""Vietnamese lunisolar calendar (âm lịch), computed for the UTC+7 meridian.

This follows the method Hồ Ngọc Đức published for the Vietnamese calendar: new moons and the sun's
longitude from Jean Meeus' "Astronomical Algorithms" series, with the day boundaries taken at UTC+7.
The month containing the winter solstice is month 11; a year with 13 new moons between two such
months gets a leap month, the first month that holds no major solar term (trung khí). Because the day
boundary is UTC+7 and not UTC+8, the Vietnamese calendar differs from the Chinese one in some years
(Tết 1985 fell on 21 January in Vietnam and 20 February in China; Tết 2007 on 17 February against 18).

Pure arithmetic, no I/O; valid for the Gregorian years 1800–2199 (`LunarDateError` outside).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from queue_server.errors import LunarDateError

VIETNAM_UTC_OFFSET_HOURS = 7.0
FIRST_YEAR = 1800
LAST_YEAR = 2199

_JD_OF_ORDINAL_ZERO = 1_721_425  # Julian day number of date.fromordinal(1) is 1_721_426
_SYNODIC_MONTH = 29.530588853
_EPOCH_NEW_MOON = 2_415_021.076998695  # new moon of 1 Jan 1900, the k = 0 of the series below
_DEG = math.pi / 180


@dataclass(frozen=True, order=True)
class LunarDate:
    """A day of the lunar calendar: ``leap`` marks the repeated (nhuận) month."""

    year: int
    month: int
    day: int
    leap: bool = False

    def __str__(self) -> str:
        nhuan = " nhuận" if self.leap else ""
        return f"{self.day:02d}/{self.month:02d}{nhuan}/{self.year} âm lịch"


def _jd(day: date) -> int:
    return day.toordinal() + _JD_OF_ORDINAL_ZERO


def _date(jd: int) -> date:
    return date.fromordinal(jd - _JD_OF_ORDINAL_ZERO)


def _new_moon(k: int) -> float:
    """Julian date (UT) of the k-th new moon after the one of 1 Jan 1900."""
    t = k / 1236.85
    t2, t3 = t * t, t * t * t
    jd1 = 2_415_020.75933 + 29.53058868 * k + 0.0001178 * t2 - 0.000000155 * t3
    jd1 += 0.00033 * math.sin((166.56 + 132.87 * t - 0.009173 * t2) * _DEG)
    m = (359.2242 + 29.10535608 * k - 0.0000333 * t2 - 0.00000347 * t3) * _DEG
    mpr = (306.0253 + 385.81691806 * k + 0.0107306 * t2 + 0.00001236 * t3) * _DEG
    f = (21.2964 + 390.67050646 * k - 0.0016528 * t2 - 0.00000239 * t3) * _DEG
    c1 = (0.1734 - 0.000393 * t) * math.sin(m) + 0.0021 * math.sin(2 * m)
    c1 += -0.4068 * math.sin(mpr) + 0.0161 * math.sin(2 * mpr) - 0.0004 * math.sin(3 * mpr)
    c1 += 0.0104 * math.sin(2 * f) - 0.0051 * math.sin(m + mpr) - 0.0074 * math.sin(m - mpr)
    c1 += 0.0004 * math.sin(2 * f + m) - 0.0004 * math.sin(2 * f - m) - 0.0006 * math.sin(2 * f + mpr)
    c1 += 0.0010 * math.sin(2 * f - mpr) + 0.0005 * math.sin(2 * mpr + m)
    if t < -11:
        delta_t = 0.001 + 0.000839 * t + 0.0002261 * t2 - 0.00000845 * t3 - 0.000000081 * t * t3
    else:
        delta_t = -0.000278 + 0.000265 * t + 0.000262 * t2
    return jd1 + c1 - delta_t


def _new_moon_day(k: int, tz: float) -> int:
    """Julian day number of the local civil day that holds the k-th new moon."""
    return math.floor(_new_moon(k) + 0.5 + tz / 24)


def _sun_longitude_sector(jdn: int, tz: float) -> int:
    """Which twelfth of the ecliptic (0–11, 30° each) the sun is in at the start of local day ``jdn``."""
    t = (jdn - 0.5 - tz / 24 - 2_451_545.0) / 36525
    t2 = t * t
    m = (357.52910 + 35999.05030 * t - 0.0001559 * t2 - 0.00000048 * t * t2) * _DEG
    l0 = 280.46645 + 36000.76983 * t + 0.0003032 * t2
    dl = (1.914600 - 0.004817 * t - 0.000014 * t2) * math.sin(m)
    dl += (0.019993 - 0.000101 * t) * math.sin(2 * m) + 0.000290 * math.sin(3 * m)
    longitude = (l0 + dl) * _DEG
    longitude -= 2 * math.pi * math.floor(longitude / (2 * math.pi))
    return math.floor(longitude / math.pi * 6)


def _month_11_start(year: int, tz: float) -> int:
    """Julian day number of the first day of lunar month 11 (the solstice month) of ``year``."""
    off = _jd(date(year, 12, 31)) - 2_415_021
    k = math.floor(off / _SYNODIC_MONTH)
    start = _new_moon_day(k, tz)
    if _sun_longitude_sector(start, tz) >= 9:
        start = _new_moon_day(k - 1, tz)
    return start


def _leap_month_offset(a11: int, tz: float) -> int:
    """Months after month 11 at which the leap month falls (the first month with no major term)."""
    k = math.floor((a11 - _EPOCH_NEW_MOON) / _SYNODIC_MONTH + 0.5)
    i = 1
    arc = _sun_longitude_sector(_new_moon_day(k + i, tz), tz)
    while True:
        last = arc
        i += 1
        arc = _sun_longitude_sector(_new_moon_day(k + i, tz), tz)
        if arc == last or i >= 14:
            return i - 1


def _check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise LunarDateError(f"year {year} is outside the supported range {FIRST_YEAR}–{LAST_YEAR}")


def to_lunar(day: date, tz: float = VIETNAM_UTC_OFFSET_HOURS) -> LunarDate:
    """The lunar date of the solar (Gregorian) ``day``."""
    _check_year(day.year)
    jdn = _jd(day)
    k = math.floor((jdn - _EPOCH_NEW_MOON) / _SYNODIC_MONTH)
    month_start = _new_moon_day(k + 1, tz)
    if month_start > jdn:
        month_start = _new_moon_day(k, tz)
    a11 = _month_11_start(day.year, tz)
    b11 = a11
    if a11 >= month_start:
        lunar_year = day.year
        a11 = _month_11_start(day.year - 1, tz)
    else:
        lunar_year = day.year + 1
        b11 = _month_11_start(day.year + 1, tz)
    diff = math.floor((month_start - a11) / 29)
    leap = False
    month = diff + 11
    if b11 - a11 > 365:
        leap_diff = _leap_month_offset(a11, tz)
        if diff >= leap_diff:
            month = diff + 10
            leap = diff == leap_diff
    if month > 12:
        month -= 12
    if month >= 11 and diff < 4:
        lunar_year -= 1
    return LunarDate(lunar_year, month, jdn - month_start + 1, leap)


def to_solar(lunar: LunarDate, tz: float = VIETNAM_UTC_OFFSET_HOURS) -> date:
    """The solar date of a lunar date; ``LunarDateError`` if that lunar day does not exist."""
    _check_year(lunar.year)
    if not 1 <= lunar.month <= 12 or not 1 <= lunar.day <= 30:
        raise LunarDateError(f"{lunar} is not a lunar date (month 1–12, day 1–30)")
    if lunar.month < 11:
        a11, b11 = _month_11_start(lunar.year - 1, tz), _month_11_start(lunar.year, tz)
    else:
        a11, b11 = _month_11_start(lunar.year, tz), _month_11_start(lunar.year + 1, tz)
    k = math.floor(0.5 + (a11 - _EPOCH_NEW_MOON) / _SYNODIC_MONTH)
    off = (lunar.month - 11) % 12
    if b11 - a11 > 365:
        leap_off = _leap_month_offset(a11, tz)
        leap_month = (leap_off - 2) % 12
        if lunar.leap and lunar.month != leap_month:
            raise LunarDateError(f"{lunar}: lunar year {lunar.year} has no leap month {lunar.month}")
        if lunar.leap or off >= leap_off:
            off += 1
    elif lunar.leap:
        raise LunarDateError(f"{lunar}: lunar year {lunar.year} has no leap month")
    month_start = _new_moon_day(k + off, tz)
    result = month_start + lunar.day - 1
    if lunar.day == 30 and _new_moon_day(k + off + 1, tz) <= result:
        raise LunarDateError(f"{lunar}: that month has only 29 days")
    return _date(result)


def lunar_new_year(year: int, tz: float = VIETNAM_UTC_OFFSET_HOURS) -> date:
    """Mùng 1 Tết: the solar date of 1/1 of the lunar year that starts in solar ``year``."""
    return to_solar(LunarDate(year, 1, 1), tz)


def hung_kings_day(year: int, tz: float = VIETNAM_UTC_OFFSET_HOURS) -> date:
    """Giỗ Tổ Hùng Vương: 10/3 of the lunar year that starts in solar ``year`` (never a leap month)."""
    return to_solar(LunarDate(year, 3, 10), tz)
