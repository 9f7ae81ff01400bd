"""Barcode and QR reading: zxing-cpp over every symbology found on documents, pyzbar on request.

zxing-cpp reads a configurable set of symbologies (by default what it reads on documents: QR,
DataMatrix, PDF417, Aztec, Code 128, Code 39, Code 93, ITF, EAN/UPC). A quick pass looks at the upright
page at full resolution along its rows; whenever it reads nothing, the thorough passes follow: zxing in
every direction and scale (and inverted) on the parts of the page where a code may be (see
``scanner.code_regions``), then, if a symbol was seen but not decoded, the page turned by 45° and
binarised; last, linear codes alone on a copy stretched to twice the width (dense barcodes from phone
photos). Every code keeps its orientation, expressed in the frame of the image handed in (a code
read on the 45° copy is turned back by 45°), so the pipeline can use it to set the page upright.

zbar guesses text encodings and often turns UTF-8 Vietnamese into mojibake, so its output is repaired;
zxing returns UTF-8 as is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from scanner import code_regions
from scanner.errors import ScanError

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction
DECODERS = ("zxing", "pyzbar")

#: Symbologies read by default: everything zxing-cpp reads that appears on paper documents.
DEFAULT_SYMBOLOGIES: tuple[str, ...] = (
    "QRCode",
    "MicroQRCode",
    "DataMatrix",
    "PDF417",
    "Aztec",
    "Code128",
    "Code39",
    "Code93",
    "ITF",
    "EAN13",
    "EAN8",
    "UPCA",
    "UPCE",
)
#: Two-dimensional symbols whose finder patterns say which way is up (a barcode may be printed sideways).
MATRIX_SYMBOLOGIES = frozenset({"QRCode", "MicroQRCode", "DataMatrix", "Aztec"})
#: Barcodes read along a single row (the stretched pass looks for these alone).
LINEAR_SYMBOLOGIES = frozenset(
    {"Code128", "Code39", "Code93", "ITF", "EAN13", "EAN8", "UPCA", "UPCE", "Codabar"}
)


class SymbologyError(ScanError, ValueError):
    """A symbology name zxing-cpp does not know."""


@dataclass(frozen=True)
class Code:
    """One code read on a page.

    ``orientation`` is how far the symbol is turned clockwise in the frame of the image it was read
    on, when the decoder knows it; ``attempt`` names the pass that read it.
    """

    text: str
    symbology: str
    decoder: str
    orientation: float | None = None
    attempt: str = "direct"

    @property
    def is_matrix(self) -> bool:
        return self.symbology in MATRIX_SYMBOLOGIES


def symbology_name(name: str) -> str:
    """The canonical zxing-cpp name of a symbology (``qr`` → ``QRCode``); SymbologyError otherwise."""

    aliases = {"QR": "QRCode", "QRCODE": "QRCode", "CODE39": "Code39", "CODE128": "Code128"}
    wanted = aliases.get(name.strip().upper(), name.strip())
    for member in _format_names():
        if member.lower() == wanted.lower():
            return member
    raise SymbologyError(f"unknown symbology {name!r}: use names such as {', '.join(DEFAULT_SYMBOLOGIES)}")


@cache
def _format_names() -> tuple[str, ...]:
    import zxingcpp

    formats = zxingcpp.barcode_formats_list(zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.AllReadable))
    return tuple(formats[i].name for i in range(len(formats)))


def _formats(symbologies: Sequence[str]) -> Any:
    """zxing-cpp's format set for these names, built once per set (it was ≈ 1.4 ms a page)."""
    return _format_set(tuple(symbologies))


@cache
def _format_set(symbologies: tuple[str, ...]) -> Any:
    import zxingcpp

    return zxingcpp.BarcodeFormats([getattr(zxingcpp.BarcodeFormat, symbology_name(s)) for s in symbologies])


