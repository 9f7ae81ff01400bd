"""Where the sheet is and which way is up: page detection, deskew and quarter-turn orientation.

All estimates run on a small grey copy of the image (``WORK_WIDTH`` pixels on its shorter side) and
return transforms in full-resolution pixels, so the pipeline warps the full image once, whatever was
found.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Image8 = npt.NDArray[Any]  # an OpenCV image; uint8 by construction
Matrix = npt.NDArray[np.float64]

WORK_WIDTH = 600
MIN_PAGE_AREA = 0.1  # a quadrilateral smaller than this share of the frame is not the sheet
FULL_FRAME_AREA = 0.97  # a "sheet" this large is the whole frame: a flatbed scan, nothing to cut
MAX_SKEW = 20.0
COARSE_STEP = 4  # the coarse skew search looks at every fourth ink point
PAPER_MM = {
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "ID-1": (53.98, 85.6),  # CCCD and other ID cards
}  # not Letter or Legal: Vietnamese offices use A4, and a slanted photo of A4 or of a card looks like them
SNAP = 0.06  # a sheet within this share of a paper format's aspect ratio is taken to be that format
MIN_FILL = 0.9  # the outline must fill this share of its four-corner shape: a sheet has straight sides
MIN_UPSCALE = 0.5  # a sheet holding less than half the target resolution keeps its own pixels
MIN_SHEET_PX = 300  # a "sheet" narrower than this (in the image) is too small to cut out and straighten
# A phone's main camera (24–28 mm equivalent) has a focal length of 0.55–0.65 image diagonals; a focal
# length read from a sheet's corners outside FOCAL_RANGE diagonals is noise (a near-parallel pair of sides).
PHONE_FOCAL = 0.6
FOCAL_RANGE = (0.3, 2.0)


def small_grey(image: Image8, width: int = WORK_WIDTH) -> tuple[Image8, float]:
    """A grey copy about ``width`` pixels on its shorter side and the factor from full to small
    coordinates (a page lying sideways gets the same detail as an upright one).

    A large image is reduced by a whole factor k (the mean of each k × k block), which OpenCV does in
    one vectorised pass; area averaging by a fractional factor walks the image pixel by pixel and cost
    ≈ 10 ms a page. k is the finer whole factor when that leaves the copy at most a quarter wider than
    ``width`` (a 2250-pixel phone photo: 750, so the sheet cut from it keeps its detail), else the
    nearest (a 1654-pixel A4 scan: 551). The last k - 1 rows and columns at most are left out: under
    a pixel of the copy.
    """
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    side = min(grey.shape[:2])
    factor = min(1.0, width / side)
    if factor == 1.0:
        return grey, 1.0
    k = int(1 / factor)  # the finer whole factor, unless it leaves the copy over a quarter too large
    if side // k > 1.25 * width:
        k = round(1 / factor)
    if k >= 2:
        h, w = grey.shape[0] // k, grey.shape[1] // k
        return cv2.resize(grey[: h * k, : w * k], (w, h), interpolation=cv2.INTER_AREA), 1.0 / k
    size = (max(1, round(grey.shape[1] * factor)), max(1, round(grey.shape[0] * factor)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA), factor


# --- the sheet in a camera shot or over a dark feeder backing ----------------------------------


def order_corners(points: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Order four points as top-left, top-right, bottom-right, bottom-left."""
    pts = np.asarray(points, np.float64).reshape(4, 2)
    centre = pts.mean(axis=0)
    angles = np.arctan2(pts[:, 1] - centre[1], pts[:, 0] - centre[0])
    pts = pts[np.argsort(angles)]  # clockwise on screen, starting near -180° (left)
    start = int(np.argmin(pts.sum(axis=1)))
    return np.roll(pts, -start, axis=0)


