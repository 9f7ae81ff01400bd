"""Facility staff's view of every device: is it there (availability), and is it well (health).

Devices announce themselves on retained MQTT topics: ``availability`` (``online``, or ``offline``
from their Last Will, which the broker publishes when a device's keep-alive pings stop) and
``status`` (``DeviceStatus``: health, paper, cover, errors; a device service that stops hearing its
hardware's poll answers reports ``no_reply``). The registry remembers the last of each per device id,
from the bus thread, and lists every device of the site file with it, its name and location, for
``GET /api/v1/devices`` and the dashboard (a device that said nothing is unknown). A device whose
Last Will said offline, or whose hardware stopped answering, is "Mất kết nối" whatever its last
retained status said.

Each change is also turned into incidents that open and close (``offline``, ``paper_near_end``,
``paper_out``, each error code) and handed to ``on_change`` (the incident recorder's queue: nothing
here waits for a database). Printers' ``job_printed`` events add up the paper of the current roll
(``queue_server/paper.py``).

A device's status is taken only from its own topic ``device/{id}/status`` (the id comes from the
topic, never from the payload, and the broker's ACL lets only that device publish there); messages
for ids the site file does not know are dropped, so a stray retained message cannot add a row.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime

from bus import models as m
from queue_server.device_texts import HEALTH_VI, code_vi
from queue_server.incidents import IncidentChange, PaperSaved
from queue_server.paper import PaperTracker, Roll
from queue_server.views import DeviceView
from siteconf import Site

DISCONNECTED = frozenset({"no_reply", "link", "scanner_unreachable"})
"""Error codes that mean the device service cannot reach its hardware: shown as no connection."""

Change = IncidentChange | PaperSaved


def incident_codes(status: m.DeviceStatus | None) -> set[str]:
    """The incidents a status stands for: its error codes, and the paper and cover it reports."""
    if status is None:
        return set()
    codes = {error for error in status.errors if error}
    if status.paper is m.PaperLevel.NEAR_END:
        codes.add("paper_near_end")
    elif status.paper is m.PaperLevel.OUT:
        codes.add("paper_out")
    if status.cover_open:
        codes.add("cover_open")
    if "paper_out" in codes:
        codes.discard("paper_near_end")
    return codes


class DeviceRegistry:
    """The last availability and status each device published, and the incidents they open."""

    def __init__(
        self,
        site: Site,
        *,
        open_incidents: dict[str, set[str]] | None = None,
        paper: dict[str, tuple[datetime, float]] | None = None,
        on_change: Callable[[Change], None] | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.site = site
        self.on_change = on_change
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[bool, datetime]] = {}
        self._status: dict[str, m.DeviceStatus] = {}
        self._known = {device.id: device for device in site.devices}
        opened = {d: set(codes) for d, codes in (open_incidents or {}).items() if d in self._known}
        self._open = opened
        self._status_codes = {d: codes - {"offline"} for d, codes in opened.items()}
        self.paper = PaperTracker({d.id: d.roll_length_m for d in site.devices}, paper or {})

    def availability(self, device_id: str, payload: str, at: datetime) -> None:
        """``device_id`` said ``payload`` (``online``; anything else is offline) at ``at``."""
        if device_id not in self._known:
            return
        with self._lock:
            self._seen[device_id] = (payload == "online", at)
            self._diff(device_id, at)

    def status(self, device_id: str, status: m.DeviceStatus, at: datetime | None = None) -> None:
        """``status`` arrived on ``device/{device_id}/status``; unknown ids are ignored."""
        if device_id not in self._known:
            return
        at = at or self._now(status.ts)
        with self._lock:
            self._status[device_id] = status
            self._status_codes[device_id] = incident_codes(status)
            if status.paper is not None and status.paper is not m.PaperLevel.UNKNOWN:
                roll = self.paper.paper_level(device_id, str(status.paper), at)
                if roll is not None:
                    self._save_paper(device_id, roll, at)
            self._diff(device_id, at)

    def printed(self, device_id: str, job: m.JobPrinted, at: datetime | None = None) -> None:
        """A printer's ``job_printed``: add the job's paper to its roll."""
        if device_id not in self._known or job.paper_mm is None:
            return
        at = at or self._now(job.ts)
        with self._lock:
            roll = self.paper.printed(device_id, job.paper_mm, at)
            if roll.counted:
                self._save_paper(device_id, roll, at)

    def views(self, now: datetime | None = None) -> list[DeviceView]:
        """Every device of the site file with what it last said about itself (nothing: unknown)."""
        now = now or self._now(None)
        with self._lock:
            return [self._view(device.id, now) for device in self.site.devices]

    def open_incidents(self) -> dict[str, set[str]]:
        with self._lock:
            return {d: set(codes) for d, codes in self._open.items() if codes}

    def _now(self, fallback: datetime | None) -> datetime:
        if self._clock is not None:
            return self._clock()
        return fallback or m.now()

    def _save_paper(self, device_id: str, roll: Roll, at: datetime) -> None:
        if self.on_change is not None:
            self.on_change(PaperSaved(device_id, roll.since, round(roll.used_mm, 1), at))

    def _diff(self, device_id: str, at: datetime) -> None:
        seen = self._seen.get(device_id)
        now_open = set(self._status_codes.get(device_id, set()))
        if seen is not None and not seen[0]:
            now_open.add("offline")
        before = self._open.get(device_id, set())
        self._open[device_id] = now_open
        if self.on_change is None:
            return
        for code in sorted(before - now_open):
            self.on_change(IncidentChange(device_id, code, False, at))
        for code in sorted(now_open - before):
            self.on_change(IncidentChange(device_id, code, True, at))

    def _view(self, device_id: str, now: datetime) -> DeviceView:
        device = self._known[device_id]
        seen = self._seen.get(device_id)
        status = self._status.get(device_id)
        health = _health(seen, status)
        codes = self._open.get(device_id, set())
        problems = [code_vi(code) for code in sorted(codes, key=_severity)]
        estimate = self.paper.estimate(device_id, now)
        return DeviceView(
            id=device_id,
            kind=str(device.kind),
            name=device.name,
            location=device.location,
            counter=device.counter,
            online=seen[0] if seen else None,
            since=seen[1] if seen else None,
            health=health,
            health_vi=HEALTH_VI[health],
            paper=str(status.paper) if status and status.paper else None,
            cover_open=status.cover_open if status else None,
            errors=list(status.errors) if status else [],
            problems_vi=problems,
            detail=status.detail if status else None,
            paper_used_m=estimate.used_m if estimate else None,
            roll_length_m=device.roll_length_m,
            paper_left_pct=estimate.left_pct if estimate else None,
            print_rate_m_per_h=estimate.rate_m_per_h if estimate else None,
            paper_runs_out_at=estimate.runs_out_at if estimate else None,
        )


def _health(seen: tuple[bool, datetime] | None, status: m.DeviceStatus | None) -> str:
    if seen is not None and not seen[0]:
        return "offline"
    if status is not None and DISCONNECTED.intersection(status.errors):
        return "offline"
    if status is None:
        return "unknown"
    return str(status.health)


_ORDER = ["offline", "no_reply", "link", "paper_out", "cutter_error", "paper_jam", "cover_open"]


def _severity(code: str) -> tuple[int, str]:
    return (_ORDER.index(code) if code in _ORDER else len(_ORDER), code)
