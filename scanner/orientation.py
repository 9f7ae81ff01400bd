"""Which way is up: the evidence on a page combined into one decision with a confidence.

Evidence, strongest first:

- **matrix codes** (QR, DataMatrix, Aztec): their finder patterns say exactly which way the symbol is
  turned, and a document prints them upright;
- **Tesseract's orientation detection** (OSD, ``tesseract --psm 0``), asked only when the text lines
  alone are not conclusive (in the process through libtesseract, about 60 ms on a sparse page);
- **text lines**: the direction with the sharpest row profile (lines run across the page) and the
  ink above the x-height core against the ink below (ascenders, capitals, Vietnamese tone marks sit
  above), see ``geometry.estimate_orientation``;
- **linear codes** (Code 128, Code 39, …) only when nothing else speaks: a barcode is often printed
  sideways along a margin.

A page is never turned on weak evidence: when nothing is conclusive the page stays as scanned (only
deskewed) and is flagged ``unsure`` for the clerk, who turns it with one click if needed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy.typing as npt

from scanner import tesseract_osd as tesseract_osd_engine
from scanner.codes import Code
from scanner.geometry import Orientation

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction

AXIS_SURE = 0.15  # row profile this much sharper one way than the other, with many agreeing lines
AXIS_CLEAR = 0.3  # ... this much: lines clearly run that way even if few (a single typed line)
UP_SURE = 0.02  # ink above minus below the line cores, as a share of all line ink
LINES_SURE = 4  # at least this many text lines voted on the up side ...
AGREE_SURE = 0.8  # ... and this share of them agree
INKED_PAGE = 0.05  # ink ratio of a page OSD is asked about even with no text lines found
OSD_SURE = 2.5  # Tesseract's orientation confidence it takes to turn a page on its word
OSD_MIN_SIDE = 1000  # smaller images (a card at 200 dpi) are not given to OSD
OSD_WIDTH = 1800  # OSD needs text at least ~20 px high; a wider page is scaled down to this
OSD_WINDOW = 1100  # OSD reads the inkiest square of this side (a dozen lines of text at 200 dpi)


@dataclass(frozen=True)
class Decision:
    """Counter-clockwise quarter turns to apply, how sure, and what decided it."""

    quarter_turns: int
    confidence: float  # 0..1
    source: str  # "text", "osd", "code", "none"
    unsure: bool


def text_is_sure(found: Orientation) -> bool:
    """Enough text lines, clearly running one way, mostly agreeing on the up side."""
    return (
        found.axis_confidence >= AXIS_SURE
        and found.confidence >= UP_SURE
        and found.lines >= LINES_SURE
        and found.agreement >= AGREE_SURE
    )


def from_text(found: Orientation) -> Decision:
    """The text lines' verdict: turns only when they are sure, else kept as scanned and unsure."""
    if text_is_sure(found):
        confidence = min(1.0, found.agreement * found.lines / 10)
        return Decision(found.quarter_turns, confidence, "text", False)
    return Decision(0, 0.0, "none", True)


def needs_osd(found: Orientation, ink_ratio: float = 0.0) -> bool:
    """OSD is asked only when the text lines do not settle it (60–500 ms a page), and only when
    something runs in lines at all, or the page is well inked: on a stamp and a signature it has
    nothing to read, while a page of text beside a large picture may show no lines to the row profile.
    """
    has_lines = found.axis_confidence >= AXIS_CLEAR or found.lines >= LINES_SURE
    return not text_is_sure(found) and (has_lines or ink_ratio >= INKED_PAGE)


def osd_available() -> bool:
    return tesseract_osd_engine.available()


