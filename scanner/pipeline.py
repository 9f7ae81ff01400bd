"""The page pipeline: from a captured image to an upright, clean, colour JPEG with what was read on it.

Stages (each timed): find a plausible sheet (camera shots, feeder backings) → estimate the skew and the
text lines' verdict on up → one warp of the full image (perspective and skew) → blank check (flag only)
→ quarter turns when sure → barcodes, read on the capture turned by those quarter turns when the page
was only deskewed (their orientation can settle or override up) → Tesseract OSD on a page still
unsure → flatten the light → JPEG. A page nothing settles is kept as scanned and flagged.
A batch is then split into documents on separator sheets (see ``scanner.dossier``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from scanner import code_regions, enhance, geometry, orientation
from scanner import codes as barcodes
from scanner.dossier import Separator, is_dossier_code, parse_separator
from scanner.errors import DossierCodeError
from scanner.jpeg import encode_jpeg
from siteconf.scanning import ScanningConf

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction

LEGAL_MIN_DPI = 200
DPI_TOLERANCE = 0.005  # PNG stores pixels per metre: 200 dpi comes back as 199.9996
WHITE = (255, 255, 255)  # what the warp fills in beyond the captured image
DESKEW_MIN = 0.05  # degrees: a smaller skew is left as it is (the page is only turned)
REREAD_PIXELS = 1_000_000  # a capture this small whose cut-out sheet shows no code is read as captured


@dataclass(frozen=True)
class ScanSettings:
    """How pages are processed; the defaults meet TT 01/2023 (colour, 200 dpi)."""

    dpi: int = 200
    jpeg_quality: int = 80
    find_sheet: bool = True
    flatten: bool = True
    blank_ink_ratio: float = enhance.BLANK_INK_RATIO
    decoders: tuple[str, ...] = ("zxing",)
    retry_codes: bool = True
    assume_dpi: float = 200.0
    symbologies: tuple[str, ...] = barcodes.DEFAULT_SYMBOLOGIES
    osd: bool = True  # ask Tesseract's orientation detection when the text lines are not conclusive

    @classmethod
    def from_site(cls, scanning: ScanningConf) -> ScanSettings:
        """The settings a station of the site uses: ``[scanning]``'s dpi, quality, decoders, codes, OSD.

        Raises ``SymbologyError`` for a name zxing-cpp does not know (``check-site`` says so first)."""
        symbologies = barcodes.DEFAULT_SYMBOLOGIES
        if scanning.symbologies is not None:
            symbologies = tuple(dict.fromkeys(barcodes.symbology_name(n) for n in scanning.symbologies))
        return cls(
            dpi=scanning.dpi,
            jpeg_quality=scanning.jpeg_quality,
            blank_ink_ratio=scanning.blank_ink_ratio,
            decoders=tuple(scanning.decoders),
            symbologies=symbologies,
            osd=scanning.osd,
        )


@dataclass
class PageResult:
    """What happened to one page; ``image`` and ``jpeg`` are the page as it goes into the PDF.

    ``codes`` carry their orientation in the frame of ``image`` (the upright page), whichever pass read
    them; ``rotation`` is the turn from the captured frame to it.
    """

    name: str
    image: Image8
    jpeg: bytes
    dpi: float
    skew: float
    quarter_turns: int
    orientation_confidence: float
    sheet: npt.NDArray[np.float64] | None
    ink_ratio: float
    blank: bool
    codes: list[barcodes.Code]
    separator: Separator | None
    dossier_codes: list[str]
    warnings: list[str]
    ms: dict[str, float]
    orientation_unsure: bool = False  # nothing said surely which way is up: kept as scanned, flagged
    orientation_source: str = "text"  # what decided the turn: text, osd, code or none

    @property
    def rotation(self) -> float:
        """Counter-clockwise turn applied to set the page upright, in degrees (-180, 180]."""
        turn = (-self.skew + 90 * self.quarter_turns) % 360
        return turn - 360 if turn > 180 else turn

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.jpeg).hexdigest()


_TURNS = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}


def turn(image: Image8, quarter_turns: int) -> Image8:
    """Turn by quarter turns counter-clockwise (as seen)."""
    k = quarter_turns % 4
    return image if k == 0 else cv2.rotate(image, _TURNS[k])


class _Timer:
    def __init__(self) -> None:
        self.ms: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.ms[name] = self.ms.get(name, 0.0) + (time.perf_counter() - t0) * 1000


@dataclass
class _Placement:
    """Where the page lies in the capture: the sheet, the skew and the text lines' verdict on up."""

    small: Image8  # small grey copy of the sheet, deskew not applied, before any turn
    dpi: float
    found: geometry.Orientation
    corners: npt.NDArray[np.float64] | None
    homography: npt.NDArray[np.float64]
    size: tuple[int, int]


