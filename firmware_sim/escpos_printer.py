"""A simulated 80/58 mm ESC/POS thermal printer (TM-T88 class) that prints to PIL images.

Wire grammar (host → printer; any chunking; decoded by :class:`printer.escpos_decoder.EscposDecoder`)::

    printed   text (CP437 after ESC @, ESC t n code page; GB18030 pairs in Kanji mode FS & … FS .)
              LF, HT, ESC d n, ESC J n, GS v 0 raster, GS ( k QR (31 41/43/45/50/51), GS k 49 CODE128
    styles    ESC @, ESC a n, ESC E n, ESC G n, ESC - n, ESC M n, ESC ! n, GS ! n, ESC 2, ESC 3 n
    cut       GS V m [n], ESC i, ESC m: ends the page (``cutter=False``: ignored, ``tear_off()`` ends it);
              ESC d and cuts are journalled in ``paper_moves`` as (name, args)
    replies   DLE EOT n → 1 status byte, GS r 1 → paper sensor byte, GS a n → Automatic Status Back
    obeyed    DLE DC4 1 m t (drawer pulse, counted), DLE DC4 2 1 8 (power off: silent until plug_in)
    consumed  everything else the decoder knows (ESC =, GS B, GS ( L, GS 8 L, …); unknown ESC/GS/FS x
              skips two bytes and is logged at debug. Nothing raises, nothing waits forever.

``DLE EOT n`` is answered (and ``DLE DC4`` obeyed) the moment it arrives, even mid-job, offline or
inside raster data (real firmware does the same, which is why the renderer defuses raster data);
``GS r 1`` after the data before it is printed; with ``GS a n`` (n ≠ 0) a 4-byte ASB block goes out
now and on every status change. Byte layouts: :mod:`printer.status`.

A cut ends a page: its image (mode "1", white paper, ``width_dots`` wide) is appended to ``pages``, its
native text lines (joined by newlines) to ``page_texts``, and ``on_page(index, image, text)`` is called
outside the lock. Roll model: ``paper_left_mm`` (default 50 m), 0.125 mm per dot row (203 dpi), near end
at ``near_end_mm``; at 0 printing stops, DLE EOT 4 = 0x72, and received data is dropped (the unfinished
page is torn off) until ``load_paper()``.

Faults: constructor arguments and methods callable while a host prints, and the same faults as data
set from a ``sim://`` query or the control port (:mod:`firmware_sim.printer_faults`): docs/simulators.md.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PIL import Image
from qrcode.constants import ERROR_CORRECT_L

from firmware_sim.escpos_printer_graphics import GraphicsCommands
from firmware_sim.escpos_printer_paper import CODE_PAGES, Style, decode_text, glyph
from firmware_sim.printer_faults import PrinterFaultControl
from printer.escpos_decoder import Command, EscposDecoder
from printer.status import encode_asb, encode_paper_sensor, encode_status
from transport.sim import SimLink

logger = logging.getLogger(__name__)

MM_PER_ROW = 0.125
_REALTIME_SIZES = {0x04: 3, 0x14: 5}  # DLE EOT n, DLE DC4 fn m t
_REALTIME_TAIL = 4
DEFAULT_LINE_SPACING = 30
_PAPER_MOVES = frozenset({"ESC d", "GS V", "ESC i", "ESC m"})

PageCallback = Callable[[int, Image.Image, str], None]
Row = Image.Image | int  # an image band, or that many blank dot rows


class EscposPrinterSim(GraphicsCommands, PrinterFaultControl):
    """An ESC/POS printer simulator; implements ``transport.sim.SimDevice``."""

    def __init__(
        self,
        *,
        width_dots: int = 576,
        paper_length_mm: float = 50_000.0,
        near_end_mm: float = 2_000.0,
        paper_out_at_job: int | None = None,
        near_end_at_job: int | None = None,
        silent: bool = False,
        kanji_default: bool = False,
        on_page: PageCallback | None = None,
        baud: int | None = None,
        cutter: bool = True,
    ) -> None:
        self.width_dots = width_dots
        self.cutter = cutter
        self.paper_moves: deque[tuple[str, bytes]] = deque(maxlen=1024)  # ESC d and cuts, in order
        self.paper_left_mm = paper_length_mm
        self.near_end_mm = near_end_mm
        self.paper_out_at_job = paper_out_at_job
        self.near_end_at_job = near_end_at_job
        self.silent = silent
        self.baud = baud
        self._unplug_after: int | None = None
        self.on_page = on_page
        self.pages: list[Image.Image] = []
        self.page_texts: list[str] = []
        self.jobs_started = 0
        self.drawer_pulses = 0
        self.bytes_received = 0
        self._lock = threading.RLock()
        self._link: SimLink | None = None
        self._decoder = EscposDecoder(kanji_default=kanji_default)
        self._queue: deque[Command] = deque()
        self._rt_tail = b""
        self._cover_open = self._cutter_error = self._jam_next_cut = False
        self._error: str = "none"
        self._asb_enabled = False
        self._last_asb = b""
        self._fired: list[tuple[int, Image.Image, str]] = []
        self._rows: list[Row] = []
        self._line: list[tuple[str, Style]] = []
        self._page_lines: list[str] = []
        self._qr = {"module": 3, "ecc": ERROR_CORRECT_L}
        self._qr_data = b""
        self._barcode = {"height": 162, "module": 3, "hri": 0}
        self._actions = self._action_table()
        self._init_modes()

    # --- SimDevice ---------------------------------------------------------------------------

    def attach(self, link: SimLink) -> None:
        with self._lock:
            self._link = link
            self._rt_tail = b""

    def detach(self) -> None:
        with self._lock:
            self._link = None

    def receive(self, data: bytes) -> None:
        """Bytes from the host: ``DLE EOT`` is answered where it arrives, the rest is printed in order."""
        if self.baud:
            time.sleep(len(data) * 10 / self.baud)  # a serial line at this speed: the write takes this long
        with self._lock:
            self.bytes_received += len(data)
            if self._unplug_after is not None:
                if len(data) < self._unplug_after:
                    self._unplug_after -= len(data)
                else:
                    data = data[: self._unplug_after]
                    self._unplug_after = None
                    self._accept(data)
                    self._power_lost()
                    return
            self._receive_realtime(data)
        self._fire_callbacks()

    def _receive_realtime(self, data: bytes) -> None:
        """Obey real-time commands wherever they are (inside raster data too), as firmware does."""
        scan = self._rt_tail + data
        start = len(self._rt_tail)
        at = scan.find(b"\x10")
        while at != -1 and at + 1 < len(scan):
            size = _REALTIME_SIZES.get(scan[at + 1])
            end = at + (size or 0)
            if size is not None and start < end <= len(scan) and self._realtime(scan[at:end]):
                self._accept(scan[start:end])
                self._notify_asb()
                start = end
                if self.silent:
                    self._rt_tail = b""
                    return
                self._realtime_reply(scan[at:end])
            at = scan.find(b"\x10", at + 1)
        self._accept(scan[start:])
        self._rt_tail = scan[-(_REALTIME_TAIL):]
        self._notify_asb()

    def _realtime(self, command: bytes) -> bool:
        """Whether ``command`` is a real-time command this printer obeys; power-off acts at once."""
        if command[1] == 0x04:
            return 1 <= command[2] <= 4
        if command[2] == 1 and command[3] in (0, 1) and 1 <= command[4] <= 8:
            self.drawer_pulses += 1
            logger.info("simulated printer: drawer pulse (DLE DC4 1)")
            return True
        if command[2:] == b"\x02\x01\x08":
            logger.warning("simulated printer: powered off by DLE DC4 2 in the data")
            self._power_lost()
            return True
        return False

    def _realtime_reply(self, command: bytes) -> None:
        if command[1] == 0x04:
            self._reply(bytes((encode_status(self.status, command[2]),)))

    # --- fault injection and operator actions ------------------------------------------------

    def open_cover(self) -> None:
        self._operate(lambda: setattr(self, "_cover_open", True))

    def close_cover(self) -> None:
        """Close the cover: finishes a jammed cut and prints data that waited."""

        def close() -> None:
            self._cover_open = False
            self._clear_jam()

        self._operate(close)

    def cutter_jam_next_cut(self) -> None:
        self._operate(lambda: setattr(self, "_jam_next_cut", True))

    def clear_faults(self) -> None:
        """Recover from a cutter jam (finishing the cut), as ``DLE ENQ`` or a power cycle would."""
        self._operate(self._clear_jam)

    def unplug(self, after_bytes: int = 0) -> None:
        """Pull the cable after ``after_bytes`` more bytes: silent, and the unfinished page is lost."""
        with self._lock:
            if after_bytes <= 0:
                self._power_lost()
            else:
                self._unplug_after = after_bytes

    def plug_in(self) -> None:
        """Reconnect after :meth:`unplug`: answers again, starting from a clean state."""
        with self._lock:
            self.silent = False

    def _power_lost(self) -> None:
        self.silent = True
        self._rows, self._page_lines, self._line = [], [], []
        self._queue.clear()
        self._decoder.reset()
        logger.info("simulated printer unplugged; plug_in() to reconnect")

    def load_paper(self, length_mm: float = 50_000.0) -> None:
        """Put in a new roll; the unfinished page is torn off and printing resumes."""

        def load() -> None:
            self.paper_left_mm = length_mm
            self._rows, self._page_lines, self._line = [], [], []
            self._decoder.reset()

        self._operate(load)

    # --- observation -------------------------------------------------------------------------

    def save_pages(self, directory: str | Path) -> list[Path]:
        """Write every page as ``page-0001.png`` … into ``directory``; return the paths."""
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        with self._lock:
            pages = list(self.pages)
        paths = [target / f"page-{i + 1:04d}.png" for i in range(len(pages))]
        for page, path in zip(pages, paths, strict=True):
            page.save(path)
        return paths

    def replay(self, data: bytes, *, include_uncut: bool = True) -> list[Image.Image]:
        """Print ``data`` and return the pages it produced (with uncut output as a last page)."""
        with self._lock:
            before = len(self.pages)
        self.receive(data)
        if include_uncut:
            self._operate(self._finish_uncut)
        with self._lock:
            return self.pages[before:]

    # --- reception ---------------------------------------------------------------------------

    def _operate(self, action: Callable[[], None]) -> None:
        with self._lock:
            action()
            self._run()
            self._notify_asb()
        self._fire_callbacks()

    def _stopped(self) -> bool:
        return self.paper_left_mm <= 0 or self._cutter_error or self._error != "none"

    def _accept(self, data: bytes) -> None:
        if self.silent or not data:
            return
        if self._stopped():
            logger.debug("printer stopped: %d received bytes dropped", len(data))
            return
        self._queue.extend(self._decoder.feed(data))
        self._run()

    def _run(self) -> None:
        while self._queue and not self._cover_open:
            if self._stopped():
                self._queue.clear()
                self._decoder.reset()
                return
            command = self._queue.popleft()
            if command.name in _PAPER_MOVES:
                self.paper_moves.append((command.name, command.args))
            action = self._actions.get(command.name)
            if action is not None:
                action(command)
                self._notify_asb()

    def _reply(self, data: bytes) -> None:
        if self._link is not None and not self.silent:
            self._link.send(data)

    def _notify_asb(self) -> None:
        if self._asb_enabled and (block := encode_asb(self.status)) != self._last_asb:
            self._last_asb = block
            self._reply(block)

    def _fire_callbacks(self) -> None:
        with self._lock:
            fired, self._fired = self._fired, []
        for index, image, text in fired:
            if self.on_page is None:
                continue
            try:
                self.on_page(index, image, text)
            except Exception:
                logger.exception("on_page callback failed for page %d", index)

    # --- commands ----------------------------------------------------------------------------

    def _action_table(self) -> dict[str, Callable[[Command], None]]:
        def byte0(c: Command) -> int:
            return c.args[0] if c.args else 0

        return {
            "text": self._text,
            "LF": lambda _: self._flush_line(feed_empty=True),
            "HT": lambda _: self._tab(),
            "ESC @": lambda _: self._init_modes(),
            "ESC a": lambda c: setattr(self, "_align", byte0(c) % 48 if byte0(c) % 48 < 3 else 0),
            "ESC E": lambda c: self._restyle(bold=bool(byte0(c) & 1)),
            "ESC G": lambda c: self._restyle(bold=bool(byte0(c) & 1)),
            "ESC -": lambda c: self._restyle(underline=byte0(c) % 48 if byte0(c) % 48 < 3 else 0),
            "ESC M": lambda c: self._restyle(font_b=byte0(c) in (1, 49)),
            "ESC !": lambda c: self._print_mode(byte0(c)),
            "GS !": lambda c: self._restyle(width=(byte0(c) >> 4 & 7) + 1, height=(byte0(c) & 7) + 1),
            "ESC t": lambda c: setattr(self, "_codec", CODE_PAGES.get(byte0(c), "cp437")),
            "FS &": lambda _: setattr(self, "_kanji", True),
            "FS .": lambda _: setattr(self, "_kanji", False),
            "ESC 2": lambda _: setattr(self, "_line_spacing", DEFAULT_LINE_SPACING),
            "ESC 3": lambda c: setattr(self, "_line_spacing", byte0(c)),
            "ESC d": lambda c: self._feed(byte0(c) * self._line_spacing),
            "ESC J": lambda c: self._feed(byte0(c)),
            "ESC i": lambda _: self._cut(),
            "ESC m": lambda _: self._cut(),
            "GS V": self._gs_cut,
            "GS a": lambda c: self._set_asb(byte0(c)),
            "GS r": lambda c: self._reply(bytes((self._gs_r_reply(byte0(c)),))),
            "GS H": lambda c: self._barcode.update(hri=byte0(c) % 48),
            "GS h": lambda c: self._barcode.update(height=max(1, byte0(c))),
            "GS w": lambda c: self._barcode.update(module=min(6, max(1, byte0(c)))),
            "GS v 0": self._raster,
            "GS ( k": self._qr_function,
            "GS k": self._barcode_command,
        }

    def _init_modes(self) -> None:
        self._style = Style()
        self._align = 0
        self._line_spacing = DEFAULT_LINE_SPACING
        self._codec = "cp437"
        self._kanji = self._decoder.kanji_default
        self._line = []

    def _restyle(self, **changes: Any) -> None:
        self._style = replace(self._style, **changes)

    def _print_mode(self, n: int) -> None:
        self._restyle(
            font_b=bool(n & 1),
            bold=bool(n & 8),
            height=2 if n & 16 else 1,
            width=2 if n & 32 else 1,
            underline=1 if n & 128 else 0,
        )

    def _set_asb(self, n: int) -> None:
        self._asb_enabled = n != 0
        self._last_asb = b""

    def _gs_r_reply(self, n: int) -> int:
        return encode_paper_sensor(self.status.paper) if n in (1, 49) else 0

    def _gs_cut(self, command: Command) -> None:
        if len(command.args) == 2 and command.args[0] in (65, 66):
            self._feed(command.args[1])
        self._cut()

    # --- text and rows -----------------------------------------------------------------------

    def _text(self, command: Command) -> None:
        for ch in decode_text(command.data, self._codec, kanji=self._kanji):
            self._put_char(ch)

    def _tab(self) -> None:
        columns = sum(style.cell[0] for _, style in self._line) // 12
        for _ in range(8 - columns % 8):
            self._put_char(" ")

    def _put_char(self, ch: str) -> None:
        used = sum(style.cell[0] for _, style in self._line)
        if used + self._style.cell[0] > self.width_dots:
            self._flush_line()
        self._line.append((ch, self._style))

    def _flush_line(self, feed_empty: bool = False) -> None:
        if not self._line:
            if feed_empty:
                self._emit(self._line_spacing)
            return
        height = max(style.cell[1] for _, style in self._line)
        band = Image.new("1", (self.width_dots, max(height, self._line_spacing)), 1)
        x = self._x_for(sum(style.cell[0] for _, style in self._line))
        for ch, style in self._line:
            cell = glyph(ch, style)
            band.paste(cell, (x, height - cell.height))
            x += cell.width
        text = "".join(ch for ch, _ in self._line).rstrip()
        self._line = []
        if self._emit(band) and text:
            self._page_lines.append(text)

    def _x_for(self, width: int) -> int:
        return max(0, {0: 0, 1: (self.width_dots - width) // 2, 2: self.width_dots - width}[self._align])

    def _place(self, image: Image.Image) -> None:
        """Print an image band at the current alignment (``ESC a`` applies to raster and QR)."""
        self._flush_line()
        visible = image.crop((0, 0, min(image.width, self.width_dots), image.height))
        band = Image.new("1", (self.width_dots, image.height), 1)
        band.paste(visible, (self._x_for(visible.width), 0))
        self._emit(band)

    def _feed(self, dots: int) -> None:
        self._flush_line()
        self._emit(dots)

    def _emit(self, row: Row) -> bool:
        """Add dot rows to the page, using paper; False if the roll was already empty."""
        height = row if isinstance(row, int) else row.height
        if height <= 0:
            return True
        if self.paper_left_mm > 0 and not self._rows:
            self._start_job()
        if self.paper_left_mm <= 0:
            return False
        self._rows.append(row)
        self.paper_left_mm -= height * MM_PER_ROW
        if self.paper_left_mm <= 0:
            self._run_out()
        return True

    def _start_job(self) -> None:
        self.jobs_started += 1
        if self.jobs_started == self.near_end_at_job:
            self.paper_left_mm = min(self.paper_left_mm, self.near_end_mm)
        if self.jobs_started == self.paper_out_at_job:
            self._run_out()

    def _run_out(self) -> None:
        self.paper_left_mm = 0.0
        logger.info("simulated printer out of paper in job %d; load_paper() to resume", self.jobs_started)

    def _cut(self) -> None:
        self._flush_line()
        if not self.cutter:
            logger.debug("simulated printer has no cutter: the cut command is ignored")
            return
        if self._stopped():
            return
        if self._jam_next_cut:
            self._jam_next_cut, self._cutter_error = False, True
            logger.info("simulated cutter jammed; close_cover() or clear_faults() to recover")
            return
        self._finish_page()

    def tear_off(self) -> None:
        """Tear the paper at the tear bar (a printer without a cutter): what is printed is a page."""
        self._operate(self._finish_uncut)

    def _clear_jam(self) -> None:
        if self._cutter_error:
            self._cutter_error = False
            self._finish_page()

    def _finish_uncut(self) -> None:
        self._flush_line()
        self._finish_page()

    def _finish_page(self) -> None:
        if not self._rows:
            return
        page = Image.new(
            "1", (self.width_dots, sum(r if isinstance(r, int) else r.height for r in self._rows)), 1
        )
        y = 0
        for row in self._rows:
            if isinstance(row, int):
                y += row
            else:
                page.paste(row, (0, y))
                y += row.height
        text = "\n".join(self._page_lines)
        self._rows, self._page_lines = [], []
        self.pages.append(page)
        self.page_texts.append(text)
        self._fired.append((len(self.pages) - 1, page, text))
