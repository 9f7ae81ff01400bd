"""Form 01 from the counter console, end to end: the site file binds a receipt printer to counter 3,
the console's "In phiếu" prints on it through the printer service and its ESC/POS simulator (the paper
is read back: the decoder's text, the CODE128 and OCR of the Vietnamese), only the officer who opened
counter 3 may print there, and the A5 PDF comes down instead when no printer is bound or it fails."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import zxingcpp
from console_rig import (
    HAS_CHROMIUM,
    PASSWORD,
    PRINTER,
    Console,
    console_centre,
    logged_in,
    with_receipt_printer,
)
from support import wait_until

from bus import models as m
from bus.client import BrokerUrl
from motcua_cli.main import main
from siteconf.model import Site, SiteFileError, parse_site

pytestmark = pytest.mark.integration
needs_chromium = pytest.mark.skipif(not HAS_CHROMIUM, reason="Debian's chromium is not installed")
APPLICANT = "Lê Thị Hồng Nhung"


@pytest.fixture
def centre(demo_site: Site, mosquitto: BrokerUrl, tmp_path: Path) -> Iterator[Console]:
    with console_centre(demo_site, mosquitto, tmp_path) as running:
        yield running


def bound(site: Site, bindings: dict[str, str], **device: object) -> list[str]:
    """The problems ``check-site`` names for these ``receipt_printers`` (none: an empty list)."""
    data = with_receipt_printer(site).model_dump(mode="json", exclude_none=True)
    data["printing"]["receipt_printers"] = bindings
    for d in data["devices"]:
        if d["id"] == PRINTER:
            d.update(device)
    try:
        parse_site(data)
    except SiteFileError as err:
        return err.problems
    return []


def test_the_site_file_binds_receipt_printers_to_counters_and_names_bad_bindings(
    demo_site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert with_receipt_printer(demo_site).printing.receipt_printers == {3: PRINTER}
    assert bound(demo_site, {"3": PRINTER}) == []
    assert bound(demo_site, {"9": PRINTER}) == [
        "printing.receipt_printers.9: no counter number 9 in [[counters]]"
    ]
    assert bound(demo_site, {"3": "keypad-1"}) == [
        "printing.receipt_printers.3: no printer device 'keypad-1' in [[devices]]"
    ]
    assert bound(demo_site, {"3": "nothing"}) == [
        "printing.receipt_printers.3: no printer device 'nothing' in [[devices]]"
    ]
    assert bound(demo_site, {"1": "printer-k1"}) == [
        "printing.receipt_printers.1: 'printer-k1' is the ticket printer of kiosk 'kiosk-1'"
    ]
    assert bound(demo_site, {"2": PRINTER}) == [
        "printing.receipt_printers.2: 'printer-c3' belongs to counter 3 (its devices counter)"
    ]
    (problem,) = bound(demo_site, {"three": PRINTER})
    assert problem.startswith("printing.receipt_printers.three")
    site_file = tmp_path / "site.toml"
    demo = (Path(__file__).resolve().parent.parent / "sites" / "demo.toml").read_text(encoding="utf-8")
    printer = f'\n[[devices]]\nid = "{PRINTER}"\nkind = "printer"\nurl = "sim://{PRINTER}"\ncounter = 3\n'
    site_file.write_text(
        demo.replace('receipt_printers = { 3 = "printer-q3" }', 'receipt_printers = { 3 = "printer-c3" }')
        + printer,
        encoding="utf-8",
    )
    assert main(["check-site", str(site_file)]) == 0
    assert "counter 3: receipts print on printer-c3" in capsys.readouterr().out
    site_file.write_text(site_file.read_text(encoding="utf-8").replace("{ 3 = ", "{ 7 = "), encoding="utf-8")
    assert main(["check-site", str(site_file)]) == 2
    assert "printing.receipt_printers.7: no counter number 7" in capsys.readouterr().err


def ocr(png: Path) -> str:
    done = subprocess.run(
        ["tesseract", str(png), "-", "-l", "vie", "--psm", "6"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return " ".join(unicodedata.normalize("NFC", done.stdout).split())


def receive(page: object, procedure: str = "1.001234") -> str:
    """Open the counter, receive a dossier; its code."""
    from playwright.sync_api import Page, expect

    assert isinstance(page, Page)
    page.click("#open")
    expect(page.locator("#status")).to_contain_text("Đang mở")
    page.fill("#procedure", procedure)
    page.click("#register")
    expect(page.locator("#dossier")).to_contain_text("Mã hồ sơ")
    found = re.search(r"[0-9A-Z.]+-\d{6}-\d{4,7}", page.locator("#dossier").inner_text())
    assert found is not None
    return found.group()


@needs_chromium
@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_in_phieu_prints_form_01_on_the_counters_printer(centre: Console, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    with logged_in(centre.url) as page:
        code = receive(page)
        page.fill("#applicant_name", APPLICANT)
        page.fill("#applicant_phone", "0912345678")
        page.click("#print")
        expect(page.locator("#message")).to_have_text(
            f"Đã in phiếu tiếp nhận hồ sơ {code} trên máy in của quầy."
        )
    assert wait_until(lambda: len(centre.sim.pages) == 1)
    (paper,) = centre.sim.pages
    assert code in centre.sim.page_texts[0]  # the ESC/POS decoder's text of the page: the code and its HRI
    found = {r.format.name: r.text for r in zxingcpp.read_barcodes(paper.convert("L"))}
    assert found["Code128"] == code and f"/d/{code}?k=" in found["QRCode"]
    png = tmp_path / "receipt.png"
    paper.save(png)
    text = ocr(png)
    for expected in ("GIẤY TIẾP NHẬN HỒ SƠ", "Nhung", "Người tiếp nhận hồ sơ", "Thị Bình"):
        assert expected in text, (expected, text)


@needs_chromium
def test_a_failing_printer_or_none_gives_the_a5_pdf(centre: Console, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    centre.sim.paper_left_mm = 0  # the roll ran out
    assert wait_until(
        lambda: any(v.id == PRINTER and v.health == "error" for v in centre.server.device_views())
    )
    with logged_in(centre.url) as page:
        code = receive(page)
        page.fill("#applicant_name", APPLICANT)
        with page.expect_download() as download:
            page.click("#print")
        expect(page.locator("#message")).to_contain_text("máy in hết giấy")
        expect(page.locator("#message")).to_contain_text(f"Đã tải bản PDF A5 của phiếu {code}.")
        pdf = tmp_path / "f01.pdf"
        download.value.save_as(pdf)
        assert download.value.suggested_filename == f"phieu-tiep-nhan-{code}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF") and centre.sim.pages == []
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert code in text and APPLICANT in unicodedata.normalize("NFC", text)
    centre.server.handle(m.CounterRequest(counter=1, action=m.CounterAction.OPEN, officer="cb01"))
    with logged_in(centre.url, counter=1, officer="cb01") as page:  # counter 1 has no receipt printer
        page.fill("#procedure", "1.000001")
        page.click("#register")
        page.fill("#applicant_name", APPLICANT)
        with page.expect_download():
            page.click("#print")
        expect(page.locator("#message")).to_contain_text("Quầy này chưa gắn máy in phiếu.")


def test_only_the_officer_who_opened_counter_3_prints_on_its_printer(centre: Console) -> None:
    server = centre.server
    assert server.handle(m.CounterRequest(counter=3, action=m.CounterAction.OPEN, officer="cb03")).ok
    registered = server.handle(m.RegisterDossier(procedure="1.001234", days=3, counter=3))
    assert registered.dossier is not None
    code = registered.dossier.code
    body = {"code": code, "applicant_name": APPLICANT}
    with httpx.Client(base_url=centre.url, timeout=30) as cb01:
        login = cb01.get("/login")
        cb01.post(
            "/login", data={"officer": "cb01", "password": PASSWORD, "csrf": login.cookies["motcua_login"]}
        )
        csrf = {"X-CSRF-Token": cb01.get("/console/3").text.split('data-csrf="')[1].split('"')[0]}
        for path in ("/console/3/receipts", "/console/3/receipts/pdf"):  # counter 3 is cb03's
            refused = cb01.post(path, json=body, headers=csrf)
            assert refused.status_code == 403 and refused.json()["detail"]["code"] == "not_your_counter"
        assert cb01.post("/console/3/receipts", json=body).status_code == 403  # no CSRF token
        assert cb01.post("/console/1/receipts", json=body, headers=csrf).status_code == 403  # 1 is closed
        server.handle(m.CounterRequest(counter=1, action=m.CounterAction.OPEN, officer="cb01"))
        own = cb01.post("/console/1/receipts", json={**body, "printer": PRINTER}, headers=csrf)
        assert (
            own.status_code == 422 and own.json()["detail"]["code"] == "unknown_field"
        )  # no naming a printer
        answer = cb01.post("/console/1/receipts", json=body, headers=csrf).json()
        assert answer["printed"] is False and answer["code"] == "no_printer"
        bad = cb01.post("/console/1/receipts", json={"code": "X", "applicant_name": ""}, headers=csrf)
        assert bad.status_code == 422 and bad.json()["detail"]["code"] == "bad_dossier_code"
        unknown = cb01.post("/console/1/receipts", json={**body, "code": "H99.01-200101-0009"}, headers=csrf)
        assert unknown.status_code == 404 and unknown.json()["detail"]["code"] == "unknown_dossier"
    assert centre.sim.pages == []  # nothing reached counter 3's paper


def test_a_job_that_fails_on_the_printer_answers_why_and_offers_the_pdf(centre: Console) -> None:
    server = centre.server
    assert server.handle(m.CounterRequest(counter=3, action=m.CounterAction.OPEN, officer="cb03")).ok
    registered = server.handle(m.RegisterDossier(procedure="1.001234", days=3, counter=3))
    assert registered.dossier is not None
    centre.sim.paper_out_at_job = centre.sim.jobs_started + 1  # the roll ends during this receipt
    with httpx.Client(base_url=centre.url, timeout=60) as cb03:
        login = cb03.get("/login")
        cb03.post(
            "/login", data={"officer": "cb03", "password": PASSWORD, "csrf": login.cookies["motcua_login"]}
        )
        csrf = {"X-CSRF-Token": cb03.get("/console/3").text.split('data-csrf="')[1].split('"')[0]}
        body = {"code": registered.dossier.code, "applicant_name": APPLICANT}
        answer = cb03.post("/console/3/receipts", json=body, headers=csrf).json()
        assert answer["printed"] is False and answer["code"] == "paper_out" and answer["pdf"] is True
        assert "hết giấy" in answer["message"]
        pdf = cb03.post("/console/3/receipts/pdf", json=body, headers=csrf)
        assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


def test_only_the_bound_printer_answers_a_receipt_job(demo_site: Site, mosquitto: BrokerUrl) -> None:
    """A job_printed from another device, or a second answer, changes nothing (real broker, no service)."""
    import threading
    from datetime import timedelta

    from bus.client import BusClient
    from queue_server.devices_registry import DeviceRegistry
    from queue_server.receipt_printing import ReceiptPrinting

    site = with_receipt_printer(demo_site)
    server_bus = BusClient(mosquitto, site.site.id, "queue-server").start()
    printer = BusClient(mosquitto, site.site.id, PRINTER)  # what the printer itself receives
    sent: list[m.PrintReceipt] = []
    printer.subscribe(
        printer.topics.device_cmd(PRINTER), lambda _t, c: sent.append(c), m.device_command_adapter
    )
    printer.start()
    registry = DeviceRegistry(site)
    registry.availability(PRINTER, "online", m.now())
    printing = ReceiptPrinting(site, server_bus, server_bus.topics, registry)
    receipt = m.ReceiptPrint(
        agency_name="Trung tâm",
        dossier_code="H99.01-261204-0001",
        applicant_name=APPLICANT,
        request="Thủ tục 1.001234",
        received_at=m.now(),
        return_at=m.now() + timedelta(days=3),
    )
    outcomes = []
    worker = threading.Thread(target=lambda: outcomes.append(printing.print_receipt(3, receipt, wait_s=30)))
    try:
        worker.start()
        assert wait_until(lambda: len(sent) == 1)
        (job,) = sent
        assert job.expires_at is not None and job.receipt.applicant_name == APPLICANT
        printing.on_event("keypad-1", m.JobPrinted(job_id=job.job_id, bytes_sent=1))  # not its printer
        printing.on_event(PRINTER, m.JobPrinted(job_id="another-job", bytes_sent=1))  # not its job
        assert worker.is_alive()
        printing.on_event(PRINTER, m.JobFailed(job_id=job.job_id, reason="paper out", code="paper_out"))
        printing.on_event(
            PRINTER, m.JobPrinted(job_id=job.job_id, bytes_sent=1)
        )  # too late: the first counts
        worker.join(10)
        (outcome,) = outcomes
        assert not outcome.printed and outcome.code == "paper_out" and "hết giấy" in (outcome.message or "")
        assert printing.print_receipt(1, receipt).code == "no_printer"
        registry.availability(PRINTER, "offline", m.now())
        assert printing.print_receipt(3, receipt).code == "offline" and len(sent) == 1  # not even sent
    finally:
        worker.join(10)
        printer.stop()
        server_bus.stop()
