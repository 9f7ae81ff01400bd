"""Local dates and minutes of many instants, without a time-zone look-up for each.

A year's report turns some 100,000 instants into local dates or ``YYYY-MM-DD HH:MM`` texts (the late
dossiers' table, the dossiers' days of receipt). ``datetime.fromtimestamp(ts, tz)`` asks the zone
for each; ``LocalClock`` asks it once per UTC hour for that hour's offset and once per local hour for
its text, then adds. Where an hour holds a change of offset, or an instant is a hair before a whole
second (``fromtimestamp`` rounds to the microsecond, which could carry into the next second or
minute), it asks ``fromtimestamp`` itself, so every answer is the one ``fromtimestamp`` would give
(zones change their offset at most once an hour: the offsets at an hour's first and last second tell).
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

_NEAR_NEXT_SECOND = 0.999999  # from here ``fromtimestamp`` may round up to the next second


class LocalClock:
    """Local dates and minutes of instants in ``tz``, with the offset cached per UTC hour."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._offsets: dict[int, int] = {}  # UTC hour -> offset in seconds, where it holds all hour
        self._changing: set[int] = set()  # UTC hours holding a change of offset
        self._hours: dict[int, str] = {}  # local hour -> "YYYY-MM-DD HH:"

    def minutes(self, ts: float) -> str:
        """``datetime.fromtimestamp(ts, tz)`` as ``YYYY-MM-DD HH:MM``."""
        wall = self._wall(ts)
        if wall is None:
            return datetime.fromtimestamp(ts, self.tz).isoformat(" ", "minutes")[:16]
        hour, second = divmod(wall, 3600)
        text = self._hours.get(hour)
        if text is None:
            text = self._hours[hour] = datetime.fromtimestamp(hour * 3600, UTC).strftime("%Y-%m-%d %H:")
        return f"{text}{second // 60:02d}"

    def date(self, ts: float) -> date:
        """``datetime.fromtimestamp(ts, tz).date()``."""
        wall = self._wall(ts)
        if wall is None:
            return datetime.fromtimestamp(ts, self.tz).date()
        return date.fromordinal(wall // 86400 + _EPOCH_ORDINAL)

    def steady_hour(self, ts: float) -> int | None:
        """The UTC hour of ``ts`` when the offset holds all that hour and ``fromtimestamp`` keeps ``ts``
        in it (local time then runs with ``ts``: whatever depends only on it can be cached per hour)."""
        wall = self._wall(ts)
        return None if wall is None else math.floor(ts) // 3600

    def _wall(self, ts: float) -> int | None:
        """The local wall-clock second of ``ts`` counted from 1970-01-01 00:00 (None: ask the zone)."""
        second = math.floor(ts)
        if ts - second >= _NEAR_NEXT_SECOND:
            return None
        offset = self._offsets.get(second // 3600)
        if offset is None:
            offset = self._learn(second // 3600)
            if offset is None:
                return None
        return second + offset

    def _learn(self, hour: int) -> int | None:
        """The offset all through ``hour`` (None when it changes in it), remembered."""
        if hour in self._changing:
            return None
        first = datetime.fromtimestamp(hour * 3600, self.tz).utcoffset()
        last = datetime.fromtimestamp(hour * 3600 + 3599, self.tz).utcoffset()
        if first is None or first != last or first.microseconds:
            self._changing.add(hour)
            return None
        offset = self._offsets[hour] = first.days * 86400 + first.seconds
        return offset


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
