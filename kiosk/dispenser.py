"""The ticket dispenser's view-model: what the Qt Quick screen shows and what a touch does.

Kept free of QML details so it can be tested directly; the long request runs off the GUI thread
and its result comes back as a queued signal.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from PySide6.QtCore import Property, QObject, QTimer, Signal, Slot

from bus.client import BusError
from kiosk.backend import KioskBackend, TicketOutcome
from siteconf import Site

log = logging.getLogger(__name__)


class DispenserViewModel(QObject):
    changed = Signal()
    _outcome = Signal(object)

    def __init__(self, site: Site, backend: KioskBackend, idle_reset_ms: int = 20_000) -> None:
        super().__init__()
        self._site = site
        self._backend = backend
        self._screen = "home"
        self._ticket: dict[str, Any] = {}
        self._error = ""
        self.tickets_shown = 0
        self._outcome.connect(self._show_outcome)
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(idle_reset_ms)
        self._idle.timeout.connect(self.goHome)

    def _get_centre(self) -> str:
        return self._site.site.name

    def _get_services(self) -> list[dict[str, str]]:
        return [{"code": s.code, "name": s.name, "prefix": s.prefix} for s in self._site.services]

    def _get_screen(self) -> str:
        return self._screen

    def _get_ticket(self) -> dict[str, Any]:
        return self._ticket

    def _get_error(self) -> str:
        return self._error

    centreName = Property(str, _get_centre, constant=True)
    services = Property(list, _get_services, constant=True)
    screen = Property(str, _get_screen, notify=changed)
    ticket = Property(dict, _get_ticket, notify=changed)
    errorMessage = Property(str, _get_error, notify=changed)

    def current_screen(self) -> str:
        """The screen shown now (``home``, ``working``, ``ticket``, ``error``), for Python callers."""
        return self._screen

    @Slot(str)
    def takeTicket(self, service: str) -> None:
        """A citizen touched a service: one touch, one ticket (further touches wait for the answer)."""
        if self._screen == "working":
            return
        self._set_screen("working")
        threading.Thread(target=self._request, args=(service,), daemon=True, name="kiosk-request").start()

    def _request(self, service: str) -> None:
        try:
            outcome: TicketOutcome | str = self._backend.take_ticket(service)
        except (BusError, TimeoutError) as err:
            log.warning("ticket request failed: %s", err)
            outcome = "Hệ thống đang bận, xin vui lòng thử lại."
        except Exception:  # the screen must never stay on "working"
            log.exception("ticket request failed unexpectedly")
            outcome = "Máy lấy số gặp lỗi, xin vui lòng thử lại hoặc hỏi cán bộ hướng dẫn."
        self._outcome.emit(outcome)

    @Slot(object)
    def _show_outcome(self, outcome: TicketOutcome | str) -> None:
        if isinstance(outcome, str):
            self._error = outcome
            self._set_screen("error")
        elif outcome.ticket is None:
            self._error = outcome.error.message if outcome.error else "Không lấy được số."
            self._set_screen("error")
        else:
            t = outcome.ticket
            self._ticket = {
                "number": t.number,
                "service": t.service_name,
                "waiting": t.waiting_before,
                "wait_min": t.estimated_wait_min or 0,
                "counters": ", ".join(str(c) for c in t.counters),
            }
            self.tickets_shown += 1
            self._set_screen("ticket")
        self._idle.start()

    @Slot()
    def goHome(self) -> None:
        self._idle.stop()
        self._set_screen("home")

    def _set_screen(self, screen: str) -> None:
        self._screen = screen
        self.changed.emit()
