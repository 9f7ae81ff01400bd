"""The ``[queue]`` table of the site file: the rules of the queue, versioned by effective date.

```toml
[queue]
day_starts = "03:00"          # a business day runs from 03:00 to 03:00 local time
interleave = "ratio"          # "strict": priority first; "ratio": normal_per_priority normal, then 1 priority
normal_per_priority = 3
allow_call_specific = true    # a clerk may call a chosen ticket out of turn (audited)
no_show_after_recalls = 2     # a called ticket may be marked no-show after this many recalls ...
no_show_after_s = 120         # ... or this many seconds after it was called
reinstate_window_s = 1800     # a no-show may be put back in the queue for this long
reinstate_to = "front"        # "front" or "back" of its queue
service_time_window = 20      # estimated wait: mean of the last N service times of the service

[[queue.priorities]]
code = "elderly"
name = "Người cao tuổi"
name_en = "Elderly person"

[[queue.versions]]            # rules that change from a date on; keys not given stay as before
effective = 2026-07-01
id = "2026-07"
normal_per_priority = 2
daily_caps = { land = 250 }
```
"""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from siteconf.base import Section, Strict

if TYPE_CHECKING:
    from siteconf.model import Site

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_CODE = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"

Interleave = Literal["strict", "ratio"]
Position = Literal["front", "back"]


class PriorityCategory(Strict):
    """A group of citizens served first; the officer checks eligibility, the kiosk only asks."""

    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1)
    name_en: str | None = None


DEFAULT_PRIORITIES = [
    PriorityCategory(code="elderly", name="Người cao tuổi", name_en="Elderly person"),
    PriorityCategory(code="pregnant", name="Phụ nữ mang thai", name_en="Pregnant woman"),
    PriorityCategory(code="disabled", name="Người khuyết tật", name_en="Person with a disability"),
    PriorityCategory(code="meritorious", name="Người có công", name_en="Person with meritorious service"),
]


class RuleChange(Strict):
    """One ``[[queue.versions]]`` entry: the rules that change from ``effective`` (a local date) on."""

    effective: date
    id: str | None = Field(default=None, pattern=_CODE, description="default: the effective date")
    interleave: Interleave | None = None
    normal_per_priority: int | None = Field(default=None, ge=1, le=100)
    allow_call_specific: bool | None = None
    no_show_after_recalls: int | None = Field(default=None, ge=0)
    no_show_after_s: int | None = Field(default=None, ge=0)
    reinstate_window_s: int | None = Field(default=None, ge=0)
    reinstate_to: Position | None = None
    daily_caps: dict[str, int] = Field(default_factory=dict, description="service code -> cap")

    @field_validator("daily_caps")
    @classmethod
    def _caps_positive(cls, value: dict[str, int]) -> dict[str, int]:
        for code, cap in value.items():
            if cap < 1:
                raise ValueError(f"{code}: a daily cap must be at least 1, got {cap}")
        return value

    @property
    def version_id(self) -> str:
        return self.id or self.effective.isoformat()


class QueueRules(Section):
    """Queue rules in force from the start (version ``base``) and their later versions."""

    day_starts: str = "00:00"
    interleave: Interleave = "ratio"
    normal_per_priority: int = Field(default=3, ge=1, le=100)
    allow_call_specific: bool = True
    no_show_after_recalls: int = Field(default=2, ge=0)
    no_show_after_s: int = Field(default=120, ge=0)
    reinstate_window_s: int = Field(default=1800, ge=0)
    reinstate_to: Position = "front"
    service_time_window: int = Field(default=20, ge=1, le=1000)
    priorities: list[PriorityCategory] = Field(default_factory=lambda: list(DEFAULT_PRIORITIES))
    versions: list[RuleChange] = Field(default_factory=list)

    @field_validator("day_starts")
    @classmethod
    def _time_of_day(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError(f"{value!r} is not a time of day HH:MM")
        return value

    def problems(self, site: Site) -> list[str]:
        out: list[str] = []
        codes = {s.code for s in site.services}
        seen_prio: set[str] = set()
        for i, category in enumerate(self.priorities):
            if category.code in seen_prio:
                out.append(f"queue.priorities[{i}].code: {category.code!r} appears twice")
            seen_prio.add(category.code)
        seen_dates: set[date] = set()
        seen_ids: set[str] = {"base"}
        for i, change in enumerate(self.versions):
            if change.effective in seen_dates:
                out.append(f"queue.versions[{i}].effective: two versions take effect on {change.effective}")
            seen_dates.add(change.effective)
            if change.version_id in seen_ids:
                out.append(f"queue.versions[{i}].id: {change.version_id!r} appears twice")
            seen_ids.add(change.version_id)
            for code in change.daily_caps:
                if code not in codes:
                    out.append(f"queue.versions[{i}].daily_caps.{code}: unknown service {code!r}")
        out += _series_overlaps(site)
        return out


def _series_overlaps(site: Site) -> list[str]:
    """Two series printing the same ticket number (same prefix, overlapping ranges) are an error."""
    spans: list[tuple[str, str, int, int]] = []
    for i, s in enumerate(site.services):
        last = s.last_number if s.last_number is not None else 999_999
        spans.append((f"services[{i}]", s.prefix, s.first_number, last))
        prefix = s.priority_prefix if s.priority_prefix is not None else "U" + s.prefix
        first = s.priority_first_number if s.priority_first_number is not None else s.first_number
        plast = s.priority_last_number if s.priority_last_number is not None else 999_999
        spans.append((f"services[{i}].priority_prefix", prefix, first, plast))
    out = []
    for a in range(len(spans)):
        for b in range(a + 1, len(spans)):
            name_a, prefix_a, lo_a, hi_a = spans[a]
            name_b, prefix_b, lo_b, hi_b = spans[b]
            if prefix_a == prefix_b and lo_a <= hi_b and lo_b <= hi_a:
                out.append(
                    f"{name_b}: series {prefix_b}{lo_b}-{hi_b} overlaps {name_a} ({prefix_a}{lo_a}-{hi_a});"
                    " give one of them another prefix or a number range"
                )
    return out
