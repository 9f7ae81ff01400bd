"""Reading page images from files or bytes, refusing anything that is not a sane page image.

Every refusal is an ``ImageFileError`` that names the file and the problem (empty, not an image,
truncated, too large), so one bad file never takes the station down with it.
"""

from __future__ import annotations

import hashlib
import io
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from scanner.errors import ImageFileError

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction

MAX_FILE_BYTES = 256 * 1024 * 1024
MAX_PIXELS = 80_000_000  # A3 at 600 dpi is 70 MP; more is a mistake or a decompression bomb
MIN_SIDE = 64
MAX_FRAMES = 500


@dataclass(frozen=True)
class LoadedImage:
    """One decoded frame (BGR) with what the file said about its resolution."""

    name: str
    frame: int
    image: Image8
    dpi: float | None
    sha256: str
    exif_orientation: int = 1  # the EXIF Orientation tag found (1 = as stored), already applied to ``image``


def read_bytes(path: Path) -> bytes:
    try:
        found = path.stat()
    except OSError as err:
        raise ImageFileError(f"{path}: cannot read it ({err.strerror or err})") from err
    if stat.S_ISDIR(found.st_mode):
        raise ImageFileError(f"{path}: a folder, not an image file")
    if not stat.S_ISREG(found.st_mode):
        # A device or a pipe has no size to check and may never end (/dev/zero, a FIFO).
        raise ImageFileError(f"{path}: not a regular file (a device or a pipe), not an image file")
    size = found.st_size
    if size > MAX_FILE_BYTES:
        raise ImageFileError(f"{path}: {size} bytes is too large for a page image (limit {MAX_FILE_BYTES})")
    try:
        return path.read_bytes()
    except OSError as err:
        raise ImageFileError(f"{path}: cannot read it ({err.strerror or err})") from err


def decode_images(data: bytes, name: str) -> list[LoadedImage]:
    """Every frame of an image file (a multi-page TIFF from a feeder gives several)."""
    if not data:
        raise ImageFileError(f"{name}: the file is empty (0 bytes), not an image")
    digest = hashlib.sha256(data).hexdigest()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            opened = Image.open(io.BytesIO(data))
            width, height = opened.size
            frames = getattr(opened, "n_frames", 1)
            fmt = opened.format or "?"
    except (UnidentifiedImageError, Image.DecompressionBombWarning, Image.DecompressionBombError) as err:
        raise ImageFileError(f"{name}: not a readable image ({_reason(err)})") from err
    except (OSError, ValueError, SyntaxError) as err:
        raise ImageFileError(f"{name}: not a readable image ({err})") from err
    _check_size(name, width, height)
    if frames > MAX_FRAMES:
        raise ImageFileError(f"{name}: {frames} frames, more than {MAX_FRAMES} pages in one file")
    dpi = _dpi(opened)
    if frames == 1 and fmt in ("JPEG", "PNG", "PPM", "BMP"):
        # OpenCV would apply the EXIF orientation for JPEG only; it is applied here, once, for every format.
        flags = cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
        if image is None:
            raise ImageFileError(f"{name}: {fmt} data is corrupt or truncated; rescan the page")
        _check_complete(name, data, fmt)
        tag = exif_orientation(opened)
        return [LoadedImage(name, 0, apply_exif_orientation(image, tag), dpi, digest, tag)]
    out = []
    for i in range(frames):
        frame = _pil_frame(opened, i, name)
        tag = exif_orientation(opened)
        out.append(LoadedImage(name, i, apply_exif_orientation(frame, tag), dpi, digest, tag))
    return out


def exif_orientation(opened: Image.Image) -> int:
    """The EXIF Orientation tag (1..8) of the current frame; 1 when absent or nonsense."""
    try:
        value = opened.getexif().get(0x0112, 1)
    except (OSError, ValueError, SyntaxError):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_exif_orientation(image: Image8, tag: int) -> Image8:
    """Turn and mirror the stored pixels as EXIF Orientation says, so they show as the camera saw them."""
    if tag in (2, 4, 5, 7):
        image = cv2.flip(image, 1)  # mirrored tags: flip first, then turn as the unmirrored partner
        tag = {2: 1, 4: 3, 5: 8, 7: 6}[tag]
    turns = {3: cv2.ROTATE_180, 6: cv2.ROTATE_90_CLOCKWISE, 8: cv2.ROTATE_90_COUNTERCLOCKWISE}
    return cv2.rotate(image, turns[tag]) if tag in turns else image


def load_images(path: Path) -> list[LoadedImage]:
    return decode_images(read_bytes(path), str(path))


def _reason(err: BaseException) -> str:
    if isinstance(err, UnidentifiedImageError):
        return "unknown format; expected JPEG, PNG, TIFF or PNM"
    return f"larger than a page can be: too many pixels, limit {MAX_PIXELS}"


def _check_size(name: str, width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageFileError(
            f"{name}: {width}×{height} pixels is larger than a page can be (limit {MAX_PIXELS})"
        )
    if min(width, height) < MIN_SIDE:
        raise ImageFileError(f"{name}: {width}×{height} pixels is too small to be a scanned page")


def _check_complete(name: str, data: bytes, fmt: str) -> None:
    """libjpeg fills a truncated JPEG with grey and only warns: refuse it instead."""
    if fmt == "JPEG" and not data.rstrip(b"\0").endswith(b"\xff\xd9"):
        raise ImageFileError(f"{name}: JPEG data is truncated (no end marker); rescan the page")


def _dpi(opened: Image.Image) -> float | None:
    info = opened.info.get("dpi")
    if isinstance(info, tuple) and info and float(info[0]) > 1:
        return float(info[0])
    return None


def _pil_frame(opened: Image.Image, index: int, name: str) -> Image8:
    try:
        opened.seek(index)
        rgb = opened.convert("RGB")
        return cv2.cvtColor(np.asarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2BGR)
    except (OSError, ValueError, EOFError) as err:
        raise ImageFileError(f"{name}: frame {index + 1} is corrupt or truncated ({err})") from err


def as_bgr(image: Image8) -> Image8:
    """Any grey or BGRA array as 3-channel BGR."""
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image
