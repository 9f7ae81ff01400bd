"""Put each kiosk screen in each of its states, for screenshots and the touch-target check."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtQuick import QQuickItem

from bus import models as m
from kiosk.backend import KioskBackend, TicketOutcome
from kiosk.dispenser import DispenserViewModel
from kiosk.lookup import DossierStatus, LookupViewModel
from kiosk.rating import CounterView, RatingViewModel
from siteconf import Site
from siteconf.model import Device

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "kiosk"
SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
_VN = timezone(timedelta(hours=7))


def issued(number: str = "A1023", service: str = "land", name: str = "Đất đai") -> m.TicketIssued:
    return m.TicketIssued(
        number=number,
        service=service,
        service_name=name,
        issued_at=datetime(2026, 11, 23, 8, 5, tzinfo=_VN),
        waiting_before=4,
        estimated_wait_min=12,
        counters=[1, 2],
        token="3q9xv0a7Kp2x",
    )


def dispenser_states(vm: DispenserViewModel) -> Iterator[str]:
    """Drive ``vm`` through every dispenser screen; yield the state's name once it shows."""
    yield "home"
    vm._backend.server_online = False  # the server's Last Will said offline: staff see the mark
    vm.changed.emit()
    yield "home-offline"
    vm._backend.server_online = None
    vm.choosePriority("elderly")
    yield "home-priority"
    vm.goHome()
    vm.ui.toggleLargeText()
    vm.ui.toggleContrast()
    yield "home-large-contrast"
    vm.ui.idleReset()
    vm.setSearch("ho tich")
    yield "home-search"
    vm.goHome()
    vm._set_screen("working")
    yield "working"
    vm._show_outcome(TicketOutcome(issued(), None, job_id="job-1"))
    yield "ticket"
    vm._show_outcome(TicketOutcome(issued(), None, job_id=None))
    yield "ticket-virtual"
    vm._show_outcome(
        TicketOutcome(issued("B2041", "civil", "Hộ tịch – Chứng thực"), None, job_id="j", offline=True)
    )
    yield "ticket-offline"
    vm._show_outcome(TicketOutcome(None, m.ErrorInfo(code="outside_hours", message="x")))
    yield "error-outside-hours"
    vm._show_outcome(TicketOutcome(None, m.ErrorInfo(code="sold_out", message="x")))
    yield "error-sold-out"
    vm.ui.toggleLanguage()
    vm._show_outcome(TicketOutcome(issued(), None, job_id="job-2"))
    yield "ticket-english"
    vm.goHome()
    yield "home-english"
    vm.ui.idleReset()


def new_rating(site: Site) -> RatingViewModel:
    tablet = Device(id="tablet-2", kind=m.DeviceKind.RATING_TABLET, counter=2)
    site = site.model_copy(update={"devices": [*site.devices, tablet]})
    return RatingViewModel(site, "tablet-2", "mqtt://127.0.0.1:1")  # never started: states fed directly


def rating_states(vm: RatingViewModel) -> Iterator[str]:
    yield "idle"
    vm._apply_state(CounterView(counter=2, current="A1001", officer="cb-002"))
    yield "serving"
    vm._apply_state(CounterView(counter=2, current=None, officer="cb-002"))
    yield "rate"
    vm.rate(2)
    vm.answer("attitude", 2)
    yield "questions"
    vm.submit()
    yield "thanks"
    vm.ui.toggleLanguage()
    vm._apply_state(CounterView(counter=2, current="A1002", officer="cb-002"))
    vm._apply_state(CounterView(counter=2, current="A1003", officer="cb-002"))
    yield "rate-english"
    vm.ui.idleReset()


def new_lookup(site: Site) -> LookupViewModel:
    return LookupViewModel(site)


def lookup_states(vm: LookupViewModel) -> Iterator[str]:
    yield "menu"
    vm.show("procedures")
    yield "procedures"
    vm.openProcedure("1.012345")
    yield "procedure"
    vm.show("dossier")
    vm.lookUp("H21.65-22091-0011")
    yield "dossier-bad-code"
    vm._show_answer(
        DossierStatus("H21.65-220914-0011", "ready", "Đã có kết quả, mời nhận tại quầy", "25/11/2026 14:00")
    )
    yield "result"
    vm.ui.toggleLanguage()
    vm.show("procedures")
    yield "procedures-english"
    vm.ui.idleReset()


def new_dispenser(site: Site) -> DispenserViewModel:
    backend = KioskBackend(site, "kiosk-1", "mqtt://127.0.0.1:1")  # never started: no broker needed
    return DispenserViewModel(site, backend)


SCREEN_MAKERS: dict[str, tuple[Callable[[Site], QObject], Callable[[Any], Iterator[str]]]] = {
    "dispenser": (new_dispenser, dispenser_states),
    "rating": (new_rating, rating_states),
    "lookup": (new_lookup, lookup_states),
}


def touch_targets(root: QQuickItem) -> list[QQuickItem]:
    """Every visible thing a finger can press: buttons and text fields."""
    found = []
    todo = [root]
    while todo:
        item = todo.pop()
        if not item.isVisible():
            continue
        name = item.metaObject().className()
        if "Button" in name or "TextField" in name:
            found.append(item)
        todo += item.childItems()
    return found
