"""Lookup: dossier codes checked before asking; the HTTP client against a small real FastAPI app
served by uvicorn (the queue server's endpoint is the lead's; this app follows its documented shape);
the procedures catalogue and the dossier journey on the Qt Quick screen."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI, HTTPException
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtQuick import QQuickWindow
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from support import find_item

from kiosk.app import load_screen, window_of
from kiosk.lookup import TEXTS, DossierClient, DossierLookupError, LookupViewModel, normalise_code
from siteconf import Site

DOSSIERS = {
    "H21.65-220914-0011": {
        "code": "H21.65-220914-0011",
        "status": "ready",
        "status_vi": "Đã có kết quả, mời nhận tại quầy",
        "appointment": "2026-12-07T10:10:54.116123+07:00",
        "procedure": "1.001193",
    }
}


class DossierApi:
    """``GET /api/v1/dossiers/{code}`` on a real uvicorn server on a free port, counting requests."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        app = FastAPI()

        @app.get("/api/v1/dossiers/{code}")
        def dossier(code: str) -> dict[str, str]:
            self.requests.append(code)
            if code == "H99.01-261122-9999":
                raise HTTPException(status_code=500)
            if code == "H99.01-261122-8888":
                return {"unexpected": "shape"}
            if code not in DOSSIERS:
                raise HTTPException(status_code=404)
            return DOSSIERS[code]

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> DossierApi:
        self.thread.start()
        while not self.server.started:
            threading.Event().wait(0.02)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


@pytest.fixture
def api() -> Iterator[DossierApi]:
    with DossierApi() as api:
        yield api


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("H21.65-220914-0011", "H21.65-220914-0011"),
        ("  h15.50.05.13-261008-0975\n", "H15.50.05.13-261008-0975"),
        ("https://dichvucong.example.gov.vn/tra-cuu?ma=H21.65-220914-0011", "H21.65-220914-0011"),
        ("000.00.01.H56-250101-1234567", "000.00.01.H56-250101-1234567"),
        ("H21.65-22091-0011", None),  # date too short
        ("H21.65-220914-001", None),  # sequence too short
        ("A1023", None),  # a queue ticket number is not a dossier code
        ("H21.65-220914-0011 H21.65-220914-0012", None),  # two codes: ambiguous
        ("", None),
    ],
)
def test_dossier_codes_are_recognised_and_checked(text: str, code: str | None) -> None:
    assert normalise_code(text) == code


def test_the_client_reads_status_and_names_every_failure(api: DossierApi) -> None:
    client = DossierClient(api.url)
    status = client.status("H21.65-220914-0011")
    assert status.status_vi == "Đã có kết quả, mời nhận tại quầy"
    assert status.appointment == "2026-12-07T10:10:54.116123+07:00" and status.procedure == "1.001193"
    for code, kind in (
        ("H21.65-220914-0012", "not_found"),
        ("H99.01-261122-9999", "bad_answer"),
        ("H99.01-261122-8888", "bad_answer"),
    ):
        with pytest.raises(DossierLookupError) as err:
            client.status(code)
        assert err.value.code == kind
    with pytest.raises(ValueError, match="not a dossier code"):
        client.status("A1023")
    assert len(api.requests) == 4  # the malformed code was never sent
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with pytest.raises(DossierLookupError) as err:
        DossierClient(f"http://127.0.0.1:{port}", timeout=2).status("H21.65-220914-0011")
    assert err.value.code == "unreachable"


def click(window: QQuickWindow, name: str) -> None:
    item = find_item(window, name)
    centre = item.mapToScene(QPointF(item.width() / 2, item.height() / 2)).toPoint()
    QTest.mouseClick(window, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(centre))