def _locate(image: Image8, source_dpi: float, settings: ScanSettings, timer: _Timer) -> _Placement:
    """Find the sheet and estimate the skew on a small grey copy; the full image is not touched."""
    h, w = image.shape[:2]
    with timer.stage("detect"):
        small, factor = geometry.small_grey(image)
        corners = geometry.find_sheet(image, (small, factor)) if settings.find_sheet else None
    if corners is not None:
        size, dpi = geometry.sheet_size_dpi(corners, settings.dpi, source_dpi, centre=(w / 2, h / 2))
        homography = geometry.perspective(corners, size)
        small_factor = min(1.0, geometry.WORK_WIDTH / min(size))
        small_size = (max(1, round(size[0] * small_factor)), max(1, round(size[1] * small_factor)))
        to_small = geometry.scale_matrix(small_factor) @ homography @ geometry.scale_matrix(1 / factor)
        with timer.stage("detect"):
            small = cv2.warpPerspective(small, to_small, small_size, borderValue=255)
    else:
        dpi = source_dpi
        size = (w, h)
        homography = np.eye(3)
    with timer.stage("deskew"):
        found = geometry.estimate_orientation(small)
    return _Placement(small, dpi, found, corners, homography, size)


def _warp(image: Image8, place: _Placement, turns: int, timer: _Timer) -> Image8:
    """One warp of the full image: perspective, skew and the quarter turns together.

    A turn folded into a warp that happens anyway costs nothing; a page that needs no warp is only
    turned (a lossless and cheaper copy).
    """
    with timer.stage("warp"):
        rotation, out_size = geometry.rotation_matrix(place.size, place.found.skew, turns)
        matrix = rotation @ place.homography
        # OpenCV 5 warps three-channel pixels with SIMD as well: the pixels are the same as through
        # four channels (checked on the corpus), without two full-size conversions.
        if place.corners is not None:
            return cv2.warpPerspective(image, matrix, out_size, flags=cv2.INTER_LINEAR, borderValue=WHITE)
        if abs(place.found.skew) >= DESKEW_MIN:
            return cv2.warpAffine(image, matrix[:2], out_size, flags=cv2.INTER_LINEAR, borderValue=WHITE)
        return turn(image, turns)


def _ask_osd(
    grey: Image8,
    found: geometry.Orientation,
    decision: orientation.Decision,
    settings: ScanSettings,
    timer: _Timer,
    *,
    ink_ratio: float = 0.0,
) -> orientation.Decision:
    """Tesseract's OSD on a page nothing else settled (kept as scanned so far)."""
    if not (settings.osd and orientation.needs_osd(found, ink_ratio) and orientation.osd_available()):
        return decision
    with timer.stage("osd"):
        return orientation.with_osd(decision, orientation.tesseract_osd(grey), found)


def process_image(
    image: Image8, name: str, source_dpi: float | None = None, settings: ScanSettings | None = None
) -> PageResult:
    """Run every stage on one captured page (BGR, EXIF orientation already applied)."""
    settings = settings or ScanSettings()
    timer = _Timer()
    warnings: list[str] = []
    if source_dpi is None:
        source_dpi = settings.assume_dpi
    place = _locate(image, source_dpi, settings, timer)
    dpi, found, corners = place.dpi, place.found, place.corners
    with timer.stage("blank"):
        ratio = enhance.ink_ratio(place.small)  # the sheet's small copy: turning changes no count
    blank = enhance.is_blank(ratio, settings.blank_ink_ratio)
    # The text lines first; codes next (a QR settles it for free); Tesseract only if still unsure.
    decision = orientation.Decision(0, 0.0, "none", False) if blank else orientation.from_text(found)
    captured = image
    image = _warp(image, place, decision.quarter_turns, timer)
    with timer.stage("codes"):
        grey, read = _page_codes(
            captured, image, place, decision.quarter_turns, ratio=ratio, blank=blank, settings=settings
        )
    extra, decision = orientation.with_codes(decision, read)
    if decision.unsure and not blank:
        decision = _ask_osd(grey, found, decision, settings, timer, ink_ratio=ratio)
        extra = decision.quarter_turns  # an unsure page was not turned: OSD's turns come on top of none
    codes = [_turned_code(c, extra) for c in read]
    if settings.flatten:
        with timer.stage("flatten"):
            image = enhance.flatten(image)
    if extra:
        with timer.stage("warp"):
            image = turn(image, extra)
    return _result(
        name=name,
        image=image,
        dpi=dpi,
        found=found,
        decision=decision,
        corners=corners,
        ratio=ratio,
        blank=blank,
        codes=codes,
        warnings=warnings,
        settings=settings,
        timer=timer,
    )


