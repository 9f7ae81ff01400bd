"""Dates, times and search words as people say and type them, shared by every screen and page.

``appointment_phrase`` turns an appointment into what an officer would say at the counter:
``Thứ Hai, 07/12/2026, buổi sáng`` (English ``Monday 7 December 2026, morning``), in the centre's
time zone, with the part of the day taken from the centre's working sessions (a result due after
the morning session has closed can only be collected in the afternoon).

``fold`` and ``matches`` make a search insensitive to tone marks, case, ``đ`` and the ``i``/``y``
spellings (``đăng kí`` finds ``Đăng ký``): what a citizen types on a kiosk rarely carries every mark.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, time
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from siteconf.clock import parse_hhmm

if TYPE_CHECKING:
    from siteconf.model import Site

DEFAULT_ZONE = "Asia/Ho_Chi_Minh"
NOON = time(12, 0)
EVENING = time(18, 0)

_WEEKDAYS = {
    "vi": ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
_MONTHS_EN = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_PARTS = {
    "vi": {"morning": "buổi sáng", "afternoon": "buổi chiều", "evening": "buổi tối"},
    "en": {"morning": "morning", "afternoon": "afternoon", "evening": "evening"},
}


def part_of_day(moment: time, sessions: Sequence[tuple[str, str]] = ()) -> str:
    """``morning``, ``afternoon`` or ``evening`` for a local time, by the centre's sessions.

    Morning lasts until the end of the last session that starts before noon, and at most until noon;
    evening starts at 18:00 only if a session is open then, otherwise it is still the afternoon.
    """
    parsed = [(parse_hhmm(a), parse_hhmm(b)) for a, b in sessions]
    morning_end = max((min(end, NOON) for start, end in parsed if start < NOON), default=NOON)
    if moment < morning_end:
        return "morning"
    late = any(end > EVENING for _, end in parsed)
    return "evening" if late and moment >= EVENING else "afternoon"


def appointment_phrase(
    moment: datetime | str,
    lang: str = "vi",
    *,
    zone: str = DEFAULT_ZONE,
    sessions: Sequence[tuple[str, str]] = (),
) -> str:
    """``Thứ Hai, 07/12/2026, buổi sáng`` / ``Monday 7 December 2026, morning`` for ``moment``.

    ``moment`` is a datetime or its ISO 8601 text; one without an offset is taken as local time
    already. A text that is not a date raises ``ValueError`` naming it.
    """
    if isinstance(moment, str):
        text = moment
        try:
            moment = datetime.fromisoformat(text.strip())
        except ValueError as err:
            raise ValueError(f"{text[:40]!r} is not an ISO 8601 date and time") from err
    local = moment.astimezone(ZoneInfo(zone)) if moment.tzinfo else moment
    part = _PARTS.get(lang, _PARTS["vi"])[part_of_day(local.time(), sessions)]
    if lang == "en":
        day = _WEEKDAYS["en"][local.weekday()]
        return f"{day} {local.day} {_MONTHS_EN[local.month - 1]} {local.year}, {part}"
    return f"{_WEEKDAYS['vi'][local.weekday()]}, {local:%d/%m/%Y}, {part}"


def site_appointment_phrase(site: Site, moment: datetime | str, lang: str = "vi") -> str:
    """:func:`appointment_phrase` in the site's time zone and by its office hours."""
    sessions = site.office_hours().sessions
    return appointment_phrase(moment, lang, zone=site.site.timezone, sessions=sessions)


_NOT_WORD = re.compile(r"[^\w]+")


def fold(text: str) -> str:
    """``text`` as a search compares it: no tone or vowel marks, ``đ`` → ``d``, ``y`` → ``i``,
    case-folded, punctuation as spaces (``Đăng ký – Hộ tịch`` → ``dang ki ho tich``)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(_NOT_WORD.sub(" ", plain.replace("y", "i")).split())


def matches(query: str, *texts: str) -> bool:
    """Whether every word of ``query`` begins a word of ``texts`` (folded); an empty query matches."""
    return words_match(query, _folded_words(" ".join(t for t in texts if t)))


def words_match(query: str, words: tuple[str, ...]) -> bool:
    """:func:`matches` over words already folded (``search_words``), as a catalogue keeps them."""
    return all(any(w.startswith(q) for w in words) for q in _folded_words(query))


def search_words(*texts: str) -> tuple[str, ...]:
    """The folded words of ``texts``, to keep beside what is searched often."""
    return tuple(fold(" ".join(t for t in texts if t)).split())


@lru_cache(maxsize=16_384)
def _folded_words(text: str) -> tuple[str, ...]:
    """Folded once per text: a catalogue is searched again on every key a citizen touches."""
    return tuple(fold(text).split())
