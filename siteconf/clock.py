"""Times of day in the site file: ``HH:MM``, and ``24:00`` as the end of the day (a session's end only)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

END_OF_DAY = "24:00"


def parse_hhmm(hhmm: str) -> time:
    """A validated session bound as a time of day; ``24:00`` is the day's last instant, so a session
    ``00:00``–``24:00`` is open the whole day, its last minute included."""
    return time.max if hhmm == END_OF_DAY else time.fromisoformat(hhmm)


def business_day(local: datetime, day_starts: time) -> date:
    """The business day a local moment belongs to: its date, shifted so that a day starts at
    ``day_starts`` (with ``03:00``, 00:30 is still the day before). The server and the kiosk both
    count with this, so an offline block is filed under the day it was granted for."""
    return (local - timedelta(hours=day_starts.hour, minutes=day_starts.minute)).date()
