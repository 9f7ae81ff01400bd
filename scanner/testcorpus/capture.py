"""What capture does to paper: a flatbed, a sheet feeder (ADF) and a phone camera, simulated.

Each capture returns the displayed image (as a viewer shows it, after EXIF orientation), where the
sheet's corners landed in it, and the file bytes as the device would deliver them: PNG or JPEG with
its dpi for a flatbed, JPEG for a feeder, JPEG with an EXIF orientation tag (pixels stored turned)
for a phone.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction
Corners = npt.NDArray[np.float64]

#: EXIF tag → quarter turns counter-clockwise that were applied to the displayed image to store it.
EXIF_STORED_TURNS = {1: 0, 3: 2, 6: 1, 8: 3}


@dataclass
class Capture:
    image: Image8  # as displayed
    corners: Corners  # the printed tl, tr, br, bl corners of the document in ``image``
    data: bytes  # the file as delivered
    exif: int = 1
    on_dark: bool = False  # the sheet lies on a darker background: the pipeline must find its corners


def place(page: Image8, size: tuple[int, int], corners: Corners, background: Image8 | None) -> Image8:
    """Warp ``page`` so its corners land on ``corners`` in a ``size`` canvas over ``background``."""
    h, w = page.shape[:2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    out = cv2.warpPerspective(page, matrix, size, flags=cv2.INTER_AREA)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, size, flags=cv2.INTER_LINEAR)
    if background is None:
        background = np.full((size[1], size[0], 3), 255, np.uint8)
    alpha = (mask.astype(np.float32) / 255.0)[:, :, None]
    blended = out.astype(np.float32) * alpha + background.astype(np.float32) * (1 - alpha)
    return blended.astype(np.uint8)


def rotated_corners(w: float, h: float, angle: float, centre: tuple[float, float], scale: float) -> Corners:
    """Corners of a w×h sheet turned ``angle`` degrees counter-clockwise (as seen) about ``centre``."""
    half = np.array([[-w, -h], [w, -h], [w, h], [-w, h]], np.float64) * scale / 2
    t = math.radians(-angle)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    return np.asarray(half @ rot.T + np.array(centre), np.float64)


def bounding(w: float, h: float, angle: float) -> tuple[float, float]:
    a = math.radians(angle)
    return abs(w * math.cos(a)) + abs(h * math.sin(a)), abs(w * math.sin(a)) + abs(h * math.cos(a))


def bleed_through(page: Image8, rng: random.Random, strength: float = 0.07) -> Image8:
    """The sheet's back (its own content, mirrored, blurred) showing faintly through."""
    back = cv2.GaussianBlur(cv2.flip(page, 1), (0, 0), 1.5).astype(np.float32)
    shown = page.astype(np.float32) - (255.0 - back) * strength * rng.uniform(0.5, 1.0)
    return np.clip(shown, 0, 255).astype(np.uint8)


