"""The reports' local clock gives what ``datetime.fromtimestamp`` gives, offset changes and all."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from queue_server.reports.localtime import LocalClock

ZONES = (
    "Asia/Ho_Chi_Minh",  # +07:00 now; +07:06:40 and +08:00 in the past
    "Europe/Berlin",  # summer time changes twice a year
    "Asia/Kathmandu",  # +05:45
    "America/St_Johns",  # -03:30 / -02:30
    "Australia/Lord_Howe",  # a change of half an hour
)
instants = st.one_of(
    st.floats(-2_500_000_000, 4_000_000_000, allow_nan=False),
    st.integers(-2_500_000_000, 4_000_000_000).map(float),
    # a hair before a whole second, where fromtimestamp rounds up
    st.integers(0, 4_000_000_000).map(lambda s: s - 0.0000004),
)


@given(st.sampled_from(ZONES), st.lists(instants, min_size=1, max_size=30))
@example("Europe/Berlin", [1711846799.0, 1711846800.0, 1711846799.9999996, 1729990800.5, 1729987200.0])
@example("Asia/Ho_Chi_Minh", [-1_600_000_000.0, 59.9999999, -0.0000001])
def test_minutes_and_dates_are_fromtimestamps(zone: str, stamps: list[float]) -> None:
    tz = ZoneInfo(zone)
    clock = LocalClock(tz)
    for ts in stamps + stamps:  # the second time from the caches
        expected = datetime.fromtimestamp(ts, tz)
        assert clock.minutes(ts) == expected.isoformat(" ", "minutes")[:16], ts
        assert clock.date(ts) == expected.date(), ts


@pytest.mark.parametrize(
    ("zone", "change"),
    [
        ("Europe/Berlin", 1711846800),  # 2024-03-31 01:00 UTC, on the hour
        ("Asia/Kathmandu", 504901800),  # 1985-12-31 18:30 UTC: +05:30 to +05:45 in mid-hour
        ("Australia/Lord_Howe", 1728228600),  # 2024-10-06, half an hour forward
    ],
)
def test_every_minute_around_a_change_of_offset(zone: str, change: int) -> None:
    tz = ZoneInfo(zone)
    clock = LocalClock(tz)
    for ts in range(change - 7200, change + 7200, 37):
        expected = datetime.fromtimestamp(ts + 0.25, tz)
        assert clock.minutes(ts + 0.25) == expected.isoformat(" ", "minutes")[:16], ts
        assert clock.date(ts + 0.25) == expected.date(), ts
