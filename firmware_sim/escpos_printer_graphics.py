"""The ESC/POS simulator's pictures: QR codes (GS ( k), raster images (GS v 0) and CODE128 (GS k 73).

A mixin of :class:`firmware_sim.escpos_printer.EscposPrinterSim`, kept apart because drawing codes is
one job and receiving, styling and cutting another; it places images on the page through ``_place``.
"""

from __future__ import annotations

import logging

from PIL import Image
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q

from firmware_sim.escpos_printer_paper import code128_image, qr_image
from printer.code128 import text_of
from printer.escpos_decoder import Command

logger = logging.getLogger("firmware_sim.escpos_printer")

QR_ECC = {48: ERROR_CORRECT_L, 49: ERROR_CORRECT_M, 50: ERROR_CORRECT_Q, 51: ERROR_CORRECT_H}
_INVERT = bytes(255 - i for i in range(256))


class GraphicsCommands:
    """QR, raster and barcode commands; the printer holds the settings they use."""

    _qr: dict[str, int]
    _qr_data: bytes
    _barcode: dict[str, int]

    def _place(self, image: Image.Image) -> None:
        raise NotImplementedError

    def _put_char(self, ch: str) -> None:
        raise NotImplementedError

    def _flush_line(self, feed_empty: bool = False) -> None:
        raise NotImplementedError

    def _qr_function(self, command: Command) -> None:
        body = command.data
        if len(body) < 2 or body[0] != 0x31:
            return
        fn, args = body[1], body[2:]
        if fn == 0x43 and args:
            self._qr["module"] = min(16, max(1, args[0]))
        elif fn == 0x45 and args:
            self._qr["ecc"] = QR_ECC.get(args[0], self._qr["ecc"])
        elif fn == 0x50 and args:
            self._qr_data = args[1:]
        elif fn == 0x51 and self._qr_data:
            self._draw_qr()

    def _draw_qr(self) -> None:
        image = qr_image(self._qr_data, self._qr["ecc"], self._qr["module"])
        if image is None:
            logger.debug("QR data of %d bytes cannot be encoded; nothing printed", len(self._qr_data))
            return
        self._place(image)

    def _raster(self, command: Command) -> None:
        mode, x_bytes, rows = (
            command.args[0],
            command.args[1] | command.args[2] << 8,
            command.args[3] | command.args[4] << 8,
        )
        if not x_bytes or not rows:
            return
        image = Image.frombytes("1", (x_bytes * 8, rows), command.data.translate(_INVERT))
        scale_x, scale_y = (2 if mode & 1 else 1), (2 if mode & 2 else 1)
        if scale_x > 1 or scale_y > 1:
            image = image.resize((image.width * scale_x, rows * scale_y), Image.Resampling.NEAREST)
        self._place(image)

    def _barcode_command(self, command: Command) -> None:
        if command.args[0] != 73:
            logger.debug("barcode type %d not drawn by the simulator", command.args[0])
            return
        image = code128_image(command.data, self._barcode["module"], self._barcode["height"])
        if image is None:
            return
        human = text_of(command.data)
        self._place(image)
        if self._barcode["hri"] in (2, 3):
            for ch in human:
                self._put_char(ch)
            self._flush_line()
