"""Where on a page a barcode or QR may be, so the code search (quick and thorough) can skip the rest.

Every symbology zxing-cpp reads is about half dark over its whole area (modules, bars and spaces of
similar width), while running text is dark over a fifth to a third of a line and headings only in
spots. On a quarter-size copy, a patch whose darkness over a 32-pixel window (≈ 4 mm at 200 dpi)
reaches ``SEED`` of the local contrast seeds a candidate; the candidate grows over the connected
patch darker than ``LOOSE`` (so a barcode whose edges are lighter is taken whole) and gets a margin
for the quiet zone; candidates that touch become one box. Darkness is measured against the local
white and black, so faint, blurred or inverted (light on dark) symbols count as much as crisp ones.

The detector errs on the side of more: photos, stamps, punch holes, bold headings and lines of text
become candidates too. A page where candidates cover more than ``WHOLE_PAGE`` of the area is searched
whole, as is a small image (a card). Looking costs ≈ 6 ms, so a page whose ink ratio (the blank
check's) shows running text is searched whole without looking (``worth_looking``): only sparse pages
(a stamp, a signature, a line or two, a lone code) gain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction

SCALE = 4  # the detector's copy is a quarter of the page's size (two pyrDown steps)
WINDOW = 8  # darkness window in the copy's pixels: 32 page pixels
NEIGHBOURHOOD = 9  # local white and black are looked up this far (36 page pixels)
MIN_CONTRAST = 24  # grey levels: below this a patch is flat paper, noise normalised away
SEED = 0.4  # a code's darkest windows reach ≈ 0.55–1.0 of the local contrast on every corpus page
LOOSE = 0.3  # the candidate grows over windows this dark
MARGIN = 16  # copy pixels (64 page pixels, 8 mm at 200 dpi) added around a candidate: quiet zone
SPARSE_INK_RATIO = 0.015  # more ink than this goes whole (running text: 0.017–0.19 on the corpus)
SMALL_IMAGE = 800  # pixels on the shorter side: a card (425 × 674 at 200 dpi) is searched whole
WHOLE_PAGE = 0.25  # candidates covering more than this share of the page: search the page whole


@dataclass(frozen=True)
class Box:
    """A rectangle in page pixels: ``x0 <= x < x1``, ``y0 <= y < y1``."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def area(self) -> int:
        return (self.x1 - self.x0) * (self.y1 - self.y0)

    def crop(self, image: Image8) -> Image8:
        return np.ascontiguousarray(image[self.y0 : self.y1, self.x0 : self.x1])


def darkness(small: Image8) -> npt.NDArray[np.float32]:
    """How dark each window is between the local white (0) and the local black (1)."""
    kernel = np.ones((NEIGHBOURHOOD, NEIGHBOURHOOD), np.uint8)
    white = cv2.dilate(small, kernel).astype(np.float32)
    black = cv2.erode(small, kernel).astype(np.float32)
    mean = cv2.blur(small, (WINDOW, WINDOW)).astype(np.float32)
    out: npt.NDArray[np.float32] = (white - mean) / np.maximum(white - black, MIN_CONTRAST)
    return out


def worth_looking(ink_ratio: float) -> bool:
    """Whether a page this inked may have little enough on it for boxes to beat the whole page."""
    return ink_ratio <= SPARSE_INK_RATIO


def candidate_boxes(grey: Image8) -> list[Box] | None:
    """Boxes that may hold a code, in page pixels; [] when nothing looks like one, None for the whole page."""
    h, w = grey.shape
    if min(h, w) < SMALL_IMAGE:
        return None
    small = cv2.pyrDown(cv2.pyrDown(grey))
    dark = darkness(small)
    seeds = dark >= SEED
    if not seeds.any():
        return []
    count, labels = cv2.connectedComponents((dark >= LOOSE).astype(np.uint8))
    grown = np.zeros(count, np.uint8)
    grown[np.unique(labels[seeds])] = 1
    grown[0] = 0  # the background of the loose mask
    side = 2 * MARGIN + 1
    mask = cv2.dilate(grown[labels], np.ones((side, side), np.uint8))
    if cv2.countNonZero(mask) > WHOLE_PAGE * mask.size:
        return None  # the boxes would cover at least as much: a page full of text
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    boxes = []
    for x, y, bw, bh in (tuple(int(v) for v in stats[i, :4]) for i in range(1, count)):
        boxes.append(Box(x * SCALE, y * SCALE, min(w, (x + bw) * SCALE), min(h, (y + bh) * SCALE)))
    if sum(b.area for b in boxes) > WHOLE_PAGE * w * h:
        return None
    return boxes
