"""Characters the raster font has no glyph for (emoji, CJK, rare symbols): what prints instead.

A character missing from the font's character map would be drawn as the font's empty box (.notdef),
which a citizen reads as a printer fault. Before a line is drawn, each such character (with the
variation selectors, skin-tone modifiers and combining marks that belong to it) is replaced as the site
file's ``[printing] unprintable`` says:

- ``substitute``  the ``[printing] substitute`` text (default ``?``) for each missing character;
- ``transliterate`` its compatibility form when the font has that (``①`` → ``1``, ``ﬁ`` → ``fi``,
  full-width ``Ａ`` → ``A``), otherwise the substitute;
- ``drop``        nothing.

The characters replaced are reported with the job (``job_printed.replaced_chars``), never logged: they
may come from a citizen's name.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FallbackMode = Literal["substitute", "transliterate", "drop"]
Covers = Callable[[str], bool]


@dataclass(frozen=True)
class GlyphFallback:
    """What prints in place of a character the font cannot draw."""

    mode: FallbackMode = "substitute"
    substitute: str = "?"

    def apply(self, text: str, covers: Covers) -> tuple[str, list[str]]:
        """``text`` with every character ``covers`` rejects replaced; and those characters, in order."""
        out: list[str] = []
        replaced: list[str] = []
        for ch in text:
            if covers(ch):
                out.append(ch)
                continue
            replaced.append(ch)
            if not _belongs_to_previous(ch):  # a selector, modifier or mark goes with its character
                out.append(self._instead(ch, covers))
        return "".join(out), replaced

    def _instead(self, ch: str, covers: Covers) -> str:
        if self.mode == "drop":
            return ""
        if self.mode == "transliterate":
            compatible = unicodedata.normalize("NFKC", ch)
            if compatible != ch and compatible.strip() and all(covers(c) for c in compatible):
                return compatible
        return self.substitute


def _belongs_to_previous(ch: str) -> bool:
    """Variation selectors, emoji modifiers and tags, combining marks: never a character of their own."""
    code = ord(ch)
    return (
        0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or unicodedata.category(ch) in ("Mn", "Me")
    )


@functools.cache
def font_characters(path: Path) -> frozenset[int]:
    """The code points ``path`` (a TrueType/OpenType font) has glyphs for."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]  # fonttools ships no type hints

    with TTFont(str(path), lazy=True) as font:
        cmap = font.getBestCmap() or {}
    return frozenset(cmap)
