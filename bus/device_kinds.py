"""The plain enums of a device's retained info and status: its kind, health and paper level.

Kept apart from ``bus.models`` (which re-exports them) so that code naming a device's kind needs no
message models.
"""

from __future__ import annotations

from enum import StrEnum


class DeviceKind(StrEnum):
    PRINTER = "printer"
    LED_DISPLAY = "led_display"
    KEYPAD = "keypad"
    KIOSK = "kiosk"
    HALL_BOARD = "hall_board"
    RATING_TABLET = "rating_tablet"
    SCANNER = "scanner"


class Health(StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    UNKNOWN = "unknown"


class PaperLevel(StrEnum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"
