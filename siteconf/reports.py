"""The ``[reports]`` table of the site file: targets, rating mapping and scoring bands of the reports.

```toml
[reports]
target_wait_min = 15             # share of citizens called within this wait is reported
estimate_tolerance_min = 5       # an announced wait is "right" within this many minutes
# how the 5 levels of a five-level rating tablet (score 0..4) count: unsatisfied / satisfied /
# very_satisfied (the 3-level scale is fixed: 0 không hài lòng, 1 hài lòng, 2 rất hài lòng)
five_level = ["unsatisfied", "unsatisfied", "satisfied", "satisfied", "very_satisfied"]

[[reports.bands]]                # TT 01/2018 classification of a score out of 18 (province's bands)
name = "Xuất sắc"
at_least = 15                    # at_least / above (lower bound), below / at_most (upper bound)
[[reports.bands]]
name = "Tốt"
at_least = 12
below = 15

[reports.agency_scores]          # indices 5, 8 and 9, scored per agency and period by the manager
"2026-Q4" = { i5 = 2, i8 = 1, i9 = 2 }
```

Bands must cover every score from 0 to 18 exactly once: a gap (Thanh Hóa's published bands leave
exactly 15 unclassified) or an overlap is an error naming the score that falls through.
"""

from __future__ import annotations

import itertools
import re
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator, model_validator

from siteconf.base import Section, Strict

if TYPE_CHECKING:
    from siteconf.model import Site

Satisfaction = Literal["unsatisfied", "satisfied", "very_satisfied"]
MAX_SCORE = 18.0
_PERIOD = re.compile(r"^\d{4}(-Q[1-4])?$")


class Band(Strict):
    """A classification: scores with ``at_least``/``above`` ≤/< score ≤/< ``at_most``/``below``."""

    name: str = Field(min_length=1)
    name_en: str | None = None
    at_least: float | None = None
    above: float | None = None
    below: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _one_bound_each_side(self) -> Band:
        if self.at_least is not None and self.above is not None:
            raise ValueError(f"band {self.name!r}: give at_least or above, not both")
        if self.below is not None and self.at_most is not None:
            raise ValueError(f"band {self.name!r}: give below or at_most, not both")
        return self

    def lower(self) -> tuple[float, bool]:
        """(bound, inclusive); no lower bound is 0 inclusive."""
        if self.above is not None:
            return self.above, False
        return (self.at_least if self.at_least is not None else 0.0), True

    def upper(self) -> tuple[float, bool]:
        if self.below is not None:
            return self.below, False
        return (self.at_most if self.at_most is not None else MAX_SCORE), True

    def holds(self, score: float) -> bool:
        lo, lo_in = self.lower()
        hi, hi_in = self.upper()
        return (score >= lo if lo_in else score > lo) and (score <= hi if hi_in else score < hi)


DEFAULT_BANDS = [
    Band(name="Xuất sắc", name_en="Excellent", at_least=15),
    Band(name="Tốt", name_en="Good", at_least=12, below=15),
    Band(name="Khá", name_en="Fair", at_least=9, below=12),
    Band(name="Trung bình", name_en="Average", at_least=6, below=9),
    Band(name="Yếu", name_en="Poor", below=6),
]


def band_gaps(bands: list[Band]) -> list[str]:
    """Where the bands fail to cover 0..18 exactly once: one message per gap or overlap."""
    edges = sorted({0.0, MAX_SCORE} | {b.lower()[0] for b in bands} | {b.upper()[0] for b in bands})
    probes = list(edges) + [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    out = []
    for score in sorted(probes):
        if not 0.0 <= score <= MAX_SCORE:
            continue
        names = [b.name for b in bands if b.holds(score)]
        if not names:
            out.append(f"a score of {score:g} falls in no band")
        elif len(names) > 1:
            out.append(f"a score of {score:g} falls in {len(names)} bands ({', '.join(names)})")
    return out


class AgencyScores(Strict):
    """Indices scored per agency and period (2/1/0): 5 one-stop, 8 feedback handling, 9 online service."""

    i5: int | None = Field(default=None, ge=0, le=2)
    i8: int | None = Field(default=None, ge=0, le=2)
    i9: int | None = Field(default=None, ge=0, le=2)


DEFAULT_FIVE_LEVEL: tuple[Satisfaction, ...] = (
    "unsatisfied", "unsatisfied", "satisfied", "satisfied", "very_satisfied",
)  # fmt: skip


class ReportsConf(Section):
    """What the managers' reports measure against."""

    target_wait_min: float = Field(default=15.0, gt=0, le=600)
    estimate_tolerance_min: float = Field(default=5.0, gt=0, le=120)
    five_level: list[Satisfaction] = Field(
        default_factory=lambda: list(DEFAULT_FIVE_LEVEL),
        min_length=5,
        max_length=5,
    )
    bands: list[Band] = Field(default_factory=lambda: list(DEFAULT_BANDS), min_length=1)
    agency_scores: dict[str, AgencyScores] = Field(default_factory=dict)

    @field_validator("agency_scores")
    @classmethod
    def _periods(cls, value: dict[str, AgencyScores]) -> dict[str, AgencyScores]:
        for key in value:
            if not _PERIOD.match(key):
                raise ValueError(f"{key!r} is not a period: a year (2026) or a quarter (2026-Q4)")
        return value

    def problems(self, site: Site) -> list[str]:
        return [f"reports.bands: {gap}" for gap in band_gaps(self.bands)]
