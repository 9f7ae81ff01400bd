"""OCR to PDF/A in the background with Tesseract's Vietnamese model (real ocrmypdf, real Tesseract)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pikepdf
import pytest

from firmware_sim import scanner_pages as sp
from scanner.ocr import BackgroundOcr, OcrError, ocr_to_pdfa
from scanner.pdf import PdfMeta, assemble_pdf, read_dublin_core, read_meta
from scanner.pipeline import process_image

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr not installed")


def test_background_ocr_makes_a_searchable_pdfa_that_keeps_the_dossier_code(tmp_path: Path) -> None:
    page = process_image(sp.render_page(1, lines=8), "p")
    plain = assemble_pdf([page.jpeg], tmp_path / "copy.pdf", PdfMeta("H21.65-220914-0011", "GIAY_KS")).path
    finished = threading.Event()
    results: list[tuple[Path, OcrError | None]] = []

    def done(target: Path, error: OcrError | None) -> None:
        results.append((target, error))
        finished.set()

    ocr = BackgroundOcr()
    ocr.submit(plain, tmp_path / "copy-a.pdf", done)
    assert finished.wait(100)
    ocr.stop()
    target, error = results[0]
    assert error is None
    with pikepdf.open(target) as pdf:
        assert str(pdf.open_metadata().get("pdfaid:part")) == "2"
        image = next(iter(pdf.pages[0].get_images().values()))
        assert bytes(image.read_raw_bytes()) == page.jpeg  # the scan itself is untouched
    text = subprocess.run(["pdftotext", str(target), "-"], capture_output=True, text=True, check=True).stdout
    assert "hồ sơ" in text
    assert read_dublin_core(target) == {"identifier": "H21.65-220914-0011", "type": "GIAY_KS"}
    assert read_meta(target) == {
        "dossierCode": "H21.65-220914-0011",
        "documentType": "GIAY_KS",
        "pageCount": "1",
    }


def test_every_motcua_xmp_field_survives_ocr_declared_for_pdfa(tmp_path: Path) -> None:
    pages = [process_image(sp.render_page(i, lines=4), f"p{i}").jpeg for i in range(2)]
    meta = PdfMeta("H21.65-220914-0012", "01", None, (2,))
    plain = assemble_pdf(pages, tmp_path / "in.pdf", meta).path
    before = read_meta(plain)
    assert set(before) == {"dossierCode", "documentType", "pageCount", "blankPages"}
    out = ocr_to_pdfa(plain, tmp_path / "out.pdf")
    assert read_meta(out) == before
    with pikepdf.open(out) as pdf:
        xmp = bytes(pdf.Root.Metadata.read_bytes()).decode()
        assert str(pdf.open_metadata().get("pdfaid:part")) == "2"
        assert len(pdf.pages) == 2
    # PDF/A allows a custom namespace only when an extension schema declares it
    assert "<pdfaSchema:namespaceURI>https://motcua.example.org/ns/scan/1.0/</pdfaSchema:namespaceURI>" in xmp
    for name in before:
        assert f"<pdfaProperty:name>{name}</pdfaProperty:name>" in xmp


def test_ocr_of_a_broken_pdf_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\nnot really")
    with pytest.raises(OcrError, match=r"OCR of bad\.pdf failed"):
        ocr_to_pdfa(bad, tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


def test_the_cli_ocr_option_writes_pdfa(tmp_path: Path) -> None:
    import cv2

    from motcua_cli.main import main

    image = tmp_path / "p.png"
    cv2.imwrite(str(image), sp.render_page(2, lines=5))
    out = tmp_path / "o.pdf"
    assert (
        main(["scan", "process", str(image), "--out", str(out), "--ocr", "--dossier", "H21.65-220914-0011"])
        == 0
    )
    with pikepdf.open(out) as pdf:
        assert str(pdf.open_metadata().get("pdfaid:part")) == "2"
