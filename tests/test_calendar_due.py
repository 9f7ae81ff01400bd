"""Appointment dates: weekends, holidays, lunch, the 15:00 cut-off, days off and make-up Saturdays."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from queue_server.calendar import CalendarError, WorkingCalendar, WorkingHours, format_appointment_vi

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar()  # Mon–Fri 07:30–11:30, 13:30–17:00, cut-off 15:00, packaged table


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=VN)


@pytest.mark.parametrize(
    ("received", "days", "due", "why"),
    [
        ("2026-11-16 14:30", 3, "2026-11-19 14:30", "plain week"),
        ("2026-11-19 10:00", 3, "2026-11-24 10:00", "across a weekend"),
        ("2026-11-20 07:00", 1, "2026-11-20 17:00", "before opening: counted from 07:30, due at closing"),
        ("2026-11-20 12:15", 1, "2026-11-23 11:30", "lunch: counted from 13:30"),
        ("2026-11-20 11:30", 1, "2026-11-23 11:30", "end of the morning session is lunch"),
        ("2026-11-20 15:00", 1, "2026-11-23 15:00", "exactly 15:00 is not after the cut-off"),
        ("2026-11-20 15:01", 1, "2026-11-23 17:00", "after the cut-off: counted from Monday 07:30"),
        ("2026-11-20 17:30", 1, "2026-11-23 17:00", "after closing"),
        ("2026-11-21 09:00", 1, "2026-11-23 17:00", "received on a Saturday"),
        ("2026-04-24 14:30", 3, "2026-05-04 14:30", "Giỗ Tổ nghỉ bù, 30/4 and 1/5 inside"),
        ("2026-02-13 10:00", 1, "2026-02-23 10:00", "the whole Tết week"),
        ("2026-02-17 09:00", 2, "2026-02-24 17:00", "received on mùng 1 Tết"),
        ("2026-01-10 09:00", 1, "2026-01-12 09:00", "received on the make-up Saturday 10/1"),
        ("2026-01-09 14:00", 1, "2026-01-10 14:00", "the make-up Saturday counts"),
        ("2025-04-25 10:00", 1, "2025-04-26 10:00", "make-up Saturday 26/4/2025"),
        ("2025-04-29 10:00", 1, "2025-05-05 10:00", "30/4, 1/5 and the swapped 2/5/2025"),
        ("2026-11-16 09:00", 0, "2026-11-16 17:00", "same-day procedure"),
        ("2026-11-16 15:30", 0, "2026-11-17 17:00", "same-day procedure after 15:00: next working day"),
        ("2026-11-16 09:00", 10, "2026-11-30 09:00", "two weeks"),
    ],
)
def test_due_at(received: str, days: int, due: str, why: str) -> None:
    appointment = CAL.due_at(at(received), days)
    assert appointment.due == at(due), why
    assert appointment.due.tzinfo is not None
    assert not appointment.provisional


def test_a_receipt_in_another_zone_is_converted() -> None:
    utc = datetime(2026, 11, 16, 7, 30, tzinfo=ZoneInfo("UTC"))  # 14:30 in Hà Nội
    assert CAL.due_at(utc, 3).due == at("2026-11-19 14:30")


def test_per_procedure_cut_off() -> None:
    calendar = WorkingCalendar(procedure_cutoffs={"late": time(16, 0), "any": None})
    received = at("2026-11-16 15:30")
    assert calendar.due_at(received, 1).due == at("2026-11-17 17:00")
    assert calendar.due_at(received, 1, "late").due == at("2026-11-17 15:30")
    assert calendar.due_at(at("2026-11-16 16:30"), 1, "late").due == at("2026-11-17 17:00")
    assert calendar.due_at(at("2026-11-16 16:30"), 1, "any").due == at("2026-11-17 16:30")
    assert calendar.due_at(received, 1, "unknown-procedure").due == at("2026-11-17 17:00")
    assert WorkingCalendar(cutoff=None).due_at(received, 1).due == at("2026-11-17 15:30")


def test_counted_from_is_reported() -> None:
    appointment = CAL.due_at(at("2026-11-20 15:30"), 2)
    assert appointment.counted_from == at("2026-11-23 07:30")
    assert appointment.received == at("2026-11-20 15:30")
    assert appointment.days == 2


def test_unannounced_years_are_flagged_not_refused() -> None:
    appointment = CAL.due_at(at("2026-12-30 10:00"), 5)
    assert appointment.due == at("2027-01-07 10:00")  # 1/1/2027 is the Labour Code holiday
    assert appointment.provisional
    assert appointment.provisional_years == (2027,)


def test_unconfirmed_days_crossed_are_reported() -> None:
    appointment = CAL.due_at(at("2026-08-28 10:00"), 1)
    assert appointment.due == at("2026-09-03 10:00")
    assert appointment.unconfirmed_days == (date(2026, 8, 31), date(2026, 9, 1))


@pytest.mark.parametrize(
    ("received", "days", "message"),
    [
        (datetime(2026, 11, 16, 9, 0), 1, "no UTC offset"),
        (date(2026, 11, 16), 1, "must be a date and time"),
        (at("2026-11-16 09:00"), -1, "must be ≥ 0"),
        (at("2026-11-16 09:00"), 0.5, "must be a whole number"),
        (at("2026-11-16 09:00"), float("nan"), "must be a whole number"),
        (at("2026-11-16 09:00"), True, "must be a whole number"),
        (at("2026-11-16 09:00"), "3", "must be a whole number"),
        (datetime(2300, 1, 1, tzinfo=VN), 1, "outside the calendar's range"),
    ],
)
def test_bad_input_is_refused_with_a_reason(received: object, days: object, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        CAL.due_at(received, days)  # type: ignore[arg-type]


def test_form_01_wording() -> None:
    assert format_appointment_vi(at("2026-04-30 14:05")) == "14 giờ 05 phút, Thứ Năm, ngày 30/04/2026"


# ---- properties ------------------------------------------------------------------------------------

receipts = st.datetimes(
    min_value=datetime(2024, 12, 20), max_value=datetime(2027, 1, 31), timezones=st.just(VN)
).map(lambda d: d.replace(second=0, microsecond=0))
amounts = st.integers(min_value=0, max_value=30)


def _inside_a_session(moment: datetime) -> bool:
    clock = moment.time().replace(tzinfo=None)
    return any(start <= clock <= end for start, end in CAL.hours.sessions)


@settings(max_examples=150, deadline=None)
@given(receipts, amounts)
def test_due_is_always_working_time(received: datetime, days: int) -> None:
    appointment = CAL.due_at(received, days)
    assert CAL.is_working_day(appointment.due.date())
    assert _inside_a_session(appointment.due)
    assert appointment.due >= appointment.counted_from >= received


@settings(max_examples=150, deadline=None)
@given(receipts, amounts, amounts)
def test_due_is_monotonic_in_days(received: datetime, a: int, b: int) -> None:
    low, high = sorted((a, b))
    assert CAL.due_at(received, low).due <= CAL.due_at(received, high).due


@settings(max_examples=150, deadline=None)
@given(receipts, st.integers(min_value=0, max_value=20_000), amounts)
def test_due_is_monotonic_in_receipt_time(received: datetime, later_by: int, days: int) -> None:
    later = received + timedelta(minutes=later_by)
    assert CAL.due_at(received, days).due <= CAL.due_at(later, days).due


@settings(max_examples=150, deadline=None)
@given(receipts, st.integers(min_value=1, max_value=30))
def test_due_date_agrees_with_working_day_counting(received: datetime, days: int) -> None:
    appointment = CAL.due_at(received, days)
    start = appointment.counted_from
    whole_days_first = start.time().replace(tzinfo=None) == CAL.hours.opening
    expected = CAL.add_working_days(start.date(), days - 1 if whole_days_first else days)
    assert appointment.due.date() == expected
    assert CAL.working_days_between(start.date(), appointment.due.date()) == (
        days - 1 if whole_days_first else days
    )


other_hours = st.sampled_from(
    [
        WorkingHours(frozenset(range(6)), ((time(7, 0), time(11, 0)),)),  # ward office open Saturday mornings
        WorkingHours(frozenset(range(5)), ((time(7, 0), time(11, 30)), (time(13, 30), time(16, 30)))),
        WorkingHours(frozenset({0, 2, 4}), ((time(8, 0), time(12, 0)), (time(13, 0), time(17, 0)))),
    ]
)


@settings(max_examples=100, deadline=None)
@given(other_hours, receipts, amounts, st.integers(min_value=0, max_value=5_000))
def test_properties_hold_for_other_hours(
    hours: WorkingHours, received: datetime, days: int, later: int
) -> None:
    calendar = WorkingCalendar(hours=hours, cutoff=time(10, 30))
    appointment = calendar.due_at(received, days)
    clock = appointment.due.time().replace(tzinfo=None)
    assert calendar.is_working_day(appointment.due.date())
    assert any(start <= clock <= end for start, end in hours.sessions)
    assert appointment.due <= calendar.due_at(received + timedelta(minutes=later), days).due
    assert appointment.due <= calendar.due_at(received, days + 1).due