def _zxing(
    grey: Image8, symbologies: Sequence[str], thorough: bool, downscale: bool | None = None
) -> tuple[list[Code], bool]:
    import zxingcpp

    found = zxingcpp.read_barcodes(
        grey,
        formats=_formats(symbologies),
        return_errors=True,
        try_rotate=thorough,
        try_downscale=thorough if downscale is None else downscale,
        try_invert=thorough,
    )
    codes = [Code(r.text, r.format.name, "zxing", float(r.orientation)) for r in found if r.valid]
    return codes, any(not r.valid for r in found)


# zxing-cpp's own pyramid (try_downscale): copies a third the size while the last is over 500 pixels.
DOWNSCALE_THRESHOLD = 500
DOWNSCALE_FACTOR = 3
MIN_LAYER_PX = 16  # a crop smaller than this on a layer holds no readable symbol there


def pyramid_factors(width: int, height: int) -> list[int]:
    """The scale factors of the layers zxing-cpp's thorough search looks at on a page this size."""
    factors = [1]
    while max(width, height) > DOWNSCALE_THRESHOLD and min(width, height) >= DOWNSCALE_FACTOR:
        width, height = width // DOWNSCALE_FACTOR, height // DOWNSCALE_FACTOR
        factors.append(factors[-1] * DOWNSCALE_FACTOR)
    return factors


def read_zxing_regions(
    grey: Image8, boxes: Sequence[code_regions.Box], symbologies: Sequence[str] = DEFAULT_SYMBOLOGIES
) -> tuple[list[Code], bool]:
    """zxing-cpp's thorough search cut to ``boxes``: each box on every layer the whole page would get.

    Boxes start on the coarsest layer's grid, so a box's downscaled copy has the same pixels as that
    part of the page's downscaled copy. Orientations are in ``grey``'s frame (a crop is not turned).
    """
    factors = pyramid_factors(grey.shape[1], grey.shape[0])
    grid = factors[-1]
    codes: list[Code] = []
    damaged = False
    for box in boxes:
        x0, y0 = box.x0 - box.x0 % grid, box.y0 - box.y0 % grid
        crop = code_regions.Box(x0, y0, box.x1, box.y1).crop(grey)
        for f in factors:
            h, w = crop.shape[0] // f, crop.shape[1] // f
            if min(h, w) < MIN_LAYER_PX:
                break
            layer = (
                crop if f == 1 else cv2.resize(crop[: h * f, : w * f], (w, h), interpolation=cv2.INTER_AREA)
            )
            found, seen = _zxing(layer, symbologies, thorough=True, downscale=False)
            codes.extend(found)
            damaged = damaged or seen
    return codes, damaged


def read_zxing(
    grey: Image8, thorough: bool = False, symbologies: Sequence[str] = DEFAULT_SYMBOLOGIES
) -> tuple[list[Code], bool]:
    """Codes read, and whether a symbol was seen that could not be decoded.

    The quick pass looks at full resolution only and for linear codes only along the rows (the page is
    upright already); the thorough pass is zxing-cpp's own full search: every direction, downscaled
    copies, inverted symbols.
    """
    return _zxing(grey, symbologies, thorough)


def read_zxing_direct(grey: Image8, symbologies: Sequence[str] = DEFAULT_SYMBOLOGIES) -> list[Code]:
    """What zxing-cpp reads on an image with its default options: the reference the pipeline must meet."""
    import zxingcpp

    found = zxingcpp.read_barcodes(grey, formats=_formats(symbologies))
    return [Code(r.text, r.format.name, "zxing", float(r.orientation)) for r in found]


def repair_zbar_text(data: bytes) -> str:
    """zbar decodes UTF-8 payloads as Shift-JIS and re-encodes: undo that when it round-trips."""
    text = data.decode("utf-8", errors="replace")
    if text.isascii():
        return text
    try:
        return text.encode("shift-jis").decode("utf-8")
    except UnicodeError:
        return text


