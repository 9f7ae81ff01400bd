"""The procedures catalogue (``[[kiosk.procedures]]``): what a centre receives, and where it is queued.

Each procedure (thủ tục hành chính) has the code of the national public-service portal, its name,
the service (queue) a citizen takes a number for, the agency that decides it, its processing time in
working days, and where its result is collected. ``motcua import-procedures`` writes these tables
from the portal's catalogue export (see ``siteconf/portal_import.py``)::

    [kiosk]
    results_at = "Quầy trả kết quả (quầy số 4)"   # where results are collected, unless a procedure says

    [[kiosk.procedures]]
    code = "1.001193"
    name = "Đăng ký khai sinh"
    service = "civil"
    agency = "UBND cấp xã"
    days = 0                                    # working days; 0 = the same day
    processing_time = "Trong ngày"
    results_at = "Quầy 3"
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from pydantic import Field

from siteconf.base import Strict
from siteconf.spoken import search_words, words_match

if TYPE_CHECKING:
    from siteconf.model import Site

PROCEDURE_CODE = r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$"


class Procedure(Strict):
    code: str = Field(min_length=1, max_length=32, pattern=PROCEDURE_CODE)
    name: str = Field(min_length=1)
    name_en: str | None = None
    service: str = Field(min_length=1, description="the service (queue) to take a number for")
    agency: str = Field(default="", description="cơ quan thực hiện")
    documents: list[str] = Field(default_factory=list)
    fee: str = ""
    processing_time: str = Field(default="", description="as the portal words it: '05 ngày làm việc'")
    days: int | None = Field(default=None, ge=0, le=365, description="processing time in working days")
    counters: list[int] = Field(default_factory=list, description="empty: the counters serving the service")
    results_at: str = Field(default="", description="where its result is collected (else [kiosk])")

    def searchable(self) -> tuple[str, ...]:
        return (self.code, self.name, self.name_en or "", self.agency)

    @cached_property
    def folded(self) -> tuple[str, ...]:
        """The folded words of :meth:`searchable`, made once: the kiosk searches on every key."""
        return search_words(*self.searchable())


def catalogue_problems(procedures: list[Procedure], site: Site) -> list[str]:
    """Unknown services and counters, and codes listed twice, each with its key path."""
    codes = [s.code for s in site.services]
    counters = {c.number for c in site.counters}
    out: list[str] = []
    seen: dict[str, int] = {}
    for i, proc in enumerate(procedures):
        where = f"kiosk.procedures[{i}]"
        if proc.service not in codes:
            out.append(
                f"{where}.service: unknown service {proc.service!r} for procedure {proc.code}"
                f" ({proc.name}); the site's services are {', '.join(codes)}"
            )
        out += [f"{where}.counters: no counter {n}" for n in proc.counters if n not in counters]
        if proc.code in seen:
            out.append(f"{where}.code: {proc.code!r} is already kiosk.procedures[{seen[proc.code]}]")
        seen.setdefault(proc.code, i)
    return out


def find_procedures(procedures: list[Procedure], query: str) -> list[Procedure]:
    """The procedures whose code, name or agency match ``query`` (tone- and case-insensitive)."""
    return [p for p in procedures if words_match(query, p.folded)]
