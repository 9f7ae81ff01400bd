"""Times of day in the site file: ``HH:MM``, and ``24:00`` as the end of the day (a session's end only)."""

from __future__ import annotations

from datetime import time

END_OF_DAY = "24:00"


def parse_hhmm(hhmm: str) -> time:
    """A validated session bound as a time of day; ``24:00`` is the day's last instant, so a session
    ``00:00``–``24:00`` is open the whole day, its last minute included."""
    return time.max if hhmm == END_OF_DAY else time.fromisoformat(hhmm)
