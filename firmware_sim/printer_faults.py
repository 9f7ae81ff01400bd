"""The printer simulator's faults as data: paper, cover, cutter and cable, set by name.

:class:`PrinterFaults` is what ``sim://printer-1?paper=near_end&cover=open`` and the control port
(``set paper=out``) speak. Unlike the serial simulators' faults these are operator actions on a
running printer, so :class:`PrinterFaultControl` (mixed into ``EscposPrinterSim``) turns each value
into the action that brings it about and reads the current values back from the printer's state:

- ``paper=out`` tears the roll off (DLE EOT 4 = 0x72); ``near_end`` leaves the near-end length
  (0x1E); ``ok`` loads a new roll;
- ``cover=open`` / ``closed`` opens or closes the cover (closing finishes a jammed cut);
- ``cutter=jam`` jams the next cut; ``ok`` clears a jam (as ``DLE ENQ`` would);
- ``error=mechanical`` a mechanical error (head or carriage): DLE EOT 3 bit 2 (0x16) and DLE EOT 2
  bit 6 (0x52), ASB byte 2 bit 2; ``error=unexplained`` only DLE EOT 2 bit 6, as clone firmware
  reports a fault it does not name in DLE EOT 3; either stops printing (data received meanwhile is
  dropped) until ``error=none``;
- ``unplugged=true`` pulls the cable (silent, the unfinished page lost); ``false`` plugs it back.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Literal

from firmware_sim.faults import Faults
from printer.status import PaperState, PrinterStatus


@dataclass
class PrinterFaults:
    """The printer's fault state, as seen and as set."""

    paper: Literal["ok", "near_end", "out"] = "ok"
    cover: Literal["closed", "open"] = "closed"
    cutter: Literal["ok", "jam"] = "ok"
    """``jam``: the next cut jams (or one has jammed)."""
    error: Literal["none", "mechanical", "unexplained"] = "none"
    unplugged: bool = False


class PrinterFaultControl(Faults):
    """Mixin for ``EscposPrinterSim``: its faults read from and written to the printer's state."""

    paper_left_mm: float
    near_end_mm: float
    silent: bool
    _cover_open: bool
    _cutter_error: bool
    _jam_next_cut: bool
    _error: str
    _lock: threading.RLock

    @property
    def status(self) -> PrinterStatus:
        """What the printer's sensors say now (the source of its DLE EOT, GS r and ASB replies)."""
        with self._lock:
            if self.paper_left_mm <= 0:
                paper = PaperState.OUT
            elif self.paper_left_mm <= self.near_end_mm:
                paper = PaperState.NEAR_END
            else:
                paper = PaperState.OK
            faulty = self._cutter_error or self._error != "none"
            return PrinterStatus(
                paper=paper,
                cover_open=self._cover_open,
                offline=self._cover_open or faulty or paper is PaperState.OUT,
                cutter_error=self._cutter_error,
                mechanical_error=self._error == "mechanical",
                unexplained_error=self._error == "unexplained",
            )

    @property
    def faults(self) -> PrinterFaults:
        status = self.status
        return PrinterFaults(
            paper=status.paper.value if status.paper is not PaperState.UNKNOWN else "ok",
            cover="open" if self._cover_open else "closed",
            cutter="jam" if self._cutter_error or self._jam_next_cut else "ok",
            error=self._error,  # type: ignore[arg-type]  # only ever set from a checked fault value
            unplugged=self.silent,
        )

    def _apply_fault(self, name: str, value: Any) -> None:
        sim: Any = self
        if name == "paper":
            if value == "ok":
                sim.load_paper()
            elif value == "out":
                sim._operate(sim._run_out)
            elif self.paper_left_mm <= 0:
                sim.load_paper(self.near_end_mm)
            else:
                sim._operate(
                    lambda: setattr(self, "paper_left_mm", min(self.paper_left_mm, self.near_end_mm))
                )
        elif name == "cover":
            sim.open_cover() if value == "open" else sim.close_cover()
        elif name == "cutter":
            sim.cutter_jam_next_cut() if value == "jam" else sim.clear_faults()
        elif name == "error":
            sim._operate(lambda: setattr(self, "_error", value))
        elif name == "unplugged":
            sim.unplug() if value else sim.plug_in()
