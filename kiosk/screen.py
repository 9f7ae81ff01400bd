"""What every kiosk screen shares: language, large text, high contrast, touch-target size, idle reset,
and the voice-guidance hook. Each screen's view-model owns one :class:`Looks`, exposed to QML as ``ui``
(composition: PySide6 cannot add properties to a subclass of a Python ``QObject`` subclass safely).
"""

from __future__ import annotations

import base64
import io
import logging
import weakref
from collections.abc import Callable
from typing import TypeVar

import qrcode
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from kiosk.texts import texts
from qtview import qt_property
from siteconf import Site

log = logging.getLogger(__name__)

VoiceHook = Callable[[str, str], None]
"""``voice(language, sentence)``: speak a sentence (e.g. through espeak-ng); must not block."""


T = TypeVar("T")


def weak_emitter(owner: QObject, signal: str) -> Callable[..., None]:
    """``emit(*args)`` on ``owner``'s ``signal`` without keeping ``owner`` alive.

    Worker threads and MQTT callbacks hold this instead of the view-model, so a view-model is never
    kept in a reference cycle or freed on a thread other than the GUI's (Qt objects must not be).
    """
    ref = weakref.ref(owner)

    def emit(*args: object) -> None:
        target = ref()
        if target is not None:
            getattr(target, signal).emit(*args)

    return emit


def qr_data_url(content: str) -> str:
    """A PNG of the QR code of ``content`` as a ``data:`` URL that a QML ``Image`` can show."""
    image = qrcode.make(content, border=2, box_size=8)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


class Looks(QObject):
    """Language, accessibility modes and the idle timer of one kiosk screen (``ui`` in QML)."""

    looks = Signal()
    idle = Signal()

    def __init__(self, site: Site, idle_reset_ms: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._site = site
        conf = site.kiosk
        self._languages = list(conf.languages)
        self._lang = self._languages[0]
        self._large = conf.large_text
        self._contrast = conf.high_contrast
        self._design = (conf.screen.width_px, conf.screen.height_px)
        self.voice: VoiceHook | None = None
        self.voice_enabled = conf.voice
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._idle.setInterval(
            idle_reset_ms if idle_reset_ms is not None else int(conf.idle_timeout_s * 1000)
        )
        self._idle.timeout.connect(self.idleReset)
        self._held = False  # a screen the citizen must dismiss (the virtual ticket): no idle reset

    @property
    def language(self) -> str:
        return self._lang

    # --- looks -------------------------------------------------------------------------------------

    def _get_lang(self) -> str:
        return self._lang

    def _get_texts(self) -> dict[str, str]:
        return texts(self._lang)

    def _get_large(self) -> bool:
        return self._large

    def _get_contrast(self) -> bool:
        return self._contrast

    def _get_target(self) -> int:
        """Smallest side of a touch target in pixels: the site's minimum (≥ 15 mm) at its panel's density."""
        conf = self._site.kiosk
        return conf.screen.px(conf.min_target_mm)

    def _get_font(self) -> int:
        """Base font size in pixels: 7 mm, 10 mm in large-text mode."""
        return self._site.kiosk.screen.px(10.0 if self._large else 7.0)

    def _get_design_width(self) -> int:
        """The size the screen is laid out for (the panel's pixels); the window scales it to fit."""
        return self._design[0]

    def _get_design_height(self) -> int:
        return self._design[1]

    def set_design(self, width: int, height: int) -> None:
        """Lay the screen out for ``width`` x ``height`` pixels (a window of a chosen size)."""
        self._design = (width, height)
        self.looks.emit()

    def _get_centre(self) -> str:
        return self._site.site.name

    lang = qt_property(str, _get_lang, notify=looks)
    t = qt_property(dict, _get_texts, notify=looks)
    largeText = qt_property(bool, _get_large, notify=looks)
    highContrast = qt_property(bool, _get_contrast, notify=looks)
    target = qt_property(int, _get_target, notify=looks)
    font = qt_property(int, _get_font, notify=looks)
    centreName = qt_property(str, _get_centre)
    designWidth = qt_property(int, _get_design_width, notify=looks)
    designHeight = qt_property(int, _get_design_height, notify=looks)

    @Slot()
    def toggleLanguage(self) -> None:
        i = self._languages.index(self._lang) if self._lang in self._languages else 0
        self._lang = self._languages[(i + 1) % len(self._languages)]
        self._touched()
        self.looks.emit()

    @Slot()
    def toggleLargeText(self) -> None:
        self._large = not self._large
        self._touched()
        self.looks.emit()

    @Slot()
    def toggleContrast(self) -> None:
        self._contrast = not self._contrast
        self._touched()
        self.looks.emit()

    def name_of(self, vi: str, en: str | None) -> str:
        return en if self._lang == "en" and en else vi

    # --- idle and voice ------------------------------------------------------------------------------

    @Slot()
    def touch(self) -> None:
        """Any touch: the citizen is still there."""
        self._touched()

    def _touched(self) -> None:
        if not self._held:
            self._idle.start()

    def touched(self) -> None:
        """Restart the idle timer (called by the view-model on every action)."""
        self._touched()

    def stop_idle(self) -> None:
        self._idle.stop()

    def hold(self, held: bool) -> None:
        """While held, the screen stays until the citizen leaves it (no idle reset, touches or not)."""
        self._held = held
        if held:
            self._idle.stop()

    @property
    def held(self) -> bool:
        return self._held

    @Slot()
    def idleReset(self) -> None:
        """Nobody touched the screen for a while: back to the defaults for the next citizen."""
        conf = self._site.kiosk
        self._lang = self._languages[0]
        self._large = conf.large_text
        self._contrast = conf.high_contrast
        self.looks.emit()
        self.idle.emit()

    def say(self, sentence: str) -> None:
        if self.voice_enabled and self.voice is not None:
            try:
                self.voice(self._lang, sentence)
            except Exception:
                log.exception("voice guidance failed")
