"""The estimated wait as plain words, one phrase for every place that shows it (ticket, kiosk, boards).

``estimated_wait_min`` is a whole number of minutes from the queue engine; printed bare it reads "~0"
when the citizen is next, which says nothing. Zero becomes "Sắp đến lượt" (almost your turn), an hour or
more is said in hours and minutes.
"""

from __future__ import annotations

from typing import Literal

Language = Literal["vi", "en"]

_SOON = {"vi": "Sắp đến lượt", "en": "Almost your turn"}
_ABOUT = {"vi": "khoảng", "en": "about"}
_MINUTES = {"vi": "phút", "en": "min"}
_HOURS = {"vi": "giờ", "en": "h"}


def wait_phrase(minutes: int | None, lang: Language = "vi") -> str | None:
    """``"khoảng 35 phút"``, ``"khoảng 1 giờ 20 phút"``, ``"Sắp đến lượt"`` for 0; None when unknown."""
    if minutes is None:
        return None
    if minutes < 0:
        raise ValueError(f"an estimated wait cannot be negative ({minutes} minutes)")
    if minutes == 0:
        return _SOON[lang]
    hours, rest = divmod(minutes, 60)
    parts = [f"{hours} {_HOURS[lang]}"] if hours else []
    if rest or not hours:
        parts.append(f"{rest} {_MINUTES[lang]}")
    return f"{_ABOUT[lang]} {' '.join(parts)}"
