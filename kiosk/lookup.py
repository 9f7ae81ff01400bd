"""The lookup screen: the procedures catalogue from the site file, and a dossier's status by its code.

A dossier code is ``{agency}-{yymmdd}-{sequence}`` (``H21.65-220914-0011``); it is checked before the
server is asked, typed or scanned from the receipt's QR (the code may sit inside a URL). Codes are
sequential, so the server answers only with the dossier's *lookup key* too: the receipt's QR carries it
(``.../d/{code}?k={key}``) and prints it as text, to be typed after the code. The status comes from the
queue server's HTTP API::

    GET {server}/api/v1/dossiers/{code}?k={key}
    200 {"code", "procedure", "status", "status_vi", "appointment", ...}   404 unknown code or wrong key

The result shows the procedure's name (from this kiosk's catalogue, else the server's), the appointment
as people say it (``Thứ Hai, 07/12/2026, buổi sáng``) and where the result is collected.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from kiosk.errors import KioskError, KioskInputError
from kiosk.screen import Looks, weak_emitter
from qtview import qt_property
from siteconf import Site
from siteconf.spoken import matches, site_appointment_phrase

log = logging.getLogger(__name__)

DOSSIER_CODE = re.compile(r"^(?P<agency>[0-9A-Z.]{3,13})-(?P<date>\d{6})-(?P<seq>\d{4,7})$")
_CODE_INSIDE = re.compile(r"(?<![0-9A-Z.])[0-9A-Z.]{3,13}-\d{6}-\d{4,7}(?!\d)")
_KEY_IN_URL = re.compile(r"[?&]k=([A-Z2-7]{10})(?:&|$)", re.IGNORECASE)
_KEY_TYPED = re.compile(r"^\S+\s+([A-Za-z2-7]{10})$")


class DossierLookupError(KioskError):
    """A lookup that could not be answered; ``code`` is ``not_found``, ``unreachable`` or ``bad_answer``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class DossierStatus:
    code: str
    status: str
    status_vi: str
    appointment: str | None
    procedure: str = ""
    procedure_name: str = ""


def normalise_code(text: str) -> str | None:
    """The dossier code in ``text`` (typed, or a scanned QR/URL), upper-cased; ``None`` if there is none."""
    candidate = text.strip().upper()
    if DOSSIER_CODE.match(candidate):
        return candidate
    found = _CODE_INSIDE.findall(candidate)
    return found[0] if len(found) == 1 and DOSSIER_CODE.match(found[0]) else None


def lookup_key_in(text: str) -> str | None:
    """The lookup key in ``text``: the ``k`` of a scanned receipt URL, or typed after the code."""
    text = text.strip()
    found = _KEY_IN_URL.search(text) or _KEY_TYPED.match(text)
    return found.group(1).upper() if found else None


class DossierClient:
    """Asks the queue server's HTTP API for one dossier's status."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def status(self, code: str, key: str | None = None) -> DossierStatus:
        """The status of dossier ``code``; the server wants the receipt's lookup ``key`` too."""
        if not DOSSIER_CODE.match(code):
            raise KioskInputError(f"{code!r} is not a dossier code like H21.65-220914-0011")
        url = f"{self.base_url}/api/v1/dossiers/{urllib.parse.quote(code, safe='')}"
        if key:
            url += "?" + urllib.parse.urlencode({"k": key})
        try:
            with urllib.request.urlopen(url, timeout=self.timeout) as reply:
                body = reply.read()
        except urllib.error.HTTPError as err:
            err.close()  # the error carries the open response
            if err.code == 404:
                raise DossierLookupError("not_found", f"no dossier {code}") from err
            raise DossierLookupError("bad_answer", f"the server answered HTTP {err.code} for {code}") from err
        except (urllib.error.URLError, TimeoutError, OSError) as err:
            raise DossierLookupError("unreachable", f"cannot reach {self.base_url}: {err}") from err
        try:
            data = json.loads(body)
            return DossierStatus(
                code=str(data["code"]),
                status=str(data["status"]),
                status_vi=str(data.get("status_vi") or data["status"]),
                appointment=data.get("appointment"),
                procedure=str(data.get("procedure") or ""),
                procedure_name=str(data.get("procedure_name") or ""),
            )
        except (ValueError, KeyError, TypeError) as err:
            raise DossierLookupError(
                "bad_answer", f"the server's answer for {code} is not a dossier status"
            ) from err


TEXTS = {
    "vi": {
        "bad_code": "Mã hồ sơ không đúng dạng. Mã có dạng H21.65-220914-0011 (in trên giấy hẹn).",
        "not_found": "Không tìm thấy hồ sơ có mã này. Xin kiểm tra lại mã trên giấy hẹn.",
        "unreachable": "Chưa tra cứu được lúc này, xin vui lòng thử lại sau hoặc hỏi cán bộ.",
        "bad_answer": "Chưa tra cứu được lúc này, xin vui lòng thử lại sau hoặc hỏi cán bộ.",
    },
    "en": {
        "bad_code": "That is not a dossier code. It looks like H21.65-220914-0011 (on your receipt).",
        "not_found": "No dossier has this code. Please check the code on your receipt.",
        "unreachable": "The lookup is not available now; please try again later or ask the staff.",
        "bad_answer": "The lookup is not available now; please try again later or ask the staff.",
    },
}