def punch_holes(page: Image8, rng: random.Random, colour: int) -> Image8:
    """Two filing holes in the left margin (the scanner lid or backing seen through them)."""
    h, w = page.shape[:2]
    out = page.copy()
    r = max(3, round(w * 3 / 210))  # 6 mm holes, 12 mm from the edge, 80 mm apart (ISO 838)
    x = round(w * 12 / 210)
    for y in (h // 2 - round(w * 40 / 210), h // 2 + round(w * 40 / 210)):
        cv2.circle(out, (x, y + rng.randint(-5, 5)), r, (colour, colour, colour), -1, cv2.LINE_AA)
    return out


def light_and_noise(image: Image8, rng: random.Random, light: float, noise: float, shadow: bool) -> Image8:
    """Uneven light (a gradient from a random side), an optional soft shadow band, sensor noise."""
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    a = rng.uniform(0, 2 * math.pi)
    ramp = (xx / w - 0.5) * math.cos(a) + (yy / h - 0.5) * math.sin(a)
    field = 1.0 - light * (ramp + 0.5)
    if shadow:
        b = rng.uniform(0, 2 * math.pi)
        d = (xx / w - 0.5) * math.cos(b) + (yy / h - 0.5) * math.sin(b) - rng.uniform(0.1, 0.35)
        field *= 1.0 - 0.2 / (1.0 + np.exp(-d * 40))  # a hand's or a phone's soft shadow
    nrng = np.random.default_rng(rng.randint(0, 2**31))
    out = image.astype(np.float32) * field[:, :, None] + nrng.normal(0, noise, image.shape).astype(np.float32)
    lit: Image8 = np.clip(out, 0, 255).astype(np.uint8)
    return lit


def jpeg_bytes(image: Image8, quality: int, dpi: int | None = None, exif: int = 1) -> bytes:
    """The image as a JPEG; with ``exif`` ≠ 1 the pixels are stored turned and the tag says how."""
    stored = np.ascontiguousarray(np.rot90(image, EXIF_STORED_TURNS[exif]))
    pil = Image.fromarray(cv2.cvtColor(stored, cv2.COLOR_BGR2RGB))
    buffer = io.BytesIO()
    kwargs: dict[str, Any] = {"quality": quality}
    if dpi:
        kwargs["dpi"] = (dpi, dpi)
    if exif != 1:
        tags = Image.Exif()
        tags[0x0112] = exif
        kwargs["exif"] = tags.tobytes()
    pil.save(buffer, "JPEG", **kwargs)
    return buffer.getvalue()


def png_bytes(image: Image8, dpi: int) -> bytes:
    pil = Image.fromarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
    buffer = io.BytesIO()
    pil.save(buffer, "PNG", dpi=(dpi, dpi), compress_level=1)
    return buffer.getvalue()


def flatbed(page: Image8, turns: int, rng: random.Random, dpi: int, card: bool) -> Capture:
    """A flatbed scan: white lid, the sheet turned ``turns`` quarter turns and skewed up to ±3°.

    A card lies somewhere on the glass of an A4 scan. Saved as PNG (pixels per metre: 200 dpi comes
    back as 199.9996) or a JPEG with its dpi.
    """
    sheet = punch_holes(page, rng, 235) if not card and rng.random() < 0.3 else page
    if not card and rng.random() < 0.4:
        sheet = bleed_through(sheet, rng)
    sheet = np.ascontiguousarray(np.rot90(sheet, turns))
    h, w = sheet.shape[:2]
    angle = rng.uniform(-3, 3)
    if card:
        size = (round(210 / 25.4 * dpi), round(297 / 25.4 * dpi))
        centre = (rng.uniform(0.3, 0.7) * size[0], rng.uniform(0.2, 0.4) * size[1])
    else:
        bw, bh = bounding(w, h, angle)
        size = (round(bw), round(bh))
        centre = (size[0] / 2, size[1] / 2)
    corners = rotated_corners(w, h, angle, centre, 1.0)
    image = place(sheet, size, corners, None)
    image = light_and_noise(image, rng, 0.04, 2.0, False)
    data = png_bytes(image, dpi) if rng.random() < 0.5 else jpeg_bytes(image, rng.randint(85, 95), dpi)
    return Capture(image, printed_order(corners, turns), data)


def feeder(page: Image8, turns: int, rng: random.Random, dpi: int) -> Capture:
    """A sheet pulled through a feeder over a dark backing, skewed up to ±8°, sent as JPEG."""
    sheet = punch_holes(page, rng, 40) if rng.random() < 0.3 else page
    if rng.random() < 0.4:
        sheet = bleed_through(sheet, rng)
    sheet = np.ascontiguousarray(np.rot90(sheet, turns))
    h, w = sheet.shape[:2]
    angle = rng.uniform(-8, 8)
    bw, bh = bounding(w, h, angle)
    size = (round(bw + 0.06 * w), round(bh + 0.06 * h))
    corners = rotated_corners(w, h, angle, (size[0] / 2, size[1] / 2), 1.0)
    image = place(sheet, size, corners, np.full((size[1], size[0], 3), 38, np.uint8))
    image = light_and_noise(image, rng, 0.03, 2.5, False)
    return Capture(image, printed_order(corners, turns), jpeg_bytes(image, rng.randint(80, 92)), 1, True)


def pinhole_corners(
    w: float, h: float, rng: random.Random, size: tuple[int, int], fill: float
) -> tuple[Corners, float]:
    """Where a w×h sheet's corners land in a phone photo: a pinhole camera (26 mm equivalent lens,
    principal point at the centre) looking at the sheet turned in its plane and tilted up to 15°.
    Returns the corners and the in-plane angle (degrees counter-clockwise).
    """
    angle = 90 * rng.randint(0, 3) + rng.uniform(-20, 20)  # phones are held roughly square to the page
    pitch, yaw = math.radians(rng.uniform(-15, 15)), math.radians(rng.uniform(-15, 15))
    t = math.radians(-angle)
    rz = np.array([[math.cos(t), -math.sin(t), 0], [math.sin(t), math.cos(t), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(pitch), -math.sin(pitch)], [0, math.sin(pitch), math.cos(pitch)]])
    ry = np.array([[math.cos(yaw), 0, math.sin(yaw)], [0, 1, 0], [-math.sin(yaw), 0, math.cos(yaw)]])
    plane = np.array([[-w / 2, -h / 2, 0], [w / 2, -h / 2, 0], [w / 2, h / 2, 0], [-w / 2, h / 2, 0]])
    shift = np.array([rng.uniform(-0.04, 0.04) * w, rng.uniform(-0.04, 0.04) * h, 0])
    points = (plane + shift) @ (ry @ rx @ rz).T
    f = 0.6 * math.hypot(*size)
    distance = 1.3 * f * max(w, h) / max(size)
    cx, cy = size[0] / 2, size[1] / 2
    projected = np.stack(
        [f * points[:, 0] / (points[:, 2] + distance), f * points[:, 1] / (points[:, 2] + distance)], axis=1
    )
    span = projected.max(axis=0) - projected.min(axis=0)
    scale = fill * min(size[0] / span[0], size[1] / span[1])  # a zoom about the principal point
    return projected * scale + np.array([cx, cy]), angle


def camera(
    page: Image8, rng: random.Random, size: tuple[int, int] = (2250, 3000), exif: int | None = None
) -> Capture:
    """A phone photo on a desk: any quarter turn ±20°, perspective, blur, light, shadow, noise, JPEG, EXIF."""
    h, w = page.shape[:2]
    corners, _ = pinhole_corners(w, h, rng, size, rng.uniform(0.7, 0.92))
    desk = np.zeros((size[1], size[0], 3), np.uint8)
    desk[:] = rng.choice(((60, 80, 110), (50, 50, 55), (90, 110, 130), (120, 90, 70)))
    image = place(page, size, corners, desk)
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.4, 1.3))
    image = light_and_noise(image, rng, rng.uniform(0.1, 0.35), rng.uniform(2, 6), rng.random() < 0.5)
    tag = rng.choice((1, 1, 6, 8, 3))
    exif = tag if exif is None else exif
    return Capture(image, corners, jpeg_bytes(image, rng.randint(78, 92), None, exif), exif, True)


def printed_order(corners: Corners, turns: int) -> Corners:
    """The corners of a sheet turned ``turns`` ccw quarter turns (given by position) in printed order.

    One ccw turn moves the printed top-left corner to the bottom-left position, top-right to top-left…
    """
    return np.asarray([corners[(i - turns) % 4] for i in range(4)], np.float64)
