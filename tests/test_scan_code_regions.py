"""The code-region detector: the thorough code search runs only where a code may be, and still reads
every code zxing-cpp reads on the whole page (small, sideways, faint, inverted and blurred symbols).

Each page is sparse (a typed line, a stamp, a signature) so the detector answers with boxes rather
than "search the whole page": a code outside every box would not be read and the test would fail.
"""

from __future__ import annotations

import random

import cv2
import numpy as np
import pytest

from scanner import code_regions
from scanner import codes as barcodes
from scanner.testcorpus.documents import Canvas, code_image

TEXT = "Kính gửi: Trung tâm Phục vụ hành chính công tỉnh"


def sparse_page(seed: int = 3) -> np.ndarray:
    """An A4 grey page at 200 dpi with one typed line, a stamp and a signature."""
    rng = random.Random(seed)
    c = Canvas("A4", 200, (247, 246, 242))
    c.text(20, 30, TEXT, 12)
    c.stamp(140, 230, 17, rng)
    c.signature(125, 240, rng)
    grey = cv2.cvtColor(c.bgr(), cv2.COLOR_BGR2GRAY)
    noise = np.random.default_rng(seed).normal(0, 3, grey.shape)
    page: np.ndarray = np.clip(grey + noise, 0, 255).astype(np.uint8)
    return page


def _symbol(symbology: str, text: str, module: int, height: int, turns: int) -> np.ndarray:
    symbol = code_image(symbology, text, module, height)
    return np.rot90(symbol, turns).copy()


def placed(page: np.ndarray, symbol: np.ndarray, at: tuple[int, int], ink: int, paper: int) -> np.ndarray:
    """``symbol`` (black on white) drawn at ``at`` with the given ink and paper grey levels."""
    out = page.copy()
    x, y = at
    h, w = symbol.shape
    scaled = paper + (255 - symbol.astype(np.float32)) / 255.0 * (ink - paper)
    out[y : y + h, x : x + w] = np.clip(scaled, 0, 255).astype(np.uint8)
    return out


# (name, symbology, text, module px, bar height px, quarter turns, ink, paper, blur sigma)
CASES = [
    ("sideways short Code 128", "Code128", "H2165-242912-7954", 2, 40, 1, 20, 250, 0.0),
    ("sideways Code 39, faint", "Code39", "H2165-242988", 3, 60, 3, 150, 235, 0.0),
    ("small DataMatrix, 2 px modules", "DataMatrix", "H2165-2436", 2, 0, 1, 25, 250, 0.0),
    ("faint DataMatrix", "DataMatrix", "H2165-243697-9623", 4, 0, 0, 165, 240, 0.0),
    ("inverted QR", "QRCode", "MCSEP|H21.65-249509-8148|07", 4, 0, 0, 250, 20, 0.0),
    ("inverted sideways DataMatrix", "DataMatrix", "H2165-245545-9163", 3, 0, 1, 245, 25, 0.0),
    ("sideways PDF417, blurred", "PDF417", "H2165-247304-2819", 3, 0, 1, 20, 250, 1.2),
    ("blurred QR", "QRCode", "H21.65-242224-3391", 5, 0, 0, 30, 245, 2.0),
    ("sideways Aztec", "Aztec", "H2165-250865-5198", 3, 0, 1, 30, 245, 0.0),
]


