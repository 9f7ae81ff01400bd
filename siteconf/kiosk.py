"""The ``[kiosk]`` table of the site file: what the citizens' touch screens show and how.

```toml
[kiosk]
idle_timeout_s = 30            # back to the home screen after this long without a touch
languages = ["vi", "en"]       # the first is the default
large_text = false             # defaults of the accessibility toggles
high_contrast = false
voice = false                  # voice guidance hook
block_size = 20                # numbers reserved per service for offline issuing
journal = "var/kiosk-{device}.db"
qr_scanner = "serial:///dev/ttyACM0"  # CCCD / receipt QR scanner in serial mode (or camera = 0)

[kiosk.screen]                 # the panel, for the 15 mm touch-target rule
width_mm = 268.0
height_mm = 476.0
width_px = 1080
height_px = 1920

[[kiosk.groups]]               # the home screen: services grouped by field
name = "Đất đai – Xây dựng"
name_en = "Land and construction"
services = ["land"]

[[kiosk.priorities]]           # declared at the kiosk, confirmed by the officer; leave them out to
code = "elderly"               # show the [[queue.priorities]] (the groups the server accepts)
name = "Người cao tuổi (từ 60 tuổi)"

[kiosk.rating]                 # rating tablets
levels = 3                     # 3 or 5
timeout_s = 30                 # the question goes away after this long without a touch
window_s = 180                 # a rating given this long after the ticket finished still counts
[[kiosk.rating.questions]]
id = "attitude"
text = "Thái độ của cán bộ"

[[kiosk.officers]]
id = "cb-017"
name = "Nguyễn Thị Lan"
title = "Chuyên viên"
photo = "photos/cb-017.png"    # relative to the site file's folder

[[kiosk.procedures]]           # the catalogue (siteconf/procedures.py): searched on both screens
code = "1.001193"
name = "Đăng ký khai sinh"
service = "civil"
documents = ["Tờ khai đăng ký khai sinh", "Giấy chứng sinh"]
fee = "Miễn phí"
processing_time = "Trong ngày"
```
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field, field_validator

from bus.topics import LEVEL_PATTERN
from siteconf.base import Section, Strict
from siteconf.procedures import Procedure, catalogue_problems

if TYPE_CHECKING:
    from siteconf.model import Site

Level = Annotated[str, Field(pattern=LEVEL_PATTERN)]

MIN_TARGET_MM = 15.0
Language = Literal["vi", "en"]


def _both_languages() -> list[Language]:
    return ["vi", "en"]


class ServiceGroup(Strict):
    name: str = Field(min_length=1)
    name_en: str | None = None
    services: list[Level] = Field(min_length=1)


class PriorityCategory(Strict):
    code: Level
    name: str = Field(min_length=1)
    name_en: str | None = None


class RatingQuestion(Strict):
    id: Level
    text: str = Field(min_length=1)
    text_en: str | None = None


class RatingConf(Strict):
    levels: Literal[3, 5] = 3
    timeout_s: float = Field(default=30.0, gt=0, le=600)
    window_s: float = Field(
        default=180.0,
        gt=0,
        le=3600,
        description="a rating given this long after the ticket finished still counts for it",
    )
    questions: list[RatingQuestion] = Field(default_factory=list)


class Officer(Strict):
    id: Level
    name: str = Field(min_length=1)
    title: str = ""
    photo: str | None = Field(default=None, description="image file, relative to the site file's folder")


class ScreenConf(Strict):
    """The physical panel: size in millimetres and pixels (a 21.5-inch portrait panel by default)."""

    width_mm: float = Field(default=268.0, gt=20, le=3000)
    height_mm: float = Field(default=476.0, gt=20, le=3000)
    width_px: int = Field(default=1080, ge=240, le=8000)
    height_px: int = Field(default=1920, ge=240, le=8000)

    @property
    def px_per_mm(self) -> float:
        """Pixels per millimetre (the smaller of the two axes, to be safe)."""
        return min(self.width_px / self.width_mm, self.height_px / self.height_mm)

    def px(self, mm: float) -> int:
        return int(mm * self.px_per_mm + 0.999)


class KioskConf(Section):
    """Kiosk screens: service groups, priorities, rating, officers, procedures, accessibility."""

    idle_timeout_s: float = Field(default=30.0, ge=3, le=3600)
    languages: list[Language] = Field(default_factory=_both_languages, min_length=1)
    large_text: bool = False
    high_contrast: bool = False
    voice: bool = False
    block_size: int = Field(default=20, ge=1, le=1000)
    journal: str = Field(default="var/kiosk-{device}.db", description="offline journal (SQLite)")
    min_target_mm: float = Field(default=MIN_TARGET_MM, ge=MIN_TARGET_MM)
    qr_scanner: str | None = Field(default=None, description="transport URL of a serial QR scanner")
    camera: int | None = Field(default=None, ge=0, description="camera index for reading QR codes")
    server_url: str | None = Field(
        default=None, pattern=r"^https?://", description="lookup: base URL of the queue server's HTTP API"
    )
    screen: ScreenConf = ScreenConf()
    groups: list[ServiceGroup] = Field(default_factory=list)
    priorities: list[PriorityCategory] | None = Field(
        default=None, description="the groups the kiosk offers; default: the [queue] priorities"
    )
    rating: RatingConf = RatingConf()
    officers: list[Officer] = Field(default_factory=list)
    procedures: list[Procedure] = Field(default_factory=list)
    results_at: str = Field(default="", description="where dossier results are collected")

    @field_validator("qr_scanner")
    @classmethod
    def _scanner_url(cls, value: str | None) -> str | None:
        if value is not None:
            from transport.url import parse_transport_url

            parse_transport_url(value)
        return value

    def problems(self, site: Site) -> list[str]:
        codes = {s.code for s in site.services}
        out: list[str] = []
        for i, group in enumerate(self.groups):
            out += [
                f"kiosk.groups[{i}].services: unknown service {c!r}" for c in group.services if c not in codes
            ]
        out += catalogue_problems(self.procedures, site)
        for table, ids in (
            ("officers", [o.id for o in self.officers]),
            ("priorities", [p.code for p in self.priorities or []]),
            ("rating.questions", [q.id for q in self.rating.questions]),
        ):
            seen: set[str] = set()
            for i, key in enumerate(ids):
                if key in seen:
                    out.append(f"kiosk.{table}[{i}]: {key!r} appears twice")
                seen.add(key)
        return out

    def procedure(self, code: str) -> Procedure | None:
        """The catalogue's procedure ``code``, or ``None``."""
        return next((p for p in self.procedures if p.code == code), None)

    def results_place(self, procedure: Procedure | None) -> str:
        """Where a procedure's result is collected: its own place, else the centre's."""
        return (procedure.results_at if procedure else "") or self.results_at

    def priority_groups(self, site: Site) -> list[PriorityCategory]:
        """The priority groups the kiosk offers: its own list, or else the site's ``[queue]`` groups."""
        if self.priorities is not None:
            return list(self.priorities)
        return [
            PriorityCategory.model_construct(code=p.code, name=p.name, name_en=p.name_en)
            for p in site.queue.priorities
        ]

    def warnings(self, site: Site) -> list[str]:
        """What ``motcua check-site`` points out without refusing the file: kiosk and queue groups that
        differ (a group only the kiosk offers is refused by the server; one only the queue knows cannot
        be declared at the kiosk)."""
        if self.priorities is None:
            return []
        kiosk = [p.code for p in self.priorities]
        queue = [p.code for p in site.queue.priorities]
        out = [
            f"kiosk.priorities: {c!r} is not in queue.priorities; the server refuses tickets declaring it"
            for c in kiosk
            if c not in queue
        ]
        out += [
            f"queue.priorities: {c!r} is not offered at the kiosk (kiosk.priorities); leave"
            " kiosk.priorities out to show the queue's groups"
            for c in queue
            if c not in kiosk
        ]
        return out

    def grouped_services(self, site: Site) -> list[tuple[str, str | None, list[str]]]:
        """(group name, English name, service codes); services in no group form a last group."""
        groups = [(g.name, g.name_en, list(g.services)) for g in self.groups]
        grouped = {c for g in self.groups for c in g.services}
        rest = [s.code for s in site.services if s.code not in grouped]
        if rest:
            groups.append(("Lĩnh vực khác" if groups else "Lĩnh vực", "Other" if groups else "Fields", rest))
        return groups