class LookupViewModel(QObject):
    changed = Signal()
    _answer = Signal(object)
    _scanned = Signal(str)

    def __init__(self, site: Site, server_url: str | None = None, idle_reset_ms: int | None = None) -> None:
        super().__init__()
        self._site = site
        self.ui = Looks(site, idle_reset_ms, parent=self)
        self.ui.looks.connect(self.changed)
        self.ui.idle.connect(self.goHome)
        url = server_url or site.kiosk.server_url
        self.client = DossierClient(url) if url else None
        self._screen = "menu"
        self._search = ""
        self._procedure: dict[str, Any] = {}
        self._code = ""
        self._shown: DossierStatus | None = None
        self._message_key = ""  # a key of TEXTS: the words follow the language toggle
        self.requests = 0
        self._answer.connect(self._show_answer)
        self._scanned.connect(self._on_scan)

    # --- properties --------------------------------------------------------------------------------

    def _get_procedures(self) -> list[dict[str, Any]]:
        out = []
        for p in self._site.kiosk.procedures:
            name = self.ui.name_of(p.name, p.name_en)
            service = self._site.service(p.service)
            if not matches(self._search, *p.searchable(), service.name, service.name_en or ""):
                continue
            counters = p.counters or [c.number for c in self._site.counters if p.service in c.services]
            out.append(
                {
                    "code": p.code,
                    "name": name,
                    "field": self.ui.name_of(service.name, service.name_en),
                    "documents": list(p.documents),
                    "fee": p.fee,
                    "time": p.processing_time,
                    "counters": ", ".join(self._site.counter(n).name for n in counters),
                    "agency": p.agency,
                    "collect": self._site.kiosk.results_place(p),
                }
            )
        return out

    def _get_screen(self) -> str:
        return self._screen

    def _get_procedure(self) -> dict[str, Any]:
        return self._procedure

    def _get_result(self) -> dict[str, str]:
        """The dossier shown, in the language of the moment (the toggle redraws it)."""
        answer = self._shown
        if answer is None:
            return {}
        status = answer.status_vi if self.ui.language == "vi" else answer.status
        return {"code": answer.code, "status": status, **self._described(answer)}

    def _get_message(self) -> str:
        return TEXTS[self.ui.language][self._message_key] if self._message_key else ""

    def _get_code(self) -> str:
        return self._code

    procedures = qt_property(list, _get_procedures, notify=changed)
    screen = qt_property(str, _get_screen, notify=changed)
    procedure = qt_property(dict, _get_procedure, notify=changed)
    result = qt_property(dict, _get_result, notify=changed)
    message = qt_property(str, _get_message, notify=changed)
    code = qt_property(str, _get_code, notify=changed)

    def current_screen(self) -> str:
        return self._screen

    # --- touches -----------------------------------------------------------------------------------

    @Slot(str)
    def show(self, screen: str) -> None:
        if screen in {"menu", "procedures", "dossier"}:
            self._message_key = ""
            self._set_screen(screen)

    @Slot(str)
    def setSearch(self, text: str) -> None:
        self._search = text
        self.ui.touched()
        self.changed.emit()

    @Slot(str)
    def openProcedure(self, code: str) -> None:
        self._procedure = next((p for p in self._get_procedures() if p["code"] == code), {})
        if self._procedure:
            self._set_screen("procedure")

    def feed_scan(self, text: str) -> None:
        """A scanned receipt QR, from any thread."""
        self._scanned.emit(text)

    @Slot(str)
    def _on_scan(self, text: str) -> None:
        """A scan that holds no dossier code (a CCCD, say) is refused without showing what it held."""
        if normalise_code(text) is None:
            self._code = ""
            self._message_key = "bad_code"
            self._set_screen("dossier")
            return
        self.lookUp(text)

    @Slot(str)
    def lookUp(self, text: str) -> None:
        """Check the code and, only if it is well formed, ask the server."""
        self.ui.touched()
        code = normalise_code(text)
        if code is None:
            self._code = text.strip()[:40]
            self._message_key = "bad_code"
            self._set_screen("dossier")
            return
        self._code = code
        if self.client is None:
            self._message_key = "unreachable"
            self._set_screen("dossier")
            return
        self._message_key = ""
        self._set_screen("working")
        self.requests += 1
        client = self.client
        answer = weak_emitter(self, "_answer")
        key = lookup_key_in(text)
        threading.Thread(target=lambda: answer(LookupViewModel._ask(client, code, key)), daemon=True).start()

    @staticmethod
    def _ask(client: DossierClient, code: str, key: str | None) -> DossierStatus | DossierLookupError:
        try:
            return client.status(code, key)
        except DossierLookupError as err:
            log.warning("dossier lookup failed (%s): %s", err.code, err)
            return err

    @Slot(object)
    def _show_answer(self, answer: DossierStatus | DossierLookupError) -> None:
        if isinstance(answer, DossierLookupError):
            self._message_key = answer.code
            self._set_screen("dossier")
            return
        self._shown = answer
        self._set_screen("result")

    def _described(self, answer: DossierStatus) -> dict[str, str]:
        """The procedure's name, the appointment as people say it, and where to collect the result."""
        procedure = self._site.kiosk.procedure(answer.procedure)
        name = self.ui.name_of(procedure.name, procedure.name_en) if procedure else answer.procedure_name
        appointment = answer.appointment or ""
        if appointment:
            try:
                appointment = site_appointment_phrase(self._site, appointment, self.ui.language)
            except ValueError:
                log.warning("the server's appointment is not a date; shown as it came")
        collect = self._site.kiosk.results_place(procedure)
        return {"procedure": name or answer.procedure, "appointment": appointment, "collect": collect}

    @Slot()
    def goHome(self) -> None:
        self._search = ""
        self._code = ""
        self._shown = None  # the next citizen does not see this dossier
        self._message_key = ""
        self._set_screen("menu")

    def _set_screen(self, screen: str) -> None:
        self._screen = screen
        self.changed.emit()
