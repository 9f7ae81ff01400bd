"""A realistic scan corpus made on the spot, deterministic by seed, with the truth of every page.

Vietnamese documents rendered from templates (``templates``) go through a simulated flatbed, sheet
feeder or phone camera (``capture``). Nothing here comes from a third party; the data is fake and
marked so. Tests and ``bench/scan_pipeline.py`` use it:

    for sample in corpus(20, seed=1):
        loaded = decode_images(sample.data, sample.name)   # as the station would read the file
        ...
        verdict = check(sample, page_result)               # orientation, corners, codes, blank
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from scanner.testcorpus import capture
from scanner.testcorpus.capture import Corners
from scanner.testcorpus.templates import TEMPLATES

#: (document template, capture device), cycled through in this order.
PLAN: tuple[tuple[str, str], ...] = (
    ("form", "flatbed"),
    ("receipt", "feeder"),
    ("card_front", "camera"),
    ("separator", "feeder"),
    ("letter", "flatbed"),
    ("single_line", "flatbed"),
    ("coded", "feeder"),
    ("blank", "flatbed"),
    ("receipt", "camera"),
    ("stamp", "flatbed"),
    ("card_back", "camera"),
    ("coded", "flatbed"),
    ("letter", "feeder"),
    ("separator", "camera"),
    ("form", "camera"),
    ("single_line", "feeder"),
    ("coded", "camera"),
    ("card_front", "flatbed"),
    ("blank", "feeder"),
    ("stamp", "camera"),
)
CARDS = frozenset({"card_front", "card_back"})


@dataclass
class Sample:
    """One captured page: the file bytes and the truth."""

    name: str
    kind: str  # the document template
    device: str  # flatbed, feeder, camera
    data: bytes
    corners: Corners  # printed tl, tr, br, bl of the document in the displayed image
    turns: int  # ccw quarter turns of the document as placed (flatbed, feeder); 0 for a camera
    on_dark: bool  # the sheet must be found (feeder backing, desk)
    codes: list[tuple[str, str]]
    blank: bool
    exif: int
    dpi: int

    @property
    def label(self) -> str:
        return f"{self.kind}/{self.device}"


def _turns(rng: random.Random) -> int:
    return rng.choices((0, 1, 2, 3), weights=(4, 2, 2, 2))[0]


def sample(index: int, seed: int = 0, dpi: int = 200, exif: int | None = None) -> Sample:
    """The ``index``-th sample of the corpus for ``seed`` (the same bytes every time).

    ``exif`` forces a phone photo's EXIF orientation tag (1, 3, 6 or 8).
    """
    kind, device = PLAN[index % len(PLAN)]
    rng = random.Random(f"motcua-corpus-{seed}-{index}")
    doc = TEMPLATES[kind](rng, dpi)
    turns = 0 if device == "camera" else _turns(rng)
    if device == "flatbed":
        shot = capture.flatbed(doc.image, turns, rng, dpi, kind in CARDS)
    elif device == "feeder":
        shot = capture.feeder(doc.image, turns, rng, dpi)
    else:
        shot = capture.camera(doc.image, rng, exif=exif)
    suffix = ".png" if shot.data[:4] == b"\x89PNG" else ".jpg"
    return Sample(
        name=f"{index:03d}-{kind}-{device}{suffix}",
        kind=kind,
        device=device,
        data=shot.data,
        corners=shot.corners,
        turns=turns,
        on_dark=shot.on_dark,
        codes=doc.codes,
        blank=doc.blank,
        exif=shot.exif,
        dpi=dpi,
    )


def corpus(count: int, seed: int = 0, dpi: int = 200) -> Iterator[Sample]:
    for index in range(count):
        yield sample(index, seed, dpi)


@dataclass(frozen=True)
class Verdict:
    """How the pipeline did on one sample."""

    upright: bool
    unsure: bool  # flagged for the clerk (allowed when not upright: kept as scanned)
    corner_error: float | None  # worst corner distance / the sheet's longer side (None: not checked)
    sheet_missed: bool


def placed_turns(sample: Sample, sheet: Corners | None) -> int:
    """Counter-clockwise quarter turns of the document in the frame the pipeline turned from.

    Without a sheet that is the image itself; with one, the pipeline's warp puts the sheet corner it
    calls top-left at the top-left: the printed corner nearest it tells how the document lies.
    """
    if sheet is None:
        return sample.turns
    distances = [float(np.hypot(*(sample.corners[i] - sheet[0]))) for i in range(4)]
    return int(np.argmin(distances))


def corner_error(sample: Sample, sheet: Corners) -> float:
    """The worst distance from a printed corner to the nearest found corner, over the sheet's longer side."""
    side = max(float(np.hypot(*(sample.corners[(i + 1) % 4] - sample.corners[i]))) for i in range(4))
    worst = max(min(float(np.hypot(*(c - f))) for f in sheet) for c in sample.corners)
    return worst / side


def check(sample: Sample, quarter_turns: int, unsure: bool, sheet: Corners | None) -> Verdict:
    """Whether the page came out upright (or was flagged) and its corners were found."""
    upright = (placed_turns(sample, sheet) + quarter_turns) % 4 == 0
    error = corner_error(sample, sheet) if sheet is not None and sample.on_dark else None
    return Verdict(upright, unsure, error, sample.on_dark and sheet is None)
