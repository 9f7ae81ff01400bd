"""The ``[calendar]`` table of the site file: receipt cut-offs and the centre's own calendar days.

```toml
[calendar]
cutoff = "15:00"                 # default receipt cut-off, "HH:MM" or "none"
announced_years = [2027]         # years whose whole table this file gives (packaged data ignored)

[calendar.procedures]            # per-procedure cut-off, keyed by procedure code
"1.001234" = { cutoff = "16:00" }
"2.000123" = { cutoff = "none" }

[[calendar.days]]                # added or overriding days; a date replaces the packaged entry
date = 2026-11-24
kind = "holiday"                 # holiday | substitute | bridge | local | makeup | working
reason = "Ngày Văn hóa Việt Nam"
source = "Quyết định ... của UBND tỉnh"
```
"""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from siteconf.base import Section, Strict
from siteconf.days import DayKind, SpecialDay

if TYPE_CHECKING:
    from siteconf.model import Site

_CUTOFF = re.compile(r"^(none|([01]\d|2[0-3]):[0-5]\d)$")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Kind = Literal["holiday", "substitute", "bridge", "local", "makeup", "working"]


def _parse_cutoff(value: str) -> dt.time | None:
    return None if value == "none" else dt.time.fromisoformat(value)


def _check_cutoff(value: str) -> str:
    if not _CUTOFF.match(value):
        raise ValueError(f"{value!r} is not a cut-off time: give HH:MM (e.g. 15:00) or none")
    return value


class ProcedureRule(Strict):
    cutoff: str = Field(description='receipt cut-off of this procedure, "HH:MM" or "none"')

    _cutoff_ok = field_validator("cutoff")(_check_cutoff)


class CalendarDay(Strict):
    date: dt.date
    kind: Kind
    reason: str = Field(min_length=1, description="Vietnamese, printed by motcua calendar")
    source: str = ""


class CalendarConf(Section):
    """Working calendar settings of a centre (issue 3)."""

    cutoff: str = Field(default="15:00", description='default receipt cut-off, "HH:MM" or "none"')
    announced_years: list[int] = Field(default_factory=list)
    procedures: dict[str, ProcedureRule] = Field(default_factory=dict)
    days: list[CalendarDay] = Field(default_factory=list)

    _cutoff_ok = field_validator("cutoff")(_check_cutoff)

    @field_validator("announced_years")
    @classmethod
    def _years_in_range(cls, value: list[int]) -> list[int]:
        for year in value:
            if not 1800 <= year <= 2199:
                raise ValueError(f"year {year} is outside 1800–2199")
        return value

    @model_validator(mode="after")
    def _dates_unique(self) -> CalendarConf:
        seen: set[dt.date] = set()
        for i, day in enumerate(self.days):
            if day.date in seen:
                raise ValueError(f"calendar.days[{i}].date: {day.date.isoformat()} is listed twice")
            seen.add(day.date)
        return self

    def problems(self, site: Site) -> list[str]:
        open_days = {_WEEKDAYS.index(d) for d in site.hours.days}
        sessions = site.hours.parsed_sessions()
        found = []
        for i, day in enumerate(self.days):
            if day.kind == "makeup" and day.date.weekday() in open_days:
                found.append(
                    f"calendar.days[{i}].kind: {day.date.isoformat()} is already a working weekday;"
                    " a make-up day must be a day the centre is normally closed"
                )
        cutoffs = [("calendar.cutoff", self.cutoff)]
        cutoffs += [(f"calendar.procedures.{code}.cutoff", r.cutoff) for code, r in self.procedures.items()]
        for path, value in cutoffs:
            moment = _parse_cutoff(value)
            if moment is not None and moment < sessions[0][0]:
                found.append(
                    f"{path}: {value} is before opening ({site.hours.sessions[0][0]} in [hours]);"
                    " every dossier would count from the next working day"
                )
        return found

    def default_cutoff(self) -> dt.time | None:
        return _parse_cutoff(self.cutoff)

    def procedure_cutoffs(self) -> dict[str, dt.time | None]:
        return {code: _parse_cutoff(rule.cutoff) for code, rule in self.procedures.items()}

    def special_days(self) -> list[SpecialDay]:
        """The site's days as entries of the queue server's year tables."""
        return [SpecialDay(d.date, DayKind(d.kind), d.reason, d.source or "site file") for d in self.days]
