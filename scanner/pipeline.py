"""The page pipeline: from a captured image to an upright, clean, colour JPEG with what was read on it.

Stages (each timed): find the sheet (camera shots, feeder backings) → estimate skew and quarter turns
→ one warp of the full image → flatten the light → blank check (flag only) → barcodes → JPEG.
A batch is then split into documents on separator sheets (see ``scanner.dossier``).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from scanner import codes as barcodes
from scanner import enhance, geometry
from scanner.dossier import Separator, is_dossier_code, parse_separator
from scanner.errors import DossierCodeError
from scanner.jpeg import encode_jpeg

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction

LEGAL_MIN_DPI = 200


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


@dataclass
class PageResult:
    """What happened to one page; ``image`` and ``jpeg`` are the page as it goes into the PDF."""

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


def _bgra(image: Image8) -> Image8:
    """OpenCV warps four-channel pixels with wider SIMD than three: converting there and back is cheaper."""
    return cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)


def _bgr(image: Image8) -> Image8:
    return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)


def _geometry(
    image: Image8, source_dpi: float, settings: ScanSettings, timer: _Timer
) -> tuple[Image8, Image8, float, geometry.Orientation, npt.NDArray[np.float64] | None]:
    """Find the sheet, skew and turns; one warp. Returns image, small grey (unturned), dpi, turns, corners."""
    h, w = image.shape[:2]
    with timer.stage("detect"):
        small, factor = geometry.small_grey(image)
        corners = geometry.find_sheet(image, (small, factor)) if settings.find_sheet else None
    if corners is not None:
        dpi = float(settings.dpi)
        size = geometry.sheet_size(corners, settings.dpi)
        homography = geometry.perspective(corners, size)
        small_factor = min(1.0, geometry.WORK_WIDTH / size[0])
        small_size = (max(1, round(size[0] * small_factor)), max(1, round(size[1] * small_factor)))
        to_small = geometry.scale_matrix(small_factor) @ homography @ geometry.scale_matrix(1 / factor)
        with timer.stage("detect"):
            small = cv2.warpPerspective(small, to_small, small_size, borderValue=255)
    else:
        dpi = source_dpi
        size = (w, h)
        homography = np.eye(3)
    with timer.stage("deskew"):
        orientation = geometry.estimate_orientation(small)
        rotation, out_size = geometry.rotation_matrix(size, orientation.skew, orientation.quarter_turns)
    with timer.stage("warp"):
        matrix = rotation @ homography
        if corners is not None:
            image = _bgr(
                cv2.warpPerspective(
                    _bgra(image), matrix, out_size, flags=cv2.INTER_LINEAR, borderValue=(255,) * 4
                )
            )
        elif abs(orientation.skew) >= 0.05:
            image = _bgr(
                cv2.warpAffine(
                    _bgra(image), matrix[:2], out_size, flags=cv2.INTER_LINEAR, borderValue=(255,) * 4
                )
            )
        elif orientation.quarter_turns:
            image = turn(image, orientation.quarter_turns)
    return image, small, dpi, orientation, corners


def process_image(
    image: Image8, name: str, source_dpi: float | None = None, settings: ScanSettings | None = None
) -> PageResult:
    """Run every stage on one captured page (BGR)."""
    settings = settings or ScanSettings()
    timer = _Timer()
    warnings: list[str] = []
    if source_dpi is None:
        source_dpi = settings.assume_dpi
    image, small, dpi, orientation, corners = _geometry(image, source_dpi, settings, timer)
    if settings.flatten:
        with timer.stage("flatten"):
            image = enhance.flatten(image)
    with timer.stage("blank"):
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        ratio = enhance.ink_ratio(small)  # the sheet's small copy from _geometry: turning changes no count
    blank = enhance.is_blank(ratio, settings.blank_ink_ratio)
    with timer.stage("codes"):
        # A blank page has no code of its own; what a decoder finds there is the front showing through.
        report = (
            barcodes.CodeReport([], {})
            if blank
            else barcodes.read_codes(grey, settings.decoders, settings.retry_codes)
        )
    turns = orientation.quarter_turns
    extra = _turns_from_codes(report.codes)
    if extra:
        with timer.stage("warp"):
            image = turn(image, extra)
        turns = (turns + extra) % 4
    separator, dossiers = _meaning(report.codes, warnings)
    if dpi < LEGAL_MIN_DPI:
        warnings.append(
            f"{dpi:.0f} dpi is below the legal {LEGAL_MIN_DPI} dpi: rescan at {LEGAL_MIN_DPI} dpi or more"
        )
    with timer.stage("jpeg"):
        jpeg = encode_jpeg(image, settings.jpeg_quality, round(dpi))
    return PageResult(
        name=name,
        image=image,
        jpeg=jpeg,
        dpi=dpi,
        skew=orientation.skew,
        quarter_turns=turns,
        orientation_confidence=orientation.confidence,
        sheet=corners,
        ink_ratio=ratio,
        blank=blank,
        codes=report.codes,
        separator=separator,
        dossier_codes=dossiers,
        warnings=warnings,
        ms=timer.ms,
    )


def _turns_from_codes(codes: list[barcodes.Code]) -> int:
    """Extra counter-clockwise quarter turns a QR's own orientation asks for.

    Separator sheets and receipts print their QR upright, and a QR's finder patterns say which way is up
    far more surely than the text heuristic (which a page with one line of text can fool).
    """
    for code in codes:
        if code.orientation is not None:
            return round(code.orientation / 90.0) % 4
    return 0


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
