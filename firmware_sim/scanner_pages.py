"""Generated paper for the scanner simulator, tests and benchmarks, with the ground truth kept.

A page is rendered at a given dpi (Vietnamese text lines, a coloured header and stamp, an optional QR),
then put through what real capture does to paper: skew on a flatbed or in a feeder, a camera's
perspective over a desk, uneven light, sensor noise, a quarter or half turn, a blank back with a little
bleed-through. Every transform returns what it did, so a test can check the pipeline undid it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import qrcode
from PIL import Image, ImageDraw, ImageFont

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction

PAPER_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0)}
FONT_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
)
SENTENCES = (
    "Cộng hòa xã hội chủ nghĩa Việt Nam — Độc lập, Tự do, Hạnh phúc",
    "Giấy tiếp nhận hồ sơ và hẹn trả kết quả cho thủ tục đăng ký khai sinh",
    "Bộ phận Một cửa tiếp nhận hồ sơ của công dân theo quy định hiện hành",
    "Thành phần hồ sơ gồm tờ khai, giấy chứng sinh và bản sao giấy tờ tùy thân",
    "Thời hạn giải quyết được tính theo ngày làm việc kể từ ngày nhận đủ hồ sơ",
    "Người nộp hồ sơ ký và ghi rõ họ tên; cán bộ tiếp nhận kiểm tra thông tin",
    "Kết quả được trả tại quầy, qua dịch vụ bưu chính công ích hoặc trực tuyến",
    "Đề nghị công dân mang theo giấy hẹn khi đến nhận kết quả giải quyết",
)


def paper_pixels(paper: str, dpi: int) -> tuple[int, int]:
    """(width, height) in pixels of a portrait sheet."""
    w_mm, h_mm = PAPER_MM[paper]
    return round(w_mm / 25.4 * dpi), round(h_mm / 25.4 * dpi)


@functools.lru_cache(maxsize=8)
def _font(px: int) -> ImageFont.FreeTypeFont:
    for path in FONT_PATHS:
        try:
            return ImageFont.truetype(path, px)
        except OSError:
            continue
    raise RuntimeError("no font with Vietnamese glyphs: install fonts-dejavu-core")


def qr_image(text: str, module_px: int) -> Image8:
    """A black-on-white QR (with its quiet zone) as a grey image."""
    code = qrcode.QRCode(border=4, box_size=module_px, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text.encode())
    code.make(fit=True)
    return np.asarray(code.make_image().convert("L"), dtype=np.uint8).copy()


def render_page(
    seed: int = 0,
    *,
    dpi: int = 200,
    paper: str = "A4",
    qr_text: str | None = None,
    qr_mm: float = 25.0,
    lines: int = 30,
) -> Image8:
    """A text page in BGR: header band, ``lines`` lines of Vietnamese, a red stamp, a QR top-right."""
    width, height = paper_pixels(paper, dpi)
    mm = dpi / 25.4
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((int(20 * mm), int(15 * mm), int(120 * mm), int(22 * mm)), fill=(30, 60, 160))
    font = _font(max(8, round(3.6 * mm)))
    y = 35 * mm
    step = (height - 60 * mm) / max(lines, 1)
    for i in range(lines):
        text = SENTENCES[(seed + i) % len(SENTENCES)]
        cut = len(text) - (seed * 7 + i * 3) % 20
        draw.text((20 * mm, y), text[:cut], font=font, fill=(20, 20, 20))
        y += step
    cx, cy, r = int(150 * mm * width / (210 * mm)), int(height - 30 * mm), int(14 * mm)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=(200, 30, 30), width=max(2, int(mm)))
    page = cv2.cvtColor(np.asarray(image, dtype=np.uint8), cv2.COLOR_RGB2BGR)
    if qr_text is not None:
        module = max(2, round(qr_mm * mm / 33))
        qr = qr_image(qr_text, module)
        x0, y0 = width - qr.shape[1] - int(10 * mm), int(8 * mm)
        page[y0 : y0 + qr.shape[0], x0 : x0 + qr.shape[1]] = cv2.cvtColor(qr, cv2.COLOR_GRAY2BGR)
    return page


def separator_sheet(text: str, dpi: int = 200, paper: str = "A4") -> Image8:
    """A separator: a big QR in the middle and a caption, nothing else."""
    width, height = paper_pixels(paper, dpi)
    mm = dpi / 25.4
    page = np.full((height, width, 3), 255, np.uint8)
    qr = qr_image(text, max(3, round(50 * mm / 33)))
    y0, x0 = (height - qr.shape[0]) // 2, (width - qr.shape[1]) // 2
    page[y0 : y0 + qr.shape[0], x0 : x0 + qr.shape[1]] = cv2.cvtColor(qr, cv2.COLOR_GRAY2BGR)
    cv2.putText(page, "SEPARATOR", (x0, y0 - int(8 * mm)), cv2.FONT_HERSHEY_SIMPLEX, mm / 6, (0, 0, 0), 3)
    return page


def blank_back(seed: int, dpi: int = 200, paper: str = "A4", bleed_from: Image8 | None = None) -> Image8:
    """The back of a one-sided sheet: paper tint, noise, and the front showing through faintly."""
    width, height = paper_pixels(paper, dpi)
    rng = np.random.default_rng(seed)
    page = np.full((height, width, 3), (242, 246, 248), np.float32)
    if bleed_from is not None:
        mirrored = cv2.flip(cv2.resize(bleed_from, (width, height)), 1).astype(np.float32)
        page -= (255.0 - mirrored) * 0.06
    page += rng.normal(0, 3.0, page.shape).astype(np.float32)
    return np.clip(page, 0, 255).astype(np.uint8)


def skew(page: Image8, angle: float, fill: tuple[int, int, int] = (255, 255, 255)) -> Image8:
    """Rotate the content by ``angle`` degrees counter-clockwise (as seen) on a canvas grown to fit."""
    h, w = page.shape[:2]
    rad = math.radians(abs(angle))
    out_w = round(w * math.cos(rad) + h * math.sin(rad))
    out_h = round(w * math.sin(rad) + h * math.cos(rad))
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    matrix[:, 2] += ((out_w - w) / 2, (out_h - h) / 2)
    return cv2.warpAffine(page, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderValue=fill)


def quarter_turns(page: Image8, k: int) -> Image8:
    """Turn the sheet by k × 90° counter-clockwise (as seen)."""
    return np.ascontiguousarray(np.rot90(page, k % 4))


@dataclass(frozen=True)
class Shot:
    """A photographed or fed sheet and where its corners landed (tl, tr, br, bl, in pixels)."""

    image: Image8
    corners: npt.NDArray[np.float64]


def photograph(
    page: Image8,
    seed: int,
    *,
    size: tuple[int, int] = (2400, 3000),
    tilt: float = 0.12,
    rotate: float = 0.0,
    background: tuple[int, int, int] = (60, 70, 80),
    light: float = 0.25,
    noise: float = 4.0,
    scale: float | None = None,
    jitter: float = 0.03,
) -> Shot:
    """A camera shot of ``page`` on a desk: perspective (``tilt``), in-plane rotation, light, noise."""
    rng = np.random.default_rng(seed)
    out_w, out_h = size
    h, w = page.shape[:2]
    if scale is None:
        scale = 0.8 * min(out_w / w, out_h / h)
    cx = out_w / 2 + rng.uniform(-jitter, jitter) * out_w
    cy = out_h / 2 + rng.uniform(-jitter, jitter) * out_h
    half = np.array([[-w, -h], [w, -h], [w, h], [-w, h]], np.float64) * scale / 2
    theta = math.radians(-rotate)
    rot = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    corners = half @ rot.T
    corners += rng.uniform(-tilt, tilt, corners.shape) * np.array([w, h]) * scale / 2
    corners += np.array([cx, cy])
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, corners.astype(np.float32))
    shot = cv2.warpPerspective(page, matrix, (out_w, out_h), flags=cv2.INTER_AREA, borderValue=background)
    mask = cv2.warpPerspective(np.full((h, w), 255, np.uint8), matrix, (out_w, out_h))
    shot[mask == 0] = background
    gradient = np.linspace(1.0 - light, 1.0, out_w, dtype=np.float32)[None, :, None]
    lit = shot.astype(np.float32) * gradient + np.asarray(rng.normal(0, noise, shot.shape), np.float32)
    return Shot(np.clip(lit, 0, 255).astype(np.uint8), corners)


def feed(page: Image8, angle: float, seed: int, margin: float = 0.03, noise: float = 2.0) -> Shot:
    """A sheet pulled skewed through a feeder over a dark backing: same dpi, rotated, some noise."""
    h, w = page.shape[:2]
    rad = math.radians(abs(angle))
    box_w = w * math.cos(rad) + h * math.sin(rad)
    box_h = w * math.sin(rad) + h * math.cos(rad)
    size = (round(box_w + 2 * margin * w), round(box_h + 2 * margin * h))
    return photograph(
        page,
        seed,
        size=size,
        tilt=0.0,
        rotate=angle,
        background=(35, 35, 35),
        light=0.0,
        noise=noise,
        scale=1.0,
        jitter=0.0,
    )