def ink_crop(grey: Image8, margin: float = 0.03, window: int = OSD_WINDOW) -> Image8:
    """The part of the page that holds ink, with a margin, and at most a ``window``-sided square of
    it: OSD's time grows with the area it scans (a whole page of text took over a second, a dozen
    lines of it a quarter of that, and OSD stops after a few hundred characters anyway); the pages
    that need it most (a line or two of text) are mostly empty paper. Ink touching the image's edge
    (a feeder's backing, a shadow left by the warp) is not text and is left out.
    """
    h, w = grey.shape
    f = min(1.0, 400 / w)
    small = cv2.resize(grey, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    ink = cv2.adaptiveThreshold(small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 15, 20)
    edge = max(2, round(0.02 * max(ink.shape)))
    ink[:edge, :] = 0
    ink[-edge:, :] = 0
    ink[:, :edge] = 0
    ink[:, -edge:] = 0
    points = cv2.findNonZero(ink)
    if points is None:
        return grey
    x, y, bw, bh = cv2.boundingRect(points)
    side = max(1, round(window * f))
    if bw > side or bh > side:
        x, y, bw, bh = _inkiest_window(ink, (x, y, bw, bh), side)
    pad = margin * max(w, h)
    x0, y0 = max(0, int(x / f - pad)), max(0, int(y / f - pad))
    x1, y1 = min(w, int((x + bw) / f + pad)), min(h, int((y + bh) / f + pad))
    return grey[y0:y1, x0:x1]


def _inkiest_window(ink: Image8, box: tuple[int, int, int, int], side: int) -> tuple[int, int, int, int]:
    """Within the ink's bounding ``box`` (x, y, w, h), the ``side``-sized window (narrower where the
    box is) holding the most ink: an integral image gives every window's count at once."""
    x, y, bw, bh = box
    ww, wh = min(side, bw), min(side, bh)
    total = cv2.integral(ink[y : y + bh, x : x + bw])
    counts = total[wh:, ww:] - total[:-wh, ww:] - total[wh:, :-ww] + total[:-wh, :-ww]
    top, left = divmod(int(counts.argmax()), counts.shape[1])
    return x + left, y + top, ww, wh


def tesseract_osd(grey: Image8) -> tuple[int, float] | None:
    """Tesseract's verdict on a grey page: counter-clockwise quarter turns to apply and its confidence."""
    if max(grey.shape) < OSD_MIN_SIDE:
        return None  # on a card-sized image OSD guesses (it turned a CCCD back sideways)
    grey = ink_crop(grey)
    if grey.shape[1] > OSD_WIDTH:
        f = OSD_WIDTH / grey.shape[1]
        grey = cv2.resize(grey, (OSD_WIDTH, max(1, round(grey.shape[0] * f))), interpolation=cv2.INTER_AREA)
    found = tesseract_osd_engine.detect(grey)
    if found is None:
        return None
    clockwise, conf = found
    return (-clockwise) % 4, conf


def with_osd(text: Decision, osd: tuple[int, float] | None, found: Orientation | None = None) -> Decision:
    """OSD's verdict (quarter turns relative to the page as warped) when it is sure enough.

    When the text lines clearly run one way, an OSD verdict that has them run the other way is not
    believed (OSD misreads sparse pages, cards, machine-readable lines).
    """
    if osd is None:
        return text
    turns, conf = osd
    if found is not None and found.axis_confidence >= AXIS_CLEAR and (turns - found.quarter_turns) % 2:
        return text
    if conf >= OSD_SURE:
        return Decision(turns, min(1.0, conf / (4 * OSD_SURE)), "osd", False)
    if not text.unsure and turns == 0:
        return Decision(0, text.confidence, text.source, False)
    return text


def code_turns(codes: Sequence[Code]) -> tuple[int, bool] | None:
    """Quarter turns the codes ask for and whether they are matrix codes (strong), or None."""
    matrix = [c for c in codes if c.is_matrix and c.orientation is not None]
    chosen = matrix or [c for c in codes if c.orientation is not None]
    if not chosen:
        return None
    votes = Counter(round((c.orientation or 0.0) / 90.0) % 4 for c in chosen)
    turns, _ = votes.most_common(1)[0]
    return turns, bool(matrix)


def with_codes(decision: Decision, codes: Sequence[Code]) -> tuple[int, Decision]:
    """Extra turns the codes on the (already turned) page ask for, and the decision after them.

    Matrix codes decide; linear codes only settle up or down on a page nothing else could settle
    (a barcode printed along the margin runs sideways on an upright page).
    """
    found = code_turns(codes)
    if found is None:
        return 0, decision
    turns, strong = found
    if strong:
        total = (decision.quarter_turns + turns) % 4
        return turns, Decision(total, 1.0, "code", False)
    if decision.unsure and turns % 2 == 0:
        total = (decision.quarter_turns + turns) % 4
        return turns, Decision(total, 0.6, "code", False)
    return 0, decision