def _page_codes(
    captured: Image8,
    page: Image8,
    place: _Placement,
    turns: int,
    *,
    ratio: float,
    blank: bool,
    settings: ScanSettings,
) -> tuple[Image8, list[barcodes.Code]]:
    """The grey image codes were read on (OSD reads it too), and the codes in the deskewed page's frame.

    A blank page has no code of its own: what a decoder finds there is the front showing through.
    """
    grey, unskew = _code_image(captured, page, place, turns)
    if blank:
        return grey, []

    regions = code_regions.worth_looking(ratio)

    def read(image: Image8) -> list[barcodes.Code]:
        s = settings
        return barcodes.read_codes(image, s.decoders, s.retry_codes, s.symbologies, regions).codes

    codes = [_turned_code(c, 0, unskew) for c in read(grey)]
    pixels = captured.shape[0] * captured.shape[1]
    if not codes and place.corners is not None and pixels <= max(grey.size, REREAD_PIXELS):
        # A sheet cut out of a small image (a close-up of a label, a card or a receipt): a dense code
        # on it may not survive the warp, and the capture is cheap to read again. A photo of a page is
        # larger than this and its page is read alone. Codes read on the capture keep no direction in
        # the page's frame (the perspective lies between).
        again = read(turn(cv2.cvtColor(captured, cv2.COLOR_BGR2GRAY), turns))
        codes = [dataclasses.replace(c, orientation=None) for c in again]
    return grey, codes


def _code_image(captured: Image8, page: Image8, place: _Placement, turns: int) -> tuple[Image8, float]:
    """The grey image codes are read on, and the counter-clockwise turn in degrees from it to the page.

    A page only deskewed is read as captured, turned by its quarter turns alone (a lossless copy): a
    turn by a degree or less resamples every pixel, and a dense QR or a 1-pixel-a-module barcode that
    zxing-cpp reads on the scan was lost on the deskewed page. A cut-out sheet is read on the page
    (the perspective is undone there, and a photo's sheet is mostly smaller than the photo).
    """
    if place.corners is None and abs(place.found.skew) >= DESKEW_MIN:
        return turn(cv2.cvtColor(captured, cv2.COLOR_BGR2GRAY), turns), -place.found.skew
    return cv2.cvtColor(page, cv2.COLOR_BGR2GRAY), 0.0


def _turned_code(code: barcodes.Code, turns: int, unskew: float = 0.0) -> barcodes.Code:
    """A code as it sits on the page after ``turns`` more counter-clockwise quarter turns (and
    ``unskew`` degrees counter-clockwise before them: the deskew of a page read as captured)."""
    if (not turns and not unskew) or code.orientation is None:
        return code
    turned = code.orientation - unskew - 90.0 * turns
    return dataclasses.replace(code, orientation=(turned + 180.0) % 360.0 - 180.0)


def _result(
    *,
    name: str,
    image: Image8,
    dpi: float,
    found: geometry.Orientation,
    decision: orientation.Decision,
    corners: npt.NDArray[np.float64] | None,
    ratio: float,
    blank: bool,
    codes: list[barcodes.Code],
    warnings: list[str],
    settings: ScanSettings,
    timer: _Timer,
) -> PageResult:
    separator, dossiers = _meaning(codes, warnings)
    if dpi < LEGAL_MIN_DPI * (1 - DPI_TOLERANCE):
        warnings.append(
            f"{dpi:.0f} dpi is below the legal {LEGAL_MIN_DPI} dpi: rescan at {LEGAL_MIN_DPI} dpi or more"
        )
    if decision.unsure:
        warnings.append("which way is up is unclear: kept as scanned, check it and turn it if needed")
    with timer.stage("jpeg"):
        jpeg = encode_jpeg(image, settings.jpeg_quality, max(1, round(dpi)))
    return PageResult(
        name=name,
        image=image,
        jpeg=jpeg,
        dpi=dpi,
        skew=found.skew,
        quarter_turns=decision.quarter_turns,
        orientation_confidence=decision.confidence,
        sheet=corners,
        ink_ratio=ratio,
        blank=blank,
        codes=codes,
        separator=separator,
        dossier_codes=dossiers,
        warnings=warnings,
        ms=timer.ms,
        orientation_unsure=decision.unsure,
        orientation_source=decision.source,
    )


def _meaning(codes: list[barcodes.Code], warnings: list[str]) -> tuple[Separator | None, list[str]]:
    separator = None
    dossiers = []
    for code in codes:
        try:
            found = parse_separator(code.text)
        except DossierCodeError as err:
            warnings.append(f"unusable separator sheet: {err}")
            continue
        if found is not None:
            separator = found
        elif is_dossier_code(code.text):
            dossiers.append(code.text.strip())
    return separator, dossiers


@dataclass
class Document:
    """Pages between two separator sheets, with what the separator or the pages say it is."""

    pages: list[PageResult] = field(default_factory=list)
    dossier_code: str | None = None
    doc_type: str | None = None
    separator: PageResult | None = None


def split_documents(pages: Sequence[PageResult]) -> list[Document]:
    """Cut a batch at each separator sheet. Separators are not pages of a document; blanks stay in."""
    documents: list[Document] = [Document()]
    for page in pages:
        if page.separator is not None:
            if documents[-1].pages or documents[-1].separator is not None:
                documents.append(Document())
            doc = documents[-1]
            doc.separator = page
            doc.dossier_code = page.separator.dossier_code
            doc.doc_type = page.separator.doc_type
            continue
        documents[-1].pages.append(page)
        if documents[-1].dossier_code is None and page.dossier_codes:
            documents[-1].dossier_code = page.dossier_codes[0]
    return [d for d in documents if d.pages or d.separator is not None]
