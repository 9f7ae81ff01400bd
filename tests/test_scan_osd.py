"""Tesseract's orientation detection run inside the process agrees with the ``tesseract`` command.

The engine is loaded once per process from libtesseract; the command line stays as the fallback, and
both must give the same verdict on the same pixels.
"""

from __future__ import annotations

import random
import shutil
from typing import Any

import cv2
import pytest

from scanner import orientation, tesseract_osd
from scanner.pipeline import turn
from scanner.testcorpus.templates import TEMPLATES

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract-ocr not installed")


def _letter() -> Any:
    return TEMPLATES["letter"](random.Random("osd-letter"), 200).image


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
def test_the_library_and_the_command_agree_and_set_a_letter_upright(turns: int) -> None:
    grey = cv2.cvtColor(turn(_letter(), turns), cv2.COLOR_BGR2GRAY)
    crop = orientation.ink_crop(grey)
    in_process = tesseract_osd.detect(crop)
    assert in_process is not None
    assert in_process == pytest.approx(tesseract_osd._command(crop), abs=0.01)
    verdict = orientation.tesseract_osd(grey)
    assert verdict is not None and verdict[0] == (-turns) % 4


def test_a_page_without_text_gets_no_verdict() -> None:
    grey = cv2.cvtColor(_letter(), cv2.COLOR_BGR2GRAY)
    grey[:] = 255
    assert tesseract_osd.detect(grey) is None
    assert tesseract_osd._command(grey) is None


def test_the_engine_is_loaded_once_per_process() -> None:
    assert tesseract_osd._library_engine() is tesseract_osd._library_engine() is not None
