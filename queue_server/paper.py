"""How much of each printer's roll is used, and when it will run out at the recent printing rate.

Printers report the paper every job used (``JobPrinted.paper_mm``, measured from the job's bytes).
The used length restarts when the roll is changed, which the server sees as the paper sensor going
from near end (or out) back to ok. The roll's length comes from the site file (``roll_length_m`` of
the printer's device entry); without it the used length is shown but no estimate. Until the server
has seen a roll put in, it does not know how much of the current roll was used before it started
counting: it shows what it counted and no estimate. The rate is the
paper printed in the last two hours over the time since the first of those jobs (at least ten
minutes, so one ticket does not make a rate), and the estimate is the paper left at that rate.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

RATE_WINDOW = timedelta(hours=2)
MIN_RATE_SPAN = timedelta(minutes=10)


@dataclass
class Roll:
    since: datetime
    used_mm: float = 0.0
    counted: bool = True
    """False for a roll that was in the printer before the server started counting."""
    recent: deque[tuple[datetime, float]] = field(default_factory=deque)


@dataclass(frozen=True)
class PaperEstimate:
    used_m: float
    roll_length_m: float | None
    left_pct: int | None
    rate_m_per_h: float | None
    runs_out_at: datetime | None


class PaperTracker:
    """Paper used per printer since its roll was changed; not thread-safe (the registry locks)."""

    def __init__(
        self, roll_length_m: dict[str, float | None], saved: dict[str, tuple[datetime, float]]
    ) -> None:
        self.roll_length_m = roll_length_m
        self.rolls = {device: Roll(since, used) for device, (since, used) in saved.items()}
        self._level: dict[str, str] = {}

    def printed(self, device_id: str, mm: float, at: datetime) -> Roll:
        roll = self.rolls.setdefault(device_id, Roll(at, counted=False))
        roll.used_mm += mm
        roll.recent.append((at, mm))
        while roll.recent and roll.recent[0][0] < at - RATE_WINDOW:
            roll.recent.popleft()
        return roll

    def paper_level(self, device_id: str, level: str, at: datetime) -> Roll | None:
        """The sensor says ``level``; the new ``Roll`` when that means a roll was put in, else None."""
        before = self._level.get(device_id)
        self._level[device_id] = level
        if before in ("near_end", "out") and level == "ok":
            self.rolls[device_id] = Roll(at)
            return self.rolls[device_id]
        self.rolls.setdefault(device_id, Roll(at, counted=False))
        return None

    def estimate(self, device_id: str, now: datetime) -> PaperEstimate | None:
        roll = self.rolls.get(device_id)
        length = self.roll_length_m.get(device_id)
        if roll is None:
            return None
        rate = _rate_mm_per_h(roll, now)
        if length is None or not roll.counted:
            return PaperEstimate(round(roll.used_mm / 1000, 2), None, None, _per_h(rate), None)
        left_mm = max(0.0, length * 1000 - roll.used_mm)
        runs_out = now + timedelta(hours=left_mm / rate) if rate else None
        pct = round(100 * left_mm / (length * 1000))
        return PaperEstimate(round(roll.used_mm / 1000, 2), length, pct, _per_h(rate), runs_out)


def _rate_mm_per_h(roll: Roll, now: datetime) -> float | None:
    recent = [(at, mm) for at, mm in roll.recent if at >= now - RATE_WINDOW]
    if not recent:
        return None
    span = max(now - recent[0][0], MIN_RATE_SPAN)
    return sum(mm for _, mm in recent) / (span.total_seconds() / 3600)


def _per_h(rate_mm: float | None) -> float | None:
    return None if rate_mm is None else round(rate_mm / 1000, 3)
