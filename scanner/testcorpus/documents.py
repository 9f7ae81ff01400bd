"""Vietnamese paper rendered from templates, upright, with what is printed on it known.

Every document is fake and says so ("MẪU — DỮ LIỆU GIẢ"): the names, numbers and addresses are drawn
from small made-up lists by a seeded generator. Codes are drawn by zxing-cpp's writer (QR also by
``qrcode``), at sizes real forms use.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction

FONTS = {
    "regular": ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "DejaVuSans.ttf"),
    "bold": ("/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf", "DejaVuSans-Bold.ttf"),
    "serif": ("/usr/share/fonts/truetype/noto/NotoSerif-Regular.ttf", "DejaVuSerif.ttf"),
}
FAKE = "MẪU — DỮ LIỆU GIẢ"
NAMES = ("NGUYỄN VĂN MẪU", "TRẦN THỊ THỬ", "LÊ HOÀNG GIẢ", "PHẠM MINH VÍ DỤ", "ĐỖ THU KIỂM")
PLACES = ("Phường Bến Nghé, Quận 1", "Xã Đông Anh, Hà Nội", "Phường Hải Châu 1, Đà Nẵng", "Thị trấn Sa Pa")
SENTENCES = (
    "Căn cứ Nghị định số 61/2018/NĐ-CP về thực hiện cơ chế một cửa, một cửa liên thông",
    "Bộ phận tiếp nhận và trả kết quả đã nhận đủ hồ sơ của ông (bà) theo danh mục dưới đây",
    "Đề nghị cơ quan có thẩm quyền xem xét, giải quyết theo đúng quy định hiện hành",
    "Tôi xin cam đoan những nội dung khai trên đây là đúng sự thật và chịu trách nhiệm",
    "Thời hạn giải quyết: mười lăm ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ",
    "Người nộp hồ sơ ký, ghi rõ họ tên; cán bộ tiếp nhận kiểm tra và ghi vào sổ theo dõi",
    "Kết quả được trả tại quầy số 3 hoặc qua dịch vụ bưu chính công ích theo yêu cầu",
    "Trường hợp hồ sơ chưa đầy đủ, cán bộ hướng dẫn bổ sung một lần bằng phiếu này",
)
PAPER_MM = {"A4": (210.0, 297.0), "A5": (148.0, 210.0), "ID-1": (85.6, 53.98), "receipt": (80.0, 190.0)}


@dataclass
class Document:
    """An upright rendered document (BGR) and the truth about it."""

    kind: str
    image: Image8
    dpi: int
    codes: list[tuple[str, str]] = field(default_factory=list)  # (symbology, text) printed on it
    blank: bool = False
    text_lines: int = 0


@functools.lru_cache(maxsize=32)
def font(px: int, style: str = "regular") -> ImageFont.FreeTypeFont:
    for path in FONTS[style]:
        try:
            return ImageFont.truetype(path, px)
        except OSError:
            continue
    raise RuntimeError("no font with Vietnamese glyphs: install fonts-noto-core or fonts-dejavu-core")


class Canvas:
    """A sheet being drawn on in millimetres."""

    def __init__(self, paper: str, dpi: int, tint: tuple[int, int, int] = (255, 255, 255)) -> None:
        w_mm, h_mm = PAPER_MM[paper]
        self.dpi, self.mm = dpi, dpi / 25.4
        self.size = (round(w_mm * self.mm), round(h_mm * self.mm))
        self.pil = Image.new("RGB", self.size, tint)
        self.draw = ImageDraw.Draw(self.pil)
        self.codes: list[tuple[str, str]] = []
        self.lines = 0

    def text(self, x: float, y: float, s: str, pt: float = 11, style: str = "regular", **kw: Any) -> None:
        px = max(6, round(pt * 0.3528 * self.mm))
        self.draw.text((x * self.mm, y * self.mm), s, font=font(px, style), fill=kw.get("fill", (25, 25, 25)))
        self.lines += 1

    def centred(self, y: float, s: str, pt: float = 12, style: str = "bold") -> None:
        px = max(6, round(pt * 0.3528 * self.mm))
        width = self.draw.textlength(s, font=font(px, style)) / self.mm
        self.text((self.size[0] / self.mm - width) / 2, y, s, pt, style)

    def rect(self, box: tuple[float, float, float, float], width: float = 0.3, **kw: Any) -> None:
        self.draw.rectangle(
            [v * self.mm for v in box], outline=kw.get("outline", (30, 30, 30)), fill=kw.get("fill"),
            width=max(1, round(width * self.mm)),
        )  # fmt: skip

    def code(
        self, symbology: str, text: str, at: tuple[float, float], module_mm: float, height_mm: float = 0
    ) -> None:
        """A code drawn by zxing-cpp's writer, its modules ``module_mm`` wide, top-left at ``at`` (mm)."""
        symbol = code_image(symbology, text, max(1, round(module_mm * self.mm)), round(height_mm * self.mm))
        self.pil.paste(
            Image.fromarray(symbol).convert("RGB"), (round(at[0] * self.mm), round(at[1] * self.mm))
        )
        self.codes.append((symbology, text))

    def stamp(self, cx: float, cy: float, r: float, rng: random.Random) -> None:
        red = (200 + rng.randint(0, 30), 30, 40)
        box = [(cx - r) * self.mm, (cy - r) * self.mm, (cx + r) * self.mm, (cy + r) * self.mm]
        self.draw.ellipse(box, outline=red, width=max(2, round(0.8 * self.mm)))
        inner = [v + (0.2 * r * self.mm) * s for v, s in zip(box, (1, 1, -1, -1), strict=True)]
        self.draw.ellipse(inner, outline=red, width=max(1, round(0.4 * self.mm)))
        self.draw.regular_polygon((cx * self.mm, cy * self.mm, 0.3 * r * self.mm), 5, fill=red)

    def signature(self, x: float, y: float, rng: random.Random) -> None:
        pts = [
            ((x + i * 1.5) * self.mm, (y + 4 * np.sin(i * 0.9 + rng.random())) * self.mm) for i in range(25)
        ]
        self.draw.line(pts, fill=(20, 30, 120), width=max(2, round(0.5 * self.mm)), joint="curve")

    def bgr(self) -> Image8:
        return cv2.cvtColor(np.asarray(self.pil, dtype=np.uint8), cv2.COLOR_RGB2BGR)

    def done(self, kind: str, blank: bool = False) -> Document:
        return Document(kind, self.bgr(), self.dpi, list(self.codes), blank, self.lines)


def code_image(symbology: str, text: str, module_px: int, height_px: int = 0) -> Image8:
    """A black-on-white symbol with its quiet zone, as a grey image."""
    import zxingcpp

    fmt = getattr(zxingcpp.BarcodeFormat, symbology)
    symbol = np.asarray(zxingcpp.create_barcode(text, fmt).to_image(scale=module_px, add_quiet_zones=True))
    if symbol.ndim == 3:
        symbol = cv2.cvtColor(symbol, cv2.COLOR_RGB2GRAY)
    if height_px and symbol.shape[0] < height_px and symbology in LINEAR:
        symbol = cv2.resize(symbol, (symbol.shape[1], height_px), interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(symbol, dtype=np.uint8)


LINEAR = frozenset({"Code39", "Code128", "Code93", "ITF", "EAN13"})


def dossier_code(rng: random.Random) -> str:
    return f"H21.65-{rng.randint(240101, 251231)}-{rng.randint(1, 9999):04d}"


def fake_id(rng: random.Random) -> str:
    """A 12-digit fake ID: starts with 000 (no province has that code), so it is clearly not real."""
    return "000" + "".join(str(rng.randint(0, 9)) for _ in range(9))


Template = Callable[[random.Random, int], Document]
