"""The ticket dispenser's view-model: what the Qt Quick screen shows and what a touch does.

Screens: ``home`` (services grouped by field, a search, the priority groups as toggles), ``working``,
``ticket`` (number, counters, people waiting, estimated wait, the QR that is also a virtual ticket)
and ``error`` (out of hours, sold out, ...). One touch on a service gives a ticket; two with a priority
group. Kept free of QML details so it can be tested directly; the request runs off the GUI thread and
its result comes back as a queued signal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from bus import models as m
from bus.client import BusError
from bus.wait_phrase import wait_phrase
from kiosk.backend import OUTSIDE_HOURS, KioskBackend, TicketOutcome
from kiosk.cccd import CccdError, parse_cccd, person_key
from kiosk.screen import Looks, qr_data_url, weak_emitter
from kiosk.texts import text
from qtview import qt_property
from siteconf import Site
from siteconf.procedures import find_procedures
from siteconf.spoken import matches

log = logging.getLogger(__name__)

_DAYS = {
    "vi": {
        "mon": "Thứ Hai",
        "tue": "Thứ Ba",
        "wed": "Thứ Tư",
        "thu": "Thứ Năm",
        "fri": "Thứ Sáu",
        "sat": "Thứ Bảy",
        "sun": "Chủ Nhật",
    },
    "en": {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"},
}
_REFUSAL_TEXTS = {OUTSIDE_HOURS, "out_of_hours", "sold_out", "already_has_ticket", "no_offline_numbers"}


class DispenserViewModel(QObject):
    changed = Signal()
    listsChanged = Signal()  # groups and priority names: only when the language or the search changes
    _outcome = Signal(object)
    _job_failed = Signal(str)
    _backend_changed = Signal()
    _scanned = Signal(str)

    def __init__(self, site: Site, backend: KioskBackend, idle_reset_ms: int | None = None) -> None:
        super().__init__()
        self._site = site
        self.ui = Looks(site, idle_reset_ms, parent=self)
        self.ui.idle.connect(self.goHome)
        self.ui.looks.connect(self.changed)
        self.ui.looks.connect(self.listsChanged)
        self._backend = backend
        self._screen = "home"
        self._ticket: dict[str, Any] = {}
        self._ticket_names: tuple[str, str | None, str] = ("", None, "")  # service vi, en; priority code
        self._error: tuple[str, str, m.ErrorInfo | None] = ("", "", None)  # text key, service, answer
        self._search = ""
        self._priority = ""
        self._person: str | None = None  # salted hash of a scanned CCCD, never the number
        self._job_id: str | None = None
        self.tickets_shown = 0
        self._outcome.connect(self._show_outcome)
        self._job_failed.connect(self._on_job_failed)
        self._backend_changed.connect(self.changed)
        self._scanned.connect(self.scan_card)
        job_failed = weak_emitter(self, "_job_failed")
        backend.on_job_failed = lambda event: job_failed(event.job_id)
        backend.on_change = weak_emitter(self, "_backend_changed")

    # --- properties --------------------------------------------------------------------------------

    def _get_groups(self) -> list[dict[str, Any]]:
        """The fields to touch, and while searching also the procedures that match (each queued for
        its field's service); both tone- and case-insensitive."""
        groups = []
        for name, name_en, codes in self._site.kiosk.grouped_services(self._site):
            group_name = self.ui.name_of(name, name_en)
            services = []
            for code in codes:
                service = self._site.service(code)
                label = self.ui.name_of(service.name, service.name_en)
                if matches(self._search, service.name, service.name_en or "", name, name_en or ""):
                    services.append({"code": code, "name": label, "prefix": service.prefix, "procedure": ""})
            if services:
                groups.append({"name": group_name, "services": services})
        procedures = self._matching_procedures()
        if procedures:
            groups.append({"name": text(self.ui.language, "procedures"), "services": procedures})
        return groups

    def _matching_procedures(self) -> list[dict[str, Any]]:
        if not self._search.strip():
            return []
        services = {s.code: s for s in self._site.services}
        out = []
        for p in find_procedures(self._site.kiosk.procedures, self._search):
            service = services.get(p.service)
            if service is None:
                continue
            field = self.ui.name_of(service.name, service.name_en)
            name = f"{self.ui.name_of(p.name, p.name_en)}\n{field}"
            out.append({"code": service.code, "name": name, "prefix": service.prefix, "procedure": p.code})
        return out

    def _get_priorities(self) -> list[dict[str, str]]:
        groups = self._site.kiosk.priority_groups(self._site)
        return [{"code": p.code, "name": self.ui.name_of(p.name, p.name_en)} for p in groups]

    def _get_screen(self) -> str:
        return self._screen

    def _get_ticket(self) -> dict[str, Any]:
        """The ticket shown, its service and priority group named in the language chosen now."""
        if not self._ticket:
            return self._ticket
        name, name_en, priority = self._ticket_names
        group = next((p["name"] for p in self._get_priorities() if p["code"] == priority), "")
        # The estimate in the printed ticket's words: "Sắp đến lượt" when the citizen is next.
        minutes = self._ticket["wait_min"]
        wait = wait_phrase(minutes if minutes >= 0 else None, "en" if self.ui.language == "en" else "vi")
        return {
            **self._ticket,
            "service": self.ui.name_of(name, name_en),
            "priority": group,
            "wait": wait or "",
        }

    def _get_error(self) -> str:
        """The refusal shown, in the language chosen now (the toggle works on this screen too)."""
        key, service, answer = self._error
        if key == OUTSIDE_HOURS:
            return f"{text(self.ui.language, 'outside_hours')}\n{self.hours_text(service)}"
        if key:
            return text(self.ui.language, key)
        if answer is None:
            return ""
        return answer.message_en if self.ui.language == "en" and answer.message_en else answer.message

    def _get_search(self) -> str:
        return self._search

    def _get_priority(self) -> str:
        return self._priority

    def _get_offline(self) -> bool:
        return self._backend.server_online is False

    def _get_offline_mark(self) -> str:
        """For staff: "OFFLINE" while the server is away, and the offline tickets not yet handed over."""
        unsent = self._backend.unsent_offline()
        if self._backend.server_online is not False and unsent == 0:
            return ""
        mark = text(self.ui.language, "offline_mark") if self._backend.server_online is False else ""
        pending = f"{unsent} ⇡" if unsent else ""
        return " · ".join(p for p in (mark, pending) if p)

    def _get_printer_ok(self) -> bool:
        return self._backend.printer_can_print()

    def _get_paper_mark(self) -> str:
        """A discreet word for whoever passes by: the printer's paper is running out, or gone."""
        status = self._backend.printer_status
        paper = status.paper if status is not None else None
        if paper is m.PaperLevel.OUT:
            return text(self.ui.language, "paper_out")
        if paper is m.PaperLevel.NEAR_END:
            return text(self.ui.language, "paper_low")
        return ""

    def _get_card(self) -> bool:
        return self._person is not None

    groups = qt_property(list, _get_groups, notify=listsChanged)
    priorities = qt_property(list, _get_priorities, notify=listsChanged)
    screen = qt_property(str, _get_screen, notify=changed)
    ticket = qt_property(dict, _get_ticket, notify=changed)
    errorMessage = qt_property(str, _get_error, notify=changed)
    searchText = qt_property(str, _get_search, notify=changed)
    priority = qt_property(str, _get_priority, notify=changed)
    offline = qt_property(bool, _get_offline, notify=changed)
    offlineMark = qt_property(str, _get_offline_mark, notify=changed)
    printerOk = qt_property(bool, _get_printer_ok, notify=changed)
    paperMark = qt_property(str, _get_paper_mark, notify=changed)
    cardRead = qt_property(bool, _get_card, notify=changed)

    def current_screen(self) -> str:
        """The screen shown now (``home``, ``working``, ``ticket``, ``error``), for Python callers."""
        return self._screen

    # --- touches -----------------------------------------------------------------------------------

    @Slot(str)
    def setSearch(self, value: str) -> None:
        self._search = value
        self.ui.touched()
        self.changed.emit()
        self.listsChanged.emit()

    @Slot(str)
    def choosePriority(self, code: str) -> None:
        """Toggle a priority group (the officer checks it; the kiosk only records the declaration)."""
        self._priority = "" if self._priority == code else code
        self.ui.touched()
        self.changed.emit()

    @Slot(str)
    def takeTicket(self, service: str) -> None:
        """A citizen touched a service: one touch, one ticket (further touches wait for the answer)."""
        if self._screen == "working":
            return
        self._set_screen("working")
        self._error = ("", service, None)
        args = (self._backend, weak_emitter(self, "_outcome"), service, self._priority or None, self._person)
        threading.Thread(target=_request, args=args, daemon=True, name="kiosk-request").start()

    def feed_scan(self, raw: str) -> None:
        """A scan from any thread (scanner, camera); handled on the GUI thread."""
        self._scanned.emit(raw)

    def scan_card(self, raw: str) -> bool:
        """A CCCD QR was read: remember only its salted hash, and suggest the elderly group at 60+.

        The raw text and the ID number are dropped here; nothing of them is shown, logged or sent.
        """
        try:
            card = parse_cccd(raw)
        except CccdError as err:
            log.warning("ignored a scanned code: %s", err)
            return False
        self._person = person_key(card.id_number, self._backend.site.site.id)
        elderly = {p.code for p in self._site.kiosk.priority_groups(self._site)} & {"elderly"}
        if elderly and card.age() is not None and (card.age() or 0) >= 60 and not self._priority:
            self._priority = "elderly"
        self.ui.touched()
        self.changed.emit()
        return True

    @Slot(object)
    def _show_outcome(self, outcome: TicketOutcome | str) -> None:
        if isinstance(outcome, str):
            self._error = (outcome, self._error[1], None)
            self._set_screen("error")
        elif outcome.ticket is None:
            self._error = (self._refusal(outcome.error), self._error[1], outcome.error)
            self._set_screen("error")
        else:
            self._show_ticket(outcome)
        self.ui.touched()

    def _show_ticket(self, outcome: TicketOutcome) -> None:
        t = outcome.ticket
        assert t is not None
        service = (
            self._site.service(t.service) if t.service in {s.code for s in self._site.services} else None
        )
        url = self._backend.ticket_url(t) or f"motcua:{self._site.site.id}:{t.number}:{t.token}"
        self._job_id = outcome.job_id
        self._ticket_names = (t.service_name, service.name_en if service else None, self._priority)
        self._ticket = {
            "number": t.number,
            "waiting": t.waiting_before,
            "wait_min": t.estimated_wait_min if t.estimated_wait_min is not None else -1,
            "counters": ", ".join(self._site.counter(c).name for c in t.counters if self._has_counter(c)),
            "qr": qr_data_url(url),
            "link": url if url.startswith(("https://", "http://")) else "",
            "virtual": outcome.job_id is None,
            "offline": outcome.offline,
        }
        self.tickets_shown += 1
        self.ui.hold(outcome.job_id is None)  # a virtual ticket stays until the citizen is done with it
        self._set_screen("ticket")
        self.ui.say(f"{text(self.ui.language, 'your_number')} {t.number}")

    def _has_counter(self, number: int) -> bool:
        return any(c.number == number for c in self._site.counters)

    @staticmethod
    def _refusal(error: m.ErrorInfo | None) -> str:
        """The text key of a refusal; "" for one only the server's own message explains."""
        if error is None:
            return "refused"
        if error.code in {OUTSIDE_HOURS, "out_of_hours"}:
            return OUTSIDE_HOURS
        return error.code if error.code in _REFUSAL_TEXTS else ""

    def hours_text(self, service: str = "") -> str:
        """When ``service`` issues tickets (its own sessions; the centre's when it has none), even
        when the queue runs around the clock."""
        hours = self._site.issuing_hours(service) if service else self._site.office_hours()
        names = _DAYS.get(self.ui.language, _DAYS["vi"])
        days = f"{names[hours.days[0]]} – {names[hours.days[-1]]}" if hours.days else ""
        sessions = ", ".join(f"{a}–{b}" for a, b in hours.sessions)
        return f"{days}: {sessions}"

    @Slot(str)
    def _on_job_failed(self, job_id: str) -> None:
        """The printer failed this ticket's job: the screen's QR becomes the citizen's ticket."""
        if self._screen == "ticket" and job_id == self._job_id:
            self._ticket = {**self._ticket, "virtual": True}
            self.ui.hold(True)
            self.changed.emit()

    @Slot()
    def goHome(self) -> None:
        self.ui.hold(False)
        self.ui.stop_idle()
        if self._search:
            self._search = ""
            self.listsChanged.emit()
        self._priority = ""
        self._person = None
        self._set_screen("home")

    def _set_screen(self, screen: str) -> None:
        self._screen = screen
        self.changed.emit()


def _request(
    backend: KioskBackend,
    done: Callable[[object], None],
    service: str,
    priority: str | None,
    person: str | None,
) -> None:
    """Off the GUI thread: ask for the ticket, then hand the outcome back (holding no view-model)."""
    try:
        outcome: TicketOutcome | str = backend.take_ticket(service, priority, person_key=person)
    except (BusError, TimeoutError) as err:
        log.warning("ticket request failed: %s", err)
        outcome = "busy"
    except Exception:  # the screen must never stay on "working"
        log.exception("ticket request failed unexpectedly")
        outcome = "failed"
    done(outcome)
