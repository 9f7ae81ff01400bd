"""Running the pipeline over many files: one bad file is reported and skipped, never fatal.

With ``jobs`` > 1 pages go through a pool of spawned worker processes (OpenCV's thread pool does not
survive fork); results come back in input order with a thumbnail in place of the full page image.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2

from scanner.errors import ImageFileError
from scanner.imagefile import LoadedImage, load_images
from scanner.pipeline import PageResult, ScanSettings, process_image

THUMB_WIDTH = 240


@dataclass(frozen=True)
class Refused:
    """An input that could not be used, and why (shown to the clerk; nothing else is lost)."""

    name: str
    reason: str


def thumbnail(result: PageResult) -> PageResult:
    h, w = result.image.shape[:2]
    size = (THUMB_WIDTH, max(1, round(h * THUMB_WIDTH / w)))
    return dataclasses.replace(result, image=cv2.resize(result.image, size, interpolation=cv2.INTER_AREA))


def _label(loaded: LoadedImage) -> str:
    return loaded.name if loaded.frame == 0 else f"{loaded.name}#{loaded.frame + 1}"


def _process(loaded: LoadedImage, settings: ScanSettings) -> PageResult:
    return thumbnail(process_image(loaded.image, _label(loaded), loaded.dpi, settings))


def load_all(paths: Iterable[Path]) -> tuple[list[LoadedImage], list[Refused]]:
    images: list[LoadedImage] = []
    refused: list[Refused] = []
    for path in paths:
        try:
            images.extend(load_images(path))
        except ImageFileError as err:
            refused.append(Refused(str(path), str(err)))
    return images, refused


def process_loaded(
    images: Sequence[LoadedImage], settings: ScanSettings, jobs: int = 1
) -> Iterator[PageResult]:
    """Pages in input order; the full-size image is kept only when ``jobs`` is 1."""
    if jobs <= 1:
        for loaded in images:
            yield process_image(loaded.image, _label(loaded), loaded.dpi, settings)
        return
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield from pool.map(_process, images, [settings] * len(images))
