"""``motcua calendar``: a year's non-working days, or the appointment date of a dossier.

motcua calendar YEAR [--site FILE]
    one line per day off that falls on an open weekday and per make-up Saturday:
    ``2026-04-27  Thứ Hai   Nghỉ bù: Nghỉ bù Giỗ Tổ Hùng Vương (trùng Chủ nhật 26/04/2026)``
motcua calendar due --received 2026-04-24T14:30+07:00 --days 3 [--procedure CODE] [--site FILE]
    the appointment: ISO date-time, then the Vietnamese wording of Form 01
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from queue_server.calendar import WorkingCalendar


def register(sub: argparse._SubParsersAction[Any]) -> None:
    """Add ``motcua calendar``."""
    parser = sub.add_parser(
        "calendar",
        help="non-working days of a year, or an appointment date",
        description="motcua calendar YEAR | motcua calendar due --received ISO --days N",
    )
    parser.add_argument("what", metavar="YEAR|due", help="a year such as 2026, or 'due'")
    parser.add_argument("--site", type=Path, help="site file (default: Mon–Fri 07:30–11:30, 13:30–17:00)")
    parser.add_argument("--received", help="receipt time with offset, e.g. 2026-04-24T14:30+07:00")
    parser.add_argument("--days", help="working days allowed, e.g. 3 (0: same-day procedure)")
    parser.add_argument("--procedure", help="procedure code, for its own receipt cut-off")
    parser.set_defaults(run=run_calendar)


def run_calendar(args: argparse.Namespace) -> int:
    from queue_server.calendar import CalendarError

    try:
        calendar = _calendar(args.site)
        if args.what == "due":
            return _print_due(calendar, args)
        return _print_year(calendar, args.what)
    except CalendarError as err:
        print(f"motcua calendar: {err}", file=sys.stderr)
        return 2


def _calendar(site_path: Path | None) -> WorkingCalendar:
    from queue_server.calendar import WorkingCalendar
    from siteconf import load_site

    if site_path is None:
        return WorkingCalendar()
    return WorkingCalendar.from_site(load_site(site_path))


def _print_year(calendar: WorkingCalendar, text: str) -> int:
    from queue_server.calendar import WEEKDAYS_VI

    if not text.isdigit():
        print(f"motcua calendar: expected a year such as 2026 or 'due', got {text!r}", file=sys.stderr)
        return 2
    year = int(text)
    table = calendar.year(year)
    if not table.announced:
        print(
            f"cảnh báo: chưa có lịch nghỉ chính thức năm {year}; ngày lễ và nghỉ bù tính theo Bộ luật Lao"
            " động, chưa có ngày hoán đổi và làm bù (warning: no announced table for this year)",
            file=sys.stderr,
        )
    for entry in calendar.non_working_days(year):
        weekday = WEEKDAYS_VI[entry.day.weekday()]
        note = "" if entry.confirmed else " [chưa xác nhận]"
        print(f"{entry.day.isoformat()}  {weekday:<8}  {entry.kind.label}: {entry.reason}{note}")
    return 0


def _print_due(calendar: WorkingCalendar, args: argparse.Namespace) -> int:
    from datetime import datetime

    from queue_server.calendar import format_appointment_vi

    if args.received is None or args.days is None:
        print("motcua calendar due: give --received and --days", file=sys.stderr)
        return 2
    try:
        received = datetime.fromisoformat(args.received)
    except ValueError:
        print(
            f"motcua calendar due: --received {args.received!r} is not a date-time like"
            " 2026-04-24T14:30+07:00",
            file=sys.stderr,
        )
        return 2
    try:
        days = int(args.days)
    except ValueError:
        print(f"motcua calendar due: --days {args.days!r} is not a whole number of days", file=sys.stderr)
        return 2
    appointment = calendar.due_at(received, days, args.procedure)
    print(appointment.due.isoformat(timespec="minutes"))
    print(f"Hẹn trả: {format_appointment_vi(appointment.due)}")
    if appointment.provisional:
        years = ", ".join(str(y) for y in appointment.provisional_years)
        print(f"cảnh báo: chưa có lịch nghỉ chính thức năm {years}; ngày hẹn là tạm tính", file=sys.stderr)
    if appointment.unconfirmed_days:
        days_text = ", ".join(d.isoformat() for d in appointment.unconfirmed_days)
        print(f"cảnh báo: ngày nghỉ chưa xác nhận trong khoảng: {days_text}", file=sys.stderr)
    return 0
