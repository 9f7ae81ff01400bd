"""The queue's rules as plain frozen data, built once from a site file.

``RuleBook.from_site(site)`` collects the services (with their two ticket series), the counters (with
their weights), the priority categories, the business-day boundary and every rule version. The engine
reads rules only through this object, so a test can build one from a few lines of TOML.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from siteconf.clock import business_day
from siteconf.model import MAX_TICKET_NUMBER, Hours, Service, Site

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class SeriesRule:
    """One ticket series: numbers ``first``..``last`` printed after ``prefix``."""

    id: str
    prefix: str
    first: int
    last: int

    def code(self, number: int) -> str:
        return f"{self.prefix}{number}"


@dataclass(frozen=True)
class ServiceRule:
    code: str
    name: str
    name_en: str | None
    normal: SeriesRule
    priority: SeriesRule
    days: frozenset[int]
    sessions: tuple[tuple[time, time], ...]
    average_service_s: int

    def series(self, priority: bool) -> SeriesRule:
        return self.priority if priority else self.normal

    def issuing_at(self, local: datetime) -> bool:
        if local.weekday() not in self.days:
            return False
        now = local.time().replace(tzinfo=None)
        return any(start <= now < end for start, end in self.sessions)


@dataclass(frozen=True)
class CounterRule:
    number: int
    name: str
    services: tuple[str, ...]
    weights: dict[str, int]
    priority_only: bool = False

    def weight(self, service: str) -> int:
        return self.weights.get(service, 1)


@dataclass(frozen=True)
class Policy:
    """The rules that may change from one version to the next."""

    version: str
    effective: date | None
    interleave: str
    normal_per_priority: int
    allow_call_specific: bool
    no_show_after_recalls: int
    no_show_after_s: int
    reinstate_window_s: int
    reinstate_to: str
    daily_caps: dict[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RuleBook:
    tz: ZoneInfo
    day_starts: time
    services: dict[str, ServiceRule]
    counters: dict[int, CounterRule]
    priorities: dict[str, tuple[str, str | None]]
    versions: tuple[Policy, ...]
    service_time_window: int = 20
    # From the working calendar: days off that fall on working weekdays (holidays, nghỉ bù) and
    # days worked that are not (làm bù, usually a Saturday, with the usual sessions).
    closed_days: frozenset[date] = frozenset()
    open_days: frozenset[date] = frozenset()

    def issuing(self, rule: ServiceRule, local: datetime) -> bool:
        """Whether tickets of ``rule`` are issued at ``local`` (site time), with holidays and make-up days."""
        day = local.date()
        if day in self.closed_days:
            return False
        if day in self.open_days:
            now = local.time().replace(tzinfo=None)
            return any(start <= now < end for start, end in rule.sessions)
        return rule.issuing_at(local)

    @classmethod
    def from_site(cls, site: Site) -> RuleBook:
        q = site.queue
        days = frozenset(WEEKDAYS.index(d) for d in site.hours.days)
        services = {s.code: _service_rule(s, days, site.hours.parsed_sessions()) for s in site.services}
        counters = {
            c.number: CounterRule(c.number, c.name, tuple(c.services), dict(c.weights), c.priority_only)
            for c in site.counters
        }
        base = Policy(
            version="base",
            effective=None,
            interleave=q.interleave,
            normal_per_priority=q.normal_per_priority,
            allow_call_specific=q.allow_call_specific,
            no_show_after_recalls=q.no_show_after_recalls,
            no_show_after_s=q.no_show_after_s,
            reinstate_window_s=q.reinstate_window_s,
            reinstate_to=q.reinstate_to,
            daily_caps={s.code: s.daily_cap for s in site.services},
        )
        versions = [base]
        for change in sorted(q.versions, key=lambda v: v.effective):
            prev = versions[-1]
            updates = {
                k: v
                for k, v in change.model_dump(exclude={"effective", "id", "daily_caps"}).items()
                if v is not None
            }
            caps = {**prev.daily_caps, **change.daily_caps}
            versions.append(
                replace(
                    prev, version=change.version_id, effective=change.effective, daily_caps=caps, **updates
                )
            )
        return cls(
            tz=ZoneInfo(site.site.timezone),
            day_starts=time.fromisoformat(q.day_starts),
            services=services,
            counters=counters,
            priorities={p.code: (p.name, p.name_en) for p in q.priorities},
            versions=tuple(versions),
            service_time_window=q.service_time_window,
        )

    def local(self, at: datetime) -> datetime:
        return at.astimezone(self.tz)

    def business_day(self, at: datetime) -> date:
        """The business day ``at`` belongs to: local date, shifted so that a day starts at ``day_starts``."""
        return business_day(self.local(at), self.day_starts)

    def version_at(self, at: datetime) -> Policy:
        """The rule version in force on the business day of ``at``."""
        day = self.business_day(at)
        dates = [v.effective for v in self.versions[1:] if v.effective is not None]
        return self.versions[bisect.bisect_right(dates, day)]

    def counters_serving(self, service: str) -> list[CounterRule]:
        return [c for c in self.counters.values() if service in c.services]


def _service_rule(s: Service, days: frozenset[int], sessions: list[tuple[time, time]]) -> ServiceRule:
    last = s.last_number if s.last_number is not None else MAX_TICKET_NUMBER
    p_prefix = s.priority_prefix if s.priority_prefix is not None else "U" + s.prefix
    p_first = s.priority_first_number if s.priority_first_number is not None else s.first_number
    p_last = s.priority_last_number if s.priority_last_number is not None else MAX_TICKET_NUMBER
    own = Hours(sessions=s.issuing_hours).parsed_sessions() if s.issuing_hours else []
    return ServiceRule(
        code=s.code,
        name=s.name,
        name_en=s.name_en,
        normal=SeriesRule(s.code, s.prefix, s.first_number, last),
        priority=SeriesRule(f"{s.code}.p", p_prefix, p_first, p_last),
        days=days,
        sessions=tuple(own or sessions),
        average_service_s=s.average_service_s,
    )
