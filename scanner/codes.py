"""Barcode and QR reading with two decoders, zxing-cpp and pyzbar, and a retry before giving up.

zxing-cpp is the fast one and reads rotated codes; pyzbar (libzbar) is kept as a second opinion and
measured against it. zbar guesses text encodings and often turns UTF-8 Vietnamese into mojibake, so
its output is repaired; zxing returns UTF-8 as is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction
DECODERS = ("zxing", "pyzbar")


@dataclass(frozen=True)
class Code:
    """One code read on a page. ``orientation`` is how far it is turned clockwise, when known."""

    text: str
    symbology: str
    decoder: str
    orientation: float | None = None
    attempt: str = "direct"


def read_zxing(grey: Image8, thorough: bool = False) -> tuple[list[Code], bool]:
    """Codes read, and whether a symbol was seen that could not be decoded (worth a retry).

    The quick pass looks at full resolution only and for linear codes only along the rows: the page is
    already upright, and searching rotated and downscaled copies costs three times as much.
    """
    import zxingcpp

    formats = zxingcpp.BarcodeFormats(
        [zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.DataMatrix, zxingcpp.BarcodeFormat.Code128]
    )
    found = zxingcpp.read_barcodes(
        grey, formats=formats, return_errors=True, try_rotate=thorough, try_downscale=thorough
    )
    codes = [Code(r.text, str(r.format), "zxing", float(r.orientation)) for r in found if r.valid]
    return codes, any(not r.valid for r in found)


def repair_zbar_text(data: bytes) -> str:
    """zbar decodes UTF-8 payloads as Shift-JIS and re-encodes: undo that when it round-trips."""
    text = data.decode("utf-8", errors="replace")
    if text.isascii():
        return text
    try:
        return text.encode("shift-jis").decode("utf-8")
    except UnicodeError:
        return text


def read_zxing_thorough(grey: Image8) -> tuple[list[Code], bool]:
    return read_zxing(grey, thorough=True)


def read_pyzbar(grey: Image8) -> tuple[list[Code], bool]:
    """Codes read by zbar, which cannot tell a damaged symbol from none: always worth a retry."""
    from pyzbar import pyzbar  # type: ignore[import-untyped]

    symbols = [pyzbar.ZBarSymbol.QRCODE, pyzbar.ZBarSymbol.CODE128]
    found = pyzbar.decode(grey, symbols=symbols)
    return [Code(repair_zbar_text(r.data), r.type, "pyzbar") for r in found], True


READERS: dict[str, Callable[[Image8], tuple[list[Code], bool]]] = {"zxing": read_zxing, "pyzbar": read_pyzbar}


def _turned(grey: Image8) -> Image8:
    h, w = grey.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 45, 1.0)
    return cv2.warpAffine(grey, m, (w, h), borderValue=255)


def _binarised(grey: Image8) -> Image8:
    return cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 10)


def _same(grey: Image8) -> Image8:
    return grey


RETRIES: tuple[tuple[str, Callable[[Image8], Image8]], ...] = (
    ("thorough", _same),
    ("rotated45", _turned),
    ("binarised", _binarised),
)


@dataclass
class CodeReport:
    codes: list[Code]
    ms: dict[str, float]


def read_codes(grey: Image8, decoders: Sequence[str] = ("zxing",), retry: bool = True) -> CodeReport:
    """Codes on the page: each decoder in turn until one reads something.

    When nothing was read but a decoder saw a symbol it could not decode (zbar cannot tell, so it
    always counts), the page is tried again: zxing searching every direction and scale, then the page
    turned by 45°, then binarised, before giving up.
    """
    for name in decoders:
        if name not in READERS:
            raise ValueError(f"unknown barcode decoder {name!r}: use one of {', '.join(READERS)}")
    ms: dict[str, float] = {}
    attempts: list[tuple[str, Callable[[Image8], Image8] | None]] = [("direct", None), *RETRIES]
    for attempt, transform in attempts:
        image = grey if transform is None else transform(grey)
        damaged = False
        for name in decoders:
            t0 = time.perf_counter()
            reader = read_zxing_thorough if name == "zxing" and attempt != "direct" else READERS[name]
            codes, seen = reader(image)
            ms[name] = ms.get(name, 0.0) + (time.perf_counter() - t0) * 1000
            damaged = damaged or seen
            if codes:
                return CodeReport(_unique([_with_attempt(c, attempt) for c in codes]), ms)
        if not (retry and damaged):
            break
    return CodeReport([], ms)


def _with_attempt(code: Code, attempt: str) -> Code:
    if attempt == "direct":
        return code
    return Code(code.text, code.symbology, code.decoder, None, attempt)


def _unique(codes: list[Code]) -> list[Code]:
    seen: set[str] = set()
    out = []
    for code in codes:
        if code.text not in seen:
            seen.add(code.text)
            out.append(code)
    return out


def as_array(grey: npt.ArrayLike) -> Image8:
    return np.ascontiguousarray(grey, dtype=np.uint8)
