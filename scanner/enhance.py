"""Paper clean-up: flatten uneven light and paper tint to white, and tell blank pages from written ones.

Blank pages are only ever *flagged*: the clerk sees them marked and decides; nothing is dropped here.
"""

from __future__ import annotations

from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction

BACKGROUND_WIDTH = 160  # the light field varies slowly: estimate it on a thumbnail this wide
INK_LEVEL = 0.6  # a pixel darker than 60 % of its local paper white counts as ink
BLANK_INK_RATIO = 0.0002  # fewer ink pixels than this share of the page (inner 90 %): blank
MIN_BLOB = 4  # connected ink smaller than this (pixels of the small copy) is a speck of dust


def background(image: Image8) -> Image8:
    """The paper's light field at full size: text removed by a max filter, then smoothed."""
    h, w = image.shape[:2]
    factor = min(1.0, BACKGROUND_WIDTH / w)
    size = (max(8, round(w * factor)), max(8, round(h * factor)))
    # Linear sampling is ten times cheaper than area averaging here, and the max filter below removes
    # whatever text pixels it happens to pick.
    small = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7))
    field = cv2.dilate(small, kernel)
    field = cv2.GaussianBlur(field, (0, 0), 3)
    field = np.maximum(field, 32)  # a black sheet is not "paper" to be stretched to white
    return cv2.resize(field, (w, h), interpolation=cv2.INTER_LINEAR)


def flatten(image: Image8) -> Image8:
    """Divide by the light field, so the paper is white and shadows and tint are gone; ink stays."""
    return cv2.divide(image, background(image), scale=255)


def ink_mask(grey_small: Image8) -> Image8:
    """Ink pixels (1) of a small grey page: darker than 60 % of the local paper white."""
    if grey_small.size == 0:
        return np.zeros((0, 0), np.uint8)
    field = cv2.GaussianBlur(cv2.dilate(grey_small, np.ones((9, 9), np.uint8)), (0, 0), 3)
    return (grey_small.astype(np.float32) < INK_LEVEL * field.astype(np.float32)).astype(np.uint8)


def ink_ratio(grey_small: Image8) -> float:
    """Share of ink pixels in the inner 90 % of a small grey page, specks and punch holes left out.

    A punch hole shows the feeder's dark backing as a solid disc; dust shows as specks of a pixel or
    two. Neither is writing, and a blank back with holes must still be flagged blank. Blobs are told
    apart by their whole shape on the page (a hole near the margin is cut in two by the inner 90 %),
    and only their pixels inside the inner 90 % count: the sheet's own edge is left out.
    """
    h, w = grey_small.shape
    my, mx = h // 20, w // 20
    if h - 2 * my <= 0 or w - 2 * mx <= 0:
        return 0.0
    dark = ink_mask(grey_small)
    # Grana's block-based labelling: the same components and stats as OpenCV's default for 8-connected
    # labels with stats (Spaghetti), in a third of the time on a page of text.
    count, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        dark, 8, cv2.CV_32S, cv2.CCL_GRANA
    )
    blobs = stats[1:count]  # one row per component: x, y, w, h, area (at once: a page of text has hundreds)
    bw, bh, area = blobs[:, cv2.CC_STAT_WIDTH], blobs[:, cv2.CC_STAT_HEIGHT], blobs[:, cv2.CC_STAT_AREA]
    keep = np.zeros(count, np.uint8)
    keep[1:] = (area >= MIN_BLOB) & ~_holes(bw, bh, area, min(h, w))
    inner = cast(npt.NDArray[np.int32], labels[my : h - my, mx : w - mx])  # CV_32S labels
    return int(np.count_nonzero(np.take(keep, inner))) / inner.size


def _holes(
    w: npt.NDArray[Any], h: npt.NDArray[Any], area: npt.NDArray[Any], short_side: int
) -> npt.NDArray[Any]:
    """Solid discs 4–9 mm across (the page's short side taken as A4's 210 mm): filing holes."""
    size_mm = np.maximum(w, h) / short_side * 210.0
    aspect = w / h
    holes: npt.NDArray[Any] = (
        (size_mm >= 4.0) & (size_mm <= 9.0) & (aspect >= 0.8) & (aspect <= 1.25) & (area >= 0.7 * w * h)
    )
    return holes


def is_blank(ratio: float, threshold: float = BLANK_INK_RATIO) -> bool:
    return ratio < threshold
