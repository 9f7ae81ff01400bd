"""The page pipeline on generated pages whose ground truth is known: angle, corners, codes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from firmware_sim import scanner_pages as sp
from scanner import codes as barcodes
from scanner import geometry
from scanner.dossier import Separator, parse_separator, validate_dossier_code
from scanner.errors import DossierCodeError
from scanner.pipeline import ScanSettings, process_image, split_documents

DOSSIER = "H21.65-220914-0011"


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    return sp.render_page(1, qr_text=DOSSIER)


def _qr_centre(image: np.ndarray) -> np.ndarray:
    found, _ = barcodes.read_zxing(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    assert found, "no QR on the page"
    import zxingcpp

    result = zxingcpp.read_barcodes(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))[0]
    p = result.position
    pts = np.array([[p.top_left.x, p.top_left.y], [p.bottom_right.x, p.bottom_right.y]], float)
    return np.asarray(pts.mean(axis=0))


@pytest.mark.parametrize("angle", [-19.6, -12.5, -7.3, -2.2, 0.0, 0.8, 4.4, 9.9, 15.1, 19.5])
def test_deskew_finds_the_angle_within_half_a_degree(page: np.ndarray, angle: float) -> None:
    result = process_image(sp.skew(page, angle), "skewed")
    assert abs(result.skew - angle) < 0.5
    assert result.quarter_turns == 0
    assert result.dossier_codes == [DOSSIER]


@pytest.mark.parametrize("turns", [1, 2, 3])
@pytest.mark.parametrize("seed", [0, 3, 5])
def test_quarter_and_half_turns_are_set_upright_without_a_qr(turns: int, seed: int) -> None:
    plain = sp.render_page(seed, lines=[30, 12, 6][seed % 3])
    turned = sp.quarter_turns(sp.skew(plain, 3.0), turns)
    result = process_image(turned, "turned")
    assert (result.quarter_turns + turns) % 4 == 0
    assert abs(result.skew - 3.0) < 0.5
    assert result.image.shape[0] > result.image.shape[1]  # portrait again


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_separator_sheet_is_turned_upright_by_its_qr(turns: int) -> None:
    sheet = sp.quarter_turns(sp.separator_sheet("MCSEP|H21.65-220914-0012|01"), turns)
    result = process_image(sheet, "sep")
    assert (result.quarter_turns + turns) % 4 == 0
    assert result.separator == Separator("H21.65-220914-0012", "01")


@pytest.mark.parametrize("seed,angle", [(1, 0.0), (2, 6.0), (3, -11.0), (4, 18.0)])
def test_a_fed_sheet_over_a_dark_backing_is_found_to_one_percent(
    page: np.ndarray, seed: int, angle: float
) -> None:
    shot = sp.feed(page, angle, seed)
    corners = geometry.find_sheet(shot.image)
    assert corners is not None
    size = max(page.shape[:2])
    assert np.abs(corners - shot.corners).max() < 0.01 * size
    result = process_image(shot.image, "fed")
    assert result.image.shape[:2] == page.shape[:2]  # A4 at 200 dpi again
    assert result.dossier_codes == [DOSSIER]
    assert np.abs(_qr_centre(result.image) - _qr_centre(page)).max() < 0.01 * size


@pytest.mark.parametrize(
    "seed,rotate,tilt", [(1, 0.0, 0.08), (5, 8.0, 0.12), (7, -15.0, 0.1), (9, 4.0, 0.15)]
)
def test_a_camera_shot_is_cut_out_and_flattened_to_the_page(
    page: np.ndarray, seed: int, rotate: float, tilt: float
) -> None:
    shot = sp.photograph(page, seed, rotate=rotate, tilt=tilt)
    result = process_image(shot.image, "camera")
    assert result.sheet is not None
    shot_size = max(np.ptp(shot.corners[:, 0]), np.ptp(shot.corners[:, 1]))
    assert np.abs(result.sheet - shot.corners).max() < 0.01 * shot_size
    assert result.image.shape[:2] == page.shape[:2]
    assert result.dossier_codes == [DOSSIER]
    # the page came out where the original was: its QR lands where it was printed
    assert np.abs(_qr_centre(result.image) - _qr_centre(page)).max() < 0.01 * max(page.shape[:2])
    # the light gradient of the desk lamp is gone: paper left and right are both near white
    grey = cv2.cvtColor(result.image, cv2.COLOR_BGR2GRAY)
    assert grey[:, :100].max() > 230 and np.median(grey[:, :100]) > 230 and np.median(grey[:, -100:]) > 230


def test_blank_backs_are_flagged_and_kept_written_pages_are_not(page: np.ndarray) -> None:
    back = process_image(sp.blank_back(3, bleed_from=page), "back")
    assert back.blank
    assert back.codes == []  # the front's QR showing through is not read as this page's code
    one_line = sp.render_page(2, lines=1)
    written = process_image(one_line, "one line")
    assert not written.blank
    assert written.ink_ratio > back.ink_ratio
    documents = split_documents([written, back])
    assert [p.name for p in documents[0].pages] == ["one line", "back"]


def test_every_code_is_read_by_zxing_and_pyzbar_reads_vietnamese_too() -> None:
    text = "Hồ sơ đất đai — Phường Bến Nghé"
    upright = sp.render_page(4, qr_text=text)
    for decoder in ("zxing", "pyzbar"):
        result = process_image(sp.skew(upright, 5.0), decoder, settings=ScanSettings(decoders=(decoder,)))
        assert [c.text for c in result.codes] == [text], decoder
        assert result.codes[0].decoder == decoder


def test_zbar_mojibake_is_repaired() -> None:
    text = "Đăng ký khai sinh"
    mangled = text.encode("utf-8").decode("shift-jis", errors="strict").encode("utf-8")
    assert barcodes.repair_zbar_text(mangled) == text
    assert barcodes.repair_zbar_text(b"H21.65-220914-0011") == "H21.65-220914-0011"


def test_a_batch_is_split_on_separator_sheets(page: np.ndarray) -> None:
    settings = ScanSettings()
    pages = [
        process_image(page, "a1", settings=settings),
        process_image(sp.separator_sheet("MCSEP|H21.65-220914-0012|GIAY_KS"), "sep1", settings=settings),
        process_image(sp.render_page(2), "b1", settings=settings),
        process_image(sp.blank_back(1), "b2", settings=settings),
        process_image(sp.separator_sheet("MCSEP"), "sep2", settings=settings),
        process_image(sp.render_page(3), "c1", settings=settings),
    ]
    docs = split_documents(pages)
    assert [[p.name for p in d.pages] for d in docs] == [["a1"], ["b1", "b2"], ["c1"]]
    assert [d.dossier_code for d in docs] == [DOSSIER, "H21.65-220914-0012", None]
    assert docs[1].doc_type == "GIAY_KS"
    assert docs[1].pages[1].blank


def test_dossier_codes_and_separator_payloads_are_validated() -> None:
    assert validate_dossier_code(" H15.50.05.13-261008-0975 ") == "H15.50.05.13-261008-0975"
    for bad in ("H21.65-22091-0011", "h21.65-220914-0011", "H21.65-220914-01", "", "H21-220914-00112233"):
        with pytest.raises(DossierCodeError, match="not a dossier code"):
            validate_dossier_code(bad)
    assert parse_separator("MCSEP") == Separator()
    assert parse_separator("H21.65-220914-0011") is None
    assert parse_separator(Separator(DOSSIER, "01").encode()) == Separator(DOSSIER, "01")
    with pytest.raises(DossierCodeError):
        parse_separator("MCSEP|not-a-code")
    with pytest.raises(DossierCodeError):
        parse_separator("MCSEP|H21.65-220914-0011|lower case")


def test_a_scan_below_200_dpi_is_warned_about(page: np.ndarray) -> None:
    small = cv2.resize(page, (page.shape[1] // 2, page.shape[0] // 2))
    result = process_image(small, "low", source_dpi=100)
    assert any("below the legal 200 dpi" in w for w in result.warnings)
    assert process_image(page, "ok", source_dpi=200).warnings == []


def test_osd_reads_the_text_not_the_feeders_backing_nor_a_whole_page() -> None:
    """The region handed to Tesseract's OSD: one line of text on a page whose edges kept a strip of
    the feeder's dark backing is the line alone; a page full of text is cut to the inkiest window."""
    from scanner.orientation import OSD_WINDOW, ink_crop

    page = np.full((2339, 1654), 250, np.uint8)
    page[:, :30] = 20  # backing left along the edge by the warp
    page[2310:, :] = 40
    cv2.putText(page, "Cong hoa xa hoi chu nghia", (200, 1100), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 0, 4)
    line = ink_crop(page)
    assert line.shape[0] < 300 and line.shape[1] < 1500  # not the page from edge to edge
    full = page.copy()
    for y in range(150, 2250, 60):
        cv2.putText(full, "Bo phan tiep nhan va tra ket qua", (120, y), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
    window = ink_crop(full)
    pad = 0.03 * 2339
    assert max(window.shape) <= OSD_WINDOW + 2 * pad + 8


@pytest.mark.parametrize("index", [16, 32])  # a phone photo with a barcode, a fed letter (seed 1)
def test_a_sideways_page_is_read_by_its_text_lines_as_well_as_an_upright_one(index: int) -> None:
    """The small copy the text lines are read on has the same detail whichever way the page lies, so a
    page of text turned a quarter is settled by its lines, as it is upright, without asking OSD."""
    from scanner.imagefile import decode_images
    from scanner.pipeline import turn
    from scanner.testcorpus import check, sample

    captured = sample(index, seed=1)
    image = decode_images(captured.data, captured.name)[0].image
    upright = process_image(image, captured.name, 200.0)
    assert check(captured, upright.quarter_turns, False, upright.sheet).upright
    for turns in range(4):
        result = process_image(turn(image, turns), captured.name, 200.0)
        assert result.orientation_source == "text", turns
        assert "osd" not in result.ms
        assert (result.quarter_turns + turns) % 4 == upright.quarter_turns, turns


def test_the_small_copy_keeps_the_same_detail_for_a_page_lying_either_way() -> None:
    portrait = np.full((2339, 1654, 3), 255, np.uint8)
    landscape = np.ascontiguousarray(portrait.transpose(1, 0, 2))
    (tall, f1), (wide, f2) = geometry.small_grey(portrait), geometry.small_grey(landscape)
    assert f1 == f2
    assert tall.shape == wide.shape[::-1]
    assert abs(min(tall.shape) - geometry.WORK_WIDTH) <= 0.25 * geometry.WORK_WIDTH


@pytest.mark.parametrize("seed,index", [(3, 38), (3, 58), (11, 18), (23, 18)])
def test_a_blank_back_with_punch_holes_near_its_edge_is_flagged_blank(seed: int, index: int) -> None:
    """Holes near the margin are cut in two by the inner 90 % the ink is counted in: they are told
    from writing by their whole shape (these corpus pages came out 'written', ink ≈ 0.0009)."""
    from scanner.imagefile import decode_images
    from scanner.testcorpus import sample

    captured = sample(index, seed=seed)
    assert captured.blank
    loaded = decode_images(captured.data, captured.name)[0]
    assert process_image(loaded.image, captured.name, loaded.dpi).blank


def test_a_photo_whose_sides_run_parallel_one_way_is_still_cut_out_as_a4() -> None:
    """A phone square to the page one way and tilted the other: one pair of the sheet's sides is
    parallel in the image and its corners tell no focal length (a negative square); a phone's is
    taken, and the sheet is cut out as A4 and set upright by its QR (this corpus photo was missed)."""
    from scanner.imagefile import decode_images
    from scanner.testcorpus import check, sample

    captured = sample(33, seed=3)
    loaded = decode_images(captured.data, captured.name)[0]
    result = process_image(loaded.image, captured.name, loaded.dpi)
    verdict = check(captured, result.quarter_turns, result.orientation_unsure, result.sheet)
    assert not verdict.sheet_missed
    assert verdict.corner_error is not None and verdict.corner_error < 0.01
    assert verdict.upright and not result.orientation_unsure
    assert result.image.shape[:2] == (2339, 1654)


def test_a_scanner_quad_keeps_its_own_ratio_and_a_phone_tilt_is_undone() -> None:
    width, height = 1654.0, 2339.0
    flat = np.array([[100, 100], [100 + width, 100], [100 + width, 100 + height], [100, 100 + height]], float)
    assert geometry.true_ratio(flat, (1000.0, 1300.0)) == pytest.approx(height / width)
    import random

    from scanner.testcorpus.capture import pinhole_corners

    for seed in range(40):
        corners, _ = pinhole_corners(width, height, random.Random(seed), (2250, 3000), 0.8)
        ordered = geometry.order_corners(corners)
        assert geometry.true_ratio(ordered, (1125.0, 1500.0)) in (
            pytest.approx(height / width, rel=0.03),
            pytest.approx(width / height, rel=0.03),
        ), seed


def test_a_dense_barcode_from_a_phone_photo_is_read_on_the_straightened_page() -> None:
    """A Code 39 of 17 characters photographed at an angle: once straightened to 200 dpi its modules
    are 1.5–2 pixels and no row zxing-cpp tries on the page decodes (it read the photo, where the
    barcode is larger). The stretched linear pass reads it (this corpus page lost its only code)."""
    from scanner.imagefile import decode_images
    from scanner.testcorpus import sample

    captured = sample(36, seed=11)
    assert captured.device == "camera" and captured.codes == [("Code39", "H2165-242914-1914")]
    loaded = decode_images(captured.data, captured.name)[0]
    result = process_image(loaded.image, captured.name, loaded.dpi)
    assert [(c.symbology, c.text) for c in result.codes] == captured.codes
    assert result.codes[0].attempt == "stretched" and result.dossier_codes == ["H2165-242914-1914"]
    grey = cv2.cvtColor(result.image, cv2.COLOR_BGR2GRAY)
    assert barcodes.read_codes(grey, retry=False).codes == [], "the page's own passes read it: no case"


def test_the_stretched_copy_keeps_a_barcodes_direction_and_makes_up_none_from_text() -> None:
    """A dense barcode printed upside down, which no pass reads on the page itself, is read upside down
    on the stretched copy (a code's direction may settle which way is up); a page of text with no code
    gets none made up by any pass."""
    import zxingcpp

    made = zxingcpp.create_barcode("H2165-242914-1914", zxingcpp.BarcodeFormat.Code39)
    bars = np.asarray(made.to_image(scale=2))
    sheet = np.full((2339, 1654), 255, np.uint8)
    small = cv2.resize(bars, (bars.shape[1] * 9 // 10, 40), interpolation=cv2.INTER_AREA)  # 1.8 px a module
    sheet[300 : 300 + small.shape[0], 200 : 200 + small.shape[1]] = cv2.rotate(small, cv2.ROTATE_180)
    assert barcodes.read_zxing(sheet, thorough=True) == ([], False), "read without stretching: no case"
    found = barcodes._Where(sheet, regions=False).read_stretched(barcodes.read_zxing, ["Code39"])
    assert [(c.symbology, c.text) for c in found] == [("Code39", "H2165-242914-1914")]
    assert found[0].orientation is not None and abs(abs(found[0].orientation) - 180) < 1
    for seed in (2, 4):
        text = cv2.cvtColor(sp.render_page(seed, lines=30), cv2.COLOR_BGR2GRAY)
        report = barcodes.read_codes(text, regions=False)
        assert report.codes == [], report.codes


def _dense_qr(text: str, pixels_a_module: float) -> np.ndarray:
    """A QR whose modules are ``pixels_a_module`` wide (under 2: what a small code scanned at 200 dpi
    or photographed from afar comes to), averaged down from a sharp copy as a sensor would."""
    import zxingcpp

    made = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    sharp = np.asarray(made.to_image(scale=4, add_quiet_zones=True))
    size = round(sharp.shape[0] / 4 * pixels_a_module)
    return cv2.resize(sharp, (size, size), interpolation=cv2.INTER_AREA)


@pytest.mark.parametrize(
    "module,angle,turns", [(1.45, 0.8, 0), (1.45, 1.5, 0), (1.5, 0.5, 1), (1.45, 2.5, 2)]
)
def test_a_dense_qr_on_a_skewed_scan_is_read_as_scanned(module: float, angle: float, turns: int) -> None:
    """A page fed a degree or two askew with a QR of 1.5 pixels a module: zxing-cpp reads it on the
    scan, and the deskewed page (every pixel resampled) lost it. Codes are read on the scan turned by
    quarter turns alone; the QR's direction is given in the upright page's frame all the same."""
    text = "MCSEP|H21.65-220914-0011|GIAY_TO_KHAC|Hồ sơ đã nhận đủ, hẹn trả kết quả"
    page = sp.render_page(3, lines=20)
    qr = _dense_qr(text, module)
    page[150 : 150 + qr.shape[0], 1200 : 1200 + qr.shape[1]] = qr[:, :, None]
    h, w = page.shape[:2]
    rotation = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    scan = cv2.warpAffine(page, rotation, (w, h), flags=cv2.INTER_CUBIC, borderValue=(255, 255, 255))
    scan = np.ascontiguousarray(np.rot90(scan, turns))
    direct = barcodes.read_zxing_direct(cv2.cvtColor(scan, cv2.COLOR_BGR2GRAY))
    assert [c.text for c in direct] == [text], "zxing-cpp does not read the scan: no case"
    result = process_image(scan, "askew.png", 200.0, ScanSettings(osd=False))
    assert [c.text for c in result.codes] == [text]
    assert result.quarter_turns == (-turns) % 4 and abs(result.skew - angle) < 0.3
    orientation = result.codes[0].orientation
    assert orientation is not None and abs(orientation) < 1.0, orientation


def test_a_small_photo_of_a_sheet_is_read_as_photographed_when_its_page_shows_no_code() -> None:
    """A 540 × 430 photo of a slip on a dark desk, its QR 1.5 pixels a module: the slip is cut out
    and straightened, and the warp loses the QR that zxing-cpp reads on the photo. A capture this small
    is read again as photographed; the code keeps no direction (the perspective lies between)."""
    text = "MCSEP|H21.65-220914-0011|GIAY_TO_KHAC"
    qr = _dense_qr(text, 1.5)
    photo = np.full((538, 430), 70, np.uint8)
    sheet = np.array([[66, 50], [370, 55], [366, 488], [60, 485]], np.int32)
    cv2.fillConvexPoly(photo, sheet, 238)
    photo[90 : 90 + qr.shape[0], 330 - qr.shape[1] : 330] = np.where(qr < 128, 25, 238)
    for row in range(6):
        cv2.line(photo, (90, 200 + 25 * row), (330, 200 + 25 * row), 60, 2)
    blurred = cv2.GaussianBlur(photo, (0, 0), 0.6) + np.random.default_rng(0).normal(0, 4, photo.shape)
    photo = np.clip(blurred, 0, 255).astype(np.uint8)
    assert [c.text for c in barcodes.read_zxing_direct(photo)] == [text], "no case"
    result = process_image(cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR), "slip.png", None, ScanSettings(osd=False))
    assert result.sheet is not None, "the slip is not cut out: no case"
    page = cv2.cvtColor(result.image, cv2.COLOR_BGR2GRAY)
    assert barcodes.read_codes(page).codes == [], "the cut-out page shows the code: no case"
    assert [(c.text, c.orientation) for c in result.codes] == [(text, None)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_page_of_text_beside_a_large_picture_is_set_upright_by_osd(seed: int) -> None:
    """A book page with a woodcut over half its width: the picture's hatching drowns the row profile
    (one or two text lines found), so the text lines settle nothing; the page is well inked, so
    Tesseract's OSD is asked and sets it upright (it was kept upside down and flagged)."""
    rng = np.random.default_rng(5)
    page = sp.render_page(seed, lines=30)
    h, w = page.shape[:2]
    picture = np.full((int(h * 0.45), w // 2), 235, np.uint8)
    for _ in range(900):
        x, y = int(rng.integers(0, picture.shape[1])), int(rng.integers(0, picture.shape[0]))
        angle, length = rng.uniform(0, np.pi), int(rng.integers(20, 120))
        end = (int(x + length * np.cos(angle)), int(y + length * np.sin(angle)))
        cv2.line(picture, (x, y), end, int(rng.integers(20, 90)), int(rng.integers(1, 4)))
    page[150 : 150 + picture.shape[0], 100 : 100 + picture.shape[1]] = picture[:, :, None]
    small, _ = geometry.small_grey(page)
    assert geometry.estimate_orientation(small).lines < 4, "the text lines are found: no case"
    upside_down = np.ascontiguousarray(np.rot90(page, 2))
    result = process_image(upside_down, "book.png", 200.0)
    assert (result.quarter_turns, result.orientation_source, result.orientation_unsure) == (2, "osd", False)
