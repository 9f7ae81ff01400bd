"""The hall board is read from the seats: every text colour on its background, in every state and in
every frame of the highlight's flash, has a WCAG 2 contrast ratio of at least 4.5:1.

The colours are read from HallBoard.qml's palette, the pairs from the states the QML draws."""

from __future__ import annotations

import re

import pytest

from counter_display.hall import HALL_QML

AA = 4.5
FRAMES = 21

QML = HALL_QML.read_text(encoding="utf-8")
PALETTE = dict(re.findall(r'readonly property color (\w+): "(#[0-9a-fA-F]{6})"', QML))

# (text, background, where) for each state the board draws.
PAIRS = [
    ("title", "background", "centre name"),
    ("text", "background", "headline"),
    ("text", "card", "counter card, number"),
    ("muted", "card", "counter card, name"),
    ("text", "closedCard", "closed counter, 'Tạm nghỉ'"),
    ("muted", "closedCard", "closed counter, name"),
    ("highlightText", "highlight", "newest counter / current recent call"),
    ("highlightText", "highlightFlash", "newest counter, flash"),
    ("muted", "background", "waiting counts"),
    ("title", "noticeBar", "scrolling notice"),
    ("title", "background", "'recent calls' heading"),
]


def rgb(colour: str) -> tuple[float, float, float]:
    value = int(colour.lstrip("#"), 16)
    return (value >> 16 & 255) / 255, (value >> 8 & 255) / 255, (value & 255) / 255


def luminance(c: tuple[float, float, float]) -> float:
    def lin(v: float) -> float:
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(v) for v in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def mix(a: tuple[float, float, float], b: tuple[float, float, float], t: float) -> tuple[float, float, float]:
    """Qt's ColorAnimation and opacity both interpolate the 8-bit sRGB channels linearly."""
    return (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t)


def test_the_palette_holds_every_colour_the_board_uses() -> None:
    assert {"background", "highlight", "highlightFlash", "highlightText"} <= PALETTE.keys()
    literal = [c for c in re.findall(r'"(#[0-9a-fA-F]{6})"', QML) if c not in PALETTE.values()]
    assert literal == [], "a colour outside the palette escapes this test"


@pytest.mark.parametrize(("fg", "bg", "where"), PAIRS)
def test_each_state_is_readable(fg: str, bg: str, where: str) -> None:
    ratio = contrast(rgb(PALETTE[fg]), rgb(PALETTE[bg]))
    assert ratio >= AA, f"{where}: {PALETTE[fg]} on {PALETTE[bg]} is {ratio:.2f}:1"


def test_every_frame_of_the_highlight_flash_is_readable() -> None:
    assert "SequentialAnimation on opacity" not in QML, "an opacity fade dims the text with its card"
    assert re.search(r"ColorAnimation \{ to: palette_\.highlightFlash", QML)
    text, a, b = (rgb(PALETTE[k]) for k in ("highlightText", "highlight", "highlightFlash"))
    worst = min(contrast(text, mix(a, b, i / (FRAMES - 1))) for i in range(FRAMES))
    assert worst >= AA, f"the flash falls to {worst:.2f}:1"


def test_the_old_opacity_fade_would_have_failed() -> None:
    """The check can fail: the flash before issue 13 faded the amber card, text and all, to 0.4
    opacity over the navy window — dark grey on olive."""
    navy, amber = rgb("#0b1d3a"), rgb("#ffb300")
    card, text = mix(navy, amber, 0.4), navy  # navy text at 0.4 over navy stays navy
    assert contrast(text, card) < AA
