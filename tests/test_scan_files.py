"""Bad input files get a clear error and never take the caller down; the CLI and the PDF it writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import cv2
import pikepdf
import pytest
from PIL import Image

from firmware_sim import scanner_pages as sp
from motcua_cli.main import main
from scanner import imagefile
from scanner.errors import ImageFileError, ScanError
from scanner.jpeg import jfif_dpi
from scanner.pdf import PdfMeta, assemble_pdf, read_meta, sha256_file

DOSSIER = "H21.65-220914-0011"


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.jpg"
    cv2.imwrite(str(path), sp.skew(sp.render_page(1, qr_text=DOSSIER), 4.0))
    return path


def _bad_files(tmp_path: Path, good: Path) -> dict[str, tuple[Path, str]]:
    data = good.read_bytes()
    files = {
        "empty": (b"", "empty"),
        "truncated jpeg": (data[: len(data) // 3], "truncated"),
        "text": ("Giấy tiếp nhận hồ sơ\n".encode(), "not a readable image"),
        "garbage png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a readable image"),
    }
    out = {}
    for name, (content, message) in files.items():
        path = tmp_path / f"{name.replace(' ', '_')}.jpg"
        path.write_bytes(content)
        out[name] = (path, message)
    huge = tmp_path / "huge.png"
    Image.new("1", (12_000, 11_000)).save(huge)  # 132 MP in a few kilobytes
    out["huge"] = (huge, "larger than a page can be")
    tiny = tmp_path / "tiny.png"
    Image.new("RGB", (20, 30), "white").save(tiny)
    out["tiny"] = (tiny, "too small")
    out["missing"] = (tmp_path / "nope.jpg", "cannot read")
    out["directory"] = (tmp_path, "a folder, not an image file")
    return out


def test_each_bad_file_gets_a_clear_error_naming_it(tmp_path: Path, good: Path) -> None:
    for label, (path, message) in _bad_files(tmp_path, good).items():
        with pytest.raises(ImageFileError, match=message) as caught:
            imagefile.load_images(path)
        assert str(path) in str(caught.value), label


def test_the_cli_keeps_the_good_pages_reports_the_bad_and_never_crashes(
    tmp_path: Path, good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [p for p, _ in _bad_files(tmp_path, good).values() if p.is_file()]
    out = tmp_path / "out.pdf"
    code = main(["scan", "process", str(good), *map(str, bad), "--out", str(out), "--dossier", DOSSIER])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.err.count("refused") == len(bad)
    assert "Traceback" not in captured.err
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 1
    manifest = json.loads(out.with_suffix(".manifest.json").read_text())
    assert len(manifest["refused"]) == len(bad)
    assert manifest["documents"][0]["sha256"] == sha256_file(out)


def test_the_cli_prints_rotation_blank_codes_and_timings_per_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    front = sp.render_page(2, qr_text=DOSSIER)
    files = {
        "01.jpg": sp.skew(front, -8.0),
        "02.png": sp.blank_back(1, bleed_from=front),
        "03.png": sp.quarter_turns(sp.separator_sheet("MCSEP|H21.65-220914-0012|01"), 2),
        "04.jpg": sp.photograph(sp.render_page(3, qr_text="CCCD 079123456789|Nguyễn Văn A"), 2).image,
    }
    for name, image in files.items():
        cv2.imwrite(str(tmp_path / name), image)
    out = tmp_path / "dossier.pdf"
    assert main(["scan", "process", *(str(tmp_path / n) for n in files), "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    turned = re.search(r"turned +([-+]\d+\.\d+)° ccw", lines[0])
    assert turned is not None and abs(float(turned.group(1)) - 8.0) < 0.5
    assert f"dossier {DOSSIER} (zxing)" in lines[0]
    assert "BLANK" in lines[1] and "kept" in lines[1]
    assert "quarter turns 2" in lines[2] and "separator MCSEP|H21.65-220914-0012|01" in lines[2]
    assert "sheet found" in lines[3] and "not shown" in lines[3] and "079123456789" not in "\n".join(lines)
    for line in lines[:4]:
        assert " ms detect " in line and " jpeg " in line and " total " in line
    first, second = tmp_path / "dossier-01.pdf", tmp_path / "dossier-02.pdf"
    assert read_meta(first) == {"dossierCode": DOSSIER, "pageCount": "2", "blankPages": "2"}
    assert read_meta(second) == {"dossierCode": "H21.65-220914-0012", "documentType": "01", "pageCount": "1"}
    assert any(f"sha256 {sha256_file(first)}" in line for line in lines)


def test_cli_refuses_a_bad_dossier_code_and_low_dpi(
    tmp_path: Path, good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.pdf"
    assert main(["scan", "process", str(good), "--out", str(out), "--dossier", "079123456789"]) == 2
    assert "not a dossier code" in capsys.readouterr().err
    assert main(["scan", "process", str(good), "--out", str(out), "--dpi", "150"]) == 2
    assert "at least 200 dpi" in capsys.readouterr().err
    assert not out.exists()


def test_pdf_is_colour_200_dpi_a4_version_1_4_with_no_id_number(tmp_path: Path) -> None:
    from scanner.pipeline import process_image

    page = process_image(sp.render_page(1), "p")
    assert jfif_dpi(page.jpeg) == 200
    out = tmp_path / "a.pdf"
    made = assemble_pdf([page.jpeg], out, PdfMeta(DOSSIER, "01", "Tờ khai"))
    with pikepdf.open(out) as pdf:
        assert pdf.pdf_version >= "1.4"
        box = [float(v) for v in pdf.pages[0].mediabox]
        assert abs(box[2] - 595.3) < 1 and abs(box[3] - 842) < 1  # A4 at its true size
        image = next(iter(pdf.pages[0].get_images().values()))
        assert image.Filter == pikepdf.Name.DCTDecode and image.ColorSpace == pikepdf.Name.DeviceRGB
        assert bytes(image.read_raw_bytes()) == page.jpeg  # the page's JPEG unchanged
    assert made.sha256 == sha256_file(out)
    with pytest.raises(ScanError, match="ID number"):
        assemble_pdf([page.jpeg], tmp_path / "b.pdf", PdfMeta(DOSSIER, title="CCCD 079123456789"))
    with pytest.raises(ScanError):
        assemble_pdf([], tmp_path / "c.pdf", PdfMeta())


def test_a_printed_separator_sheet_is_read_back_as_a_separator(tmp_path: Path) -> None:
    import subprocess

    from scanner.dossier import Separator
    from scanner.pipeline import process_image

    sheet = tmp_path / "sep.pdf"
    assert (
        main(["scan", "separator", "--out", str(sheet), "--dossier", DOSSIER, "--doc-type", "GIAY_KS"]) == 0
    )
    subprocess.run(["pdftoppm", "-r", "200", "-png", str(sheet), str(tmp_path / "sep")], check=True)
    printed = cv2.imread(str(next(tmp_path.glob("sep*.png"))))
    assert printed is not None
    scanned = sp.quarter_turns(sp.skew(printed, -6.0), 2)  # fed upside down and skewed
    result = process_image(scanned, "sep")
    assert result.separator == Separator(DOSSIER, "GIAY_KS")
    assert main(["scan", "separator", "--out", str(sheet), "--doc-type", "01"]) == 2
    assert main(["scan", "separator", "--out", str(sheet), "--dossier", "12345"]) == 2


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["scan", "process", *argv])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def test_options_are_checked_before_any_page_and_an_input_is_never_overwritten(
    tmp_path: Path, good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each bad option is refused with exit 2 before a page is processed (no page line printed), and
    no input file is touched: an --out naming one of the inputs (a PDF given by mistake among the
    scans, or a split part's name) is refused."""
    scan = tmp_path / "scan.png"
    cv2.imwrite(str(scan), sp.render_page(2))
    before = {p: p.read_bytes() for p in (good, scan)}
    stray = tmp_path / "out-01.pdf"
    stray.write_bytes(b"%PDF-1.4 a clerk's earlier file")
    to_a = [str(good), "--out", str(tmp_path / "a.pdf")]
    cases = {
        "overwrite": ([str(good), str(scan), "--out", str(scan.with_suffix(".PNG"))], ".pdf file"),
        "same name": (
            [str(good), str(tmp_path / "same.pdf"), "--out", str(tmp_path / "same.pdf")],
            "overwrite",
        ),
        "split part": ([str(good), str(stray), "--out", str(tmp_path / "out.pdf")], "overwrite the input"),
        "folder": ([str(good), "--out", str(tmp_path)], ".pdf file"),
        "missing folder": ([str(good), "--out", str(tmp_path / "nope" / "x.pdf")], "does not exist"),
        "CCCD as type": ([*to_a, "--doc-type", "001234567890"], "ID number"),
        "CMND dotted": ([*to_a, "--doc-type", "123.456.789"], "ID number"),
        "Vietnamese type": ([*to_a, "--doc-type", "Tờ_khai"], "capital"),
        "CCCD in a code": ([*to_a, "--dossier", "079123456789.-220914-0011"], "ID number"),
    }
    (tmp_path / "same.pdf").write_bytes(b"%PDF-1.4 kept")
    for label, (argv, message) in cases.items():
        code, out, err = _run(argv, capsys)
        assert code == 2 and message in err, (label, err)
        assert out == "", (label, "a page was processed before the option was refused")
    assert {p: p.read_bytes() for p in (good, scan)} == before
    assert stray.read_bytes() == b"%PDF-1.4 a clerk's earlier file"
    assert (tmp_path / "same.pdf").read_bytes() == b"%PDF-1.4 kept"
    assert not list(tmp_path.glob("a*.pdf"))


