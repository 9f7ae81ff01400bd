"""ESC/POS printer driver: a transport, the status codec and the ticket renderer, composed.

Exchanges (host → printer, then what the driver waits for)::

    status  10 04 n, n = 1..4     ← one byte 0xx1xx10b each, within ``timeout``
    job     ticket bytes (in ``chunk_size`` writes) 1D 72 01
                                  ← one byte 0xx0xxxxb (GS r 1) once the job has printed
    skipped while waiting: 4-byte Automatic Status Back blocks (first byte 0xx1xx00b) and any byte that
    does not fit the awaited pattern (leftovers from an earlier exchange, line noise)

Every read has a deadline: a silent printer raises :class:`PrinterTimeoutError`, never hangs. Device
code does not know whether the transport is ``serial://``, ``tcp://`` or ``sim://``.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Self

from printer.errors import (
    CoverOpenError,
    CutterError,
    PaperOutError,
    PrinterFaultError,
    PrinterLinkError,
    PrinterTimeoutError,
)
from printer.status import (
    PAPER_SENSOR_REQUEST,
    STATUS_KINDS,
    PaperState,
    PrinterStatus,
    decode_asb,
    decode_paper_sensor,
    decode_status,
    is_asb_header,
    is_paper_sensor_reply,
    is_status_reply,
    status_request,
)
from printer.ticket import TicketData, render_ticket
from transport.base import Transport, TransportError

logger = logging.getLogger(__name__)

DEFAULT_STATUS_TIMEOUT = 0.5
DEFAULT_CONFIRM_TIMEOUT = 10.0
ASB_BLOCK = 4


class EscposPrinter:
    """An ESC/POS receipt printer reached through any :class:`~transport.base.Transport`."""

    def __init__(
        self,
        transport: Transport,
        *,
        width_dots: int = 576,
        chunk_size: int = 1024,
        confirm_timeout: float = DEFAULT_CONFIRM_TIMEOUT,
        pad_bands: bool = False,
    ) -> None:
        self.transport = transport
        self.width_dots = width_dots
        self.chunk_size = chunk_size
        self.confirm_timeout = confirm_timeout
        self.pad_bands = pad_bands
        self._lock = threading.RLock()
        self.on_asb: Callable[[PrinterStatus], None] | None = None

    @property
    def url(self) -> str:
        return self.transport.url

    def print_bytes(self, data: bytes) -> None:
        """Send raw ESC/POS bytes in ``chunk_size`` pieces; nothing is waited for."""
        with self._lock, self._link_errors("sending print data"):
            for start in range(0, len(data), self.chunk_size):
                self.transport.write(data[start : start + self.chunk_size])

    def query_status(self, timeout: float = DEFAULT_STATUS_TIMEOUT) -> PrinterStatus:
        """Ask ``DLE EOT 1..4``; each reply must arrive within ``timeout`` seconds."""
        replies: dict[int, int] = {}
        with self._lock:
            self._drain()
            for n in STATUS_KINDS:
                with self._link_errors(f"asking DLE EOT {n}"):
                    self.transport.write(status_request(n))
                replies[n] = self._read_reply(is_status_reply, timeout, f"DLE EOT {n}")
        status = decode_status(replies)
        logger.debug("printer %s status %s", self.url, status)
        return status

    def ensure_ready(self, status: PrinterStatus | None = None, *, job: str | None = None) -> PrinterStatus:
        """Raise the matching :class:`PrinterNotReadyError` unless ``status`` (queried if None) can print."""
        status = self.query_status() if status is None else status
        if status.can_print:
            return status
        suffix = f"; {job} was not printed" if job else ""
        where = f"printer {self.url}"
        if status.paper is PaperState.OUT:
            raise PaperOutError(
                f"{where} is out of paper ({status.describe_reply(4)}){suffix}: "
                "load a new roll and close the cover"
            )
        if status.cover_open:
            raise CoverOpenError(f"{where} has its cover open ({status.describe_reply(2)}){suffix}: close it")
        if status.cutter_error:
            raise CutterError(
                f"{where} has a cutter error ({status.describe_reply(3)}){suffix}: open the cover, "
                "remove the jammed paper and close the cover"
            )
        raise PrinterFaultError(
            f"{where} cannot print: {', '.join(status.problems)} ({status.describe_reply(1)}, "
            f"{status.describe_reply(3)}){suffix}: check the printer, power-cycle it if the error stays"
        )

    def wait_printed(self, timeout: float | None = None) -> PaperState:
        """Send ``GS r 1`` and wait until the printer has printed everything before it."""
        with self._lock:
            with self._link_errors("asking GS r 1"):
                self.transport.write(PAPER_SENSOR_REQUEST)
            return self._await_printed(self.confirm_timeout if timeout is None else timeout)

    def print_ticket(self, ticket: TicketData, *, confirm_timeout: float | None = None) -> int:
        """Check the status, print ``ticket``, wait for the printer to confirm it; return the bytes sent.

        Raises :class:`PaperOutError`, :class:`CoverOpenError`, … before printing if the printer cannot
        print, and after printing if it stopped during the job; :class:`PrinterTimeoutError` if it went
        silent.
        """
        job = f"ticket {ticket.number}"
        with self._lock:
            self.ensure_ready(job=job)
            data = render_ticket(ticket, self.width_dots, pad_bands=self.pad_bands)
            self.print_bytes(data + PAPER_SENSOR_REQUEST)
            try:
                paper = self._await_printed(
                    self.confirm_timeout if confirm_timeout is None else confirm_timeout
                )
            except PrinterTimeoutError:
                self.ensure_ready(job=job)
                raise
        if paper is PaperState.NEAR_END:
            logger.warning("printer %s: paper near end after %s; change the roll soon", self.url, job)
        logger.info("printer %s printed %s (%d bytes)", self.url, job, len(data))
        return len(data)

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<EscposPrinter {self.url} {self.width_dots} dots>"

    # --- internals ---------------------------------------------------------------------------

    def _await_printed(self, timeout: float) -> PaperState:
        return decode_paper_sensor(self._read_reply(is_paper_sensor_reply, timeout, "GS r 1 (job printed)"))

    def _read_reply(self, accept: Callable[[int], bool], timeout: float, what: str) -> int:
        """The first byte ``accept`` takes before the deadline, skipping ASB blocks and stray bytes."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            with self._link_errors(f"waiting for {what}"):
                chunk = self.transport.read(1, timeout=remaining)
                if not chunk:
                    continue
                if accept(chunk[0]):
                    return chunk[0]
                if is_asb_header(chunk[0]):
                    rest = self.transport.read_exactly(ASB_BLOCK - 1, timeout=max(0.0, remaining))
                    self._on_asb_block(chunk + rest)
                else:
                    logger.debug("printer %s: skipped byte 0x%02X waiting for %s", self.url, chunk[0], what)
        raise PrinterTimeoutError(
            f"printer {self.url} did not answer {what} within {timeout:.1f} s: check that it is powered "
            "on and connected, and that the port and baud rate are right"
        )

    def _on_asb_block(self, block: bytes) -> None:
        """An Automatic Status Back block met while waiting for something else: pass it on."""
        logger.debug("printer %s: ASB block %s", self.url, block.hex(" "))
        if len(block) != ASB_BLOCK or self.on_asb is None:
            return
        try:
            self.on_asb(decode_asb(block))
        except Exception:
            logger.exception("printer %s: ASB handler failed", self.url)

    def _drain(self) -> None:
        with self._link_errors("discarding old input"):
            self.transport.reset_input()

    @contextlib.contextmanager
    def _link_errors(self, doing: str) -> Iterator[None]:
        """Turn ``TransportError`` into ``PrinterLinkError`` naming the printer and what it was doing."""
        try:
            yield
        except TransportError as err:
            raise PrinterLinkError(
                f"printer {self.url}: link failed while {doing} ({err}); check the cable or network and "
                "reopen the printer"
            ) from err
