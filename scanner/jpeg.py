"""Colour JPEG encoding that records the resolution in the JFIF header, so the PDF gets the right size.

JFIF APP0 segment as written by libjpeg, offsets from the start of the file::

    FF D8 | FF E0 len(2) "JFIF\\0" version(2) units(1) Xdensity(2) Ydensity(2) ...
    0       2     4      6        11         13       14          16

``units`` = 1 means dots per inch.
"""

from __future__ import annotations

import struct
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from scanner.errors import ScanError

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction


def encode_jpeg(image: Image8, quality: int, dpi: int) -> bytes:
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ScanError("JPEG encoding failed")
    return set_jfif_dpi(buffer.tobytes(), dpi)


def set_jfif_dpi(jpeg: bytes, dpi: int) -> bytes:
    if jpeg[:4] != b"\xff\xd8\xff\xe0" or jpeg[6:11] != b"JFIF\0":
        raise ScanError("JPEG has no JFIF header to record its resolution in")
    if not 1 <= dpi <= 65535:
        raise ScanError(f"resolution {dpi} dpi is out of range")
    return jpeg[:13] + struct.pack(">BHH", 1, dpi, dpi) + jpeg[18:]


def jfif_dpi(jpeg: bytes) -> int | None:
    if jpeg[:4] != b"\xff\xd8\xff\xe0" or jpeg[6:11] != b"JFIF\0" or jpeg[13] != 1:
        return None
    return int(struct.unpack(">H", jpeg[14:16])[0])


def decode_jpeg(jpeg: bytes) -> Image8:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ScanError("JPEG data is corrupt")
    return image