def test_a_device_or_a_pipe_given_as_a_page_is_refused_at_once(
    tmp_path: Path, good: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """/dev/zero has no size to check and never ends, a FIFO waits for a writer forever: both are
    refused by name, and the good page is still bound (exit 1)."""
    import os

    fifo = tmp_path / "page.png"
    os.mkfifo(fifo)
    out = tmp_path / "out.pdf"
    code, _, err = _run([str(good), "/dev/zero", str(fifo), "--out", str(out)], capsys)
    assert code == 1
    assert "refused /dev/zero: not a regular file" in err and f"refused {fifo}: not a regular file" in err
    with pikepdf.open(out) as pdf:
        assert len(pdf.pages) == 1


def test_a_spool_without_its_key_is_refused_before_scanning_and_one_without_a_code_is_not_all_good(
    tmp_path: Path, good: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --spool, a missing or short key is found before any page: no readable PDF is left on the
    counter machine. A batch whose PDF has no dossier code stays unspooled, which exits 1, not 0."""
    from scanner.spool import new_key

    monkeypatch.delenv("MOTCUA_SCAN_KEY_FILE", raising=False)
    monkeypatch.delenv("MOTCUA_SCAN_KEY", raising=False)
    out = tmp_path / "s.pdf"
    code, lines, err = _run([str(good), "--out", str(out), "--spool", str(tmp_path / "spool")], capsys)
    assert code == 2 and "no scan key" in err and lines == "" and not out.exists()
    monkeypatch.setenv("MOTCUA_SCAN_KEY", "abc")
    code, lines, err = _run([str(good), "--out", str(out), "--spool", str(tmp_path / "spool")], capsys)
    assert code == 2 and lines == "" and not out.exists()
    monkeypatch.setenv("MOTCUA_SCAN_KEY", new_key())
    blank = tmp_path / "plain.png"
    cv2.imwrite(str(blank), sp.render_page(3))
    code, _, err = _run([str(blank), "--out", str(out), "--spool", str(tmp_path / "spool")], capsys)
    assert code == 1 and "no dossier code; not spooled" in err and out.exists()
    code, _, err = _run(
        [str(good), "--out", str(out), "--spool", str(tmp_path / "spool"), "--dossier", DOSSIER], capsys
    )
    assert code == 0 and not out.exists()


def test_a_page_below_200_dpi_is_bound_but_not_all_good_and_an_unstated_resolution_is_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = sp.render_page(2)
    low = tmp_path / "low.png"
    Image.fromarray(cv2.cvtColor(cv2.resize(page, None, fx=0.75, fy=0.75), cv2.COLOR_BGR2RGB)).save(
        low, dpi=(150, 150)
    )
    unstated = tmp_path / "unstated.png"
    Image.fromarray(cv2.cvtColor(page, cv2.COLOR_BGR2RGB)).save(unstated)
    out = tmp_path / "out.pdf"
    code, _, err = _run([str(low), "--out", str(out)], capsys)
    assert code == 1 and "1 pages below 200 dpi, bound but to be rescanned: " in err and "low.png" in err
    code, _, err = _run([str(unstated), "--out", str(out)], capsys)
    assert (
        code == 0
        and "1 pages state no resolution and are taken as 200 dpi (--assume-dpi): " in err
        and "unstated.png" in err
    )