def test_a_citizen_types_a_code_and_sees_the_status(qtbot: QtBot, demo_site: Site, api: DossierApi) -> None:
    vm = LookupViewModel(demo_site, api.url)
    engine = load_screen("lookup", vm)
    window = window_of(engine)
    qtbot.waitExposed(window)
    click(window, "menu-dossier")
    qtbot.waitUntil(lambda: vm.current_screen() == "dossier", timeout=2000)
    for key in "H21.65-22091-0011":  # one digit short
        click(window, f"key-{key}")
    click(window, "lookUp")
    qtbot.waitUntil(lambda: vm.message != "", timeout=2000)
    assert find_item(window, "lookupMessage").property("text").startswith("Mã hồ sơ không đúng dạng")
    vm.ui.toggleLanguage()  # the message on screen follows the toggle, errors included
    assert vm.message == TEXTS["en"]["bad_code"] != TEXTS["vi"]["bad_code"]
    vm.ui.toggleLanguage()
    assert api.requests == []  # checked before asking
    click(window, "key-⌫")
    assert find_item(window, "codeInput").property("text") == "H21.65-22091-001"
    find_item(window, "codeInput").setProperty("text", "")
    for key in "H21.65-220914-0011":
        click(window, f"key-{key}")
    click(window, "lookUp")
    qtbot.waitUntil(lambda: vm.current_screen() == "result", timeout=5000)
    assert find_item(window, "dossierStatus").property("text") == "Đã có kết quả, mời nhận tại quầy"
    # The appointment as people say it, the procedure's name and where to collect, not an ISO stamp.
    assert find_item(window, "dossierAppointment").property("text") == (
        "Hẹn trả kết quả: Thứ Hai, 07/12/2026, buổi sáng"
    )
    assert find_item(window, "dossierProcedure").property("text") == "Đăng ký khai sinh"
    assert find_item(window, "dossierCollect").property("text") == "Nhận kết quả tại: Quầy 4 – trả kết quả"
    vm.ui.toggleLanguage()  # the result on screen is redrawn in English, without asking again
    assert (
        find_item(window, "dossierAppointment").property("text").endswith("Monday 7 December 2026, morning")
    )
    assert vm.result["procedure"] == "Birth registration"
    assert find_item(window, "dossierStatus").property("text") != "Đã có kết quả, mời nhận tại quầy"
    vm.ui.toggleLanguage()
    assert api.requests == ["H21.65-220914-0011"]
    vm.goHome()
    vm.feed_scan("https://dichvucong.example.gov.vn/tra-cuu?ma=H21.65-220914-0099")  # a receipt's QR
    qtbot.waitUntil(lambda: vm.current_screen() == "dossier" and vm.message != "", timeout=5000)
    assert vm.message.startswith("Không tìm thấy hồ sơ")
    vm.feed_scan("079160012345|023456789|Nguyễn Văn Ấn|15031958|Nam|Hà Nội|20042021")  # a CCCD, not a receipt
    qtbot.waitUntil(lambda: vm.message.startswith("Mã hồ sơ không đúng dạng"), timeout=5000)
    assert vm.code == "" and "079160012345" not in find_item(window, "codeInput").property("text")
    assert len(api.requests) == 2
    window.close()
    del engine


def test_the_procedures_catalogue_comes_from_the_site_file(qtbot: QtBot, demo_site: Site) -> None:
    vm = LookupViewModel(demo_site)
    engine = load_screen("lookup", vm)
    window = window_of(engine)
    qtbot.waitExposed(window)
    click(window, "menu-procedures")
    for query in ("khai sinh", "KHAI SINH", "dang ky khai sinh", "đăng kí khai sinh"):
        vm.setSearch(query)  # tone- and case-insensitive, either spelling of "ký"
        assert [p["code"] for p in vm.procedures] == ["1.001193"], query
    qtbot.wait(50)
    click(window, "procedure-1.001193")
    qtbot.waitUntil(lambda: vm.current_screen() == "procedure", timeout=2000)
    assert find_item(window, "procedureName").property("text") == "Đăng ký khai sinh"
    assert vm.procedure["counters"] == "Quầy 2, Quầy 3, Quầy 4"
    assert find_item(window, "procedureCollect").property("text") == "Nhận kết quả tại: Quầy 4 – trả kết quả"
    assert find_item(window, "procedureAgency").property("text") == "Cơ quan thực hiện: UBND cấp xã"
    assert vm.procedure["documents"][1] == "Giấy chứng sinh"
    vm.setSearch("")
    land = next(p for p in vm.procedures if p["code"] == "1.012345")
    assert land["counters"] == "Quầy 1"  # the procedure's own counters win over its field's
    vm.lookUp("H21.65-220914-0011")  # no server configured: said plainly, nothing sent
    assert vm.message.startswith("Chưa tra cứu được")
    window.close()
    del engine