def _page_with(case: tuple[str, str, str, int, int, int, int, int, float], at: tuple[int, int]) -> np.ndarray:
    _, symbology, text, module, height, turns, ink, paper, blur = case
    symbol = _symbol(symbology, text, module, height, turns)
    page = placed(sparse_page(), symbol, at, ink, paper)
    if blur:
        page = cv2.GaussianBlur(page, (0, 0), blur)
    return page


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize(
    "at", [(150, 400), (1350, 1700), (30, 1500)], ids=["top-left", "bottom-right", "margin"]
)
def test_a_lone_code_is_read_from_its_box(
    case: tuple[str, str, str, int, int, int, int, int, float], at: tuple[int, int]
) -> None:
    page = _page_with(case, at)
    symbology, text = case[1], case[2]
    direct = {(c.symbology, c.text) for c in barcodes.read_zxing_direct(page)}
    assert (symbology, text) in direct, "the case must be one zxing-cpp reads on the whole page"
    boxes = code_regions.candidate_boxes(page)
    assert boxes is not None and boxes, "a sparse page is searched in boxes"
    assert sum(b.area for b in boxes) < code_regions.WHOLE_PAGE * page.size
    got = {(c.symbology, c.text) for c in barcodes.read_codes(page).codes}
    assert direct <= got


def test_the_thorough_pass_in_boxes_reads_what_the_quick_pass_cannot() -> None:
    """A sideways Code 128 is out of the quick pass's reach: only the boxes' thorough search reads it."""
    page = _page_with(CASES[0], (150, 400))
    assert barcodes.read_zxing(page, thorough=False)[0] == []
    report = barcodes.read_codes(page)
    assert [(c.symbology, c.text, c.attempt) for c in report.codes] == [("Code128", CASES[0][2], "thorough")]


def test_paper_with_nothing_dark_on_it_is_not_searched_again() -> None:
    rng = np.random.default_rng(1)
    paper = np.clip(rng.normal(244, 3, (2339, 1654)), 0, 255).astype(np.uint8)
    assert code_regions.candidate_boxes(paper) == []
    assert barcodes.read_codes(paper).codes == []


def test_a_sparse_page_is_searched_in_a_few_small_boxes() -> None:
    page = sparse_page()
    boxes = code_regions.candidate_boxes(page)
    assert boxes is not None
    assert 1 <= len(boxes) <= 4
    assert sum(b.area for b in boxes) < 0.1 * page.size


def test_a_card_is_searched_whole() -> None:
    card = np.full((425, 674), 240, np.uint8)
    assert code_regions.candidate_boxes(card) is None


@pytest.mark.parametrize(
    ("size", "factors"), [((1654, 2339), [1, 3, 9]), ((674, 425), [1, 3]), ((480, 300), [1])]
)
def test_the_boxes_get_the_layers_zxing_would_build_for_the_page(
    size: tuple[int, int], factors: list[int]
) -> None:
    assert barcodes.pyramid_factors(*size) == factors


def test_a_code_only_readable_downscaled_is_read_in_its_box() -> None:
    """A large QR blurred until only zxing-cpp's third-size copy reads it: the box gets that layer too."""
    symbol = _symbol("QRCode", "H21.65-245570-4730", 18, 0, 0)
    page = cv2.GaussianBlur(placed(sparse_page(), symbol, (300, 900), 30, 245), (0, 0), 7.5)
    full_res_only = barcodes._zxing(page, barcodes.DEFAULT_SYMBOLOGIES, thorough=True, downscale=False)[0]
    direct = {(c.symbology, c.text) for c in barcodes.read_zxing_direct(page)}
    assert full_res_only == [] and direct, "the case must be one only the downscaled copy reads"
    boxes = code_regions.candidate_boxes(page)
    assert boxes
    got = {(c.symbology, c.text) for c in barcodes.read_codes(page).codes}
    assert direct <= got


def test_the_pipeline_reads_a_sideways_code_on_a_sparse_page() -> None:
    """Through every stage: the page is sparse (looked at in boxes) and its only code is sideways."""
    from scanner.pipeline import ScanSettings, process_image

    page = cv2.cvtColor(_page_with(CASES[0], (1350, 1700)), cv2.COLOR_GRAY2BGR)
    result = process_image(page, "sparse.png", 200.0, ScanSettings(osd=False))
    assert code_regions.worth_looking(result.ink_ratio)
    assert [(c.symbology, c.text) for c in result.codes] == [("Code128", CASES[0][2])]