def _intersect(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Intersection of two lines given as (vx, vy, x0, y0)."""
    (vx1, vy1, x1, y1), (vx2, vy2, x2, y2) = a, b
    det = vx1 * (-vy2) - vy1 * (-vx2)
    if abs(det) < 1e-9:
        return np.array([x1, y1])
    t = ((x2 - x1) * (-vy2) - (y2 - y1) * (-vx2)) / det
    return np.array([x1 + t * vx1, y1 + t * vy1])


def _refine(contour: npt.NDArray[np.float64], corners: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Fit a line to each side's contour points (away from the corners) and intersect neighbours."""
    pts = contour.reshape(-1, 2).astype(np.float64)
    lines = []
    for i in range(4):
        p, q = corners[i], corners[(i + 1) % 4]
        d = q - p
        length = float(np.hypot(*d))
        if length < 1:
            return corners
        t = ((pts - p) @ d) / length**2
        dist = np.abs((pts[:, 0] - p[0]) * d[1] - (pts[:, 1] - p[1]) * d[0]) / length
        side = pts[(t > 0.1) & (t < 0.9) & (dist < 0.03 * length + 3)]
        if len(side) < 5:
            return corners
        lines.append(cv2.fitLine(side.astype(np.float32), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel())
    return np.array([_intersect(lines[i - 1], lines[i]) for i in range(4)])


def find_sheet(image: Image8, small: tuple[Image8, float] | None = None) -> npt.NDArray[np.float64] | None:
    """Corners (tl, tr, br, bl) of a light sheet on a darker background, or None (e.g. a flatbed scan).

    ``small`` is the image's ``small_grey`` when the caller already has it.
    """
    grey, factor = small or small_grey(image)
    blurred = cv2.GaussianBlur(grey, (5, 5), 0)
    _, mask = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((9, 9), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    frame = grey.shape[0] * grey.shape[1]
    area = cv2.contourArea(contour)
    if not MIN_PAGE_AREA * frame <= area <= FULL_FRAME_AREA * frame:
        return None
    hull = cv2.convexHull(contour)
    approx = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True)
    if len(approx) != 4:
        rect = cv2.boxPoints(cv2.minAreaRect(hull))
        approx = rect.reshape(4, 1, 2)
    corners = _refine(np.asarray(contour, np.float64), order_corners(approx.reshape(4, 2).astype(np.float64)))
    quad = cv2.contourArea(corners.astype(np.float32))
    if quad <= 0 or area / quad < MIN_FILL:
        return None  # not a four-sided sheet: a photo, a stamp, a shadow
    corners = order_corners(corners / factor)
    centre = (image.shape[1] / 2, image.shape[0] / 2)
    return corners if plausible_sheet(corners, centre) else None


def _sides(corners: npt.NDArray[np.float64]) -> tuple[float, float]:
    tl, tr, br, bl = corners
    w = max(np.hypot(*(tr - tl)), np.hypot(*(br - bl)))
    h = max(np.hypot(*(bl - tl)), np.hypot(*(br - tr)))
    return float(w), float(h)


def true_ratio(corners: npt.NDArray[np.float64], centre: tuple[float, float] | None) -> float:
    """Height over width of the rectangle a perspective quadrilateral shows (Zhang & He, 2007).

    With the principal point at the image centre, the vanishing geometry of the four corners gives
    the focal length, and the focal length the true aspect ratio. When one pair of sides runs almost
    parallel in the image (a phone held square to the page one way and tilted the other), the focal
    length cannot be read from the corners (0 / 0: any value, or a negative square): a phone's is
    taken instead (``PHONE_FOCAL``), which still undoes the tilt. A square-on view (a scanner) gives
    the sides' own ratio either way.
    """
    w, h = _sides(corners)
    if centre is None:
        return h / w
    u0, v0 = centre
    tl, tr, br, bl = (np.array([p[0], p[1], 1.0]) for p in corners)
    k2 = np.cross(tl, br) @ bl / (np.cross(tr, br) @ bl)
    k3 = np.cross(tl, br) @ tr / (np.cross(bl, br) @ tr)
    n2, n3 = k2 * tr - tl, k3 * bl - tl
    diagonal = 2 * math.hypot(u0, v0)
    f = _focal(n2, n3, u0, v0)
    if f is None or not FOCAL_RANGE[0] <= f / diagonal <= FOCAL_RANGE[1]:
        f = PHONE_FOCAL * diagonal
    inv = np.linalg.inv(np.array([[f, 0, u0], [0, f, v0], [0, 0, 1.0]]))
    a2, a3 = inv @ n2, inv @ n3
    ratio = math.sqrt(float(a3 @ a3) / float(a2 @ a2))
    return ratio if 0.2 < ratio < 5 else h / w


def _focal(n2: npt.NDArray[np.float64], n3: npt.NDArray[np.float64], u0: float, v0: float) -> float | None:
    """The focal length (pixels) the two vanishing directions give, or None when they give none."""
    if abs(n2[2]) < 1e-6 or abs(n3[2]) < 1e-6:
        return None  # a side pair parallel in the image: its vanishing point is at infinity
    f2 = -(
        (n2[0] * n3[0] - (n2[0] * n3[2] + n2[2] * n3[0]) * u0 + n2[2] * n3[2] * u0 * u0)
        + (n2[1] * n3[1] - (n2[1] * n3[2] + n2[2] * n3[1]) * v0 + n2[2] * n3[2] * v0 * v0)
    ) / (n2[2] * n3[2])
    return math.sqrt(f2) if math.isfinite(f2) and f2 > 0 else None


def paper_format(
    corners: npt.NDArray[np.float64], snap: float = SNAP, centre: tuple[float, float] | None = None
) -> tuple[float, float] | None:
    """(width, height) in mm of the paper format the sheet's shape matches (as it lies), or None.

    The closest format wins; among formats about as close, the first (A4 before A5, same shape).
    """
    ratio = true_ratio(corners, centre)
    matches = [
        (abs(ratio / (ph / pw) - 1), pw, ph)
        for w_mm, h_mm in PAPER_MM.values()
        for pw, ph in ((w_mm, h_mm), (h_mm, w_mm))
    ]
    best = min(error for error, _, _ in matches)
    if best >= snap:
        return None
    _, pw, ph = next(m for m in matches if m[0] <= best + 0.02)  # the first of the closest: A4 before A5
    return pw, ph


def plausible_sheet(corners: npt.NDArray[np.float64], centre: tuple[float, float] | None = None) -> bool:
    """A sheet worth cutting out: large enough in pixels and shaped like a paper format or a card.

    A camera's perspective foreshortens the sheet, so the shape is matched with twice the snap.
    """
    return min(_sides(corners)) >= MIN_SHEET_PX and paper_format(corners, 2 * SNAP, centre) is not None


def sheet_size(corners: npt.NDArray[np.float64], dpi: int, snap: float = 2 * SNAP) -> tuple[int, int]:
    """Output size in pixels of the sheet: a known paper format at ``dpi`` when the shape is close."""
    return sheet_size_dpi(corners, dpi, None, snap)[0]


def sheet_size_dpi(
    corners: npt.NDArray[np.float64],
    dpi: int,
    source_dpi: float | None,
    snap: float = 2 * SNAP,
    centre: tuple[float, float] | None = None,
) -> tuple[tuple[int, int], float]:
    """Output size in pixels and the resolution it stands for.

    A sheet shaped like a paper format becomes that format at ``dpi``, unless the image holds far fewer
    pixels than that (a small photo is not blown up: it keeps its pixels and gets the resolution they
    really have on that format). A sheet matching no format keeps its own pixels and the source's dpi.
    """
    w, h = _sides(corners)
    paper = paper_format(corners, snap, centre)
    if paper is None:
        return (round(w), round(h)), float(source_dpi or dpi)
    pw, ph = paper
    real_dpi = w / (pw / 25.4)
    if real_dpi < MIN_UPSCALE * dpi:
        return (round(w), round(h)), real_dpi
    return (round(pw / 25.4 * dpi), round(ph / 25.4 * dpi)), float(dpi)


def perspective(corners: npt.NDArray[np.float64], size: tuple[int, int]) -> Matrix:
    """Homography taking the sheet's corners to an upright ``size`` rectangle."""
    w, h = size
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    return cv2.getPerspectiveTransform(corners.astype(np.float32), dst).astype(np.float64)


# --- skew and orientation from the text lines --------------------------------------------------


@dataclass(frozen=True)
class Orientation:
    """Skew in degrees (content turned counter-clockwise as seen) plus quarter turns to set upright."""

    skew: float
    quarter_turns: int  # counter-clockwise turns needed after deskewing, 0..3
    confidence: float  # 0 = no text seen; higher is surer of the up direction
    axis_confidence: float = 0.0  # how much sharper the chosen line direction is than the other, 0..1
    lines: int = 0  # text lines that voted on the up side
    agreement: float = 0.0  # share of those lines that agree with the verdict

    @property
    def rotation(self) -> float:
        """Total clockwise correction in degrees, as printed to the clerk."""
        return (self.skew + 90 * self.quarter_turns) % 360


def ink_points(small: Image8, limit: int = 20_000) -> npt.NDArray[np.float64]:
    """Coordinates (x, y) of dark pixels of a small grey image, evenly thinned to ``limit``."""
    binary = cv2.adaptiveThreshold(small, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    ys, xs = np.nonzero(binary)
    if len(xs) > limit:
        step = len(xs) // limit + 1
        xs, ys = xs[::step], ys[::step]
    return np.stack([xs, ys], axis=1).astype(np.float64)


def _profile_scores(
    points: npt.NDArray[np.float64], angles: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Sharpness of the row profile after turning the points by each angle (sum of squared bins)."""
    rad = np.radians(angles)[:, None]
    centre = points.mean(axis=0)
    x, y = points[:, 0] - centre[0], points[:, 1] - centre[1]
    rows = y[None, :] * np.cos(rad)  # in place from here on: the arrays are angles × points large
    rows += x[None, :] * np.sin(rad)
    offset = np.ceil(max(rows.max(), -rows.min())) + 1
    span = int(2 * offset + 1)
    rows += offset
    index = rows.astype(np.int64)
    index += np.arange(len(angles))[:, None] * span
    counts = np.bincount(index.ravel(), minlength=span * len(angles)).reshape(len(angles), span)
    scores: npt.NDArray[np.float64] = (counts.astype(np.float64) ** 2).sum(axis=1)
    return scores


def coarse_skew(points: npt.NDArray[np.float64], around: float = 0.0) -> tuple[float, float]:
    """Best text-line angle within ±MAX_SKEW of ``around`` to the degree, and its score."""
    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 0.01, 1.0) + around
    scores = _profile_scores(points, coarse)
    i = int(np.argmax(scores))
    return float(coarse[i]), float(scores[i])


def estimate_skew(points: npt.NDArray[np.float64], around: float = 0.0) -> tuple[float, float]:
    """Best text-line angle within ±MAX_SKEW of ``around`` and its score (coarse, then fine)."""
    best, _ = coarse_skew(points, around)
    return refine_skew(points, best)


def refine_skew(points: npt.NDArray[np.float64], best: float) -> tuple[float, float]:
    """Refine a coarse angle to a fiftieth of a degree."""
    fine = np.arange(best - 1.0, best + 1.01, 0.1)
    scores = _profile_scores(points, fine)
    best = float(fine[int(np.argmax(scores))])
    finer = np.arange(best - 0.1, best + 0.101, 0.02)
    scores = _profile_scores(points, finer)
    i = int(np.argmax(scores))
    return float(finer[i]), float(scores[i])


def _up_score(binary: Image8) -> tuple[float, float, int, int]:
    """Ink above the x-height core of each text line minus ink below it, the ink total, and line votes.

    Latin and Vietnamese letters carry ascenders, capitals and tone marks above the core far more
    than descenders below it, so a positive score means the lines read upright. Each line also votes
    on its own (up, down), so one heavy band cannot outweigh a page of text.
    """
    profile = binary.sum(axis=1).astype(np.float64)
    if profile.max() <= 0:
        return 0.0, 0.0, 0, 0
    inked = profile > 0.05 * profile.max()
    score, total, ups, downs = 0.0, 0.0, 0, 0
    y, n = 0, len(inked)
    while y < n:
        if not inked[y]:
            y += 1
            continue
        start = y
        while y < n and inked[y]:
            y += 1
        band = profile[start:y]
        if len(band) < 5:
            continue
        core = np.nonzero(band >= 0.5 * band.max())[0]
        line = band[: core[0]].sum() - band[core[-1] + 1 :].sum()
        score += line
        total += band.sum()
        if abs(line) > 0.05 * band.sum():
            ups += line > 0
            downs += line < 0
    return score, total, ups, downs


def estimate_orientation(small: Image8) -> Orientation:
    """Skew within ±20° and the quarter turns that make the text lines read upright."""
    points = ink_points(small)
    if len(points) < 200:
        return Orientation(0.0, 0, 0.0)
    # The degree-wide search needs far fewer points than the fine one: every fourth (the points are in
    # raster order, so a quarter of each line's ink) gives the same peaks at a quarter of the price.
    sample = points[::COARSE_STEP]
    skew0, score0 = coarse_skew(sample, 0.0)
    skew90, score90 = coarse_skew(sample, 90.0)
    base = 0 if score0 >= score90 else 1
    axis = 1.0 - min(score0, score90) / max(score0, score90, 1e-9)
    found, _ = refine_skew(points, skew0 if base == 0 else skew90)
    skew = found if base == 0 else found - 90.0
    upright = rotate_small(small, skew, base)
    binary = cv2.adaptiveThreshold(upright, 1, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 25, 15)
    up, total, ups, downs = _up_score(binary)
    turns = base if up >= 0 else (base + 2) % 4
    confidence = float(abs(up) / total) if total else 0.0
    agree = (ups if up >= 0 else downs) / max(1, ups + downs)
    return Orientation(float(skew), turns, confidence, float(axis), ups + downs, agree)


def rotation_matrix(size: tuple[int, int], skew: float, turns: int) -> tuple[Matrix, tuple[int, int]]:
    """3×3 matrix undoing ``skew`` then turning ``turns`` × 90° counter-clockwise; and the new size."""
    w, h = size
    m = cv2.getRotationMatrix2D((w / 2, h / 2), -skew, 1.0)
    deskew = np.vstack([m, [0, 0, 1]])
    turns %= 4
    if turns == 0:
        return deskew, (w, h)
    if turns == 1:  # counter-clockwise: (x, y) -> (y, w - x)
        turn = np.array([[0, 1, 0], [-1, 0, w], [0, 0, 1]], np.float64)
        return turn @ deskew, (h, w)
    if turns == 2:
        turn = np.array([[-1, 0, w], [0, -1, h], [0, 0, 1]], np.float64)
        return turn @ deskew, (w, h)
    turn = np.array([[0, -1, h], [1, 0, 0], [0, 0, 1]], np.float64)
    return turn @ deskew, (h, w)


def rotate_small(small: Image8, skew: float, turns: int) -> Image8:
    matrix, size = rotation_matrix((small.shape[1], small.shape[0]), skew, turns)
    return cv2.warpAffine(small, matrix[:2], size, flags=cv2.INTER_LINEAR, borderValue=255)


def angle_between(a: float, b: float) -> float:
    """Smallest absolute difference between two angles in degrees."""
    return abs((a - b + 180.0) % 360.0 - 180.0)


def scale_matrix(factor: float) -> Matrix:
    return np.diag([factor, factor, 1.0])


def is_identity(matrix: Matrix, tolerance: float = 1e-6) -> bool:
    return bool(np.allclose(matrix, np.eye(3), atol=tolerance))


def skew_from_matrix(matrix: Matrix) -> float:
    """The in-plane rotation (degrees, counter-clockwise as seen) an affine matrix applies."""
    return math.degrees(math.atan2(-matrix[1, 0], matrix[0, 0]))