_ZBAR = {
    "QRCode": "QRCODE",
    "Code128": "CODE128",
    "Code39": "CODE39",
    "Code93": "CODE93",
    "ITF": "I25",
    "EAN13": "EAN13",
    "EAN8": "EAN8",
    "UPCA": "UPCA",
    "UPCE": "UPCE",
    "PDF417": "PDF417",
}


def read_pyzbar(
    grey: Image8, thorough: bool = False, symbologies: Sequence[str] = DEFAULT_SYMBOLOGIES
) -> tuple[list[Code], bool]:
    """Codes read by zbar (the symbologies it knows), which cannot tell a damaged symbol from none."""
    from pyzbar import pyzbar  # type: ignore[import-untyped]

    symbols = [getattr(pyzbar.ZBarSymbol, _ZBAR[s]) for s in symbologies if s in _ZBAR]
    if not symbols:
        return [], False
    found = pyzbar.decode(grey, symbols=symbols)
    names = {v: k for k, v in _ZBAR.items()}
    return [Code(repair_zbar_text(r.data), names.get(r.type, r.type), "pyzbar") for r in found], True


Reader = Callable[[Image8, bool, Sequence[str]], tuple[list[Code], bool]]
READERS: dict[str, Reader] = {"zxing": read_zxing, "pyzbar": read_pyzbar}


def _turned(grey: Image8) -> Image8:
    h, w = grey.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 45, 1.0)
    return cv2.warpAffine(grey, m, (w, h), borderValue=255)


def _binarised(grey: Image8) -> Image8:
    return cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 10)


def _same(grey: Image8) -> Image8:
    return grey


# The stretched copy: twice the width, and only as many rows as zxing-cpp reads anyway. zxing-cpp reads
# a linear code row by row, each row binarised on its own, and on an image of any height it tries
# about 256 rows; a dense barcode straightened from a phone photo (1.5–2 pixels a module) blurs into
# grey on each of them. Twice as wide, a module is 3–4 pixels for the row binariser; each of the 256
# rows is the mean of the rows it stands for (less noise, and no row of the page left out). Bars stay
# upright, so what is read keeps its orientation.
STRETCH = 2
ROWS_READ = 256


def _stretched(grey: Image8) -> Image8:
    h, w = grey.shape[:2]
    if h > ROWS_READ:
        grey = cv2.resize(grey, (w, ROWS_READ), interpolation=cv2.INTER_AREA)
    return cv2.resize(grey, (w * STRETCH, grey.shape[0]), interpolation=cv2.INTER_LINEAR)


# (name, transform, the counter-clockwise turn the transform applied, in degrees)
RETRIES: tuple[tuple[str, Callable[[Image8], Image8], float], ...] = (  # in this order
    ("thorough", _same, 0.0),
    ("rotated45", _turned, 45.0),
    ("binarised", _binarised, 0.0),
)


EXTRA_RETRIES = frozenset({"rotated45", "binarised"})


@dataclass
class CodeReport:
    codes: list[Code]
    ms: dict[str, float]


def read_codes(
    grey: Image8,
    decoders: Sequence[str] = ("zxing",),
    retry: bool = True,
    symbologies: Sequence[str] = DEFAULT_SYMBOLOGIES,
    regions: bool = True,
) -> CodeReport:
    """Codes on the page: the quick pass, then, whenever it read nothing, the thorough passes in turn.

    zxing-cpp's full search (every direction, downscaled, inverted) always follows an empty quick
    pass; both look only at the parts of the page where a code may be (``scanner.code_regions``),
    so a sparse page with nothing like a code on it is not handed to zxing-cpp at all. The 45° and
    binarised copies follow only when some pass saw a symbol it could not decode (zbar cannot tell,
    so with zbar they always run). Each decoder is asked in turn until one reads
    something. Orientations are in ``grey``'s frame. ``regions=False`` searches the whole page
    without looking for candidates first (a page of running text).
    """
    for name in decoders:
        if name not in READERS:
            raise ValueError(f"unknown barcode decoder {name!r}: use one of {', '.join(READERS)}")
    ms: dict[str, float] = {}
    attempts: list[tuple[str, Callable[[Image8], Image8] | None, float]] = [("direct", None, 0.0)]
    if retry:
        attempts.extend(RETRIES)
    seen = False
    where = _Where(grey, regions)
    for attempt, transform, turned in attempts:
        if attempt in EXTRA_RETRIES and not seen:
            break  # nothing even looked like a symbol to the thorough search: no 45° or binarised copy
        image = grey if transform is None else transform(grey)
        for name in decoders:
            t0 = time.perf_counter()
            if name == "zxing" and attempt in ("direct", "thorough"):
                codes, damaged = where.read(attempt == "thorough", symbologies)
            else:
                codes, damaged = READERS[name](image, attempt != "direct", symbologies)
            ms[name] = ms.get(name, 0.0) + (time.perf_counter() - t0) * 1000
            seen = seen or damaged
            if codes:
                return CodeReport(_unique([_with_attempt(c, attempt, turned) for c in codes]), ms)
    return CodeReport(_read_stretched(where, decoders, symbologies, ms) if retry else [], ms)


def _read_stretched(
    where: _Where, decoders: Sequence[str], symbologies: Sequence[str], ms: dict[str, float]
) -> list[Code]:
    """The last pass: linear codes alone, on the stretched copy, each decoder in turn."""
    linear = [s for s in symbologies if s in LINEAR_SYMBOLOGIES]
    for name in decoders if linear else ():
        t0 = time.perf_counter()
        codes = where.read_stretched(READERS[name], linear)
        ms[name] = ms.get(name, 0.0) + (time.perf_counter() - t0) * 1000
        if codes:
            return _unique([replace(c, attempt="stretched") for c in codes])
    return []


class _Where:
    """The page's candidate boxes, looked for once and only when zxing-cpp is first asked."""

    def __init__(self, grey: Image8, regions: bool) -> None:
        self.grey = grey
        self.regions = regions
        self.looked = False
        self.boxes: list[code_regions.Box] | None = None

    def read(self, thorough: bool, symbologies: Sequence[str]) -> tuple[list[Code], bool]:
        """zxing-cpp's quick or thorough pass in the boxes (the whole page when too much looks like a
        code, or when not asked to look)."""
        if self.regions and not self.looked:
            self.boxes, self.looked = code_regions.candidate_boxes(self.grey), True
        if self.boxes is None:
            return read_zxing(self.grey, thorough, symbologies)
        if thorough:
            return read_zxing_regions(self.grey, self.boxes, symbologies)
        found = [read_zxing(box.crop(self.grey), False, symbologies) for box in self.boxes]
        return [c for codes, _ in found for c in codes], any(damaged for _, damaged in found)

    def read_stretched(self, reader: Reader, linear: Sequence[str]) -> list[Code]:
        """Linear codes on the stretched copy of the page, or of each box when boxes were looked for."""
        if self.regions and not self.looked:
            self.boxes, self.looked = code_regions.candidate_boxes(self.grey), True
        crops = [self.grey] if self.boxes is None else [box.crop(self.grey) for box in self.boxes]
        return [c for crop in crops for c in reader(_stretched(crop), False, linear)[0]]


def _with_attempt(code: Code, attempt: str, turned: float) -> Code:
    """The code as read on a copy turned ``turned`` degrees counter-clockwise, back in the page's frame."""
    if attempt == "direct":
        return code
    orientation = None if code.orientation is None else (code.orientation + turned + 180.0) % 360.0 - 180.0
    return replace(code, orientation=orientation, attempt=attempt)


def _unique(codes: list[Code]) -> list[Code]:
    seen: set[tuple[str, str]] = set()
    out = []
    for code in codes:
        key = (code.symbology, code.text)
        if key not in seen:
            seen.add(key)
            out.append(code)
    return out


def as_array(grey: npt.ArrayLike) -> Image8:
    return np.ascontiguousarray(grey, dtype=np.uint8)
